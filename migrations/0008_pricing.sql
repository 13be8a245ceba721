-- Customer-specific pricing (SteelWise 3.1-3.2): what switchyard_core::catalog::pricing
-- resolves over. Every row carries its organization; every rule names its product by the
-- (org_id, sku) of products. Rule ids (price list, contract, discount, break) are the
-- distributor's own, so a bulk upsert is idempotent by them. Dates are whole days, both ends
-- inclusive (a contract through today applies today); an absent end is open.
--
-- Amounts: numeric(18,6) (a unit price to 6 places, under a trillion); percentages:
-- numeric(7,4) between 0 and 100; quantities and conversion factors: numeric(24,10). Bounded so
-- every stored value is an exact rust_decimal.

-- The two product attributes pricing reads. `category` is a path such as
-- `Steel > Flat > Sheet` (a category discount covers its sub-categories). The catalog's
-- migration extends products further; IF NOT EXISTS so either may come first.
ALTER TABLE products ADD COLUMN IF NOT EXISTS category text;
ALTER TABLE products ADD COLUMN IF NOT EXISTS price_visibility text NOT NULL DEFAULT 'public'
    CHECK (price_visibility IN ('public', 'login_required', 'quote_only'));

-- A price list: one currency, a validity. A product's list price is on one.
CREATE TABLE price_lists (
    org_id         uuid NOT NULL REFERENCES organizations(id),
    price_list_id  text NOT NULL CHECK (price_list_id <> ''),
    name           text,
    -- ISO 4217.
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    valid_from     date,
    valid_to       date,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, price_list_id),
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);

-- A product's price per one unit on a price list; the row's validity lies within the list's.
CREATE TABLE list_prices (
    org_id         uuid NOT NULL,
    price_list_id  text NOT NULL,
    sku            text NOT NULL,
    uom            text NOT NULL,
    amount         numeric(18,6) NOT NULL CHECK (amount >= 0),
    valid_from     date,
    valid_to       date,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, price_list_id, sku, uom),
    FOREIGN KEY (org_id, price_list_id) REFERENCES price_lists(org_id, price_list_id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, sku) REFERENCES products(org_id, sku) ON DELETE CASCADE,
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX list_prices_product ON list_prices (org_id, sku);

-- Tiers such as GOLD: a percentage off list.
CREATE TABLE price_tiers (
    org_id      uuid NOT NULL REFERENCES organizations(id),
    tier_code   text NOT NULL CHECK (tier_code <> ''),
    name        text,
    percent     numeric(7,4) NOT NULL CHECK (percent >= 0 AND percent <= 100),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, tier_code)
);

-- The tier a customer is on (at most one).
CREATE TABLE customer_tiers (
    org_id       uuid NOT NULL,
    customer_id  text NOT NULL,
    tier_code    text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, customer_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers(org_id, customer_id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, tier_code) REFERENCES price_tiers(org_id, tier_code) ON DELETE CASCADE
);

-- A customer's own percentage off list on one product, a category or everything.
CREATE TABLE customer_discounts (
    org_id       uuid NOT NULL,
    discount_id  text NOT NULL CHECK (discount_id <> ''),
    customer_id  text NOT NULL,
    scope        text NOT NULL CHECK (scope IN ('product', 'category', 'all')),
    sku          text,
    category     text,
    percent      numeric(7,4) NOT NULL CHECK (percent >= 0 AND percent <= 100),
    valid_from   date,
    valid_to     date,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, discount_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers(org_id, customer_id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, sku) REFERENCES products(org_id, sku) ON DELETE CASCADE,
    CHECK ((scope = 'product') = (sku IS NOT NULL)),
    CHECK ((scope = 'category') = (category IS NOT NULL AND category <> '')),
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX customer_discounts_customer ON customer_discounts (org_id, customer_id);

-- A contract: a fixed price per product for one customer, through a date. One contract id
-- covers several products, one row each.
CREATE TABLE price_contracts (
    org_id       uuid NOT NULL,
    contract_id  text NOT NULL CHECK (contract_id <> ''),
    sku          text NOT NULL,
    customer_id  text NOT NULL,
    price        numeric(18,6) NOT NULL CHECK (price >= 0),
    uom          text NOT NULL,
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    valid_from   date,
    valid_to     date,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, contract_id, sku),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers(org_id, customer_id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, sku) REFERENCES products(org_id, sku) ON DELETE CASCADE,
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX price_contracts_product ON price_contracts (org_id, sku, customer_id);

-- A volume break: from `min_quantity` of `uom` up, a unit price (per `uom`, in `currency`) or
-- a percentage off list.
CREATE TABLE volume_breaks (
    org_id        uuid NOT NULL,
    break_id      text NOT NULL CHECK (break_id <> ''),
    sku           text NOT NULL,
    min_quantity  numeric(24,10) NOT NULL CHECK (min_quantity > 0),
    uom           text NOT NULL,
    price         numeric(18,6) CHECK (price >= 0),
    currency      text CHECK (currency ~ '^[A-Z]{3}$'),
    percent       numeric(7,4) CHECK (percent >= 0 AND percent <= 100),
    valid_from    date,
    valid_to      date,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, break_id),
    FOREIGN KEY (org_id, sku) REFERENCES products(org_id, sku) ON DELETE CASCADE,
    -- A price and its currency, or a percentage: exactly one.
    CHECK ((price IS NOT NULL AND currency IS NOT NULL AND percent IS NULL)
        OR (price IS NULL AND currency IS NULL AND percent IS NOT NULL)),
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX volume_breaks_product ON volume_breaks (org_id, sku);

-- A product's own conversions: 1 `from_uom` = `factor` `to_uom` (1 FT = 3.4 LB for a bar,
-- 1 EA = 20 FT). The fixed ones (CWT = 100 LB, TON = 2000 LB) are in code and not stored.
CREATE TABLE product_uom_conversions (
    org_id      uuid NOT NULL,
    sku         text NOT NULL,
    from_uom    text NOT NULL,
    to_uom      text NOT NULL,
    factor      numeric(24,10) NOT NULL CHECK (factor > 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, sku, from_uom, to_uom),
    FOREIGN KEY (org_id, sku) REFERENCES products(org_id, sku) ON DELETE CASCADE,
    CHECK (from_uom <> to_uom)
);
