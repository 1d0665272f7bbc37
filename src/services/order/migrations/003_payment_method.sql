-- 003_payment_method.sql - the seed's Order.payment_method {type, brand,
-- last4}: the card an order was paid with, as the payment service reported
-- it when it authorized the payment. Never the token.

ALTER TABLE orders
  ADD COLUMN payment_type  text CHECK (payment_type IN ('card')),
  ADD COLUMN payment_brand text CHECK (length(payment_brand) <= 32),
  ADD COLUMN payment_last4 text CHECK (payment_last4 ~ '^[0-9]{4}$');
