/*
 * cli_account_show.c — how an account is shown: the JSON document that
 * scripts rely on (INTERFACE.md) and the human view with the reason for the
 * state and the next step.
 */
#include <stdio.h>
#include <string.h>
#include "cli/cli_account.h"
#include "inboxsync/provider.h"

static json_t *time_or_null(int64_t t)
{
	char buf[32];

	return t ? json_string(cli_time(t, buf)) : json_null();
}

json_t *cli_account_json(struct store *st, const struct store_account *a)
{
	long long folders = 0, messages = 0;
	struct err e;
	json_t *server;

	store_count_selected_folders(st, a->id, &folders, &e);
	store_count_messages(st, a->id, &messages, &e);
	server = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}",
			   "identity", a->identity, "display_name", a->display_name,
			   "tenant_id", a->tenant_id, "object_id", a->object_id,
			   "graph_url", a->graph_url, "imap_server", a->imap_server,
			   "smtp_server", a->smtp_server,
			   "authorized_at", time_or_null(a->authorized_at));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i,"
			 "s:{s:s,s:o,s:s?},s:{s:s,s:s?},s:o,s:I,s:I,s:s?,s:o,s:o}",
			 "name", a->name, "email", a->email,
			 "sender_name", a->sender_name, "transport", a->transport,
			 "state", a->state, "state_reason", a->state_reason,
			 "auth_failures", a->auth_failures,
			 "incoming", "status", a->incoming_status,
			 "last_fetch_at", time_or_null(a->incoming_last_fetch_at),
			 "last_error", a->incoming_error[0] ? a->incoming_error : NULL,
			 "outgoing", "status", a->outgoing_status,
			 "last_error", a->outgoing_error[0] ? a->outgoing_error : NULL,
			 "server", server,
			 "folders_selected", (json_int_t)folders,
			 "messages", (json_int_t)messages,
			 "last_error", a->last_error[0] ? a->last_error : NULL,
			 "throttled_until", time_or_null(a->throttled_until),
			 "created_at", time_or_null(a->created_at));
}

static void print_account(struct store *st, const struct store_account *a)
{
	long long folders = 0, messages = 0;
	char t1[32];
	struct err e;

	store_count_selected_folders(st, a->id, &folders, &e);
	store_count_messages(st, a->id, &messages, &e);
	printf("Account:        %s\n", a->name);
	printf("E-mail:         %s\n", a->email);
	printf("Sender name:    %s\n", a->sender_name[0] ? a->sender_name : "(none)");
	printf("Transport:      %s\n", provider_transport_label(a->transport));
	printf("State:          %s\n", a->state);
	if (a->state_reason[0])
		printf("                %s\n", a->state_reason);
	printf("Incoming:       %s (last fetch %s)%s%s\n",
	       strcmp(a->incoming_status, "confirmed") == 0 ? "Confirmed" : "Not confirmed",
	       cli_time(a->incoming_last_fetch_at, t1),
	       a->incoming_error[0] ? " — " : "", a->incoming_error);
	printf("Outgoing:       %s%s%s\n", a->outgoing_status,
	       a->outgoing_error[0] ? " — " : "", a->outgoing_error);
	if (a->authorized_at) {
		printf("Server settings (filled in by authorization, read-only):\n");
		printf("  Signed in as: %s%s%s%s\n", a->identity,
		       a->display_name[0] ? " (" : "", a->display_name,
		       a->display_name[0] ? ")" : "");
		printf("  Tenant:       %s\n", a->tenant_id);
		printf("  Object id:    %s\n", a->object_id);
		if (strcmp(a->transport, "graph") == 0)
			printf("  Graph:        %s\n", a->graph_url);
		else
			printf("  IMAP:         %s\n  SMTP:         %s\n", a->imap_server,
			       a->smtp_server);
		printf("  Authorized:   %s\n", cli_time(a->authorized_at, t1));
	} else {
		printf("Server settings: not yet (run 'inboxsync account authorize %s')\n",
		       a->name);
	}
	printf("Folders:        %lld selected\n", folders);
	printf("Messages:       %lld stored\n", messages);
	if (a->last_error[0])
		printf("Last error:     %s\n", a->last_error);
}

int cli_show_account(struct cli *cli, const char *name)
{
	struct store_account a;
	int rc = cli_find_account(cli, name, &a);

	if (rc != 1)
		return -rc;
	if (cli->json)
		cli_print_json(cli_account_json(cli->store, &a));
	else
		print_account(cli->store, &a);
	return EXIT_OK;
}
