-- notification: real delivery (docs/notifications.md). E-mails now go out by
-- SMTP; the delivery log replaces the record of "sent" e-mails.
DROP TABLE sent_emails;

-- What this service knows of each account, from user.registered: order
-- events carry only the user id.
CREATE TABLE users (
  user_id     uuid PRIMARY KEY,
  email       text NOT NULL,
  username    text,
  first_name  text,
  phone       text,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What an order mail shows, from order.created/confirmed/cancelled: the
-- shipped and delivered events carry only the order id and statuses.
CREATE TABLE orders (
  order_id    uuid PRIMARY KEY,
  user_id     uuid NOT NULL,
  currency    text NOT NULL,
  total_minor bigint NOT NULL CHECK (total_minor >= 0),
  lines       jsonb NOT NULL DEFAULT '[]',
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Preferences per user, channel and category; no row = the defaults
-- (everything on but marketing). Security mail is never subject to them.
CREATE TABLE preferences (
  user_id             uuid PRIMARY KEY,
  email_marketing     boolean NOT NULL DEFAULT false,
  email_order_updates boolean NOT NULL DEFAULT true,
  sms_marketing       boolean NOT NULL DEFAULT false,
  sms_order_updates   boolean NOT NULL DEFAULT true,
  push_marketing      boolean NOT NULL DEFAULT false,
  push_order_updates  boolean NOT NULL DEFAULT true,
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- The delivery log: one row per (event, channel), written in the consumer's
-- transaction, so a redelivered event adds nothing. The sender claims a
-- queued row (status sending, attempts + 1) before it sends, and records the
-- outcome after; `skipped` rows record what preferences stopped.
CREATE TABLE deliveries (
  id              uuid PRIMARY KEY,
  event_id        uuid NOT NULL,
  event_type      text NOT NULL,
  channel         text NOT NULL
                  CHECK (channel IN ('email', 'sms', 'push', 'in_app')),
  kind            text NOT NULL,
  category        text NOT NULL,
  user_id         uuid,
  recipient       text NOT NULL,
  subject         text NOT NULL,
  body_text       text NOT NULL,
  body_html       text,
  payload         jsonb,
  status          text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'sending', 'sent', 'failed',
                                    'skipped')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_at      timestamptz,
  sent_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at)
  WHERE status = 'queued';
CREATE INDEX deliveries_sending ON deliveries (claimed_at)
  WHERE status = 'sending';
CREATE INDEX deliveries_recipient ON deliveries (lower(recipient), created_at DESC);
CREATE INDEX deliveries_user ON deliveries (user_id, created_at DESC);

-- The in-app feed. One per event (an order event makes one notification).
CREATE TABLE notifications (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL,
  event_id    uuid NOT NULL UNIQUE,
  kind        text NOT NULL,
  title       text NOT NULL,
  body        text NOT NULL,
  data        jsonb NOT NULL DEFAULT '{}',
  read_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_feed ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id)
  WHERE read_at IS NULL;
