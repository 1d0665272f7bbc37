-- 003_ratings.sql - the product's rating, a read model of the review
-- service's aggregate: set from review.approved / review.removed (each
-- carries the aggregate after the change). rating_event_at is the envelope
-- time of the event that set it, so an older event retried late cannot
-- overwrite a newer aggregate.
ALTER TABLE products
  ADD COLUMN rating_average numeric(2, 1)
    CHECK (rating_average BETWEEN 1 AND 5),
  ADD COLUMN rating_count bigint NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
  ADD COLUMN rating_event_at timestamptz;
