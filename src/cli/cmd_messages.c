/*
 * cmd_messages.c — `messages list` (newest first, keyset paging with
 * --before ID) and `messages show` (fetches the body when it is not local
 * yet, or the raw MIME with --raw).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "inboxsync/account.h"
#include "inboxsync/engine.h"

static json_t *parse_or_empty(const char *text)
{
	json_t *v = text && *text ? json_loads(text, 0, NULL) : NULL;

	return v ? v : json_array();
}

static json_t *message_json(const struct store_message *m)
{
	char when[32];
	json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s},s:o,s:o,s:s,s:b,s:b,"
			      "s:s,s:b,s:b,s:o}",
			      "id", m->remote_id, "folder", m->folder_path,
			      "internet_message_id", m->internet_message_id,
			      "conversation_id", m->conversation_id, "subject", m->subject,
			      "from", "name", m->from_name, "address", m->from_addr,
			      "to", parse_or_empty(m->to_json), "cc", parse_or_empty(m->cc_json),
			      "received_at", cli_time(m->received_at, when),
			      "is_read", m->is_read, "has_attachments", m->has_attachments,
			      "preview", m->preview, "body_fetched", m->body_fetched,
			      "pending", m->pending,
			      "categories", parse_or_empty(m->categories_json));
	return v;
}

struct list_ctx {
	json_t *arr;
	int count;
};

static int print_message(void *ctx, const struct store_message *m)
{
	struct list_ctx *l = ctx;
	char when[32];

	l->count++;
	if (l->arr) {
		json_array_append_new(l->arr, message_json(m));
		return 0;
	}
	printf("%s %s %-24.24s %-50.50s %s\n", cli_time(m->received_at, when),
	       m->is_read ? " " : "*", m->from_name[0] ? m->from_name : m->from_addr,
	       m->subject[0] ? m->subject : "(no subject)", m->remote_id);
	return 0;
}

static int cmd_messages_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "folder", required_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'l' },
		{ "before", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct store_message_query q = { 0 };
	const char *folder = NULL, *before = NULL;
	struct list_ctx l = { 0 };
	struct store_account a;
	struct err e = { 0 };
	int opt, rc;
	char *end;

	q.limit = 100;
	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		switch (opt) {
		case 'f': folder = optarg; break;
		case 'b': before = optarg; break;
		case 'j': cli->json = true; break;
		case 'l':
			q.limit = (size_t)strtoul(optarg, &end, 10);
			if (*end || q.limit < 1 || q.limit > 100000)
				return cli_usage(cli, "bad --limit '%s' (1-100000)", optarg);
			break;
		}
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind >= argc)
		return cli_usage(cli, "name the account");
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	q.account_id = a.id;
	if (folder) {
		struct store_folder f;

		rc = store_find_folder(cli->store, a.id, folder, &f, &e);
		if (rc <= 0) {
			if (rc == 0)
				err_set(&e, ERR_PERMANENT, "usage", "no folder '%s' in account "
					"'%s' (see 'inboxsync folders list %s')", folder, a.name,
					a.name);
			return cli_fail(cli, &e);
		}
		store_folder_clear(&f);
		q.folder_id = f.id;
	}
	if (before) {
		struct store_message m;

		rc = store_get_message(cli->store, a.id, before, &m, &e);
		if (rc <= 0) {
			if (rc == 0)
				err_set(&e, ERR_PERMANENT, "usage", "--before: no message with "
					"id '%s' (give the id of the last message listed)", before);
			return cli_fail(cli, &e);
		}
		q.before_received = m.received_at ? m.received_at : 1;
		q.before_id = m.id;
		store_message_clear(&m);
	}
	l.arr = cli->json ? json_array() : NULL;
	if (store_list_messages(cli->store, &q, print_message, &l, &e) < 0) {
		json_decref(l.arr);
		return cli_fail(cli, &e);
	}
	if (l.arr)
		cli_print_json(l.arr);
	else if (l.count == 0)
		printf("No messages%s. Select folders and run 'inboxsync sync %s'.\n",
		       folder ? " in this folder" : " in the selected folders", a.name);
	return EXIT_OK;
}

static int show_raw(struct cli *cli, const struct store_account *a, const char *id)
{
	struct auth_env env = { cli->store, cli_vault(cli), http_client_new(NULL), 0 };
	struct account_conn c;
	struct err e = { 0 };
	struct buf mime;
	int rc = -1;

	buf_init(&mime, (size_t)64 << 20);
	if (account_connect(&env, a, &c, &e) == 0) {
		rc = driver_fetch_mime(c.driver, id, &mime, &e);
		account_disconnect(&c);
	}
	http_client_free(env.http);
	if (rc == 0)
		fwrite(mime.data ? mime.data : "", 1, mime.len, stdout);
	buf_free(&mime);
	return rc < 0 ? cli_fail(cli, &e) : EXIT_OK;
}

static int cmd_messages_show(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "raw", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct store_account a;
	struct store_message m;
	struct auth_env env;
	struct err e = { 0 };
	bool raw = false;
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		if (opt == 'j')
			cli->json = true;
		else if (opt == 'r')
			raw = true;
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (argc - optind != 2)
		return cli_usage(cli, "give the account and the message id");
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	if (raw)
		return show_raw(cli, &a, argv[optind + 1]);
	env = (struct auth_env){ cli->store, cli_vault(cli), http_client_new(NULL), 0 };
	rc = engine_fetch_body(&env, a.id, argv[optind + 1], &e);
	http_client_free(env.http);
	if (rc < 0)
		return cli_fail(cli, &e);
	if (store_get_message(cli->store, a.id, argv[optind + 1], &m, &e) != 1)
		return cli_fail(cli, &e);
	if (cli->json) {
		json_t *v = message_json(&m);

		json_object_set_new(v, "body", json_pack("{s:s,s:s%}", "content_type",
							 m.body_type[0] ? m.body_type : "text",
							 "content", m.body, m.body_len));
		cli_print_json(v);
	} else {
		char when[32];

		printf("From:     %s <%s>\nSubject:  %s\nDate:     %s\nFolder:   %s\n"
		       "Id:       %s\nMessage-ID: %s\n\n", m.from_name, m.from_addr,
		       m.subject, cli_time(m.received_at, when), m.folder_path,
		       m.remote_id, m.internet_message_id);
		fwrite(m.body, 1, m.body_len, stdout);
		fputc('\n', stdout);
	}
	store_message_clear(&m);
	return EXIT_OK;
}

const struct cli_command cli_messages_list = {
	"messages", "list", cmd_messages_list,
	"NAME [--folder F] [--limit N] [--before ID] [--json]",
	"List synced messages, newest first.\n\n"
	"Without --folder, all selected folders. Page with --before ID, the id of\n"
	"the last message of the previous page. Default --limit 100.",
};

const struct cli_command cli_messages_show = {
	"messages", "show", cmd_messages_show, "NAME ID [--json] [--raw]",
	"Show one message with its body.\n\n"
	"The body is fetched from the server the first time and cached. --raw\n"
	"prints the original RFC 822 message (MIME) from the server.",
};
