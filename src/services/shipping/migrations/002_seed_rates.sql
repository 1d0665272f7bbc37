-- 002_seed_rates.sql - the starting rate tables (USD). Admins edit them with
-- PUT /api/v1/shipping/zones/{code} and .../{code}/rates (docs/shipping.md).
--
--   domestic        the United States, free standard over 50.00
--   domestic_remote Alaska, Hawaii and the US territories' states, free
--                   standard over 100.00
--   north_america   Canada and Mexico
--   europe          the EU, the UK, Switzerland, Norway, Iceland
--   international   everywhere else ('*')

INSERT INTO zones (code, name, currency, free_standard_threshold) VALUES
  ('domestic', 'United States', 'USD', 5000),
  ('domestic_remote', 'United States (remote)', 'USD', 10000),
  ('north_america', 'Canada and Mexico', 'USD', NULL),
  ('europe', 'Europe', 'USD', NULL),
  ('international', 'Rest of the world', 'USD', NULL);

INSERT INTO zone_countries (country, region, zone_code) VALUES
  ('US', '', 'domestic'),
  ('US', 'AK', 'domestic_remote'),
  ('US', 'HI', 'domestic_remote'),
  ('US', 'PR', 'domestic_remote'),
  ('US', 'GU', 'domestic_remote'),
  ('US', 'VI', 'domestic_remote'),
  ('CA', '', 'north_america'),
  ('MX', '', 'north_america'),
  ('*', '', 'international');

INSERT INTO zone_countries (country, region, zone_code)
SELECT c, '', 'europe' FROM unnest(ARRAY['AT', 'BE', 'BG', 'HR', 'CY', 'CZ',
  'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU',
  'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'GB', 'CH', 'NO',
  'IS']) AS c;

-- Tiers: up to 1 kg, 5 kg, 20 kg and 70 kg.
INSERT INTO rates (zone_code, method, max_weight_grams, amount, estimated_days) VALUES
  ('domestic', 'standard', 1000, 599, 5),
  ('domestic', 'standard', 5000, 999, 5),
  ('domestic', 'standard', 20000, 1999, 6),
  ('domestic', 'standard', 70000, 4999, 7),
  ('domestic', 'express', 1000, 1499, 2),
  ('domestic', 'express', 5000, 2499, 2),
  ('domestic', 'express', 20000, 4499, 3),
  ('domestic', 'express', 70000, 9999, 3),
  ('domestic_remote', 'standard', 1000, 1299, 8),
  ('domestic_remote', 'standard', 5000, 1999, 8),
  ('domestic_remote', 'standard', 20000, 3999, 10),
  ('domestic_remote', 'standard', 70000, 8999, 12),
  ('domestic_remote', 'express', 1000, 2999, 3),
  ('domestic_remote', 'express', 5000, 4499, 3),
  ('domestic_remote', 'express', 20000, 7999, 4),
  ('domestic_remote', 'express', 70000, 15999, 5),
  ('north_america', 'standard', 1000, 1499, 8),
  ('north_america', 'standard', 5000, 2499, 8),
  ('north_america', 'standard', 20000, 4999, 10),
  ('north_america', 'standard', 70000, 11999, 12),
  ('north_america', 'express', 1000, 2999, 3),
  ('north_america', 'express', 5000, 4999, 3),
  ('north_america', 'express', 20000, 8999, 4),
  ('north_america', 'express', 70000, 19999, 5),
  ('europe', 'standard', 1000, 1999, 10),
  ('europe', 'standard', 5000, 3499, 10),
  ('europe', 'standard', 20000, 6999, 12),
  ('europe', 'standard', 70000, 15999, 14),
  ('europe', 'express', 1000, 3999, 4),
  ('europe', 'express', 5000, 5999, 4),
  ('europe', 'express', 20000, 10999, 5),
  ('europe', 'express', 70000, 24999, 6),
  ('international', 'standard', 1000, 2499, 14),
  ('international', 'standard', 5000, 4499, 14),
  ('international', 'standard', 20000, 8999, 18),
  ('international', 'standard', 70000, 19999, 21),
  ('international', 'express', 1000, 4999, 5),
  ('international', 'express', 5000, 7999, 5),
  ('international', 'express', 20000, 13999, 6),
  ('international', 'express', 70000, 29999, 7);
