-- user: accounts (profile, role, status) and their addresses. Password
-- hashes are not here: the auth service owns secrets (docs/identity.md).

CREATE TABLE users (
  id          uuid PRIMARY KEY,
  email       text NOT NULL,
  username    text NOT NULL,
  first_name  text,
  last_name   text,
  phone       text,
  role        text NOT NULL DEFAULT 'customer'
              CHECK (role IN ('customer', 'admin', 'moderator')),
  status      text NOT NULL DEFAULT 'active'
              CHECK (status IN ('active', 'suspended')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

CREATE TABLE addresses (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  first_name   text,
  last_name    text,
  line1        text NOT NULL,
  line2        text,
  city         text NOT NULL,
  state        text,
  postal_code  text NOT NULL,
  country      char(2) NOT NULL,
  phone        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_user ON addresses (user_id, id);
