/*
 * cli_account.h — account output shared by the account commands: the JSON
 * document of INTERFACE.md and the human view, plus address validation.
 */
#ifndef INBOXSYNC_CLI_ACCOUNT_H
#define INBOXSYNC_CLI_ACCOUNT_H

#include <jansson.h>
#include "cli/cli.h"

/* The account as JSON (new reference): name, email, sender_name, transport,
 * state, state_reason, incoming, outgoing, server, folders_selected,
 * messages, ... Counts come from `st`. */
json_t *cli_account_json(struct store *st, const struct store_account *a);

/* Print account `name` (human or --json). Returns an exit code. */
int cli_show_account(struct cli *cli, const char *name);

/* Accept a plausible e-mail address (name@domain.tld). Errors "usage". */
int cli_validate_email(const char *addr, struct err *e);

#endif
