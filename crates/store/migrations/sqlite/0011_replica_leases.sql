-- Several processes on one database (`usersync serve` replicas): a lease names the one
-- process that holds it (the leader) until it expires unless renewed, and a running
-- run's claim expires the same way, so a holder that died on another machine is known
-- to be gone. Times are Unix milliseconds, compared as integers on every database
-- (BIGINT: PostgreSQL's INTEGER has 32 bits; SQLite reads BIGINT as INTEGER).
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    acquired_at BIGINT NOT NULL
);

ALTER TABLE runs ADD COLUMN claim_expires_at BIGINT;
