-- Orders, their lines and transitions, the checkout saga's idempotency
-- records, refunds, tax rules, and the heartbeat of live order processes.

CREATE TABLE orders (
  id               uuid PRIMARY KEY,            -- UUIDv7: time-ordered
  user_id          uuid NOT NULL,
  cart_id          uuid NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'confirmed',
                     'processing', 'shipped', 'delivered', 'cancelled',
                     'refunded')),
  currency         char(3) NOT NULL,
  subtotal_minor   bigint NOT NULL CHECK (subtotal_minor >= 0),
  tax_minor        bigint NOT NULL CHECK (tax_minor >= 0),
  shipping_minor   bigint NOT NULL CHECK (shipping_minor >= 0),
  total_minor      bigint NOT NULL CHECK (total_minor >= 0),
  tax_rate_bp      integer NOT NULL,
  shipping_method  text NOT NULL,
  shipping_address jsonb NOT NULL,
  billing_address  jsonb NOT NULL,
  payment_id       text,
  captured_minor   bigint NOT NULL DEFAULT 0,
  refunded_minor   bigint NOT NULL DEFAULT 0 CHECK (refunded_minor <= captured_minor),
  shipment_id      text,
  cancel_reason    text,
  -- a cancelled order whose stock release / payment void is still owed
  compensation_due boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_id ON orders (user_id, id DESC);
CREATE INDEX orders_compensation_due ON orders (id) WHERE compensation_due;

CREATE TABLE order_lines (
  order_id         uuid NOT NULL REFERENCES orders (id),
  line_no          integer NOT NULL,
  product_id       uuid NOT NULL,
  sku              text NOT NULL,
  name             text NOT NULL,
  unit_price_minor bigint NOT NULL,
  quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
  subtotal_minor   bigint NOT NULL,
  tax_minor        bigint NOT NULL,
  total_minor      bigint NOT NULL,
  PRIMARY KEY (order_id, line_no)
);

-- One row per state change: the timestamp of every transition.
CREATE TABLE order_transitions (
  order_id    uuid NOT NULL REFERENCES orders (id),
  seq         bigserial,
  from_status text,
  to_status   text NOT NULL,
  reason      text,
  occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (order_id, seq)
);

-- The checkout saga: one row per (user, Idempotency-Key), inserted first so
-- concurrent retries meet on the primary key. `step` is how far the saga
-- got; `owner` the process running it (see order_workers), `claim` a token
-- changed whenever another process takes the saga over.
CREATE TABLE checkouts (
  user_id         uuid NOT NULL,
  idem_key        text NOT NULL,
  request_hash    text NOT NULL,
  order_id        uuid NOT NULL UNIQUE,
  cart_id         uuid NOT NULL,
  step            text NOT NULL CHECK (step IN ('started', 'order_created',
                    'authorized', 'confirmed', 'done')),
  owner           text NOT NULL,
  claim           text NOT NULL,
  response_status integer,
  response_body   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX checkouts_open ON checkouts (updated_at) WHERE step <> 'done';

-- Live order processes; a saga whose owner stopped beating is recovered.
CREATE TABLE order_workers (
  instance_id  text PRIMARY KEY,
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE refunds (
  id              uuid PRIMARY KEY,
  order_id        uuid NOT NULL REFERENCES orders (id),
  idem_key        text,
  request_hash    text,
  amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
  response_body   text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (order_id, idem_key)
);

-- Sales tax / VAT by destination: region '' is the country-wide rate; a
-- region row (US state, ...) overrides it. Rates in basis points.
CREATE TABLE tax_rules (
  country char(2) NOT NULL,
  region  text NOT NULL DEFAULT '',
  rate_bp integer NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000),
  PRIMARY KEY (country, region)
);

INSERT INTO tax_rules (country, region, rate_bp) VALUES
  ('US', '', 0),
  ('US', 'CA', 725), ('US', 'NY', 400), ('US', 'TX', 625), ('US', 'WA', 650),
  ('US', 'FL', 600), ('US', 'IL', 625), ('US', 'MA', 625), ('US', 'NJ', 663),
  ('CA', '', 500), ('CA', 'ON', 1300), ('CA', 'QC', 1498), ('CA', 'BC', 1200),
  ('GB', '', 2000), ('DE', '', 1900), ('FR', '', 2000), ('IT', '', 2200),
  ('ES', '', 2100), ('NL', '', 2100), ('BE', '', 2100), ('AT', '', 2000),
  ('IE', '', 2300), ('SE', '', 2500), ('DK', '', 2500), ('FI', '', 2550),
  ('PL', '', 2300), ('PT', '', 2300), ('CH', '', 810), ('NO', '', 2500),
  ('AU', '', 1000), ('NZ', '', 1500), ('JP', '', 1000), ('SG', '', 900),
  ('IN', '', 1800), ('BR', '', 1700), ('MX', '', 1600);
