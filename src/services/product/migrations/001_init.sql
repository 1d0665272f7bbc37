-- 001_init.sql - the product service's schema: categories, products,
-- inventory (on hand and reserved), reservations and the adjustment audit.
--
-- Stock invariant, kept by the database itself: 0 <= reserved <= stock, so
-- available (stock - reserved) can never read negative whatever the
-- concurrency; every write that moves units is one conditional UPDATE.

CREATE TABLE categories (
  id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE,
  name text NOT NULL,
  parent_id uuid REFERENCES categories (id),
  path text NOT NULL UNIQUE, -- slugs from the root: "clothing/t-shirts"
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX categories_parent ON categories (parent_id);

CREATE TABLE products (
  id uuid PRIMARY KEY, -- UUIDv7: id order is creation order ("newest")
  sku text NOT NULL UNIQUE,
  -- "C" collation: the name sort and its keyset cursor compare bytes, so
  -- the order is total and the same in SQL and in the cursor.
  name text COLLATE "C" NOT NULL,
  description text NOT NULL DEFAULT '',
  category_id uuid NOT NULL REFERENCES categories (id),
  price_minor bigint NOT NULL CHECK (price_minor >= 0),
  currency char(3) NOT NULL,
  stock bigint NOT NULL CHECK (stock >= 0),
  reserved bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= stock),
  status text NOT NULL CHECK (status IN ('draft', 'active', 'archived')),
  images jsonb NOT NULL DEFAULT '[]',
  attributes jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_category ON products (category_id, id);
CREATE INDEX products_status_id ON products (status, id);
CREATE INDEX products_status_price ON products (status, price_minor, id);
CREATE INDEX products_status_name ON products (status, name, id);

CREATE TABLE reservations (
  order_id uuid PRIMARY KEY,
  status text NOT NULL
    CHECK (status IN ('reserved', 'committed', 'released', 'expired')),
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- The sweeper's question: which live reservations are past their expiry.
CREATE INDEX reservations_live ON reservations (expires_at)
  WHERE status = 'reserved';

CREATE TABLE reservation_lines (
  order_id uuid NOT NULL REFERENCES reservations (order_id),
  product_id uuid NOT NULL REFERENCES products (id),
  quantity bigint NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, product_id)
);

-- Every manual change of on-hand stock, with who and why.
CREATE TABLE inventory_adjustments (
  id uuid PRIMARY KEY,
  product_id uuid NOT NULL REFERENCES products (id),
  delta bigint NOT NULL,
  reason text NOT NULL,
  stock_after bigint NOT NULL,
  actor_id text, -- the admin's user id; NULL for tools (seed, import)
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inventory_adjustments_product
  ON inventory_adjustments (product_id, created_at);
