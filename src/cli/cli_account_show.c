/*
 * cli_account_show.c — how an account is shown: the JSON document that
 * scripts rely on (INTERFACE.md, rendered by the service, the same the
 * API returns) and a human view of the same document, with the reason for
 * the state and the next step written as the command to run.
 */
#include <stdio.h>
#include <string.h>
#include "cli/cli_account.h"
#include "inboxsync/alloc.h"
#include "inboxsync/provider.h"
#include "inboxsync/quote.h"

static const char *or_never(const char *s)
{
	return s ? s : "never";
}

static void print_doc(struct cli *cli, const struct store_account *a, const json_t *d)
{
	const json_t *in = jdoc_get(d, "incoming"), *out = jdoc_get(d, "outgoing");
	const json_t *server = jdoc_get(d, "server"), *last = jdoc_get(d, "last_error");
	const json_t *fix = jdoc_get(d, "fix");
	struct err e;
	char next[1024], who[sizeof(a->identity)], name[sizeof(a->display_name)];
	char tenant[sizeof(a->tenant_id)], oid[sizeof(a->object_id)];

	printf("Account:        %s (id %s, owner %s)\n", a->name, jdoc_get_str(d, "id"),
	       jdoc_get_str(d, "owner"));
	printf("E-mail:         %s\n", a->email);
	printf("Sender name:    %s\n", a->sender_name[0] ? a->sender_name : "(none)");
	printf("Transport:      %s\n", provider_transport_label(a->transport));
	printf("State:          %s\n", jdoc_get_str(d, "state"));
	if (jdoc_get_str(d, "state_reason") && *jdoc_get_str(d, "state_reason"))
		printf("                %s\n", jdoc_get_str(d, "state_reason"));
	/* The next step as this command line spells it. */
	err_clear(&e);
	e.fix = err_fix_parse(jdoc_get_str(fix, "code"));
	str_copy(e.fix_arg, sizeof(e.fix_arg), a->state_fix == e.fix ? a->state_fix_arg : "");
	if (cli_fix_text(cli, &e, next, sizeof(next))[0])
		printf("Next:           %s\n", next);
	printf("Incoming:       %s (last fetch %s)%s%s\n",
	       strcmp(jdoc_get_str(in, "status"), "confirmed") == 0 ? "Confirmed"
								    : "Not confirmed",
	       or_never(jdoc_get_str(in, "last_fetch_at")),
	       jdoc_get_str(in, "last_error") ? " — " : "",
	       jdoc_get_str(in, "last_error") ? jdoc_get_str(in, "last_error") : "");
	printf("Outgoing:       %s%s%s\n", jdoc_get_str(out, "status"),
	       jdoc_get_str(out, "last_error") ? " — " : "",
	       jdoc_get_str(out, "last_error") ? jdoc_get_str(out, "last_error") : "");
	if (a->authorized_at) {
		printf("Server settings (filled in by authorization, read-only):\n");
		/* as Microsoft's id_token or /me named them */
		printf("  Signed in as: %s%s%s%s\n", quote_str(who, sizeof(who), a->identity),
		       a->display_name[0] ? " (" : "",
		       quote_str(name, sizeof(name), a->display_name),
		       a->display_name[0] ? ")" : "");
		printf("  Tenant:       %s\n", quote_str(tenant, sizeof(tenant), a->tenant_id));
		printf("  Object id:    %s\n", quote_str(oid, sizeof(oid), a->object_id));
		if (strcmp(a->transport, "graph") == 0)
			printf("  Graph:        %s\n", a->graph_url);
		else
			printf("  IMAP:         %s\n  SMTP:         %s\n", a->imap_server,
			       a->smtp_server);
		printf("  Authorized:   %s\n", or_never(jdoc_get_str(server, "authorized_at")));
	} else {
		printf("Server settings: filled in when the account is authorized\n");
	}
	printf("Folders:        %lld selected\n", jdoc_get_int(d, "folders_selected", 0));
	printf("Messages:       %lld stored\n", jdoc_get_int(d, "messages", 0));
	if (jdoc_get_str(d, "throttled_until"))
		printf("Throttled:      until %s (Retry-After from Microsoft)\n",
		       jdoc_get_str(d, "throttled_until"));
	if (last && jdoc_get_str(last, "message"))
		printf("Last error:     %s (%s)\n", jdoc_get_str(last, "message"),
		       or_never(jdoc_get_str(last, "at")));
	for (size_t i = 0; i < jdoc_size(jdoc_get(d, "warnings")); i++)
		printf("Warning:        %s\n",
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
