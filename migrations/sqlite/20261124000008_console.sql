-- The merchant console: staff can pause a customer's reminders without
-- suspending them (the sweep holds their invoices; delivery drops queued
-- reminders), and every console action is audited with the staff member.
ALTER TABLE customers ADD COLUMN dunning_paused_at BIGINT;

-- Uploaded logos live in the database (every process serves them, backups
-- include them), checked to be PNG, JPEG or WebP within size limits.
CREATE TABLE merchant_logos (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    content_type    TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    sha256          TEXT NOT NULL,
    width           BIGINT NOT NULL,
    height          BIGINT NOT NULL,
    bytes           BLOB NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX merchant_logos_merchant_idx ON merchant_logos (merchant_id, created_at);

-- Staff join by invitation: a one-time link (token stored hashed) that
-- sets their name and password; it expires, and an owner or admin can
-- withdraw it.
CREATE TABLE merchant_invitations (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    email           TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    token_hash      TEXT NOT NULL UNIQUE,
    invited_by      TEXT REFERENCES merchant_users(id),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    accepted_at     BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX merchant_invitations_merchant_idx ON merchant_invitations (merchant_id, created_at);

-- REST API keys: shown once, stored as a SHA-256 hash, revocable.
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    created_by      TEXT,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX api_keys_merchant_idx ON api_keys (merchant_id, created_at);

-- Idempotency-Key on API POSTs: the first request's fingerprint and its
-- response, replayed for a retry; status NULL while it is in flight.
CREATE TABLE api_idempotency (
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    idempotency_key TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    status          BIGINT,
    body            TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, idempotency_key)
);

-- Outbound webhooks: the merchant's endpoints, and one delivery per
-- endpoint and event (the unique pair is what makes it once), retried with
-- backoff under a lease like the email outbox.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    url             TEXT NOT NULL,
    secret          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    disabled_at     BIGINT
);
CREATE INDEX webhook_endpoints_merchant_idx ON webhook_endpoints (merchant_id);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event_id        TEXT NOT NULL REFERENCES events(id),
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_expires_at BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);

-- A merchant's own address for its portal (pay.acme.com): requests with
-- that Host are the merchant's, and its emails link there.
ALTER TABLE merchants ADD COLUMN custom_domain TEXT;
CREATE UNIQUE INDEX merchants_custom_domain_key ON merchants (custom_domain);
