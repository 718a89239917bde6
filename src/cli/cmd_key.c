/*
 * cmd_key.c — `key rotate`: re-encrypt every stored secret under a new
 * key (key_rotation.h), refusing while a server or a sync holds accounts
 * unless told otherwise, and saying what to back up afterwards.
 */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "inboxsync/key_rotation.h"

#define HOLDERS_MAX 8

/* A server or sync that holds accounts now may still seal with the old
 * key; -1 after printing who holds them. */
static int check_nobody_syncs(struct cli *cli, struct store *st)
{
	struct store_holder_count holders[HOLDERS_MAX];
	struct err e = { 0 };
	char names[512] = "";
	size_t n = 0, used = 0;

	if (store_count_leases(st, holders, HOLDERS_MAX, &n, &e) < 0)
		return cli_fail(cli, &e), -1;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n && used < sizeof(names); i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s (%lld)",
					 i ? ", " : "", holders[i].holder, holders[i].leases);
	err_set(&e, ERR_PERMANENT, "busy", "accounts are being synchronized now by %s; "
		"stop every server and sync that uses this store first (systemctl stop "
		"inboxsync on each node), or pass --force", names);
	cli_fail(cli, &e);
	return -1;
}

static int cmd_key_rotate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct key_rotation_report r;
	struct err e = { 0 };
	struct store *st;
	bool force = false;
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		if (opt == 'f')
			force = true;
		else if (opt == 'j')
			cli->json = true;
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (!(st = cli_store(cli)))
		return EXIT_FAILED;
	if (!force && check_nobody_syncs(cli, st) < 0)
		return EXIT_FAILED;
	if (key_rotation_run(st, cli_vault(cli), &r, &e) < 0)
		return cli_fail(cli, &e);
	if (r.no_key) {
		if (cli->json)
			cli_print_json(jdoc_pack("{s:n,s:n,s:i}", "old_key", "new_key",
						 "rewritten", 0));
		else
			printf("There is no key yet: nothing is encrypted, so there is "
			       "nothing to rotate.\n");
		return EXIT_OK;
	}
	if (cli->json) {
		json_t *out = jdoc_pack("{s:s,s:s,s:b,s:s}", "old_key", r.old_id, "new_key",
					r.new_id, "resumed", r.resumed, "key_file",
					vault_key_path(cli_vault(cli)));

		jdoc_set(out, "rewritten", jdoc_int(r.rewritten));
		jdoc_set(out, "changed", jdoc_int(r.changed));
		cli_print_json(out);
		return EXIT_OK;
	}
	printf("%s the key %s with %s: %lld stored secrets sealed again",
	       r.resumed ? "Finished replacing" : "Replaced", r.old_id, r.new_id,
	       r.rewritten);
	if (r.changed)
		printf(" (%lld more were rewritten meanwhile by another process)", r.changed);
	printf(".\nThe old key is gone. Back up the new key file %s with the store now:\n"
	       "backups taken before need the old key.\n", vault_key_path(cli_vault(cli)));
	return EXIT_OK;
}

const struct cli_command cli_key_rotate = {
	"key", "rotate", cmd_key_rotate, "[--force] [--json]",
	"Re-encrypt every stored secret (client secret, tokens, webhook\n"
	"secrets) under a new key, then drop the old key.\n\n"
	"The new key is written beside the key file as KEY_FILE.next first;\n"
	"until every secret is sealed with it both keys are kept and read, so\n"
	"an interruption (a crash, Ctrl-C, a full disk) loses nothing: run the\n"
	"command again and it continues. Stop the server on every node first\n"
	"(it refuses while accounts are being synchronized, unless --force).\n"
	"Afterwards copy the new key file to every node that shares the store,\n"
	"and back it up with the store.\n\n"
	"  --force   rotate even while a server or sync holds accounts",
};
