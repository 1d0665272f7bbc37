-- 004_seed_attributes.sql - product attributes in the seed's shape
-- (ProductAttributes): `weight` in kilograms instead of `weight_grams`, and
-- `dimensions` {length, width, height} in centimetres without a `unit`.
-- Rows written by the previous release are converted once; the API still
-- reads the old input form for one release and stores this shape.

UPDATE products
SET attributes = (attributes - 'weight_grams')
  || jsonb_build_object('weight',
       trim_scale(round((attributes->>'weight_grams')::numeric / 1000, 3)))
WHERE attributes ? 'weight_grams'
  AND jsonb_typeof(attributes->'weight_grams') = 'number';

UPDATE products
SET attributes = jsonb_set(attributes, '{dimensions}', jsonb_build_object(
  'length', trim_scale(round((attributes#>>'{dimensions,length}')::numeric * f, 4)),
  'width',  trim_scale(round((attributes#>>'{dimensions,width}')::numeric * f, 4)),
  'height', trim_scale(round((attributes#>>'{dimensions,height}')::numeric * f, 4))))
FROM (VALUES ('mm', 0.1), ('cm', 1), ('m', 100), ('in', 2.54)) AS u (unit, f)
WHERE attributes #>> '{dimensions,unit}' = u.unit;

-- Variants (002_variants.sql) carry the same attributes.
UPDATE variants
SET attributes = (attributes - 'weight_grams')
  || jsonb_build_object('weight',
       trim_scale(round((attributes->>'weight_grams')::numeric / 1000, 3)))
WHERE attributes ? 'weight_grams'
  AND jsonb_typeof(attributes->'weight_grams') = 'number';
