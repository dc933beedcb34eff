-- Customers who can't pay today say so instead of being chased: a promise
-- to pay by a date (dunning pauses until then) or a dispute (dunning pauses
-- until the merchant resolves it). Events tell the merchant.
ALTER TABLE merchants ADD COLUMN promise_max_days BIGINT NOT NULL DEFAULT 14;

CREATE TABLE promises (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    invoice_id      TEXT NOT NULL REFERENCES invoices(id),
    -- The chosen calendar date (yyyy-mm-dd, customer's zone) and the instant
    -- it ends, which is what the dunning engine compares against.
    promised_date   TEXT NOT NULL,
    promised_until  BIGINT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'kept', 'broken', 'cancelled')),
    created_at      BIGINT NOT NULL
);
CREATE INDEX promises_invoice_idx ON promises (merchant_id, invoice_id, status);

CREATE TABLE disputes (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    invoice_id      TEXT NOT NULL REFERENCES invoices(id),
    reason          TEXT NOT NULL CHECK (reason IN ('not_received', 'wrong_amount', 'already_paid', 'duplicate', 'other')),
    details         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    created_at      BIGINT NOT NULL,
    resolved_at     BIGINT
);
CREATE INDEX disputes_invoice_idx ON disputes (merchant_id, invoice_id, status);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    customer_id     TEXT REFERENCES customers(id),
    invoice_id      TEXT REFERENCES invoices(id),
    kind            TEXT NOT NULL,
    detail          TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL
);
CREATE INDEX events_merchant_idx ON events (merchant_id, created_at);
