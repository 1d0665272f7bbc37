-- auth: credentials (the secrets of each account), refresh-token families,
-- password-reset tokens and the RS256 signing keys. Profiles live in the
-- user service; email, role and status are replicated here by its internal
-- calls so that login needs no other service (docs/identity.md).

CREATE TABLE credentials (
  user_id       uuid PRIMARY KEY,
  email         text NOT NULL,
  password_hash text NOT NULL,
  role          text NOT NULL CHECK (role IN ('customer', 'admin', 'moderator')),
  status        text NOT NULL CHECK (status IN ('active', 'suspended')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX credentials_email_key ON credentials (lower(email));

-- One row per refresh token ever issued; only its SHA-256 is stored. A
-- family is one login: every rotation adds a row with the same family_id.
CREATE TABLE refresh_tokens (
  token_hash  text PRIMARY KEY,
  family_id   uuid NOT NULL,
  user_id     uuid NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE password_resets (
  token_hash  text PRIMARY KEY,
  user_id     uuid NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- RS256 signing keys. The private key never leaves this schema (PKCS#8 PEM;
-- production keeps this schema's role to the auth service alone). The newest
-- key signs; the previous one stays published in the JWKS until the tokens it
-- signed have expired.
CREATE TABLE signing_keys (
  kid         text PRIMARY KEY,
  private_pem text NOT NULL,
  public_pem  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
