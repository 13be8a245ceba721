-- Outbound EDI documents sent by the `edi.send` job, and the overdue-acknowledgement warning.

-- The job that built an outbound document: a redelivered job finds its own row instead of
-- spending new control numbers and writing a second file. Unique, so two workers running the
-- same job at once cannot both store one (the loser's transaction fails and its retry finds
-- the winner's row).
ALTER TABLE edi_messages ADD COLUMN job_id uuid;
CREATE UNIQUE INDEX edi_messages_job ON edi_messages (org_id, job_id) WHERE job_id IS NOT NULL;

-- When `edi.ack.overdue` warned that the partner had not acknowledged this message in time.
-- A column rather than a status: the message is still `sent` (a late 997/CONTRL still moves
-- it to `acknowledged` or `error`), and the warning must be written once, not every run.
ALTER TABLE edi_messages ADD COLUMN ack_overdue_at timestamptz;
CREATE INDEX edi_messages_awaiting_ack ON edi_messages (org_id, partner, created_at)
    WHERE direction = 'outbound' AND status = 'sent' AND ack_overdue_at IS NULL;
