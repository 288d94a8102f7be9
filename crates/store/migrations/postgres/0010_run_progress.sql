-- PostgreSQL dialect of ../sqlite/0010_run_progress.sql (INTEGER as BIGINT).
-- Live progress of a running run, written by whichever process runs it (scheduler,
-- event hook, console, API or the command line) and read by the console's live page.
-- The phase ("reading Okta", "applying", ...), the units done and expected in it,
-- when the phase began (its rate is done over the time since) and when it was last written.
ALTER TABLE runs ADD COLUMN progress_phase TEXT;
ALTER TABLE runs ADD COLUMN progress_done BIGINT;
ALTER TABLE runs ADD COLUMN progress_total BIGINT;
ALTER TABLE runs ADD COLUMN progress_phase_at TEXT;
ALTER TABLE runs ADD COLUMN progress_at TEXT;
