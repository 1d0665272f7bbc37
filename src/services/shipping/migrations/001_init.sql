-- 001_init.sql - the shipping service's schema: rate tables (zones, the
-- countries and regions in each, weight tiers per method), shipments with
-- their tracking timeline, and the courier webhook deliveries already applied.

-- A zone prices every address that maps to it. Amounts are minor units of
-- the zone's currency; standard shipping is free when the order subtotal (in
-- that currency) reaches free_standard_threshold, when set.
CREATE TABLE zones (
  code text PRIMARY KEY CHECK (code ~ '^[a-z0-9_-]{1,40}$'),
  name text NOT NULL,
  currency char(3) NOT NULL,
  free_standard_threshold bigint CHECK (free_standard_threshold >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which zone an address falls in: the most specific row wins (country and
-- region = the address's state, then the whole country with region '', then
-- country '*', the rest of the world).
CREATE TABLE zone_countries (
  country text NOT NULL CHECK (country = '*' OR country ~ '^[A-Z]{2}$'),
  region text NOT NULL DEFAULT '',
  zone_code text NOT NULL REFERENCES zones (code) ON DELETE CASCADE,
  PRIMARY KEY (country, region)
);
CREATE INDEX zone_countries_zone ON zone_countries (zone_code);

-- Weight tiers: a parcel takes the lightest tier whose max_weight_grams
-- holds it; heavier than every tier means the method is not offered.
CREATE TABLE rates (
  zone_code text NOT NULL REFERENCES zones (code) ON DELETE CASCADE,
  method text NOT NULL CHECK (method IN ('standard', 'express')),
  max_weight_grams bigint NOT NULL CHECK (max_weight_grams > 0),
  amount bigint NOT NULL CHECK (amount >= 0),
  estimated_days integer NOT NULL CHECK (estimated_days BETWEEN 0 AND 365),
  PRIMARY KEY (zone_code, method, max_weight_grams)
);

CREATE TABLE shipments (
  id uuid PRIMARY KEY, -- UUIDv7: id order is creation order
  order_id uuid NOT NULL UNIQUE, -- one shipment per order (idempotency key)
  user_id uuid NOT NULL,
  carrier text NOT NULL,
  method text NOT NULL CHECK (method IN ('standard', 'express')),
  status text NOT NULL CHECK (status IN ('pending', 'label_created',
    'in_transit', 'out_for_delivery', 'delivered', 'exception')),
  tracking_number text UNIQUE,
  label_url text,
  address jsonb NOT NULL,
  items jsonb NOT NULL,
  weight_grams bigint NOT NULL CHECK (weight_grams >= 0),
  -- Booking the label with the courier is retried while the shipment is
  -- pending (courier down when the order shipped).
  booking_attempts integer NOT NULL DEFAULT 0,
  next_booking_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipments_user ON shipments (user_id, id);
CREATE INDEX shipments_pending ON shipments (next_booking_at)
  WHERE status = 'pending';

-- The tracking timeline; courier_event_id ties an entry to the webhook that
-- reported it.
CREATE TABLE tracking_events (
  id bigserial PRIMARY KEY,
  shipment_id uuid NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
  status text NOT NULL,
  description text NOT NULL,
  location text NOT NULL DEFAULT '',
  occurred_at timestamptz NOT NULL,
  courier_event_id text UNIQUE
);
CREATE INDEX tracking_events_shipment ON tracking_events (shipment_id, occurred_at, id);

-- Every courier webhook applied, by the courier's event id: couriers retry
-- until they see a 2xx, so the same delivery may come twice.
CREATE TABLE webhook_deliveries (
  carrier text NOT NULL,
  event_id text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (carrier, event_id)
);
