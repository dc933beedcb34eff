-- A reminder is stored as what it says (heading, paragraphs, the pay-now
-- button) beside its plain text; the delivery worker brands the HTML part
-- when it sends. A queued reminder then carries a few hundred bytes rather
-- than two kilobytes of inline-styled HTML (the sweep writes 10,000 at a
-- time), and goes out in the merchant's branding of the moment it is sent.
ALTER TABLE messages ADD COLUMN body_content TEXT;
