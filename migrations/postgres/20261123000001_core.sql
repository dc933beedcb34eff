-- Settle core schema (PostgreSQL). Kept column-for-column identical to
-- migrations/sqlite. Rules: ids are TEXT with a type prefix; money is BIGINT
-- minor units beside a 3-letter currency; instants are BIGINT unix ms UTC;
-- flags are BIGINT 0/1; every tenant-owned row carries merchant_id.

CREATE TABLE merchants (
    id                      TEXT PRIMARY KEY,
    slug                    TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL,
    display_name            TEXT NOT NULL,
    logo_url                TEXT,
    primary_color           TEXT NOT NULL DEFAULT '#1d4ed8',
    accent_color            TEXT NOT NULL DEFAULT '#0f766e',
    support_email           TEXT,
    support_phone           TEXT,
    email_footer            TEXT,
    default_currency        TEXT NOT NULL DEFAULT 'USD',
    time_zone               TEXT NOT NULL DEFAULT 'UTC',
    gateway                 TEXT NOT NULL DEFAULT 'sandbox' CHECK (gateway IN ('sandbox', 'stripe')),
    access_link_ttl_days    BIGINT NOT NULL DEFAULT 14 CHECK (access_link_ttl_days BETWEEN 1 AND 90),
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);

CREATE TABLE merchant_users (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    email           TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    password_hash   TEXT,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CONSTRAINT merchant_users_email_key UNIQUE (merchant_id, email)
);

CREATE TABLE customers (
    id                      TEXT PRIMARY KEY,
    merchant_id             TEXT NOT NULL REFERENCES merchants(id),
    external_ref            TEXT,
    name                    TEXT NOT NULL,
    email                   TEXT NOT NULL,
    phone                   TEXT,
    time_zone               TEXT NOT NULL DEFAULT 'UTC',
    locale                  TEXT NOT NULL DEFAULT 'en-US',
    password_hash           TEXT,
    status                  TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    email_opt_out           BIGINT NOT NULL DEFAULT 0,
    sms_opt_out             BIGINT NOT NULL DEFAULT 0,
    autopay_enabled         BIGINT NOT NULL DEFAULT 0,
    gateway_customer_ref    TEXT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    CONSTRAINT customers_external_ref_key UNIQUE (merchant_id, external_ref)
);
CREATE INDEX customers_merchant_email_idx ON customers (merchant_id, email);

CREATE TABLE payment_methods (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    gateway         TEXT NOT NULL,
    -- The gateway's reference (Stripe pm_…); never a card number.
    gateway_ref     TEXT NOT NULL,
    brand           TEXT NOT NULL,
    last4           TEXT NOT NULL CHECK (length(last4) = 4),
    exp_month       BIGINT NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year        BIGINT NOT NULL,
    is_default      BIGINT NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'detached')),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CONSTRAINT payment_methods_gateway_ref_key UNIQUE (merchant_id, gateway, gateway_ref)
);
CREATE INDEX payment_methods_customer_idx ON payment_methods (merchant_id, customer_id);

CREATE TABLE invoices (
    id                  TEXT PRIMARY KEY,
    merchant_id         TEXT NOT NULL REFERENCES merchants(id),
    customer_id         TEXT NOT NULL REFERENCES customers(id),
    number              TEXT NOT NULL,
    external_ref        TEXT,
    currency            TEXT NOT NULL CHECK (length(currency) = 3),
    subtotal_minor      BIGINT NOT NULL,
    tax_minor           BIGINT NOT NULL DEFAULT 0,
    total_minor         BIGINT NOT NULL CHECK (total_minor >= 0),
    amount_paid_minor   BIGINT NOT NULL DEFAULT 0 CHECK (amount_paid_minor >= 0),
    status              TEXT NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    issued_at           BIGINT NOT NULL,
    due_at              BIGINT NOT NULL,
    paid_at             BIGINT,
    voided_at           BIGINT,
    memo                TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    CONSTRAINT invoices_number_key UNIQUE (merchant_id, number),
    CONSTRAINT invoices_external_ref_key UNIQUE (merchant_id, external_ref),
    CONSTRAINT invoices_paid_not_above_total CHECK (amount_paid_minor <= total_minor)
);
CREATE INDEX invoices_customer_status_idx ON invoices (merchant_id, customer_id, status, due_at);
CREATE INDEX invoices_status_due_idx ON invoices (status, due_at);

CREATE TABLE invoice_lines (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    invoice_id      TEXT NOT NULL REFERENCES invoices(id),
    position        BIGINT NOT NULL,
    description     TEXT NOT NULL,
    quantity        BIGINT NOT NULL DEFAULT 1,
    unit_minor      BIGINT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'item' CHECK (kind IN ('item', 'tax', 'late_fee', 'discount')),
    created_at      BIGINT NOT NULL
);
CREATE INDEX invoice_lines_invoice_idx ON invoice_lines (invoice_id, position);

