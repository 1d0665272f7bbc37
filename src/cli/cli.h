/* cli.h - the subcommands of the shopsphere command. Each returns an exit
 * code and answers --help itself. */
#ifndef SHOPSPHERE_CLI_H
#define SHOPSPHERE_CLI_H

#include <stdbool.h>

#include "kit/config.h"

int cli_serve(const struct config *cfg, int argc, char **argv);
int cli_up(const struct config *cfg, int argc, char **argv);
int cli_migrate(const struct config *cfg, int argc, char **argv);
int cli_seed(const struct config *cfg, int argc, char **argv);
int cli_import(const struct config *cfg, int argc, char **argv);
int cli_events(const struct config *cfg, int argc, char **argv);
int cli_user(const struct config *cfg, int argc, char **argv);
int cli_auth(const struct config *cfg, int argc, char **argv);
int cli_search(const struct config *cfg, int argc, char **argv);
int cli_recommend(const struct config *cfg, int argc, char **argv);
int cli_loadtest(const struct config *cfg, int argc, char **argv);

/* Parses a --services=LIST value ("all" or comma-separated names) into
 * chosen[SVC_COUNT]. include_sandboxes: whether "all" includes the two
 * sandboxes. Writes an error naming the unknown service and returns false. */
bool cli_parse_services(const char *list, bool chosen[SVC_COUNT],
                        bool include_sandboxes);

/* The value of --name=value or --name value in argv, or NULL. */
const char *cli_option(int argc, char **argv, const char *name);

/* true when argv holds -h or --help. */
bool cli_wants_help(int argc, char **argv);

#endif
