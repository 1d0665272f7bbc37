/* auth.c - the auth service module: credentials, tokens, JWKS, sessions.
 *
 * Owns the secrets of every account (argon2id hashes), mints RS256 access
 * tokens and rotating refresh tokens, publishes its public keys as a JWKS and
 * runs password resets. Profiles belong to the user service, which stores a
 * credential here through the internal routes (docs/identity.md).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit/log.h"
#include "kit/uuid.h"
#include "services/auth/state.h"
#include "services/auth/store.h"

static const struct route routes[] = {
    {"GET", "/.well-known/jwks.json", auth_handle_jwks, ACCESS_PUBLIC, NULL},
    {"POST", "/api/v1/auth/login", auth_handle_login, ACCESS_PUBLIC, NULL},
    {"POST", "/api/v1/auth/refresh", auth_handle_refresh, ACCESS_PUBLIC, NULL},
    {"POST", "/api/v1/auth/logout", auth_handle_logout, ACCESS_PUBLIC, NULL},
    {"POST", "/api/v1/auth/password-reset", auth_handle_reset_request,
     ACCESS_PUBLIC, NULL},
    {"POST", "/api/v1/auth/password-reset/confirm", auth_handle_reset_confirm,
     ACCESS_PUBLIC, NULL},
    {"PUT", "/internal/credentials/{user_id}", auth_handle_credential_put,
     ACCESS_INTERNAL, NULL},
    {"PATCH", "/internal/credentials/{user_id}", auth_handle_credential_patch,
     ACCESS_INTERNAL, NULL},
    {"DELETE", "/internal/credentials/{user_id}", auth_handle_credential_delete,
     ACCESS_INTERNAL, NULL},
    {"POST", "/internal/keys/rotate", auth_handle_rotate_keys, ACCESS_INTERNAL,
     NULL},
};

/* The key-encryption keys of the configuration: *kek (NULL when
 * SHOPSPHERE_KEK is unset) and *previous (NULL unless
 * SHOPSPHERE_KEK_PREVIOUS is set). */
struct keks {
  unsigned char current[KEK_BYTES], previous[KEK_BYTES];
  const unsigned char *kek, *prev;
};

static void keks_load(const struct config *cfg, struct keks *k) {
  k->kek = kek_parse(cfg->kek, k->current) ? k->current : NULL;
  k->prev = kek_parse(cfg->kek_previous, k->previous) ? k->previous : NULL;
}

static void keks_wipe(struct keks *k) { sodium_memzero(k, sizeof *k); }

/* Makes and stores a new signing key (sealed when a KEK is set): 1, or a
 * db_status < 0. */
static int generate_key(struct db_conn *conn, const struct config *cfg) {
  char *private_pem = NULL, *public_pem = NULL;
  if (key_generate(&private_pem, &public_pem) != KIT_OK) {
    log_error("cannot generate an RSA signing key");
    return DB_HARD_ERROR;
  }
  char kid[UUID_STR_LEN];
  uuid_v7(kid);
  struct keks k;
  keks_load(cfg, &k);
  char *sealed = k.kek ? key_seal(k.kek, kid, private_pem) : NULL;
  keks_wipe(&k);
  int rc = k.kek && sealed == NULL
               ? DB_HARD_ERROR
               : store_key_insert(conn, kid, sealed ? sealed : private_pem,
                                  public_pem);
  free(sealed);
  sodium_memzero(private_pem, strlen(private_pem));
  free(private_pem);
  free(public_pem);
  if (rc >= 0) log_info("new signing key %s", kid);
  return rc < 0 ? rc : 1;
}

/* Newest key older than the rotation period (or none): make a new one. */
static int maybe_generate(struct db_conn *conn, const struct config *cfg,
                          const struct stored_key *keys, int count) {
  int64_t now = (int64_t)time(NULL);
  if (count > 0 && now - keys[0].created < cfg->jwt_key_rotation_s) return 0;
  return generate_key(conn, cfg);
}

/* Opens each stored key in place (private_pem becomes the PEM), and writes
 * back sealed under the current KEK whatever is not: a plaintext key of
 * before encryption, or one sealed under the previous KEK (a rotation). A
 * key no KEK opens is left out (logged). Returns how many remain. */
static int open_keys(struct db_conn *conn, const struct config *cfg,
                     struct stored_key *keys, int count) {
  struct keks k;
  keks_load(cfg, &k);
  int n = 0;
  for (int i = 0; i < count; i++) {
    struct stored_key *sk = &keys[i];
    bool current = k.kek && key_is_sealed(sk->private_pem);
    char *pem = key_unseal(k.kek, sk->kid, sk->private_pem);
    if (pem == NULL) {
      current = false;
      pem = key_unseal(k.prev, sk->kid, sk->private_pem);
    }
    if (pem == NULL) {
      log_error("signing key %s cannot be opened with SHOPSPHERE_KEK (or "
                "SHOPSPHERE_KEK_PREVIOUS); it is not used",
                sk->kid);
      free(sk->private_pem);
      continue;
    }
    if (k.kek != NULL && !current) {
      char *sealed = key_seal(k.kek, sk->kid, pem);
      if (sealed != NULL && store_key_set_private(conn, sk->kid, sealed) >= 0)
        log_info("signing key %s is now encrypted with the current KEK",
                 sk->kid);
      else
        log_warn("signing key %s could not be re-encrypted; will retry",
                 sk->kid);
      free(sealed);
    }
    sodium_memzero(sk->private_pem, strlen(sk->private_pem));
    free(sk->private_pem);
    sk->private_pem = pem;
    keys[n++] = *sk;
  }
  keks_wipe(&k);
  return n;
}

