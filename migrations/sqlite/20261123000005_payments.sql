-- Payments through a gateway (sandbox or Stripe): one payment in flight per
-- customer, the sandbox's own state, autopay consent, per-merchant webhooks.
ALTER TABLE merchants ADD COLUMN webhook_secret TEXT;

-- portal: the customer paid in the portal; autopay: charged off-session on
-- the due date; external: recorded, not charged through Settle.
ALTER TABLE payments ADD COLUMN purpose TEXT NOT NULL DEFAULT 'portal' CHECK (purpose IN ('portal', 'autopay', 'external'));
ALTER TABLE payments ADD COLUMN decline_kind TEXT CHECK (decline_kind IN ('hard', 'soft'));
ALTER TABLE payments ADD COLUMN gateway_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN last_attempt_at BIGINT;
ALTER TABLE payments ADD COLUMN refunded_minor BIGINT NOT NULL DEFAULT 0;
-- Two tabs, two clicks, two workers: while one payment of a customer is
-- undecided, the database refuses a second one.
CREATE UNIQUE INDEX payments_one_in_flight ON payments (merchant_id, customer_id)
    WHERE status IN ('pending', 'processing', 'requires_action', 'unknown');
CREATE INDEX payments_gateway_ref_idx ON payments (gateway, gateway_ref);

-- When a card updater last refreshed the card (pre-dunning skips those).
ALTER TABLE payment_methods ADD COLUMN refreshed_at BIGINT;

-- Autopay is on only with a consent on record: the exact text shown, when,
-- from where, and for which card.
CREATE TABLE autopay_consents (
    id                  TEXT PRIMARY KEY,
    merchant_id         TEXT NOT NULL REFERENCES merchants(id),
    customer_id         TEXT NOT NULL REFERENCES customers(id),
    payment_method_id   TEXT NOT NULL REFERENCES payment_methods(id),
    consent_text        TEXT NOT NULL,
    ip                  TEXT,
    user_agent          TEXT,
    granted_at          BIGINT NOT NULL,
    revoked_at          BIGINT
);
CREATE INDEX autopay_consents_customer_idx ON autopay_consents (merchant_id, customer_id);

-- The sandbox gateway's own objects (customers, setups, cards, payments),
-- kept apart from ours as a real gateway would keep them.
CREATE TABLE sandbox_objects (
    id                  TEXT PRIMARY KEY,
    kind                TEXT NOT NULL,
    customer_ref        TEXT,
    idempotency_key     TEXT UNIQUE,
    body                TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX sandbox_objects_customer_idx ON sandbox_objects (customer_ref, kind);
