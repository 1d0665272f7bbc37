-- 001_init.sql - the review service's schema: reviews with their moderation
-- state, helpful votes, the per-product rating aggregate, and the two read
-- models it learns from events (who bought what; the authors' names).

-- Who bought what, from order.confirmed; order.cancelled and a full
-- order.refunded take the purchase back. The buyer rule reads only this.
CREATE TABLE purchases (
  order_id uuid NOT NULL,
  product_id uuid NOT NULL,
  user_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('confirmed', 'cancelled', 'refunded')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, product_id)
);
CREATE INDEX purchases_buyer ON purchases (user_id, product_id)
  WHERE status = 'confirmed';

-- A snapshot of each account from user.registered: the author's display
-- name on a review and the actor's e-mail in the audit log.
CREATE TABLE authors (
  user_id uuid PRIMARY KEY,
  display_name text NOT NULL,
  email text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reviews (
  id uuid PRIMARY KEY, -- UUIDv7: id order is creation order ("newest")
  product_id uuid NOT NULL,
  user_id uuid NOT NULL,
  author_name text NOT NULL,
  rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  title text NOT NULL,
  body text NOT NULL,
  body_key text NOT NULL, -- normalized body, for the duplicate-text flag
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  verified_purchase boolean NOT NULL,
  helpful_count integer NOT NULL DEFAULT 0 CHECK (helpful_count >= 0),
  flags jsonb NOT NULL DEFAULT '[]',
  reject_reason text,
  moderated_by uuid,
  moderated_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, product_id) -- one review per user and product
);
CREATE INDEX reviews_product_newest ON reviews (product_id, status, id);
CREATE INDEX reviews_product_helpful
  ON reviews (product_id, status, helpful_count, id);
CREATE INDEX reviews_product_rating ON reviews (product_id, status, rating, id);
CREATE INDEX reviews_queue ON reviews (status, id);
CREATE INDEX reviews_body_key ON reviews (md5(body_key));

CREATE TABLE helpful_votes (
  review_id uuid NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
  user_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (review_id, user_id)
);

-- The rating aggregate of approved reviews: one row per product, changed by
-- one UPDATE (row lock) in the transaction of every status change, so
-- concurrent approvals serialize on it and the counts stay exact.
CREATE TABLE product_ratings (
  product_id uuid PRIMARY KEY,
  count_1 bigint NOT NULL DEFAULT 0 CHECK (count_1 >= 0),
  count_2 bigint NOT NULL DEFAULT 0 CHECK (count_2 >= 0),
  count_3 bigint NOT NULL DEFAULT 0 CHECK (count_3 >= 0),
  count_4 bigint NOT NULL DEFAULT 0 CHECK (count_4 >= 0),
  count_5 bigint NOT NULL DEFAULT 0 CHECK (count_5 >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
