-- PostgreSQL dialect of ../sqlite/0016_single_user_sync_indexes.sql (the same statements).
-- A single-user sync (issue 17: 260 ms at 100,000 users against 141 ms at 10,000) read
-- two things by a column no index led with, so their cost grew with the store:
--
-- The hold budget reads the destructive operations the app's runs applied in its window.
-- Within a run, operations were found by the primary key (run_id, seq) only, so the
-- window's first full sync (a million operations at 100,000 users, nearly all of them
-- additions) was read row by row to find its few removals. By (run_id, kind) only the
-- operations of the destructive kinds are read. The outcome stays out of the index:
-- every applied operation changes it, and the index would change with it.
CREATE INDEX run_operations_by_kind ON run_operations (run_id, kind);

-- The user's mapped memberships (group_map rules) were found by the app alone, every
-- user's of the app read to keep one user's. The group is in the index so that it
-- answers the lookup alone (SQLite otherwise keeps to the primary key, which has both).
CREATE INDEX mapped_memberships_by_user ON mapped_memberships (app_id, okta_id, target_group);
