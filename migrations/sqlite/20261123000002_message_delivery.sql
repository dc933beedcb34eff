-- Delivery bookkeeping for the outbox: when a queued message may next be
-- tried, and the lease a worker holds while sending it (a crashed worker's
-- lease runs out and another takes the message over).
ALTER TABLE messages ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN lease_expires_at BIGINT;
ALTER TABLE messages ADD COLUMN transport TEXT;
CREATE INDEX messages_due_idx ON messages (status, next_attempt_at);
