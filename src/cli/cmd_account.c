/*
 * cmd_account.c — `account add/list/show/remove`: creating mailbox
 * accounts, listing them with their state and the reason, and deleting
 * everything local to one. The rules are the service layer's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "inboxsync/alloc.h"
#include "cli/cli_account.h"
#include "cli/cli_text.h"
#include "inboxsync/provider.h"

static int cmd_account_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "email", required_argument, NULL, 'e' },
		{ "sender-name", required_argument, NULL, 's' },
		{ "transport", required_argument, NULL, 't' },
		{ "owner", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct service_account_new in = { .transport = "graph" };
	struct service_actor op = SERVICE_OPERATOR;
	const struct auth_env *env;
	struct store_account a;
	struct err e = { 0 };
	char notice[256];
	int opt, rc;

	in.owner = cli->owner;
	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		switch (opt) {
		case 'e': in.email = optarg; break;
		case 's': in.sender_name = optarg; break;
		case 't': in.transport = optarg; break;
		case 'o': in.owner = optarg; break;
		case 'j': cli->json = true; break;
		}
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind >= argc)
		return cli_usage(cli, "give the account a name: 'inboxsync account add "
				 "NAME --email ADDRESS'");
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (!in.email)
		return cli_usage(cli, "--email is required: the mailbox's e-mail address");
	in.name = argv[optind];
	str_copy(cli->account, sizeof(cli->account), in.name);
	if (!(env = cli_env(cli)))
		return EXIT_FAILED;
	if (service_account_add(env, &op, &in, &a, notice, &e) < 0)
		return cli_fail(cli, &e);
	cli_notice(cli, notice);
	if (cli->json)
		return cli_print_account(cli, &a);
	cli_out(stdout, "Added account '%s' <%s> using %s.\nNext: inboxsync account "
	       "authorize %s\n", a.name, a.email, provider_transport_label(a.transport),
	       a.name);
	return EXIT_OK;
}

static int cmd_account_list(struct cli *cli, int argc, char **argv)
{
	struct service_actor op = SERVICE_OPERATOR;
	const struct auth_env *env;
	struct store_account *list;
	struct err e = { 0 };
	size_t n;
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 0, "")) >= 0)
		return rc;
	if (!(env = cli_env(cli)))
		return EXIT_FAILED;
	if (service_account_list(env, &op, &list, &n, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json) {
		json_t *arr = jdoc_array();

		for (size_t i = 0; i < n; i++)
			jdoc_push(arr, service_account_json(env, &list[i]));
		cli_print_json(arr);
	} else if (n == 0) {
		cli_out(stdout, "No accounts yet. Add one with 'inboxsync account add NAME "
		       "--email ADDRESS'.\n");
	} else {
		char c1[96], c2[160], c3[64];

		cli_out(stdout, "%-20s %-32s %-9s %-13s %s\n", "NAME", "EMAIL", "TRANSPORT",
		       "STATE", "REASON");
		for (size_t i = 0; i < n; i++) {
			json_t *d = service_account_json(env, &list[i]);
			char *reason = cli_text_safe(jdoc_get_str(d, "state_reason"));

			cli_out(stdout, "%s %s %-9s %s %s\n", cli_text_cell(list[i].name, 20, 1, c1, sizeof(c1)),
			       cli_text_cell(list[i].email, 32, 1, c2, sizeof(c2)),
			       list[i].transport,
			       cli_text_cell(jdoc_get_str(d, "state"), 13, 1, c3, sizeof(c3)),
			       reason);
			free(reason);
			jdoc_free(d);
		}
	}
	free(list);
	return EXIT_OK;
}

static int cmd_account_show(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 1, "name the account to show")) >= 0)
		return rc;
	return cli_show_account(cli, argv[optind]);
}

static int cmd_account_remove(struct cli *cli, int argc, char **argv)
{
	struct store_account a;
	struct err e = { 0 };
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 1, "name the account to remove")) >= 0)
		return rc;
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	if (service_account_remove(cli_env(cli), &a, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		cli_print_json(jdoc_pack("{s:s,s:b}", "name", a.name, "removed", 1));
	else
		cli_out(stdout, "Removed account '%s' and everything stored locally for it "
		       "(tokens, folders, messages, outbox, events).\nTo also revoke "
		       "the app's access in Microsoft, remove it under My Apps / Entra "
		       "ID.\n", a.name);
	return EXIT_OK;
}

const struct cli_command cli_account_add = {
	"account", "add", cmd_account_add,
	"NAME --email ADDR [--sender-name S] [--transport graph|imap] [--owner USER] [--json]",
	"Create a mailbox account (not yet connected: authorize it next).\n\n"
	"  NAME                 an internal name: letters, digits, . _ - @ + (not\n"
	"                       a number: numbers are account ids)\n"
	"  --email ADDR         the mailbox address; authorization must sign in as it.\n"
	"                       A mailbox already connected is refused.\n"
	"  --sender-name S      the display name used when sending\n"
	"  --transport T        graph (Microsoft Graph, default) or imap (IMAP OAuth2);\n"
	"                       only transports the administrator enabled are accepted\n"
	"  --owner USER         the user who owns it (default: the built-in 'local')\n\n"
	"Both transports synchronize mail: Microsoft Graph, and IMAP OAuth2 (IMAP\n"
	"with XOAUTH2 for mail, SMTP submission for sending).",
};

const struct cli_command cli_account_list = {
	"account", "list", cmd_account_list, "[--json]",
	"List the mailbox accounts with their state and the reason for it.",
};

const struct cli_command cli_account_show = {
	"account", "show", cmd_account_show, "NAME [--json]",
	"Show one account: its state and why, and what it is connected to.\n\n"
	"Shows the state, its reason and the next step, the Test & Confirm\n"
	"results, the server settings filled in by authorization, selected\n"
	"folders, message count and the latest error. NAME may be the id.",
};

const struct cli_command cli_account_remove = {
	"account", "remove", cmd_account_remove, "NAME [--json]",
	"Delete the account and everything stored locally for it.\n\n"
	"Removes tokens, server settings, folders, messages, the outbox and the\n"
	"account's events, and gives the space back. To keep the synced mail, use\n"
	"'inboxsync account stop' instead.",
};
