/*
 * cmd_account.c — `account add/list/show/remove`: creating mailbox
 * accounts (validated name, address, transport), listing them with their
 * state and the reason, and deleting everything local to one.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_account.h"
#include "inboxsync/alloc.h"
#include "inboxsync/provider.h"

#define NAME_MAX_LEN 64

/* Account names: letters, digits, '.', '_', '-', '@'; not starting with '-'. */
static int validate_name(const char *name, struct err *e)
{
	size_t n = strlen(name);

	if (n == 0 || n > NAME_MAX_LEN)
		return err_set(e, ERR_PERMANENT, "usage",
			       "the account name must be 1 to %d characters", NAME_MAX_LEN);
	if (name[0] == '-')
		return err_set(e, ERR_PERMANENT, "usage",
			       "the account name must not start with '-'");
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-@+", *p))
			return err_set(e, ERR_PERMANENT, "usage",
				       "the account name '%s' has a character other "
				       "than letters, digits and . _ - @ +", name);
	return 0;
}

int cli_validate_email(const char *addr, struct err *e)
{
	const char *at = strchr(addr, '@');
	const char *domain, *dot;
	size_t local_len;

	if (!at || strchr(at + 1, '@'))
		goto bad;
	local_len = (size_t)(at - addr);
	domain = at + 1;
	if (local_len == 0 || local_len > 64 || strlen(domain) > 253 ||
	    strlen(addr) > 254)
		goto bad;
	for (const char *p = addr; p < at; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+/=?^_`{|}~.-", *p))
			goto bad;
	if (addr[0] == '.' || at[-1] == '.' || strstr(addr, ".."))
		goto bad;
	dot = strrchr(domain, '.');
	if (!dot || dot == domain || !dot[1] || strlen(dot + 1) < 2)
		goto bad;
	for (const char *p = domain; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			goto bad;
		if (*p == '.' && (p == domain || p[-1] == '.' || p[-1] == '-' ||
				  p[1] == '-' || !p[1]))
			goto bad;
	}
	return 0;
bad:
	return err_set(e, ERR_PERMANENT, "usage",
		       "'%s' is not a valid e-mail address (expected name@domain.tld)",
		       addr);
}

static int cmd_account_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "email", required_argument, NULL, 'e' },
		{ "sender-name", required_argument, NULL, 's' },
		{ "transport", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct store_account a = { 0 };
	const char *email = NULL, *sender = "", *transport = "graph";
	struct err e = { 0 };
	struct store *st;
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		switch (opt) {
		case 'e': email = optarg; break;
		case 's': sender = optarg; break;
		case 't': transport = optarg; break;
		}
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind >= argc)
		return cli_usage(cli, "give the account a name: 'inboxsync account add "
				 "NAME --email ADDRESS'");
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (!email)
		return cli_usage(cli, "--email is required: the mailbox's e-mail address");
	if (validate_name(argv[optind], &e) < 0 || cli_validate_email(email, &e) < 0)
		return cli_fail(cli, &e);
	if (!provider_transport_bit(transport))
		return cli_usage(cli, "unknown transport '%s': choose graph (Microsoft "
				 "Graph, the default) or imap (IMAP OAuth2)", transport);
	if (strlen(sender) >= sizeof(a.sender_name))
		return cli_usage(cli, "the sender name is too long");
	if (!(st = cli_store(cli)))
		return EXIT_FAILED;
	if (provider_require(st, transport, NULL, &e) < 0)
		return cli_fail(cli, &e);
	str_copy(a.name, sizeof(a.name), argv[optind]);
	str_copy(a.email, sizeof(a.email), email);
	str_copy(a.sender_name, sizeof(a.sender_name), sender);
	str_copy(a.transport, sizeof(a.transport), transport);
	if (store_add_account(st, &a, &e) < 0) {
		if (err_is(&e, "duplicate"))
			e.class = ERR_PERMANENT, str_copy(e.code, sizeof(e.code), "usage");
		return cli_fail(cli, &e);
	}
	if (cli->json)
		return cli_show_account(cli, a.name);
	printf("Added account '%s' <%s> using %s.\nNext: inboxsync account "
	       "authorize %s\n", a.name, a.email, provider_transport_label(transport),
	       a.name);
	return EXIT_OK;
}

static int cmd_account_list(struct cli *cli, int argc, char **argv)
{
	struct store_account *list;
	struct err e = { 0 };
	struct store *st;
	size_t n;
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 0, "")) >= 0)
		return rc;
	if (!(st = cli_store(cli)))
		return EXIT_FAILED;
	if (store_list_accounts(st, &list, &n, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, cli_account_json(st, &list[i]));
		cli_print_json(arr);
	} else if (n == 0) {
		printf("No accounts yet. Add one with 'inboxsync account add NAME "
		       "--email ADDRESS'.\n");
	} else {
		printf("%-20s %-32s %-9s %-13s %s\n", "NAME", "EMAIL", "TRANSPORT",
		       "STATE", "REASON");
		for (size_t i = 0; i < n; i++)
			printf("%-20s %-32s %-9s %-13s %s\n", list[i].name, list[i].email,
			       list[i].transport, list[i].state, list[i].state_reason);
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
	if (store_delete_account(cli->store, a.id, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		cli_print_json(json_pack("{s:s,s:b}", "name", a.name, "removed", 1));
	else
		printf("Removed account '%s' and everything stored locally for it "
		       "(tokens, folders, messages, outbox).\nTo also revoke the app's "
		       "access in Microsoft, remove it under My Apps / Entra ID.\n",
		       a.name);
	return EXIT_OK;
}

const struct cli_command cli_account_add = {
	"account", "add", cmd_account_add,
	"NAME --email ADDR [--sender-name S] [--transport graph|imap]",
	"Create a mailbox account (not yet connected: authorize it next).\n\n"
	"  NAME                 an internal name: letters, digits, . _ - @ +\n"
	"  --email ADDR         the mailbox address; authorization must sign in as it\n"
	"  --sender-name S      the display name used when sending\n"
	"  --transport T        graph (Microsoft Graph, default) or imap (IMAP OAuth2);\n"
	"                       only transports the administrator enabled are accepted",
};

const struct cli_command cli_account_list = {
	"account", "list", cmd_account_list, "[--json]",
	"List the mailbox accounts with their state and the reason for it.",
};

const struct cli_command cli_account_show = {
	"account", "show", cmd_account_show, "NAME [--json]",
	"Show one account: its state and why, and what it is connected to.\n\n"
	"Shows the state and its reason, the Test & Confirm results, the server\n"
	"settings filled in by authorization, selected folders and message count.",
};

const struct cli_command cli_account_remove = {
	"account", "remove", cmd_account_remove, "NAME",
	"Delete the account and everything stored locally for it.\n\n"
	"Removes tokens, server settings, folders, messages and the outbox. To\n"
	"keep the synced mail, use\n"
	"'inboxsync account stop' instead.",
};
