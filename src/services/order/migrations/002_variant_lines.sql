-- 002_variant_lines.sql - order lines carry the variant bought (NULL for a
-- product without options: its one implicit default variant).
ALTER TABLE order_lines ADD COLUMN variant_id uuid;
