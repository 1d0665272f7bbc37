-- 001_init.sql - the search service's own index: one denormalized document
-- per active product, the catalog's categories, the signals that come from
-- other services (stock, ratings, popularity), admin synonyms, the query log
-- for the admin reports, and reindex jobs.
--
-- pg_trgm and unaccent are trusted extensions (PostgreSQL 13+): the database
-- owner may create them. pg_trgm is database-wide in schema public
-- (scripts/infra.sh creates it there too), so its names are qualified;
-- unaccent lands in this schema (the migration's search_path).

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- English stemming with accents folded ("Café" finds "cafe"), and the same
-- words unstemmed (prefixes of what is being typed, and the vocabulary that
-- typo correction draws from).
-- (unaccent's dictionary is named with the schema the extension is in,
-- should it have been created elsewhere first.)
CREATE TEXT SEARCH CONFIGURATION shop (COPY = pg_catalog.english);
CREATE TEXT SEARCH CONFIGURATION shop_simple (COPY = pg_catalog.simple);
DO $$
DECLARE
  s text;
BEGIN
  SELECT n.nspname INTO s FROM pg_extension e
    JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'unaccent';
  EXECUTE format('ALTER TEXT SEARCH CONFIGURATION shop ALTER MAPPING FOR '
                 'hword, hword_part, word WITH %I.unaccent, english_stem', s);
  EXECUTE format('ALTER TEXT SEARCH CONFIGURATION shop_simple ALTER MAPPING '
                 'FOR hword, hword_part, word WITH %I.unaccent, simple', s);
END
$$;

CREATE TABLE categories (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  parent_id uuid,
  path text NOT NULL DEFAULT ''
);

-- What other services tell us about a product, kept apart from the
-- catalog's document so a reindex does not lose it.
CREATE TABLE signals (
  product_id uuid PRIMARY KEY,
  rating_average numeric(2, 1),
  rating_count bigint NOT NULL DEFAULT 0,
  popularity bigint NOT NULL DEFAULT 0,  -- units in confirmed orders
  stock bigint,                          -- last inventory.changed
  available bigint,
  stock_at timestamptz                   -- when that event happened
);

-- Products archived (or unpublished) and when: a reindex that read the
-- catalog before the archive does not bring them back.
CREATE TABLE tombstones (
  product_id uuid PRIMARY KEY,
  updated_at timestamptz NOT NULL
);

CREATE TABLE documents (
  product_id uuid PRIMARY KEY,
  doc jsonb NOT NULL,          -- the product as the catalog renders it
  name text NOT NULL,
  brand text,
  color text,
  size text,
  category_id uuid,
  category_ids uuid[] NOT NULL DEFAULT '{}', -- the category and its ancestors
  category_names text NOT NULL DEFAULT '',
  price numeric NOT NULL,     -- in currency units, as the catalog shows it
  currency text NOT NULL,
  stock bigint NOT NULL,
  available bigint NOT NULL,
  rating_average numeric(2, 1),
  rating_count bigint NOT NULL DEFAULT 0,
  popularity bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  tsv tsvector NOT NULL,       -- weighted: name A, brand + category B,
                               -- color + size C, description D
  words tsvector NOT NULL      -- unstemmed words: the typo vocabulary
);
-- fastupdate off: every event rewrites a row, and a GIN pending list that
-- grows between vacuums is scanned linearly by every search.
CREATE INDEX documents_tsv ON documents USING gin (tsv)
  WITH (fastupdate = off);
CREATE INDEX documents_category_ids ON documents USING gin (category_ids)
  WITH (fastupdate = off);
CREATE INDEX documents_name_trgm ON documents
  USING gin (name public.gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX documents_popular ON documents (popularity DESC, product_id);
CREATE INDEX documents_price ON documents (price);

-- A reindex reads the catalog into this table page by page, then rewrites
-- documents from it in one transaction (reindex.c): until it commits, every
-- search keeps reading the old rows (MVCC), so answers never stop.
CREATE UNLOGGED TABLE staging (
  product_id uuid PRIMARY KEY,
  doc jsonb NOT NULL,
  fetched_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE reindex_jobs (
  id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  total bigint NOT NULL DEFAULT 0,
  done bigint NOT NULL DEFAULT 0,
  error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);

CREATE TABLE synonym_groups (
  position int PRIMARY KEY,
  terms text[] NOT NULL
);
INSERT INTO synonym_groups (position, terms) VALUES
  (1, ARRAY['tee', 't-shirt', 'tshirt']),
  (2, ARRAY['sneakers', 'trainers']),
  (3, ARRAY['sofa', 'couch']),
  (4, ARRAY['laptop', 'notebook']);

-- Searches per normalized query per day (UTC), for the admin reports.
CREATE TABLE query_stats (
  day date NOT NULL,
  query text NOT NULL,
  searches bigint NOT NULL DEFAULT 0,
  zero_results bigint NOT NULL DEFAULT 0,
  last_searched_at timestamptz NOT NULL,
  PRIMARY KEY (day, query)
);

-- Bumped by every change of the index; the in-process vocabulary and
-- suggestion lists rebuild when it moves (another process may reindex).
CREATE TABLE meta (
  key text PRIMARY KEY,
  value bigint NOT NULL
);
INSERT INTO meta (key, value) VALUES ('generation', 1);

-- The columns of a document from the catalog's rendering of a product and
-- what we know besides (signals, categories). Used by the event consumer
-- and by the reindex build alike, so both index the same way.
CREATE FUNCTION document_row(d jsonb, fetched_at timestamptz)
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
  f AS (
    SELECT (d->>'id')::uuid AS id,
           d->>'name' AS name,
           coalesce(d->>'description', '') AS description,
           nullif(d->'attributes'->>'brand', '') AS brand,
           nullif(d->'attributes'->>'color', '') AS color,
           nullif(d->'attributes'->>'size', '') AS size
  )
  SELECT f.id,
         d - 'weight_grams',
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
           || setweight(to_tsvector('shop', coalesce(f.color, '') || ' ' || coalesce(f.size, '')), 'C')
           || setweight(to_tsvector('shop_simple', coalesce(f.color, '') || ' ' || coalesce(f.size, '')), 'C')
           || setweight(to_tsvector('shop', f.description), 'D'),
         to_tsvector('shop_simple', f.name || ' ' || coalesce(f.brand, '') || ' '
                     || cat.names || ' ' || coalesce(f.color, '') || ' '
                     || coalesce(f.size, '') || ' ' || f.description)
    FROM f CROSS JOIN cat
    LEFT JOIN signals s ON s.product_id = f.id
$$;