CREATE TABLE payments (
    id                  TEXT PRIMARY KEY,
    merchant_id         TEXT NOT NULL REFERENCES merchants(id),
    customer_id         TEXT NOT NULL REFERENCES customers(id),
    payment_method_id   TEXT REFERENCES payment_methods(id),
    amount_minor        BIGINT NOT NULL CHECK (amount_minor > 0),
    currency            TEXT NOT NULL CHECK (length(currency) = 3),
    status              TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'requires_action', 'succeeded', 'failed', 'unknown', 'refunded', 'external')),
    -- Written before the gateway is called: one key, one charge.
    idempotency_key     TEXT NOT NULL,
    gateway             TEXT NOT NULL,
    gateway_ref         TEXT,
    off_session         BIGINT NOT NULL DEFAULT 0,
    failure_code        TEXT,
    failure_message     TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    CONSTRAINT payments_idempotency_key UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX payments_customer_idx ON payments (merchant_id, customer_id, created_at);

CREATE TABLE payment_allocations (
    payment_id      TEXT NOT NULL REFERENCES payments(id),
    invoice_id      TEXT NOT NULL REFERENCES invoices(id),
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    amount_minor    BIGINT NOT NULL CHECK (amount_minor > 0),
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (payment_id, invoice_id)
);
CREATE INDEX payment_allocations_invoice_idx ON payment_allocations (invoice_id);

CREATE TABLE dunning_policies (
    id                      TEXT PRIMARY KEY,
    merchant_id             TEXT NOT NULL REFERENCES merchants(id),
    name                    TEXT NOT NULL,
    is_active               BIGINT NOT NULL DEFAULT 0,
    -- Minutes after local midnight in the customer's zone.
    quiet_start_minute      BIGINT NOT NULL DEFAULT 1260,
    quiet_end_minute        BIGINT NOT NULL DEFAULT 480,
    weekly_message_cap      BIGINT NOT NULL DEFAULT 3,
    consolidate             BIGINT NOT NULL DEFAULT 1,
    final_action            TEXT NOT NULL DEFAULT 'none' CHECK (final_action IN ('none', 'suspend', 'collections', 'write_off')),
    late_fee_kind           TEXT CHECK (late_fee_kind IN ('flat', 'percent')),
    late_fee_value          BIGINT,
    retry_local_hour        BIGINT NOT NULL DEFAULT 10,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX dunning_policies_merchant_idx ON dunning_policies (merchant_id);

CREATE TABLE dunning_steps (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    policy_id       TEXT NOT NULL REFERENCES dunning_policies(id),
    kind            TEXT NOT NULL CHECK (kind IN ('card_expiry', 'pre_due', 'overdue', 'charge_retry', 'final')),
    -- Days relative to the due date (negative = before); for retries, days after the failure.
    offset_days     BIGINT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'none')),
    template_key    TEXT,
    tone            TEXT NOT NULL DEFAULT 'friendly' CHECK (tone IN ('friendly', 'firm', 'final')),
    position        BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX dunning_steps_policy_idx ON dunning_steps (policy_id, position);

CREATE TABLE templates (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    template_key    TEXT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    locale          TEXT NOT NULL DEFAULT 'en-US',
    subject         TEXT NOT NULL DEFAULT '',
    body_text       TEXT NOT NULL,
    body_html       TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CONSTRAINT templates_key UNIQUE (merchant_id, template_key, channel, locale)
);

CREATE TABLE jobs (
    id                  TEXT PRIMARY KEY,
    merchant_id         TEXT REFERENCES merchants(id),
    kind                TEXT NOT NULL,
    payload             TEXT NOT NULL DEFAULT '{}',
    -- Same effect, same key: a second enqueue is a no-op.
    dedupe_key          TEXT UNIQUE,
    run_at              BIGINT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead')),
    attempts            BIGINT NOT NULL DEFAULT 0,
    max_attempts        BIGINT NOT NULL DEFAULT 8,
    lease_owner         TEXT,
    lease_expires_at    BIGINT,
    last_error          TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX jobs_due_idx ON jobs (status, run_at);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    customer_id     TEXT REFERENCES customers(id),
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL DEFAULT '',
    body_text       TEXT NOT NULL,
    body_html       TEXT,
    template_key    TEXT,
    dedupe_key      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'suppressed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    provider_ref    TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    CONSTRAINT messages_dedupe_key UNIQUE (merchant_id, dedupe_key)
);
CREATE INDEX messages_customer_idx ON messages (merchant_id, customer_id, created_at);
CREATE INDEX messages_status_idx ON messages (status, created_at);

CREATE TABLE access_tokens (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    -- SHA-256 of the 128-bit token; the token itself is never stored.
    token_hash      TEXT NOT NULL UNIQUE,
    purpose         TEXT NOT NULL DEFAULT 'access_link' CHECK (purpose IN ('access_link', 'sign_in_link')),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    last_used_at    BIGINT,
    use_count       BIGINT NOT NULL DEFAULT 0,
    revoked_at      BIGINT
);
CREATE INDEX access_tokens_customer_idx ON access_tokens (merchant_id, customer_id);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    data            TEXT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE webhook_events (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    source          TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    received_at     BIGINT NOT NULL,
    processed_at    BIGINT,
    CONSTRAINT webhook_events_event_key UNIQUE (merchant_id, source, event_id)
);

CREATE TABLE audit_log (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    actor_kind      TEXT NOT NULL CHECK (actor_kind IN ('customer', 'merchant_user', 'system', 'api')),
    actor_id        TEXT,
    action          TEXT NOT NULL,
    subject_kind    TEXT,
    subject_id      TEXT,
    detail          TEXT NOT NULL DEFAULT '{}',
    ip              TEXT,
    user_agent      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX audit_log_merchant_idx ON audit_log (merchant_id, created_at);
