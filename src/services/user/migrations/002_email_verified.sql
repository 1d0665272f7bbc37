-- 002_email_verified.sql - the seed's User.email_verified: whether the
-- account's e-mail address has been confirmed. No confirmation flow exists
-- yet, so every account reads false until one lands.

ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;
