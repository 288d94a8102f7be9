-- The first schema of the usersync store.
-- Kept to portable SQL (TEXT timestamps in RFC 3339, INTEGER ids, ON CONFLICT upserts) so a
-- PostgreSQL copy of these migrations differs only in id and blob column types.

-- Facts about the store itself (e.g. the master-key check value).
CREATE TABLE store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE apps (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL UNIQUE,
    okta_url TEXT NOT NULL,
    okta_auth TEXT NOT NULL,
    okta_client_id TEXT,
    okta_key_id TEXT,
    target_kind TEXT NOT NULL,
    target_url TEXT NOT NULL,
    target_auth TEXT NOT NULL,
    target_username TEXT,
    schedule_json TEXT NOT NULL,
    policy_json TEXT NOT NULL,
    events_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One row per secret slot of an app: either an encrypted value or a reference.
CREATE TABLE app_secrets (
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    slot TEXT NOT NULL,
    reference TEXT,
    nonce BLOB,
    ciphertext BLOB,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (app_id, slot)
);

CREATE TABLE user_links (
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    okta_id TEXT NOT NULL,
    target_key TEXT,
    username TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (app_id, okta_id)
);

CREATE TABLE group_links (
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    okta_id TEXT NOT NULL,
    target_name TEXT NOT NULL,
    created_by_usersync INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (app_id, okta_id)
);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    trigger_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The process that runs it ("pid:start-time"), so a restart can tell dead runs from live ones.
    owner TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    counts_json TEXT NOT NULL,
    reason TEXT,
    plan_json TEXT,
    decided_by TEXT,
    decided_at TEXT
);
CREATE INDEX runs_by_app ON runs (app_id, id);
CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE run_operations (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    rule TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE checkpoints (
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (app_id, key)
);

-- No foreign key on app_id: the audit trail outlives the app it describes.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    app_id INTEGER,
    app_name TEXT,
    action TEXT NOT NULL,
    fields_json TEXT NOT NULL
);
CREATE INDEX audit_by_app ON audit_log (app_id, id);

CREATE TABLE admins (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    username_folded TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);

CREATE TABLE sign_in_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at TEXT NOT NULL
);

CREATE TABLE seen_events (
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (app_id, event_id)
);
CREATE INDEX seen_events_by_time ON seen_events (seen_at);

CREATE TABLE scheduler_state (
    app_id INTEGER PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
    next_run_at TEXT,
    last_run_id INTEGER,
    last_run_at TEXT
);
