-- 004_cached_plans.sql - the document functions of 003, run as PL/pgSQL.
--
-- A LANGUAGE sql function that cannot be inlined (these have CTEs) is
-- parsed and planned again on every call (PostgreSQL before 18): filling
-- the index of a 100,000-product catalog spent a quarter of its time in the
-- planner (perf on the backend: fmgr_sql -> pg_plan_query), and the event
-- path paid it on every product event. PL/pgSQL keeps each statement's plan
-- for the session; a generic one, or it would plan a custom one per call
-- again (the parameter is a different document each time). 3,000 catalog
-- documents, two runs at load 20-28: 90 and 42 s before, 12 and 7 s after,
-- the same rows (EXCEPT both ways empty).
--
-- The bodies are not copied here: each function is re-created from its own
-- current source (pg_proc.prosrc, the SQL of 003), wrapped. option_values
-- returns its one value; document_row selects its one row into a variable
-- of the table's row type.

DO $migration$
DECLARE
  body text;
BEGIN
  SELECT prosrc INTO STRICT body FROM pg_proc
   WHERE oid = 'option_values(jsonb, text[])'::regprocedure;
  EXECUTE format(
    'CREATE OR REPLACE FUNCTION option_values(d jsonb, names text[]) '
    'RETURNS text[] LANGUAGE plpgsql IMMUTABLE '
    'SET plan_cache_mode = force_generic_plan AS %L',
    E'BEGIN\n  RETURN (' || body || E'\n  );\nEND');

  SELECT prosrc INTO STRICT body FROM pg_proc
   WHERE oid = 'document_row(jsonb, timestamptz)'::regprocedure;
  EXECUTE format(
    'CREATE OR REPLACE FUNCTION document_row(d jsonb, fetched_at timestamptz) '
    'RETURNS documents LANGUAGE plpgsql STABLE '
    'SET plan_cache_mode = force_generic_plan AS %L',
    E'DECLARE\n  r documents;\nBEGIN\n  SELECT * INTO r FROM (' || body
      || E'\n  ) AS x;\n  RETURN r;\nEND');
END
$migration$;
