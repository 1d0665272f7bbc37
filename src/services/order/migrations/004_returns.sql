-- 004_returns.sql - returns of delivered lines, and refunds recorded as an
-- intent before the payment service is called (docs/returns.md).
--
-- Order lines get an id (the order_item_id of the API and of the return
-- events) and what was refunded of them. A refund row is written `pending`
-- in the order's transaction, the payment service is called after COMMIT
-- with the row's id as its idempotency key, and the row is settled
-- (`succeeded` or `failed`) in a second transaction; the sweeper finishes
-- rows left pending by a crash.

ALTER TABLE order_lines
  ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid(),
  ADD COLUMN refunded_quantity integer NOT NULL DEFAULT 0
    CHECK (refunded_quantity >= 0 AND refunded_quantity <= quantity),
  ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0
    CHECK (refunded_minor >= 0);
ALTER TABLE order_lines ADD CONSTRAINT order_lines_id_key UNIQUE (id);

CREATE TABLE returns (
  id               uuid PRIMARY KEY,            -- UUIDv7: time-ordered
  order_id         uuid NOT NULL REFERENCES orders (id),
  user_id          uuid NOT NULL,
  status           text NOT NULL CHECK (status IN ('requested', 'approved',
                     'rejected', 'received', 'refunded')),
  reason           text NOT NULL,
  rejection_reason text,
  currency         char(3) NOT NULL,
  refund_minor     bigint CHECK (refund_minor >= 0), -- set when refunded
  refund_id        uuid,                      -- the refunds row, once asked
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX returns_order ON returns (order_id, id);
CREATE INDEX returns_status ON returns (status, id);
CREATE INDEX returns_user ON returns (user_id, id);

CREATE TABLE return_items (
  return_id     uuid NOT NULL REFERENCES returns (id),
  order_line_id uuid NOT NULL REFERENCES order_lines (id),
  quantity      integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
  condition     text CHECK (condition IN ('sellable', 'damaged')),
  refund_minor  bigint CHECK (refund_minor >= 0),
  PRIMARY KEY (return_id, order_line_id)
);
CREATE INDEX return_items_line ON return_items (order_line_id);

ALTER TABLE refunds
  ALTER COLUMN response_body DROP NOT NULL,
  ADD COLUMN status text NOT NULL DEFAULT 'succeeded'
    CHECK (status IN ('pending', 'succeeded', 'failed')),
  ADD COLUMN return_id uuid REFERENCES returns (id),
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN last_error text,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX refunds_pending ON refunds (updated_at) WHERE status = 'pending';
