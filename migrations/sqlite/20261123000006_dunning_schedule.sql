-- Where each open invoice stands in its merchant's reminder sequence: the
-- next step to send and when it is due (UTC ms, quiet hours applied). The
-- sweep only ever looks at invoices whose time has come.
ALTER TABLE invoices ADD COLUMN dunning_step BIGINT;
ALTER TABLE invoices ADD COLUMN dunning_next_at BIGINT;
CREATE INDEX invoices_dunning_due_idx ON invoices (status, dunning_next_at);

-- The invoices a reminder is about, checked again right before it is sent:
-- a reminder for invoices paid in the meantime is suppressed.
CREATE TABLE message_invoices (
    message_id      TEXT NOT NULL REFERENCES messages(id),
    invoice_id      TEXT NOT NULL REFERENCES invoices(id),
    PRIMARY KEY (message_id, invoice_id)
);
