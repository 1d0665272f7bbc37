-- 005_discounts.sql - what promotions took from an order (docs/promotions.md):
-- per line `discount_minor`, per order the sum and the list of promotions
-- [{code, promotion_id, amount}] as the cart service priced them at
-- checkout. Tax is on the discounted amount; absent means zero.
ALTER TABLE orders
  ADD COLUMN discount_minor bigint NOT NULL DEFAULT 0
    CHECK (discount_minor >= 0 AND discount_minor <= subtotal_minor),
  ADD COLUMN discounts jsonb NOT NULL DEFAULT '[]';
ALTER TABLE order_lines
  ADD COLUMN discount_minor bigint NOT NULL DEFAULT 0
    CHECK (discount_minor >= 0 AND discount_minor <= subtotal_minor);
