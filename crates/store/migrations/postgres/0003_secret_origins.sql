-- Issue 13: every stored secret is bound to the origin (scheme, host and port) it was
-- given for, so changing an app's URL cannot send a kept secret to another host.
-- Existing secrets are bound to their app's current origins. `origin_in_aad` is 0 for
-- values sealed before this migration: the store re-seals them with the origin in the
-- associated data when it next opens with the master key.
ALTER TABLE app_secrets ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE app_secrets ADD COLUMN origin_in_aad BIGINT NOT NULL DEFAULT 0;

UPDATE app_secrets SET origin = (
    SELECT CASE WHEN app_secrets.slot LIKE 'target.%' THEN apps.target_url ELSE apps.okta_url END
    FROM apps WHERE apps.id = app_secrets.app_id
);

-- A stored URL is serialized as scheme://host[:port]/path: its origin is what precedes
-- the first '/' after '://'.
UPDATE app_secrets SET origin = substr(
    origin, 1, strpos(origin, '://') + 1 + strpos(substr(origin, strpos(origin, '://') + 3), '/')
);
