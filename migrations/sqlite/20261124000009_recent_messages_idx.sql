-- The sweep counts each due customer's reminders of the last seven days
-- (the weekly cap, one a day). Without an index on the creation time that
-- count read the whole outbox, which only grows.
CREATE INDEX messages_created_idx ON messages (created_at);
