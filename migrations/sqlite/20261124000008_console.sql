-- The merchant console: staff can pause a customer's reminders without
-- suspending them (the sweep holds their invoices; delivery drops queued
-- reminders), and every console action is audited with the staff member.
ALTER TABLE customers ADD COLUMN dunning_paused_at BIGINT;
