-- Sign-in throttling in the database, so that failures counted by one `usersync serve`
-- replica slow and refuse attempts on every other (0001's table was never read: the
-- server kept its counters in memory). One row per key (a username, a client address or
-- the pair); a row whose last failure is older than the throttle forgets is pruned.
-- Times are Unix milliseconds, compared as integers on every database, as in 0011.
DROP TABLE sign_in_failures;
CREATE TABLE sign_in_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    locked_until BIGINT
);
CREATE INDEX sign_in_failures_by_time ON sign_in_failures (last_failed_at);
