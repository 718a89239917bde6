/*
 * cmd_store.c — `migrate`: create or upgrade the store's schema (SQLite
 * does it on every open too; PostgreSQL only here, so a fleet of nodes is
 * upgraded once, on purpose).
 */
#include <stdio.h>
#include <stdlib.h>
#include "cli/cli.h"
#include "cli/cli_text.h"

static int cmd_migrate(struct cli *cli, int argc, char **argv)
{
	struct err e = { 0 };
	char *where;
	int rc, from = 0, to = 0;

	if ((rc = cli_simple_args(cli, argc, argv, 0, "")) >= 0)
		return rc;
	where = cli_store_path(cli);
	rc = store_migrate(where, &from, &to, &e);
	free(where);
	if (rc < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		cli_print_json(jdoc_pack("{s:i,s:i}", "from", from, "to", to));
	else if (from == to)
		cli_out(stdout, "The store's schema is current (version %d).\n", to);
	else
		cli_out(stdout, "Upgraded the store's schema from version %d to %d.\n", from, to);
	return EXIT_OK;
}

const struct cli_command cli_migrate = {
	NULL, "migrate", cmd_migrate, "[--json]",
	"Create or upgrade the store's schema.\n\n"
	"SQLite stores are upgraded whenever they are opened; a PostgreSQL store\n"
	"(--database postgresql://...) only by this command, and 'serve' refuses\n"
	"a schema it does not know. A SQLite store made by an older version is\n"
	"also converted so that removing an account gives the space back (done\n"
	"when it is opened if it is under 64 MB; for a larger one run this once:\n"
	"it rewrites the file and needs as much free space). Safe to run again.",
};
