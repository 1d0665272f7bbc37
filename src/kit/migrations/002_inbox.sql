-- The inbox of the event bus consumer (src/kit/bus.c): the ids of events this
-- service has applied. The consumer inserts the id in the same transaction as
-- the handler's changes, so a redelivered event is recognised and skipped.
CREATE TABLE inbox (
  event_id    uuid PRIMARY KEY,
  event_type  text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
-- The retention sweep deletes old entries.
CREATE INDEX inbox_received_at ON inbox (received_at);
