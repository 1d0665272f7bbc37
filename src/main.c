/* main.c - the shopsphere command: one binary for every service and tool. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "kit/err.h"
#include "kit/log.h"

#define SHOPSPHERE_VERSION "0.1.0"

static const struct {
  const char *name;
  int (*run)(const struct config *cfg, int argc, char **argv);
  const char *summary;
} commands[] = {
    {"serve", cli_serve, "run services in this process"},
    {"up", cli_up, "run every service as its own process (local supervisor)"},
    {"migrate", cli_migrate, "apply each service's database migrations"},
    {"seed", cli_seed, "write the demo catalog (idempotent, with progress)"},
    {"import", cli_import, "import products from a CSV or JSON-lines file"},
    {"events", cli_events, "event bus: tail, dead letters, replay, outbox"},
    {"user", cli_user, "create an account with a role (user create --help)"},
    {"auth", cli_auth, "rotate the token-signing keys (auth rotate-keys)"},
    {"search", cli_search, "rebuild the search index (search reindex)"},
    {"recommend", cli_recommend,
     "recommendations: train ALS, evaluate the models offline"},
    {"loadtest", cli_loadtest,
     "the seed's load test: ramping shoppers, percentiles, thresholds"},
};

static int cmd_config(const struct config *cfg, int argc, char **argv) {
  if (cli_wants_help(argc, argv)) {
    printf("usage: shopsphere config\n\n"
           "Prints the effective configuration (from SHOPSPHERE_* variables\n"
           "and defaults) with secrets redacted.\n");
    return 0;
  }
  config_print(cfg, stdout);
  return 0;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: shopsphere COMMAND [OPTIONS]\n\n"
          "ShopSphere %s: an eCommerce platform, every service in one "
          "binary.\n\ncommands:\n",
          SHOPSPHERE_VERSION);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "  %-10s %s\n", "config",
          "print the effective configuration, secrets redacted");
  fprintf(out, "  %-10s %s\n", "version", "print the version");
  fprintf(out,
          "\n'shopsphere COMMAND --help' describes a command. Settings come "
          "from\nSHOPSPHERE_* environment variables (see the README).\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
      strcmp(name, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
    printf("shopsphere %s\n", SHOPSPHERE_VERSION);
    return 0;
  }

  struct config cfg;
  char err[256];
  if (config_load(&cfg, err, sizeof err) != KIT_OK) {
    fprintf(stderr, "shopsphere: bad configuration: %s\n", err);
    return 2;
  }
  log_set_level_name(cfg.log_level);

  if (strcmp(name, "config") == 0) return cmd_config(&cfg, argc - 1, argv + 1);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(name, commands[i].name) == 0)
      return commands[i].run(&cfg, argc - 1, argv + 1);
  }
  fprintf(stderr, "shopsphere: unknown command '%s'\n\n", name);
  usage(stderr);
  return 2;
}
