-- usersync as the SCIM 2.0 server Okta provisions to (issue 15, server mode).
-- Portable SQL: TEXT timestamps in RFC 3339, plain tables, no SQLite-only functions.

-- The app's SCIM bearer token, stored only as its SHA-256 (shown once when generated).
CREATE TABLE scim_tokens (
    app_id INTEGER PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- What Okta pushed: one row per SCIM User or Group of an app, as last represented.
-- name_key is userName (Users) or displayName (Groups) folded to lower case, which
-- makes them unique per app and kind ignoring case (409 uniqueness).
CREATE TABLE scim_resources (
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    external_id TEXT,
    active INTEGER NOT NULL,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    PRIMARY KEY (app_id, kind, id),
    UNIQUE (app_id, kind, name_key)
);

-- Group members as pushed: SCIM group id -> SCIM user id.
CREATE TABLE scim_members (
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (app_id, group_id, user_id)
);
CREATE INDEX scim_members_by_user ON scim_members (app_id, user_id);
