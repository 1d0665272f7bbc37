/* serve.c - `shopsphere serve` and `shopsphere migrate`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "kit/log.h"
#include "services/registry.h"

extern const struct migration shopsphere_migrations[];
extern const unsigned long shopsphere_migration_count;

const char *cli_option(int argc, char **argv, const char *name) {
  size_t n = strlen(name);
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
    if (strcmp(argv[i], name) == 0 && i + 1 < argc) return argv[i + 1];
  }
  return NULL;
}

bool cli_wants_help(int argc, char **argv) {
  for (int i = 0; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return true;
  return false;
}

bool cli_parse_services(const char *list, bool chosen[SVC_COUNT],
                        bool include_sandboxes) {
  memset(chosen, 0, SVC_COUNT * sizeof chosen[0]);
  if (list == NULL || strcmp(list, "all") == 0) {
    for (int i = 0; i < SVC_COUNT; i++) chosen[i] = true;
    if (!include_sandboxes)
      chosen[SVC_SANDBOX_PAYMENT] = chosen[SVC_SANDBOX_COURIER] =
          chosen[SVC_SANDBOX_MAIL] = false;
    return true;
  }
  char *copy = strdup(list);
  if (copy == NULL) return false;
  bool ok = true;
  char *save = NULL;
  for (char *name = strtok_r(copy, ",", &save); name != NULL;
       name = strtok_r(NULL, ",", &save)) {
    enum service_id id = service_lookup(name);
    if (id == SVC_COUNT) {
      fprintf(stderr, "shopsphere: unknown service '%s' (try --help)\n", name);
      ok = false;
      break;
    }
    chosen[id] = true;
  }
  free(copy);
  return ok;
}

static void print_service_list(FILE *out) {
  for (int i = 0; i < SVC_COUNT; i++) {
    const struct service_module *m = registry_module((enum service_id)i);
    fprintf(out, "  %-16s %s\n", service_name((enum service_id)i),
            m ? m->summary : "");
  }
}

int cli_serve(const struct config *cfg, int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    printf("usage: shopsphere serve [--services=LIST|all]\n\n"
           "Runs the listed services in this one process, each on its own\n"
           "port (SHOPSPHERE_PORT_BASE + offset); calls between them are\n"
           "dispatched in-process. 'all' (the default) means every service\n"
           "and the sandboxes. Stops on SIGINT or SIGTERM.\n\nservices:\n");
    print_service_list(stdout);
    return 0;
  }
  bool chosen[SVC_COUNT];
  const char *list = cli_option(argc, argv, "--services");
  if (!cli_parse_services(list, chosen, true)) return 2;

  const struct service_module *modules[SVC_COUNT];
  size_t count = 0;
  for (int i = 0; i < SVC_COUNT; i++) {
    if (chosen[i]) modules[count++] = registry_module((enum service_id)i);
  }
  if (count == 1) log_set_process(service_name(modules[0]->id));
  return service_run_all(cfg, modules, count);
}

int cli_migrate(const struct config *cfg, int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    printf("usage: shopsphere migrate [--services=LIST|all]\n\n"
           "Applies the embedded SQL migrations of each service to its own\n"
           "schema in SHOPSPHERE_DATABASE_URL. Safe to run concurrently and\n"
           "repeatedly: applied versions are recorded, and an advisory lock\n"
           "serialises migrators.\n");
    return 0;
  }
  bool chosen[SVC_COUNT];
  if (!cli_parse_services(cli_option(argc, argv, "--services"), chosen, false))
    return 2;
  int failures = 0;
  for (int i = 0; i < SVC_COUNT; i++) {
    const struct service_module *m = registry_module((enum service_id)i);
    if (!chosen[i] || m == NULL || !(m->needs & NEEDS_DB)) continue;
    char schema[64];
    service_schema_name(m->id, schema, sizeof schema);
    int applied = 0;
    int rc = db_migrate(cfg->database_url, schema, shopsphere_migrations,
                        shopsphere_migration_count, &applied);
    if (rc != KIT_OK) {
      fprintf(stderr, "migrate: %-14s FAILED (see the log above)\n", schema);
      failures++;
    } else {
      printf("migrate: %-14s %d migration(s) applied\n", schema, applied);
    }
  }
  return failures ? 1 : 0;
}
