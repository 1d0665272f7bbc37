-- notification: e-mails "sent" (recorded here; a real deployment would hand
-- them to an SMTP relay from the same place). One row per event and template,
-- so a redelivered event never sends twice.
CREATE TABLE sent_emails (
  id          uuid PRIMARY KEY,
  event_id    uuid NOT NULL,
  template    text NOT NULL,
  to_address  text NOT NULL,
  subject     text NOT NULL,
  body        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, template)
);
CREATE INDEX sent_emails_to ON sent_emails (lower(to_address), created_at DESC);
