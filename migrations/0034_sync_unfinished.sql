-- Writes a sync run left unfinished: the partner has not finished them (still open in its
-- queue, e.g. Magento bulk operations with no consumer running, issue #13) or they kept
-- failing transiently. Shown on the sync status (GET /api/v1/syncs/{partner}/{entity},
-- `last_run.unfinished`) beside the run's error, not only in the job's error and the logs.
-- Set by the page that stopped the run, back to 0 when a page completes or a new run starts.
ALTER TABLE sync_states ADD COLUMN unfinished bigint NOT NULL DEFAULT 0;
