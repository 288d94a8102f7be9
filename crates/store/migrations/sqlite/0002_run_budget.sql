-- The hold limits as one budget per app over a rolling window, and approved runs' work time.

-- "Destructive operations applied for app X since T" reads an app's runs by finish time.
CREATE INDEX runs_by_app_finished ON runs (app_id, finished_at);

-- Seconds a run spent working, summed over its parts: a held run's planning and
-- its approval's apply, not the time it waited for an administrator.
ALTER TABLE runs ADD COLUMN work_seconds REAL;
-- When an approved run resumed its work (the approval's start).
ALTER TABLE runs ADD COLUMN resumed_at TEXT;
