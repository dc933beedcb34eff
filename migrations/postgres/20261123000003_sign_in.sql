-- Sign-in without an access link: a 6-digit code and a one-time link sent by
-- email, valid 10 minutes, 5 tries. Both secrets are stored hashed.
CREATE TABLE sign_in_challenges (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    code_hash       TEXT NOT NULL,
    link_hash       TEXT NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    consumed_at     BIGINT
);
CREATE INDEX sign_in_challenges_customer_idx ON sign_in_challenges (merchant_id, customer_id, created_at);

-- Fixed-window counters for rate limits (per email, per IP, …).
CREATE TABLE rate_limits (
    bucket          TEXT NOT NULL,
    window_start    BIGINT NOT NULL,
    hits            BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
