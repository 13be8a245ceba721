-- EDI: every interchange we receive or send, stored raw with its envelope data, validation
-- report and status; and the per-partner control number counters for what we send.

CREATE TABLE edi_messages (
    id                  uuid PRIMARY KEY,
    org_id              uuid NOT NULL REFERENCES organizations(id),
    partner             text NOT NULL,
    direction           text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    standard            text NOT NULL CHECK (standard IN ('x12', 'edifact')),
    -- Transaction set / message types in the interchange (`{850}`, `{997}`, `{ORDERS}`).
    message_types       text[] NOT NULL DEFAULT '{}',
    sender_id           text NOT NULL,
    receiver_id         text NOT NULL,
    -- ISA13 / UNB 0020.
    interchange_control text NOT NULL,
    -- [{"control": "101", "functional_id": "PO", "sets": ["0001"]}]
    group_controls      jsonb NOT NULL DEFAULT '[]'::jsonb,
    status              text NOT NULL
                        CHECK (status IN ('received', 'processed', 'error', 'sent', 'acknowledged')),
    -- The bytes as received or sent. bytea rather than text: UNOB/UNOC interchanges are not
    -- UTF-8, and a lossy conversion would lose what the partner actually sent.
    raw                 bytea NOT NULL,
    validation          jsonb,
    errors              jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- An acknowledgement points at the message it acknowledges.
    related_message_id  uuid REFERENCES edi_messages(id),
    -- A duplicate interchange points at the first copy (and is never processed).
    duplicate_of        uuid REFERENCES edi_messages(id),
    file_name           text,
    -- Which pickup of a mailbox file produced the row, and where in the file the interchange
    -- starts: a pickup re-run after a crash finds its own rows and resumes them instead of
    -- mistaking them for duplicates.
    pickup_id           uuid,
    file_offset         bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- A partner sending the same interchange twice (same sender and ISA13 / UNB control reference)
-- hits this index; the second copy is stored with `duplicate_of` set, outside the index.
CREATE UNIQUE INDEX edi_messages_inbound_interchange
    ON edi_messages (org_id, partner, sender_id, interchange_control)
    WHERE direction = 'inbound' AND duplicate_of IS NULL;
CREATE INDEX edi_messages_list ON edi_messages (org_id, direction, created_at DESC, id DESC);
CREATE INDEX edi_messages_related ON edi_messages (related_message_id)
    WHERE related_message_id IS NOT NULL;
CREATE INDEX edi_messages_pickup ON edi_messages (pickup_id) WHERE pickup_id IS NOT NULL;

-- The last control number used per partner and kind (isa, gs, st, unb, ung, unh). Allocation
-- is one upsert that increments and returns under the row lock, so concurrent workers and
-- restarts never see the same number twice.
CREATE TABLE edi_control_numbers (
    org_id      uuid NOT NULL REFERENCES organizations(id),
    partner     text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('isa', 'gs', 'st', 'unb', 'ung', 'unh')),
    last        bigint NOT NULL CHECK (last >= 1),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, partner, kind)
);
