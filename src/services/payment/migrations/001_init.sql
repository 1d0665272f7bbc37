-- The payment service's schema: payments, their refunds, and the provider
-- webhook events already applied (dedup by the provider's event id).
CREATE TABLE payments (
  id                  uuid PRIMARY KEY,
  -- One payment per order: the order id is also the provider idempotency key.
  order_id            uuid NOT NULL UNIQUE,
  user_id             uuid NOT NULL,
  status              text NOT NULL CHECK (status IN ('unknown', 'authorized',
                        'captured', 'voided', 'refunded', 'partially_refunded',
                        'failed')),
  amount              bigint NOT NULL CHECK (amount > 0),
  currency            char(3) NOT NULL,
  captured_amount     bigint NOT NULL DEFAULT 0 CHECK (captured_amount >= 0),
  refunded_amount     bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
  -- Refunds asked of the provider and not yet confirmed: reserved here first,
  -- so two refunds at once can never together exceed what was captured.
  refund_pending      bigint NOT NULL DEFAULT 0 CHECK (refund_pending >= 0),
  -- Only the brand and the last four digits; never a token or a number.
  card_brand          text,
  card_last4          text CHECK (card_last4 ~ '^[0-9]{4}$'),
  decline_code        text,
  provider            text NOT NULL,
  provider_payment_id text,
  -- A void asked while the outcome was unknown: the reconciler cancels the
  -- authorization as soon as it finds it.
  void_requested      boolean NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (captured_amount <= amount),
  CHECK (refunded_amount + refund_pending <= captured_amount)
);
CREATE INDEX payments_provider_id ON payments (provider, provider_payment_id);
CREATE INDEX payments_user ON payments (user_id, created_at);
-- What the reconciler reads: payments whose outcome is still to settle.
CREATE INDEX payments_unsettled ON payments (updated_at)
  WHERE status = 'unknown' OR (void_requested AND status = 'authorized');

CREATE TABLE payment_refunds (
  id                 uuid PRIMARY KEY, -- also the provider idempotency key
  payment_id         uuid NOT NULL REFERENCES payments (id),
  amount             bigint NOT NULL CHECK (amount > 0),
  status             text NOT NULL CHECK (status IN ('pending', 'succeeded',
                       'failed')),
  provider_refund_id text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_refunds_payment ON payment_refunds (payment_id);
CREATE INDEX payment_refunds_pending ON payment_refunds (created_at)
  WHERE status = 'pending';

CREATE TABLE webhook_events (
  provider    text NOT NULL,
  event_id    text NOT NULL,
  event_type  text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, event_id)
);
