/*
 * cmd_folders.c — `folders fetch/list/select/unselect`: reading the
 * mailbox's folder tree, showing each folder's role, selection and sync
 * phase, and choosing which folders sync ("fewer folders = faster sync"),
 * through the service layer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"

/* "Selected for sync: Inbox (inbox), Sent Items (sent)." */
static void print_selected(struct cli *cli, const struct store_account *a)
{
	struct store_folder *list;
	struct err e = { 0 };
	size_t n, shown = 0;

	if (service_folders_list(cli_env(cli), a, &list, &n, &e) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!list[i].selected)
			continue;
		cli_out(stdout, "%s%s (%s)", shown++ ? ", " : "Selected for sync: ",
			list[i].path, mail_role_name(list[i].role));
	}
	cli_out(stdout, "%s\n", shown ? "." : "No folder is selected for sync yet.");
	store_folder_list_free(list, n);
}

static int cmd_folders_fetch(struct cli *cli, int argc, char **argv)
{
	struct store_account a;
	struct err e = { 0 };
	int rc, n = 0;

	if ((rc = cli_simple_args(cli, argc, argv, 1, "name the account")) >= 0)
		return rc;
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	if (service_folders_fetch(cli_env(cli), &a, &n, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json) {
		cli_print_json(jdoc_pack("{s:s,s:i}", "account", a.name, "folders", n));
		return EXIT_OK;
	}
	cli_out(stdout, "Fetched %d folders of '%s'.\n", n, a.name);
	print_selected(cli, &a);
	cli_out(stdout, "See them with 'inboxsync folders list %s'; select more with "
		"'inboxsync folders select %s FOLDER'.\n", a.name, a.name);
	return EXIT_OK;
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
	if (service_folders_list(cli_env(cli), &a, &list, &n, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json) {
		json_t *arr = jdoc_array();

		for (size_t i = 0; i < n; i++)
			jdoc_push(arr, service_folder_json(&list[i]));
		cli_print_json(arr);
	} else if (n == 0) {
		cli_out(stdout, "No folders yet: run 'inboxsync folders fetch %s'.\n", a.name);
	} else {
		char last[32], path[200];

		cli_out(stdout, "%-3s %-32s %-8s %8s %7s %-9s %8s  %s\n", "SEL", "FOLDER", "ROLE",
		       "TOTAL", "UNREAD", "PHASE", "SYNCED", "LAST SYNC");
		for (size_t i = 0; i < n; i++) {
			const struct store_folder *f = &list[i];

			cli_out(stdout, "%-3s %s %-8s %8lld %7lld %-9s %8lld  %s\n",
			       f->selected ? "[x]" : "[ ]",
			       cli_text_cell(f->path, 32, 1, path, sizeof(path)),
			       f->role ? mail_role_name(f->role) : "-", f->total, f->unread,
			       f->selected ? store_phase_name(f->phase) : "-", f->synced,
			       cli_time(f->last_sync_at, last));
		}
		cli_out(stdout, "TOTAL and UNREAD are Microsoft's counts as of %s; SYNCED "
			"is what is stored here.\n", cli_time(a.folders_scanned_at, last));
	}
	store_folder_list_free(list, n);
	return EXIT_OK;
}

static int set_selection(struct cli *cli, int argc, char **argv, bool selected)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *role = NULL;
	struct store_folder *out;
	struct store_account a;
	struct err e = { 0 };
	size_t n;
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		if (opt == 'r')
			role = optarg;
		else if (opt == 'j')
			cli->json = true;
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (role && !selected)
		return cli_usage(cli, "--role goes with 'folders select'");
	if (role) {
		enum mail_role r;

		if (mail_role_parse(role, &r) < 0 || r == MAIL_ROLE_NONE)
			return cli_usage(cli, "unknown role '%s': choose %s", role,
					 mail_role_choices());
	}
	if (argc - optind < 2)
		return cli_usage(cli, "name the account and at least one folder");
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	n = (size_t)(argc - optind - 1);
	out = xcalloc(n, sizeof(*out));
	if (service_folders_select(cli_env(cli), &a, (const char *const *)argv + optind + 1,
				   n, selected, role, out, &e) < 0) {
		free(out);
		return cli_fail(cli, &e);
	}
	if (cli->json) {
		json_t *arr = jdoc_array();

		for (size_t i = 0; i < n; i++)
			jdoc_push(arr, service_folder_json(&out[i]));
		cli_print_json(jdoc_pack("{s:s,s:b,s:o}", "account", a.name, "ok", 1,
					 "folders", arr));
	} else {
		for (size_t i = 0; i < n; i++)
			cli_out(stdout, "%s %s%s%s\n", selected ? "Selected" : "Unselected", out[i].path,
			       selected ? " as " : "", selected ? mail_role_label(out[i].role) : "");
	}
	store_folder_list_free(out, n);
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
	"folders", "fetch", cmd_folders_fetch, "NAME [--json]",
	"Read the mailbox's folders from the server.\n\n"
	"Reads the whole tree (child folders included); renamed folders follow,\n"
	"deleted ones go with their messages; roles come from the server's\n"
	"well-known folders. When no folder is selected yet (the first fetch, or\n"
	"the first after 'account stop'), Inbox and Sent Items are selected.\n"
	"With --json: {account, folders} (the number of folders); 'folders list\n"
	"--json' gives the folders themselves.",
};

const struct cli_command cli_folders_list = {
	"folders", "list", cmd_folders_list, "NAME [--json]",
	"List the folders with role, selection, counts and sync phase.\n\n"
	"Phases: pending (not started), newest (first screen), backfill (older\n"
	"mail), live (incremental updates). TOTAL and UNREAD are the server's\n"
	"counts as of the last folder read, whose time is printed below the\n"
	"table: 'folders fetch', a sync that completes a folder's first round,\n"
	"a sync that brings changes when the counts are over a minute old, and\n"
	"every 15 minutes while syncing. SYNCED is what is stored here, so it\n"
	"can differ from TOTAL while mail arrives.",
};

const struct cli_command cli_folders_select = {
	"folders", "select", cmd_folders_select, "NAME FOLDER... [--role ROLE] [--json]",
	"Select folders to synchronize (by path like Inbox/Projects, or id).\n\n"
	"ROLE: inbox, sent, drafts, archive, deleted, junk or custom (default: the\n"
	"server's well-known folder role, else custom). Fewer folders sync faster.\n"
	"A folder selected again is re-synchronized and reconciled. All or\n"
	"nothing: an unknown folder selects none (exit 1).",
};

const struct cli_command cli_folders_unselect = {
	"folders", "unselect", cmd_folders_unselect, "NAME FOLDER... [--json]",
	"Stop synchronizing folders.\n\n"
	"Their mail stays stored but is no longer listed ('messages list' refuses\n"
	"the folder) or updated; selecting a folder again re-synchronizes it and\n"
	"reconciles what changed meanwhile.",
};
