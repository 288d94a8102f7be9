-- Incremental sync (issue 17): whether a run read only what changed in Okta since its
-- checkpoint ('incremental') or reconciled everything ('full'), and why.
-- NULL for runs from before, and for single-user runs and approvals.
ALTER TABLE runs ADD COLUMN sync_kind TEXT;
ALTER TABLE runs ADD COLUMN sync_kind_reason TEXT;
