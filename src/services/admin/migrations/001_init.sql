-- The admin service's read models (docs/admin.md). Every row comes from a
-- domain event (docs/events.md) applied once through the inbox; nothing here
-- is written by an HTTP request. Money is in minor units of `currency`.

-- One row per confirmed order (order.confirmed): what it sold and when.
CREATE TABLE sales_orders (
  order_id     uuid PRIMARY KEY,
  user_id      uuid,
  currency     text NOT NULL,
  total        bigint NOT NULL,
  confirmed_at timestamptz NOT NULL
);
CREATE INDEX sales_orders_window ON sales_orders (currency, confirmed_at);

-- The lines of those orders, for top products.
CREATE TABLE sales_lines (
  order_id   uuid NOT NULL REFERENCES sales_orders (order_id),
  line_no    int NOT NULL,
  product_id uuid NOT NULL,
  name       text,
  quantity   bigint NOT NULL,
  unit_price bigint NOT NULL,
  PRIMARY KEY (order_id, line_no)
);

-- Refunds (order.refunded), counted at refund time.
CREATE TABLE refunds (
  refund_id   uuid PRIMARY KEY,
  order_id    uuid NOT NULL,
  currency    text NOT NULL,
  amount      bigint NOT NULL,
  refunded_at timestamptz NOT NULL
);
CREATE INDEX refunds_window ON refunds (currency, refunded_at);

-- The latest status of every order (order.created, order.status_changed,
-- order.confirmed, order.cancelled). changed_at is the event's timestamp: an
-- older event arriving late (a retry) does not overwrite a newer status.
CREATE TABLE order_statuses (
  order_id   uuid PRIMARY KEY,
  status     text NOT NULL,
  changed_at timestamptz NOT NULL
);
CREATE INDEX order_statuses_status ON order_statuses (status);

-- Products and their stock (product.*, inventory.changed); info_at and
-- stock_at guard the two halves against late events like changed_at above.
CREATE TABLE products (
  product_id uuid PRIMARY KEY,
  sku        text,
  name       text,
  status     text,
  stock      bigint NOT NULL DEFAULT 0,
  available  bigint NOT NULL DEFAULT 0,
  info_at    timestamptz NOT NULL DEFAULT '-infinity',
  stock_at   timestamptz NOT NULL DEFAULT '-infinity'
);
CREATE INDEX products_low_stock ON products (available) WHERE status = 'active';

-- Accounts (user.registered).
CREATE TABLE customers (
  user_id       uuid PRIMARY KEY,
  role          text NOT NULL,
  registered_at timestamptz NOT NULL
);
CREATE INDEX customers_registered ON customers (registered_at);

-- Reviews and their moderation state (review.*).
CREATE TABLE reviews (
  review_id  uuid PRIMARY KEY,
  product_id uuid,
  status     text NOT NULL,
  changed_at timestamptz NOT NULL
);
CREATE INDEX reviews_status ON reviews (status);

-- The platform-wide audit log (audit.recorded; docs/audit.md). id is the
-- event id, so a redelivered event cannot add a second row.
CREATE TABLE audit_log (
  id          uuid PRIMARY KEY,
  actor_id    text,
  actor_email text,
  actor_role  text,
  action      text NOT NULL,
  target_type text NOT NULL,
  target_id   text NOT NULL,
  before      jsonb,
  after       jsonb,
  trace_id    text,
  at          timestamptz NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at DESC);
CREATE INDEX audit_log_actor_email ON audit_log (actor_email, at DESC);
CREATE INDEX audit_log_target ON audit_log (target_id, at DESC);
