-- The chart of accounts pulled from Optima (adapters/optima/src/chart_store.rs), per
-- organization and connection (FR-INT-022: KontoPlan.Numer/Nazwa/Typ). An account Optima no
-- longer lists is marked inactive, never deleted: postings and mappings may still name it,
-- and it comes back active if Optima lists it again.
CREATE TABLE optima_accounts (
    org_id           uuid NOT NULL REFERENCES organizations(id),
    partner          text NOT NULL,
    gl_account_code  text NOT NULL,
    name             text NOT NULL,
    account_type     text NOT NULL CHECK (account_type IN ('asset', 'liability', 'expense', 'revenue')),
    active           boolean NOT NULL DEFAULT true,
    first_seen_at    timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    deactivated_at   timestamptz,
    PRIMARY KEY (org_id, partner, gl_account_code)
);

-- When each connection's chart was last pulled, and what that pull changed.
CREATE TABLE optima_account_syncs (
    org_id          uuid NOT NULL REFERENCES organizations(id),
    partner         text NOT NULL,
    last_synced_at  timestamptz NOT NULL,
    accounts        integer NOT NULL,
    added           integer NOT NULL,
    changed         integer NOT NULL,
    deactivated     integer NOT NULL,
    PRIMARY KEY (org_id, partner)
);
