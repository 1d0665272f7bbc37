-- The recommendation service's schema (docs/recommendations.md).

-- Its own copy of the catalog, from product.* and inventory.changed events
-- (and a fill through the product API when empty): what a rendered item
-- needs, and the features of content similarity.
CREATE TABLE products (
  id uuid PRIMARY KEY,
  sku text NOT NULL DEFAULT '',
  category_id uuid,
  brand text NOT NULL DEFAULT '',
  color text NOT NULL DEFAULT '',
  size text NOT NULL DEFAULT '',
  price_minor bigint NOT NULL DEFAULT 0,
  status text NOT NULL,
  available bigint NOT NULL DEFAULT 0,
  doc jsonb NOT NULL, -- the product as the catalog renders it
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_sku ON products (sku);
CREATE INDEX products_category ON products (category_id);

-- Confirmed order lines (order.confirmed).
CREATE TABLE purchases (
  order_id uuid NOT NULL,
  product_id uuid NOT NULL,
  user_id uuid NOT NULL,
  quantity integer NOT NULL,
  purchased_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, product_id)
);
CREATE INDEX purchases_user ON purchases (user_id, purchased_at DESC);

-- The clickstream: actor is 'u:<user id>' or 's:<session id>'.
CREATE TABLE clicks (
  id bigserial PRIMARY KEY,
  actor text NOT NULL,
  product_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('view', 'add_to_cart')),
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clicks_actor ON clicks (actor, at DESC);
CREATE INDEX clicks_at ON clicks (at);

-- Co-occurrence counts, both directions: kind 'p' co-purchase, 'v' co-view.
CREATE TABLE pairs (
  kind "char" NOT NULL,
  a uuid NOT NULL,
  b uuid NOT NULL,
  n double precision NOT NULL,
  PRIMARY KEY (kind, a, b)
);

-- Per item: orders (kind 'p') and viewing actors (kind 'v') it appears in.
CREATE TABLE item_counts (
  kind "char" NOT NULL,
  product_id uuid NOT NULL,
  n double precision NOT NULL,
  PRIMARY KEY (kind, product_id)
);

-- Time-decayed popularity: score as of updated_at; decays with a half-life.
CREATE TABLE trending (
  product_id uuid PRIMARY KEY,
  score double precision NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Products whose lists must be recomputed by the refresh worker.
CREATE TABLE dirty (
  product_id uuid PRIMARY KEY
);

-- Precomputed top-N per product: kind bought_together | similar;
-- items [{id, score}] best first.
CREATE TABLE lists (
  product_id uuid NOT NULL,
  kind text NOT NULL,
  items jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (product_id, kind)
);

-- Personal top-N per user from the last ALS training: items [{id, score}].
CREATE TABLE user_lists (
  user_id uuid PRIMARY KEY,
  items jsonb NOT NULL,
  trained_at timestamptz NOT NULL DEFAULT now()
);

-- The demo seed's synthetic orders, by SKU, until the snapshot knows the
-- products (then they become purchases and pair counts, and leave here).
CREATE TABLE demo_orders (
  shopper integer NOT NULL,
  order_no integer NOT NULL,
  sku text NOT NULL,
  PRIMARY KEY (shopper, order_no, sku)
);

-- What the trainer last did (one row).
CREATE TABLE model_runs (
  id integer PRIMARY KEY CHECK (id = 1),
  trained_at timestamptz,
  users integer NOT NULL DEFAULT 0,
  items integer NOT NULL DEFAULT 0,
  interactions integer NOT NULL DEFAULT 0
);
INSERT INTO model_runs (id) VALUES (1);
