-- 003_variant_facets.sql - the colour and size facets and filters see a
-- product's variants: a T-shirt in red and blue counts once under each
-- colour and is found by either filter. The documents keep every colour and
-- size of the product (its own attributes, its variants' options named
-- color/colour or size, and its variants' attributes), deduplicated without
-- regard to case (the first spelling met is kept).
--
-- And prices per currency: the catalog's product events carry the product's
-- price list in other currencies (`prices`: [{currency, amount}]); the
-- document keeps it as a map (currency -> amount text) so that a search in
-- EUR filters, sorts, buckets and shows the EUR prices. NULL when the
-- document came from somewhere without the list (the catalog's public list,
-- read by a reindex): an update then keeps the map it had.

ALTER TABLE documents
  ADD COLUMN colors text[] NOT NULL DEFAULT '{}',
  ADD COLUMN sizes text[] NOT NULL DEFAULT '{}',
  ADD COLUMN prices jsonb;

CREATE OR REPLACE FUNCTION price_map(d jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(d->'prices') = 'array' THEN
    (SELECT coalesce(jsonb_object_agg(e->>'currency', e->>'amount'), '{}')
       FROM jsonb_array_elements(d->'prices') e
      WHERE e->>'currency' ~ '^[A-Z]{3}$'
        AND e->>'amount' ~ '^[0-9]{1,16}(\.[0-9]{1,4})?$')
  END
$$;

-- The values of a product document for attribute or option names `names`
-- (lower case), in the order met, one per spelling regardless of case.
CREATE OR REPLACE FUNCTION option_values(d jsonb, names text[])
RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  WITH variants AS (
    SELECT e.v, e.ord
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(d->'variants') = 'array'
                                     THEN d->'variants' ELSE '[]' END)
           WITH ORDINALITY AS e(v, ord)
  ),
  found(v, ord) AS (
    SELECT d->'attributes'->>n, 0::bigint
      FROM unnest(names) AS n
     WHERE jsonb_typeof(d->'attributes') = 'object'
    UNION ALL
    SELECT o.value, variants.ord
      FROM variants
      CROSS JOIN LATERAL jsonb_each_text(CASE WHEN jsonb_typeof(variants.v->'options') = 'object'
                                              THEN variants.v->'options' ELSE '{}' END) o
     WHERE lower(o.key) = ANY(names)
    UNION ALL
    SELECT variants.v->'attributes'->>n, variants.ord
      FROM variants CROSS JOIN unnest(names) AS n
     WHERE jsonb_typeof(variants.v->'attributes') = 'object'
  ),
  firsts AS (
    SELECT DISTINCT ON (lower(btrim(v))) btrim(v) AS v, ord
      FROM found
     WHERE nullif(btrim(v), '') IS NOT NULL
     ORDER BY lower(btrim(v)), ord
  )
  SELECT coalesce(array_agg(v ORDER BY ord, v), '{}') FROM firsts
$$;

CREATE OR REPLACE FUNCTION document_row(d jsonb, fetched_at timestamptz)
RETURNS documents
LANGUAGE sql STABLE AS $$
  WITH RECURSIVE up(id, name, parent_id, depth) AS (
    SELECT c.id, c.name, c.parent_id, 0 FROM categories c
     WHERE c.id = (d->>'category_id')::uuid
    UNION ALL
    SELECT c.id, c.name, c.parent_id, up.depth + 1
      FROM categories c JOIN up ON c.id = up.parent_id
     WHERE up.depth < 16
  ),
  cat AS (
    SELECT coalesce(array_agg(id ORDER BY depth DESC), '{}') AS ids,
           coalesce(string_agg(name, ' ' ORDER BY depth DESC), '') AS names
      FROM up
  ),
  var AS (
    -- the variants' option values and colors/sizes (product events carry
    -- the variants of a product with options)
    SELECT coalesce(string_agg(x.v, ' '), '') AS words FROM (
      SELECT o.value AS v
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(d->'variants') = 'array'
                                       THEN d->'variants' ELSE '[]' END) e
        CROSS JOIN LATERAL jsonb_each_text(CASE WHEN jsonb_typeof(e->'options') = 'object'
                                                THEN e->'options' ELSE '{}' END) o
      UNION
      SELECT e->'attributes'->>k
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(d->'variants') = 'array'
                                       THEN d->'variants' ELSE '[]' END) e
        CROSS JOIN (VALUES ('color'), ('size')) AS keys(k)
       WHERE jsonb_typeof(e->'attributes') = 'object'
    ) x WHERE x.v IS NOT NULL
  ),
  f AS (
    SELECT (d->>'id')::uuid AS id,
           d->>'name' AS name,
           coalesce(d->>'description', '') AS description,
           nullif(d->'attributes'->>'brand', '') AS brand,
           nullif(d->'attributes'->>'color', '') AS color,
           nullif(d->'attributes'->>'size', '') AS size
  )
  SELECT f.id,
         d - 'weight_grams' - 'prices',
         f.name, f.brand, f.color, f.size,
         (d->>'category_id')::uuid,
         CASE WHEN cardinality(cat.ids) > 0 THEN cat.ids
              ELSE ARRAY[(d->>'category_id')::uuid] END,
         cat.names,
         (d->>'price')::numeric,
         d->>'currency',
         CASE WHEN s.stock_at > fetched_at THEN s.stock
              ELSE (d->>'stock')::bigint END,
         CASE WHEN s.stock_at > fetched_at THEN s.available
              ELSE coalesce((d->>'available')::bigint, (d->>'stock')::bigint) END,
         s.rating_average, coalesce(s.rating_count, 0),
         coalesce(s.popularity, 0),
         (d->>'created_at')::timestamptz,
         (d->>'updated_at')::timestamptz,
         setweight(to_tsvector('shop', f.name), 'A')
           || setweight(to_tsvector('shop_simple', f.name), 'A')
           || setweight(to_tsvector('shop', coalesce(f.brand, '') || ' ' || cat.names), 'B')
           || setweight(to_tsvector('shop_simple', coalesce(f.brand, '') || ' ' || cat.names), 'B')
           || setweight(to_tsvector('shop', coalesce(f.color, '') || ' ' || coalesce(f.size, '') || ' ' || var.words), 'C')
           || setweight(to_tsvector('shop_simple', coalesce(f.color, '') || ' ' || coalesce(f.size, '') || ' ' || var.words), 'C')
           || setweight(to_tsvector('shop', f.description), 'D'),
         to_tsvector('shop_simple', f.name || ' ' || coalesce(f.brand, '') || ' '
                     || cat.names || ' ' || coalesce(f.color, '') || ' '
                     || coalesce(f.size, '') || ' ' || var.words || ' '
                     || f.description),
         option_values(d, '{color,colour}'),
         option_values(d, '{size}'),
         price_map(d)
    FROM f CROSS JOIN cat CROSS JOIN var
    LEFT JOIN signals s ON s.product_id = f.id
$$;

UPDATE documents
   SET colors = option_values(doc, '{color,colour}'),
       sizes = option_values(doc, '{size}');
-- Documents indexed before: their price lists come with the next event of
-- each product (or stay unknown: a search in another currency skips them).
