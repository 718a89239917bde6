/*
 * cli_account.h — how the account commands show an account: the JSON
 * document of INTERFACE.md (rendered by the service) and the human view
 * with the reason for the state and the next step.
 */
#ifndef INBOXSYNC_CLI_ACCOUNT_H
#define INBOXSYNC_CLI_ACCOUNT_H

#include "cli/cli.h"

/* Print account `a` (human, or the JSON document with --json). Returns an
 * exit code. */
int cli_print_account(struct cli *cli, const struct store_account *a);

/* Find the account `name` and print it. Returns an exit code. */
int cli_show_account(struct cli *cli, const char *name);

#endif
