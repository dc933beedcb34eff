-- Text messages go to the customer's phone in international (E.164) form,
-- kept beside the number as typed. An inbound STOP finds the customer by it.
ALTER TABLE customers ADD COLUMN sms_number TEXT;
UPDATE customers SET sms_number = REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, ' ', ''), '-', ''), '.', ''), '(', ''), ')', '')
    WHERE phone LIKE '+%';
CREATE INDEX customers_sms_number_idx ON customers (sms_number);

-- The sweep looks for open invoices not yet placed in the sequence on every
-- pass; with a million placed ones that must not be a scan.
CREATE INDEX invoices_unplaced_idx ON invoices (merchant_id) WHERE dunning_step IS NULL AND status = 'open';
