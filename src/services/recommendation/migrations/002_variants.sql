-- 002_variants.sql - the snapshot understands variants (docs/recommendations.md,
-- "Variants").
--
-- Content similarity compares a product's colours and sizes as sets: its own
-- attributes, its variants' option values (options named color, colour or
-- size) and its variants' attributes, lower-cased and trimmed. A T-shirt in
-- red and blue shares a colour with a red scarf.
ALTER TABLE products
  ADD COLUMN colors text[] NOT NULL DEFAULT '{}',
  ADD COLUMN sizes text[] NOT NULL DEFAULT '{}';

-- The clickstream keeps the variant a shopper looked at (null when none); the
-- signal counts for its product.
ALTER TABLE clicks ADD COLUMN variant_id uuid;

-- The distinct values (lower case) of a product document for the attribute
-- or option names `names` (lower case), its variants' included.
CREATE FUNCTION variant_values(d jsonb, names text[])
RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  WITH vs AS (
    SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(d->'variants') = 'array'
                                            THEN d->'variants' ELSE '[]' END) e
  ),
  raw(v) AS (
    SELECT d->'attributes'->>n FROM unnest(names) n
     WHERE jsonb_typeof(d->'attributes') = 'object'
    UNION ALL
    SELECT o.value FROM vs
      CROSS JOIN LATERAL jsonb_each_text(CASE WHEN jsonb_typeof(vs.e->'options') = 'object'
                                              THEN vs.e->'options' ELSE '{}' END) o
     WHERE lower(o.key) = ANY(names)
    UNION ALL
    SELECT vs.e->'attributes'->>n FROM vs CROSS JOIN unnest(names) n
     WHERE jsonb_typeof(vs.e->'attributes') = 'object'
  )
  SELECT coalesce(array_agg(DISTINCT lower(btrim(v)) ORDER BY lower(btrim(v))), '{}')
    FROM raw WHERE nullif(btrim(v), '') IS NOT NULL
$$;

-- How much two value sets agree: |a ∩ b| / |a ∪ b| (0 when either is empty).
CREATE FUNCTION overlap(a text[], b text[])
RETURNS float8
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN cardinality(a) = 0 OR cardinality(b) = 0 THEN 0::float8 ELSE
    (SELECT count(*) FROM (SELECT unnest(a) INTERSECT SELECT unnest(b)) i)::float8
    / (SELECT count(*) FROM (SELECT unnest(a) UNION SELECT unnest(b)) u) END
$$;

-- A click may name a variant alone: its product is found by the variant id.
CREATE INDEX products_variants ON products USING gin ((doc->'variants') jsonb_path_ops);

UPDATE products
   SET colors = variant_values(doc, '{color,colour}'),
       sizes = variant_values(doc, '{size}');
INSERT INTO dirty SELECT id FROM products ON CONFLICT DO NOTHING;
