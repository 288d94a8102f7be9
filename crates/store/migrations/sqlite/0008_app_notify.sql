-- Who an app tells when a run is held, fails, ends partial or refuses a login-time sync
-- (usersync_core::app::NotifySettings without its secrets, which live in app_secrets).
ALTER TABLE apps ADD COLUMN notify_json TEXT NOT NULL DEFAULT '{}';
