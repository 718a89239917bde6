/*
 * cmd_store.c — `migrate`: create or upgrade the store's schema (SQLite
 * does it on every open too; PostgreSQL only here, so a fleet of nodes is
 * upgraded once, on purpose); `backup`: an online copy of a SQLite store,
 * with the key that opens its secrets when asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

/* 1 when the store holds a sealed value, 0 when none, -1 with `e`. */
static int store_has_sealed(struct store *st, struct err *e)
{
	struct store_sealed *list;
	size_t n;

	if (store_list_sealed(st, NULL, 1, &list, &n, e) < 0)
		return -1;
	store_sealed_list_free(list, n);
	return n > 0;
}

static int cmd_backup(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "with-key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *key_copy = NULL;
	bool no_key = false;
	struct err e = { 0 };
	struct store *st;
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		if (opt == 'k')
			key_copy = optarg;
		else if (opt == 'j')
			cli->json = true;
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (argc - optind < 1)
		return cli_usage(cli, "name the backup FILE");
	if (argc - optind > 1)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (!(st = cli_store(cli)))
		return EXIT_FAILED;
	/* The key first: it is refused during a rotation, and then the store
	 * is not worth copying either. */
	if (key_copy && vault_export_key(cli_vault(cli), key_copy, &e) < 0) {
		if (strcmp(e.code, "vault_no_key") != 0 || store_has_sealed(st, &e) != 0)
			return cli_fail(cli, &e);
		key_copy = NULL;
		no_key = true;
	}
	if (store_backup(st, argv[optind], &e) < 0) {
		if (key_copy)
			unlink(key_copy);
		return cli_fail(cli, &e);
	}
	if (cli->json)
		cli_print_json(jdoc_pack("{s:s,s:s?}", "file", argv[optind], "key_file",
					 key_copy));
	else if (no_key)
		printf("Backed up the store to %s. It holds no secret yet, so there is no "
		       "key to copy.\n", argv[optind]);
	else if (key_copy)
		printf("Backed up the store to %s and its key to %s. Keep them together "
		       "and private: the key opens the secrets in the store.\n",
		       argv[optind], key_copy);
	else
		printf("Backed up the store to %s. Its secrets open only with the key "
		       "file %s: back that up too (--with-key FILE).\n", argv[optind],
		       vault_key_path(cli_vault(cli)));
	return EXIT_OK;
}

const struct cli_command cli_backup = {
	NULL, "backup", cmd_backup, "FILE [--with-key KEYFILE] [--json]",
	"Copy the SQLite store to FILE (a new file) while it is in use: the\n"
	"copy is one consistent moment, taken with SQLite's online backup, and\n"
	"servers and syncs keep running.\n\n"
	"  --with-key KEYFILE  also copy the key that opens the store's secrets\n"
	"                      (refused while a key rotation is under way)\n\n"
	"Both files are created mode 0600. A PostgreSQL store is backed up with\n"
	"pg_dump instead. To restore, stop the server, put FILE in the place of\n"
	"the store (removing its -wal and -shm files) and KEYFILE in the place\n"
	"of the key file, then start it again.",
};
