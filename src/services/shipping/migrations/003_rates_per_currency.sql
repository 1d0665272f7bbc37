-- 003_rates_per_currency.sql - rate tables in more than the zone's own
-- currency: an order in EUR is quoted from explicit EUR amounts (no live
-- conversion). A zone's rates in another currency are used when the quote's
-- subtotal is in that currency and every tier has an amount in it; replacing
-- a zone's rates (PUT .../rates) drops their other-currency amounts with
-- them.
CREATE TABLE rate_prices (
  zone_code text NOT NULL,
  method text NOT NULL,
  max_weight_grams bigint NOT NULL,
  currency char(3) NOT NULL,
  amount bigint NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (zone_code, method, max_weight_grams, currency),
  FOREIGN KEY (zone_code, method, max_weight_grams)
    REFERENCES rates (zone_code, method, max_weight_grams) ON DELETE CASCADE
);

-- The free-standard threshold in another currency (none: no free shipping
-- for orders in it).
CREATE TABLE zone_thresholds (
  zone_code text NOT NULL REFERENCES zones (code) ON DELETE CASCADE,
  currency char(3) NOT NULL,
  threshold bigint NOT NULL CHECK (threshold >= 0),
  PRIMARY KEY (zone_code, currency)
);

-- The starting EUR list: the same figures as the USD one (5.99 EUR for
-- 5.99 USD), rounded prices the store sets, not a conversion.
INSERT INTO rate_prices (zone_code, method, max_weight_grams, currency, amount)
SELECT zone_code, method, max_weight_grams, 'EUR', amount FROM rates;
INSERT INTO zone_thresholds (zone_code, currency, threshold)
SELECT code, 'EUR', free_standard_threshold FROM zones
WHERE free_standard_threshold IS NOT NULL;
