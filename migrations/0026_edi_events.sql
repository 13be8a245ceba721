-- EDI events for outbound webhooks (issue #16): `edi.message.received` and
-- `edi.message.failed`, recorded by a trigger on `edi_messages` in the writing transaction,
-- like every other event (0016 says why triggers): the mailbox pickup, the reprocess action,
-- the acknowledgement matcher and hand-written SQL all write this table.
--
-- edi.message.received: an inbound interchange was stored (a duplicate copy too: it was
--   received, and `duplicate_of` says it will not be processed). Acknowledgements the partner
--   sends us are inbound interchanges and count.
--   Data: {"message_id", "partner", "standard", "message_types", "sender_id", "receiver_id",
--   "interchange_control", "status", "file_name", "duplicate_of"}.
-- edi.message.failed: a message's status became `error`, in either direction: an inbound
--   interchange that failed validation or is a duplicate, an outbound one the partner's
--   997/999/CONTRL rejected. Once per move into `error` (a reprocess that fails again after
--   succeeding records it again; an update that leaves it in `error` does not).
--   Data: {"message_id", "partner", "direction", "standard", "message_types",
--   "interchange_control", "previous_status", "errors"}.

CREATE FUNCTION edi_messages_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.direction = 'inbound' THEN
        PERFORM event_record(NEW.org_id, 'edi.message.received', jsonb_build_object(
            'message_id', NEW.id, 'partner', NEW.partner, 'standard', NEW.standard,
            'message_types', to_jsonb(NEW.message_types), 'sender_id', NEW.sender_id,
            'receiver_id', NEW.receiver_id, 'interchange_control', NEW.interchange_control,
            'status', NEW.status, 'file_name', NEW.file_name, 'duplicate_of', NEW.duplicate_of));
    END IF;
    IF NEW.status = 'error' AND (TG_OP = 'INSERT' OR OLD.status <> 'error') THEN
        PERFORM event_record(NEW.org_id, 'edi.message.failed', jsonb_build_object(
            'message_id', NEW.id, 'partner', NEW.partner, 'direction', NEW.direction,
            'standard', NEW.standard, 'message_types', to_jsonb(NEW.message_types),
            'interchange_control', NEW.interchange_control,
            'previous_status', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
            'errors', NEW.errors));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER edi_messages_events AFTER INSERT OR UPDATE OF status ON edi_messages
    FOR EACH ROW EXECUTE FUNCTION edi_messages_events();