int auth_rotate_keys(struct service *svc) {
  struct db_conn *conn = db_acquire(svc->db, 2000);
  if (conn == NULL) return KIT_UNAVAILABLE;
  int rc = generate_key(conn, svc->cfg);
  db_release(svc->db, conn);
  if (rc < 0) return KIT_UNAVAILABLE;
  return auth_keys_refresh(svc);
}

int auth_keys_refresh(struct service *svc) {
  struct auth_state *st = svc->state;
  struct db_conn *conn = db_acquire(svc->db, 2000);
  if (conn == NULL) return KIT_UNAVAILABLE;
  struct stored_key stored[KEYRING_SIZE];
  int count = 0;
  int rc = store_keys_newest(conn, stored, KEYRING_SIZE, &count);
  if (rc >= 0) {
    rc = maybe_generate(conn, svc->cfg, stored, count);
    if (rc > 0) {
      store_keys_free(stored, count);
      rc = store_keys_newest(conn, stored, KEYRING_SIZE, &count);
    }
  }
  if (rc >= 0) count = open_keys(conn, svc->cfg, stored, count);
  db_release(svc->db, conn);
  if (rc < 0) {
    store_keys_free(stored, count);
    return KIT_UNAVAILABLE;
  }

  /* Reload only when the set changed (a rotation here or by a replica). */
  bool same = false;
  pthread_rwlock_rdlock(&st->keyring.lock);
  if ((size_t)count == st->keyring.count) {
    same = true;
    for (int i = 0; i < count; i++)
      if (strcmp(stored[i].kid, st->keyring.keys[i].kid) != 0) same = false;
  }
  pthread_rwlock_unlock(&st->keyring.lock);
  int result = KIT_OK;
  if (!same) {
    struct signing_key loaded[KEYRING_SIZE];
    int n = 0;
    for (int i = 0; i < count; i++) {
      if (key_load(&loaded[n], stored[i].kid, stored[i].private_pem,
                   stored[i].created) == KIT_OK)
        n++;
    }
    if (n > 0)
      keyring_replace(&st->keyring, loaded, (size_t)n);
    else
      result = KIT_ERROR;
  }
  store_keys_free(stored, count);
  return result;
}

static void keys_job(void *arg) {
  struct service *svc = arg;
  if (auth_keys_refresh(svc) != KIT_OK)
    log_warn("signing keys could not be refreshed; will retry");
  struct db_conn *conn = db_acquire(svc->db, 2000);
  if (conn != NULL) {
    store_refresh_purge(conn);
    db_release(svc->db, conn);
  }
}

static int auth_start(struct service *svc) {
  struct auth_state *st = calloc(1, sizeof *st);
  if (st == NULL) return KIT_NOMEM;
  keyring_init(&st->keyring);
  st->hash.opslimit = (unsigned long long)svc->cfg->argon2_opslimit;
  st->hash.memlimit_bytes = (size_t)svc->cfg->argon2_memlimit_kib * 1024;
  char random_password[33];
  random_hex(random_password, 16);
  if (password_hash(random_password, &st->hash, st->dummy_hash) != KIT_OK) {
    log_error("argon2id with SHOPSPHERE_ARGON2_MEMLIMIT_KIB=%d failed",
              svc->cfg->argon2_memlimit_kib);
    keyring_destroy(&st->keyring);
    free(st);
    return KIT_ERROR;
  }
  svc->state = st;
  log_info("passwords: argon2id opslimit=%d memlimit=%d KiB",
           svc->cfg->argon2_opslimit, svc->cfg->argon2_memlimit_kib);
  /* The database may still be starting: the worker retries. */
  if (auth_keys_refresh(svc) != KIT_OK)
    log_warn("signing keys not loaded yet; retrying in the background");
  if (worker_start(&st->keys_worker, svc->name, "auth-keys", 10000, keys_job,
                   svc) != KIT_OK) {
    keyring_destroy(&st->keyring);
    free(st);
    svc->state = NULL;
    return KIT_ERROR;
  }
  return KIT_OK;
}

static void auth_stop(struct service *svc) {
  struct auth_state *st = svc->state;
  if (st == NULL) return;
  worker_stop(&st->keys_worker);
  keyring_destroy(&st->keyring);
  free(st);
  svc->state = NULL;
}

const struct service_module auth_module = {
    .id = SVC_AUTH,
    .summary = "credentials, tokens, JWKS, sessions",
    .needs = NEEDS_DB | NEEDS_REDIS | NEEDS_AMQP,
    .routes = routes,
    .route_count = sizeof routes / sizeof routes[0],
    .statements = auth_statements,
    .statement_count = sizeof auth_statements / sizeof auth_statements[0],
    .start = auth_start,
    .stop = auth_stop,
};
