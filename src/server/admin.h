/*
 * admin.h - `upflowd admin ...`: bootstrap and maintenance commands that work on the data
 * directory directly, without a running server (first admin user, tokens for automation,
 * migrations, audit chain verification).
 */
#ifndef UPFLOW_SERVER_ADMIN_H
#define UPFLOW_SERVER_ADMIN_H

#include <stdio.h>

#include "server/config.h"

/* argv[0] is "admin". Returns the exit status. */
int admin_main(const server_config *cfg, int argc, char **argv);
void admin_print_commands(FILE *out);

#endif
