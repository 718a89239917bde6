/*
 * cmd_folders.c — `folders fetch/list/select/unselect`: reading the
 * mailbox's folder tree, showing each folder's role, selection and sync
 * phase, and choosing which folders sync ("fewer folders = faster sync").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "inboxsync/account.h"
#include "inboxsync/engine.h"

static const char *const valid_roles[] = {
	"inbox", "sent", "drafts", "archive", "deleted", "junk", "custom", NULL,
};

static int cmd_folders_fetch(struct cli *cli, int argc, char **argv)
{
	struct store_account a;
	struct auth_env env = { 0 };
	struct err e = { 0 };
	int rc, n = 0;

	if ((rc = cli_simple_args(cli, argc, argv, 1, "name the account")) >= 0)
		return rc;
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	env.store = cli->store;
	env.vault = cli_vault(cli);
	env.http = http_client_new(NULL);
	rc = engine_fetch_folders(&env, a.id, &n, &e);
	http_client_free(env.http);
	if (rc < 0)
		return cli_fail(cli, &e);
	if (cli->json) {
		cli_print_json(json_pack("{s:s,s:i}", "account", a.name, "folders", n));
		return EXIT_OK;
	}
	printf("Fetched %d folders of '%s'. See them with 'inboxsync folders list %s';\n"
	       "select more with 'inboxsync folders select %s FOLDER'.\n", n, a.name,
	       a.name, a.name);
	return EXIT_OK;
}

static json_t *folder_json(const struct store_folder *f)
{
	char oldest[32], last[32];

	return json_pack("{s:s,s:s,s:s?,s:b,s:I,s:I,s:{s:s,s:I,s:o,s:o}}",
			 "id", f->remote_id, "path", f->path,
			 "role", f->role[0] ? f->role : NULL, "selected", f->selected,
			 "total", (json_int_t)f->total, "unread", (json_int_t)f->unread,
			 "sync", "phase", f->phase, "synced", (json_int_t)f->synced,
			 "oldest_at", f->oldest_at ? json_string(cli_time(f->oldest_at, oldest))
						   : json_null(),
			 "last_sync_at", f->last_sync_at
					 ? json_string(cli_time(f->last_sync_at, last))
					 : json_null());
}

static int cmd_folders_list(struct cli *cli, int argc, char **argv)
{
	struct store_account a;
	struct store_folder *list;
	struct err e = { 0 };
	size_t n;
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 1, "name the account")) >= 0)
		return rc;
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	if (store_list_folders(cli->store, a.id, false, &list, &n, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, folder_json(&list[i]));
		cli_print_json(arr);
	} else if (n == 0) {
		printf("No folders yet: run 'inboxsync folders fetch %s'.\n", a.name);
	} else {
		char last[32];

		printf("%-3s %-32s %-8s %8s %7s %-9s %8s  %s\n", "SEL", "FOLDER", "ROLE",
		       "TOTAL", "UNREAD", "PHASE", "SYNCED", "LAST SYNC");
		for (size_t i = 0; i < n; i++) {
			const struct store_folder *f = &list[i];

			printf("%-3s %-32s %-8s %8lld %7lld %-9s %8lld  %s\n",
			       f->selected ? "[x]" : "[ ]", f->path, f->role[0] ? f->role : "-",
			       f->total, f->unread, f->selected ? f->phase : "-", f->synced,
			       cli_time(f->last_sync_at, last));
		}
	}
	store_folder_list_free(list, n);
	return EXIT_OK;
}

static int set_selection(struct cli *cli, int argc, char **argv, bool selected)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *role = NULL;
	struct store_account a;
	struct err e = { 0 };
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1)
		if (opt == 'r')
			role = optarg;
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (role) {
		size_t i = 0;

		while (valid_roles[i] && strcmp(valid_roles[i], role) != 0)
			i++;
		if (!valid_roles[i])
			return cli_usage(cli, "unknown role '%s': choose inbox, sent, drafts, "
					 "archive, deleted, junk or custom", role);
		if (!selected)
			return cli_usage(cli, "--role goes with 'folders select'");
	}
	if (argc - optind < 2)
		return cli_usage(cli, "name the account and at least one folder");
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	if (store_begin(cli->store, &e) < 0)
		return cli_fail(cli, &e);
	for (int i = optind + 1; i < argc; i++) {
		struct store_folder f;
		const char *r = role;

		rc = store_find_folder(cli->store, a.id, argv[i], &f, &e);
		if (rc <= 0) {
			store_rollback(cli->store);
			if (rc == 0) {
				err_set(&e, ERR_PERMANENT, "usage", "no folder '%s' in account "
					"'%s' (see 'inboxsync folders list %s'; run 'folders "
					"fetch' if it is new)", argv[i], a.name, a.name);
			}
			return cli_fail(cli, &e);
		}
		store_folder_clear(&f);
		if (selected && !r && !f.role[0])
			r = "custom";
		if (store_select_folder(cli->store, f.id, selected, r, &e) < 0) {
			store_rollback(cli->store);
			return cli_fail(cli, &e);
		}
		if (!cli->json)
			printf("%s %s%s%s\n", selected ? "Selected" : "Unselected", f.path,
			       r ? " as " : "", r ? r : "");
	}
	if (store_commit(cli->store, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		cli_print_json(json_pack("{s:s,s:b}", "account", a.name, "ok", 1));
	return EXIT_OK;
}

static int cmd_folders_select(struct cli *cli, int argc, char **argv)
{
	return set_selection(cli, argc, argv, true);
}

static int cmd_folders_unselect(struct cli *cli, int argc, char **argv)
{
	return set_selection(cli, argc, argv, false);
}

const struct cli_command cli_folders_fetch = {
	"folders", "fetch", cmd_folders_fetch, "NAME",
	"Read the mailbox's folders from the server.\n\n"
	"Reads the whole tree (child folders included); renamed folders follow,\n"
	"deleted ones go with their messages. The first fetch selects Inbox and\n"
	"Sent Items.",
};

const struct cli_command cli_folders_list = {
	"folders", "list", cmd_folders_list, "NAME [--json]",
	"List the folders with role, selection, counts and sync phase.\n\n"
	"Phases: pending (not started), newest (first screen), backfill (older\n"
	"mail), live (incremental updates).",
};

const struct cli_command cli_folders_select = {
	"folders", "select", cmd_folders_select, "NAME FOLDER... [--role ROLE]",
	"Select folders to synchronize (by path like Inbox/Projects, or id).\n\n"
	"ROLE: inbox, sent, drafts, archive, deleted, junk or custom (default: the\n"
	"server's well-known folder role, else custom). Fewer folders sync faster.",
};

const struct cli_command cli_folders_unselect = {
	"folders", "unselect", cmd_folders_unselect, "NAME FOLDER...",
	"Stop synchronizing folders.\n\n"
	"Their mail stays stored but is no longer listed or updated; selecting a\n"
	"folder again re-synchronizes it and reconciles what changed meanwhile.",
};
