/* user.c - `shopsphere user create`: an account with a chosen role; and
 * `shopsphere auth rotate-keys`: a new token-signing key now.
 *
 * The command hosts the user and auth services inside this process (their
 * database pools and routers, no HTTP server) and calls the user service's
 * internal create route through the ordinary client, so an account made here
 * goes through exactly the code of a registration: the same validation, the
 * same event, the same credential handshake (docs/identity.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "kit/client.h"
#include "kit/log.h"
#include "kit/service.h"
#include "services/registry.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: shopsphere user create --email E [--role customer|admin|"
          "moderator]\n"
          "                              [--username U] [--first-name F]\n"
          "                              [--last-name L] [--password P]\n\n"
          "Creates an account (default role customer). The password comes\n"
          "from SHOPSPHERE_NEW_PASSWORD, else from the first line of standard\n"
          "input; --password works too but shows in the process list. It must\n"
          "be at least 10 characters and not a common password. Needs the\n"
          "database (SHOPSPHERE_DATABASE_URL) migrated; the platform need not\n"
          "run.\n");
}

/* Opens the pools and router of a module as the runtime would, without a
 * server; the client dispatches to it in-process. */
static int host(struct service *svc, enum service_id id,
                const struct config *cfg, struct client *client) {
  const struct service_module *m = registry_module(id);
  memset(svc, 0, sizeof *svc);
  svc->module = m;
  svc->name = service_name(id);
  svc->cfg = cfg;
  svc->client = client;
  char schema[64];
  service_schema_name(id, schema, sizeof schema);
  if ((m->needs & NEEDS_DB) &&
      db_pool_open(&svc->db, cfg->database_url, schema, 2, m->statements,
                   m->statement_count) != KIT_OK)
    return KIT_ERROR;
  if ((m->needs & NEEDS_REDIS) &&
      kv_pool_open(&svc->kv, cfg->redis_url, 2, 2000) != KIT_OK)
    return KIT_ERROR;
  router_add(&svc->router, m->routes, m->route_count);
  client_register_local(client, id, svc);
  return KIT_OK;
}

static void unhost(struct service *svc) {
  if (svc->db != NULL) db_pool_close(svc->db);
  if (svc->kv != NULL) kv_pool_close(svc->kv);
  svc->db = NULL;
  svc->kv = NULL;
}

/* The password: environment, else the first line of stdin. Returns a
 * malloc'd string or NULL. */
static char *read_password(int argc, char **argv) {
  const char *given = cli_option(argc, argv, "--password");
  if (given == NULL) given = getenv("SHOPSPHERE_NEW_PASSWORD");
  if (given != NULL) return strdup(given);
  char line[1100];
  if (fgets(line, sizeof line, stdin) == NULL) return NULL;
  line[strcspn(line, "\r\n")] = '\0';
  return strdup(line);
}

