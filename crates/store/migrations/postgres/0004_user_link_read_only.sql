-- A linked user the target refused to change because their directory is read-only
-- (issue 12): their attributes are not written again, their memberships still are.
ALTER TABLE user_links ADD COLUMN read_only BIGINT NOT NULL DEFAULT 0;
