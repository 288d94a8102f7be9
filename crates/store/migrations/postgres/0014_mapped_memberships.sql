-- PostgreSQL dialect of ../sqlite/0014_mapped_memberships.sql (INTEGER as BIGINT).
-- Memberships usersync added to a target group by an explicit group-mapping rule
-- (policy.group_map, issue 20): only these are ever removed from such a group, which
-- usually also has members others made (e.g. jira-software-users).
CREATE TABLE mapped_memberships (
    app_id BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    target_group TEXT NOT NULL,
    okta_id TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (app_id, target_group, okta_id)
);
