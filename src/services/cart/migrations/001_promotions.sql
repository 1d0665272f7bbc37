-- 001_promotions.sql - promotions (discount codes and automatic ones) and
-- their redemptions. Carts themselves stay in Redis; what must be counted
-- exactly (uses of a promotion) lives here.

CREATE TABLE promotions (
  id                 uuid PRIMARY KEY,             -- UUIDv7
  code               text CHECK (code ~ '^[A-Z0-9_-]{3,32}$'), -- NULL: automatic
  description        text NOT NULL DEFAULT '',
  type               text NOT NULL CHECK (type IN ('percentage', 'fixed',
                       'free_shipping', 'buy_x_get_y')),
  -- percentage: basis points (1..10000); fixed: minor units of currency
  value_minor        bigint NOT NULL DEFAULT 0 CHECK (value_minor >= 0),
  currency           char(3),                      -- NULL: any cart currency
  buy_quantity       integer CHECK (buy_quantity BETWEEN 1 AND 100),
  get_quantity       integer CHECK (get_quantity BETWEEN 1 AND 100),
  product_ids        uuid[] NOT NULL DEFAULT '{}',
  category_ids       uuid[] NOT NULL DEFAULT '{}',
  min_subtotal_minor bigint CHECK (min_subtotal_minor >= 0),
  starts_at          timestamptz,
  ends_at            timestamptz CHECK (ends_at IS NULL OR starts_at IS NULL
                       OR ends_at > starts_at),
  usage_limit        bigint CHECK (usage_limit >= 1),
  per_customer_limit bigint CHECK (per_customer_limit >= 1),
  -- uses reserved by checkouts in flight plus those of confirmed orders;
  -- the guarded UPDATE that reserves a use never passes usage_limit
  used               bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
  stackable          boolean NOT NULL DEFAULT false,
  deleted_at         timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK (type <> 'fixed' OR currency IS NOT NULL),
  CHECK (usage_limit IS NULL OR used <= usage_limit)
);
-- A code names one live promotion (a deleted one frees its code).
CREATE UNIQUE INDEX promotions_code ON promotions (code)
  WHERE deleted_at IS NULL AND code IS NOT NULL;
CREATE INDEX promotions_automatic ON promotions (created_at)
  WHERE deleted_at IS NULL AND code IS NULL;

-- One row per (order, promotion): reserved by the checkout saga, committed
-- when the order is confirmed, released when it fails or is cancelled.
CREATE TABLE promotion_redemptions (
  order_id     uuid NOT NULL,
  promotion_id uuid NOT NULL REFERENCES promotions (id),
  user_id      uuid NOT NULL,
  status       text NOT NULL CHECK (status IN ('reserved', 'committed',
                 'released')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, promotion_id)
);
CREATE INDEX promotion_redemptions_customer
  ON promotion_redemptions (promotion_id, user_id) WHERE status <> 'released';
