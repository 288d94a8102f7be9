-- API tokens get scopes and an optional expiry (issue 13). Tokens made before this
-- were full administrators; they keep that scope so existing automation still works,
-- and `usersync token list` shows them as `admin` for review.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
