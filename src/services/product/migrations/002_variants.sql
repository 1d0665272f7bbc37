-- 002_variants.sql - product options and variants, and price lists per
-- currency (docs/catalog.md, "Variants" and "Prices per currency").
--
-- A product without options sells itself: its own row holds the stock and
-- the reservations (its one implicit default variant). A product with
-- options sells only its variants, each with its own SKU, stock and
-- reservations under the same invariant 0 <= reserved <= stock.

-- [{"name": "size", "values": ["S", "M"]}, ...], validated by the service.
ALTER TABLE products ADD COLUMN options jsonb NOT NULL DEFAULT '[]';

CREATE TABLE variants (
  id uuid PRIMARY KEY, -- UUIDv7
  product_id uuid NOT NULL REFERENCES products (id),
  -- Unique among variants here; the service also keeps it apart from every
  -- product SKU (one advisory lock per SKU, docs/catalog.md).
  sku text NOT NULL UNIQUE,
  options jsonb NOT NULL, -- {"size": "M", "color": "red"}
  price_minor bigint CHECK (price_minor >= 0), -- NULL: the product's price
  stock bigint NOT NULL CHECK (stock >= 0),
  reserved bigint NOT NULL DEFAULT 0
    CHECK (reserved >= 0 AND reserved <= stock),
  status text NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'archived')),
  images jsonb NOT NULL DEFAULT '[]',
  attributes jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX variants_product ON variants (product_id, id);
-- One live variant per combination of option values.
CREATE UNIQUE INDEX variants_combination ON variants (product_id, options)
  WHERE status = 'active';

-- Explicit prices in other currencies than the product's own (no live
-- conversion). A variant's entry wins over its product's.
CREATE TABLE product_prices (
  product_id uuid NOT NULL REFERENCES products (id),
  currency char(3) NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
  PRIMARY KEY (product_id, currency)
);
CREATE INDEX product_prices_currency ON product_prices (currency, amount_minor);

CREATE TABLE variant_prices (
  variant_id uuid NOT NULL REFERENCES variants (id),
  currency char(3) NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
  PRIMARY KEY (variant_id, currency)
);

-- Reservations per variant line: an order may hold several variants of one
-- product. NULL variant_id: the product's own stock (a product without
-- options).
ALTER TABLE reservation_lines ADD COLUMN variant_id uuid REFERENCES variants (id);
ALTER TABLE reservation_lines DROP CONSTRAINT reservation_lines_pkey;
CREATE UNIQUE INDEX reservation_lines_key ON reservation_lines
  (order_id, product_id, COALESCE(variant_id, '00000000-0000-0000-0000-000000000000'::uuid));

ALTER TABLE inventory_adjustments ADD COLUMN variant_id uuid REFERENCES variants (id);