static int create(const struct config *cfg, int argc, char **argv) {
  const char *email = cli_option(argc, argv, "--email");
  const char *role = cli_option(argc, argv, "--role");
  if (email == NULL) {
    fprintf(stderr, "shopsphere user create: --email is required\n\n");
    usage(stderr);
    return 2;
  }
  char *password = read_password(argc, argv);
  if (password == NULL || password[0] == '\0') {
    fprintf(stderr, "shopsphere user create: no password (set "
                    "SHOPSPHERE_NEW_PASSWORD or pipe it on stdin)\n");
    free(password);
    return 2;
  }
  json_t *body =
      json_pack("{s:s, s:s, s:s, s:s*, s:s*, s:s*}", "email", email, "password",
                password, "role", role ? role : "customer", "username",
                cli_option(argc, argv, "--username"), "first_name",
                cli_option(argc, argv, "--first-name"), "last_name",
                cli_option(argc, argv, "--last-name"));
  sodium_memzero(password, strlen(password));
  free(password);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (text == NULL) return 1;

  int exit_code = 1;
  struct client *client = client_create(cfg);
  struct service user, auth;
  memset(&user, 0, sizeof user);
  memset(&auth, 0, sizeof auth);
  bool auth_started = false;
  if (client == NULL || host(&user, SVC_USER, cfg, client) != KIT_OK ||
      host(&auth, SVC_AUTH, cfg, client) != KIT_OK) {
    fprintf(stderr, "shopsphere user create: cannot open the databases\n");
    goto cleanup;
  }
  if (auth.module->start(&auth) != KIT_OK) {
    fprintf(stderr, "shopsphere user create: the auth service cannot start\n");
    goto cleanup;
  }
  auth_started = true;
  struct client_request call = {.method = "POST",
                                .path = "/internal/users",
                                .body = text,
                                .body_len = strlen(text)};
  struct http_response res;
  client_call(client, SVC_USER, &call, &res);
  json_t *answer =
      res.body ? json_loadb(res.body, res.body_len, 0, NULL) : NULL;
  if (res.status == 201) {
    printf("created user %s <%s> role %s\n",
           json_string_value(json_object_get(answer, "id")),
           json_string_value(json_object_get(answer, "email")),
           json_string_value(json_object_get(answer, "role")));
    exit_code = 0;
  } else {
    json_t *err = json_object_get(answer, "error");
    const char *msg = json_string_value(json_object_get(err, "message"));
    const char *details = json_string_value(json_object_get(err, "details"));
    fprintf(stderr, "shopsphere user create: %s%s%s%s (HTTP %u)\n",
            msg ? msg : "failed", details ? " [" : "", details ? details : "",
            details ? "]" : "", res.status);
  }
  json_decref(answer);
  http_response_clear(&res);
cleanup:
  sodium_memzero(text, strlen(text));
  free(text);
  if (auth_started) auth.module->stop(&auth);
  unhost(&auth);
  unhost(&user);
  client_destroy(client);
  return exit_code;
}

int cli_user(const struct config *cfg, int argc, char **argv) {
  if (argc < 2 || cli_wants_help(argc, argv)) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "create") == 0) return create(cfg, argc - 1, argv + 1);
  fprintf(stderr, "shopsphere user: unknown subcommand '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}

/* --- shopsphere auth rotate-keys ---------------------------------------- */

static void auth_usage(FILE *out) {
  fprintf(
      out,
      "usage: shopsphere auth rotate-keys\n\n"
      "Makes a new RS256 signing key in the auth schema. It signs from\n"
      "now on; the previous key stays in the JWKS so tokens it signed keep\n"
      "verifying (the keyring holds two keys: rotate at most once per\n"
      "access-token lifetime). Running auth services load it within 10 s.\n"
      "Keys also rotate by themselves after SHOPSPHERE_JWT_KEY_ROTATION\n"
      "seconds (30 days).\n");
}

int cli_auth(const struct config *cfg, int argc, char **argv) {
  if (argc < 2 || cli_wants_help(argc, argv)) {
    auth_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "rotate-keys") != 0) {
    fprintf(stderr, "shopsphere auth: unknown subcommand '%s'\n\n", argv[1]);
    auth_usage(stderr);
    return 2;
  }
  int exit_code = 1;
  struct client *client = client_create(cfg);
  struct service auth;
  memset(&auth, 0, sizeof auth);
  bool started = false;
  if (client == NULL || host(&auth, SVC_AUTH, cfg, client) != KIT_OK) {
    fprintf(stderr, "shopsphere auth: cannot open the database\n");
    goto cleanup;
  }
  if (auth.module->start(&auth) != KIT_OK) {
    fprintf(stderr, "shopsphere auth: the auth service cannot start\n");
    goto cleanup;
  }
  started = true;
  struct client_request call = {.method = "POST",
                                .path = "/internal/keys/rotate"};
  struct http_response res;
  client_call(client, SVC_AUTH, &call, &res);
  json_t *answer =
      res.body ? json_loadb(res.body, res.body_len, 0, NULL) : NULL;
  if (res.status == 201) {
    printf("new signing key %s\n",
           json_string_value(json_object_get(answer, "kid")));
    exit_code = 0;
  } else {
    fprintf(stderr, "shopsphere auth: rotation failed (HTTP %u)\n", res.status);
  }
  json_decref(answer);
  http_response_clear(&res);
cleanup:
  if (started) auth.module->stop(&auth);
  unhost(&auth);
  client_destroy(client);
  return exit_code;
}
