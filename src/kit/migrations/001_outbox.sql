-- The transactional outbox of the event bus (src/kit/bus.c, docs/events.md).
-- Applied by db_migrate to every service schema before the service's own
-- migrations. bus_emit() inserts here inside the producer's transaction; the
-- relay publishes rows in id order and deletes them once the broker has
-- confirmed them: the table holds exactly the events not yet published.
CREATE TABLE outbox (
  id           bigserial PRIMARY KEY,
  event_id     uuid NOT NULL,
  event_type   text NOT NULL,
  aggregate_id text NOT NULL,
  trace_id     text NOT NULL,
  -- The whole envelope as published, so the relay sends exactly what the
  -- producer wrote (text, not jsonb: key order and the timestamp stay).
  envelope     text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Wakes the relay (LISTEN shopsphere_outbox_<schema>) once per inserting
-- statement; NOTIFY is delivered at COMMIT and never for a rollback.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('shopsphere_outbox_' || TG_TABLE_SCHEMA, '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
