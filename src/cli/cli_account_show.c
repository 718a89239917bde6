/*
 * cli_account_show.c — how an account is shown: the JSON document that
 * scripts rely on (INTERFACE.md, rendered by the service, the same the
 * API returns) and a human view of the same document, with the reason for
 * the state and the next step written as the command to run.
 */
#include <stdio.h>
#include <string.h>
#include "cli/cli_account.h"
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"
#include "inboxsync/provider.h"

static const char *or_never(const char *s)
{
	return s ? s : "never";
}

static void print_doc(struct cli *cli, const struct store_account *a, const json_t *d)
{
	const json_t *in = jdoc_get(d, "incoming"), *out = jdoc_get(d, "outgoing");
	const json_t *server = jdoc_get(d, "server"), *last = jdoc_get(d, "last_error");
	const json_t *fix = jdoc_get(d, "fix");
	struct cli view = *cli;
	struct err e;
	char next[1024];

	cli_out(stdout, "Account:        %s (id %s, owner %s)\n", a->name, jdoc_get_str(d, "id"),
	       jdoc_get_str(d, "owner"));
	cli_out(stdout, "E-mail:         %s\n", a->email);
	cli_out(stdout, "Sender name:    %s\n", a->sender_name[0] ? a->sender_name : "(none)");
	cli_out(stdout, "Transport:      %s\n", provider_transport_label(a->transport));
	cli_out(stdout, "State:          %s\n", jdoc_get_str(d, "state"));
	if (jdoc_get_str(d, "state_reason") && *jdoc_get_str(d, "state_reason"))
		cli_out(stdout, "                %s\n", jdoc_get_str(d, "state_reason"));
	/* The next step as this command line spells it; the state's fix is
	 * about synchronizing the account, whatever shows it. */
	err_clear(&e);
	e.fix = err_fix_parse(jdoc_get_str(fix, "code"));
	str_copy(e.fix_arg, sizeof(e.fix_arg), a->state_fix == e.fix ? a->state_fix_arg : "");
	/* cli_fix_text reads it through &view */
	// cppcheck-suppress unreadVariable
	view.command = "sync";
	if (cli_fix_text(&view, &e, next, sizeof(next))[0])
		cli_out(stdout, "Next:           %s\n", next);
	cli_out(stdout, "Incoming:       %s (last fetch %s)%s%s\n",
	       strcmp(jdoc_get_str(in, "status"), "confirmed") == 0 ? "Confirmed"
								    : "Not confirmed",
	       or_never(jdoc_get_str(in, "last_fetch_at")),
	       jdoc_get_str(in, "last_error") ? " — " : "",
	       jdoc_get_str(in, "last_error") ? jdoc_get_str(in, "last_error") : "");
	cli_out(stdout, "Outgoing:       %s%s%s\n", jdoc_get_str(out, "status"),
	       jdoc_get_str(out, "last_error") ? " — " : "",
	       jdoc_get_str(out, "last_error") ? jdoc_get_str(out, "last_error") : "");
	if (a->authorized_at) {
		cli_out(stdout, "Server settings (filled in by authorization, read-only):\n");
		cli_out(stdout, "  Signed in as: %s%s%s%s\n", a->identity,
		       a->display_name[0] ? " (" : "", a->display_name,
		       a->display_name[0] ? ")" : "");
		cli_out(stdout, "  Tenant:       %s\n", a->tenant_id);
		cli_out(stdout, "  Object id:    %s\n", a->object_id);
		if (strcmp(a->transport, "graph") == 0)
			cli_out(stdout, "  Graph:        %s\n", a->graph_url);
		else
			cli_out(stdout, "  IMAP:         %s\n  SMTP:         %s\n", a->imap_server,
			       a->smtp_server);
		cli_out(stdout, "  Authorized:   %s\n", or_never(jdoc_get_str(server, "authorized_at")));
	} else {
		cli_out(stdout, "Server settings: filled in when the account is authorized\n");
	}
	cli_out(stdout, "Folders:        %lld selected\n", jdoc_get_int(d, "folders_selected", 0));
	cli_out(stdout, "Messages:       %lld stored\n", jdoc_get_int(d, "messages", 0));
	if (jdoc_get_str(d, "throttled_until"))
		cli_out(stdout, "Throttled:      until %s (Retry-After from Microsoft)\n",
		       jdoc_get_str(d, "throttled_until"));
	if (last && jdoc_get_str(last, "message"))
		cli_out(stdout, "Last error:     %s (%s)\n", jdoc_get_str(last, "message"),
		       or_never(jdoc_get_str(last, "at")));
	for (size_t i = 0; i < jdoc_size(jdoc_get(d, "warnings")); i++)
		cli_out(stdout, "Warning:        %s\n",
		       jdoc_get_str(jdoc_item(jdoc_get(d, "warnings"), i), "message"));
}

int cli_print_account(struct cli *cli, const struct store_account *a)
{
	const struct auth_env *env = cli_env(cli);
	json_t *doc;

	if (!env)
		return EXIT_FAILED;
	doc = service_account_json(env, a);
	if (cli->json) {
		cli_print_json(doc);
		return EXIT_OK;
	}
	print_doc(cli, a, doc);
	jdoc_free(doc);
	return EXIT_OK;
}

int cli_show_account(struct cli *cli, const char *name)
{
	struct store_account a;
	int rc = cli_find_account(cli, name, &a);

	if (rc != 1)
		return -rc;
	return cli_print_account(cli, &a);
}
