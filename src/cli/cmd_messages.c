/*
 * cmd_messages.c — `messages list` (newest first, paged by cursor or by
 * the id of the last message shown), `messages show` (the body fetched
 * when it is not local yet, or the raw MIME with --raw), and write-back:
 * `messages mark`, `move` and `delete`, through the service layer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"

struct list_ctx {
	json_t *arr;
	size_t count;
};

static int print_message(void *ctx, const struct store_message *sm)
{
	const struct mail_message *m = &sm->m;
	struct list_ctx *l = ctx;
	char when[32], from[128], subject[256];

	l->count++;
	if (l->arr) {
		jdoc_push(l->arr, service_message_json(sm, false));
		return 0;
	}
	cli_out(stdout, "%s %s %s %s %s\n", cli_time(m->received_at, when), m->is_read ? " " : "*",
	       cli_text_cell(m->from.name && *m->from.name ? m->from.name : m->from.address,
			     24, 1, from, sizeof(from)),
	       cli_text_cell(m->subject && *m->subject ? m->subject : "(no subject)",
			     50, 1, subject, sizeof(subject)),
	       m->remote_id);
	return 0;
}

/* --before: a cursor from a page, or the id of the last message shown. */
static int before_cursor(struct cli *cli, const struct store_account *a,
			 const char *before, char out[48], struct err *e)
{
	struct store_message m;
	int64_t r, id;
	int rc;

	if (service_cursor_parse(before, &r, &id, e) == 0) {
		service_cursor_format(r, id, out);
		return 0;
	}
	rc = store_get_message(cli->store, a->id, before, &m, e);
	if (rc <= 0) {
		if (rc == 0)
			err_set(e, ERR_PERMANENT, "not_found", "--before: no message "
				"with id '%.200s' (give a cursor, or the id of the last "
				"message listed)", before);
		return -1;
	}
	service_cursor_format(m.m.received_at ? m.m.received_at : 1, m.id, out);
	store_message_clear(&m);
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
	struct service_message_query q = { 0 };
	const char *before = NULL;
	struct list_ctx l = { 0 };
	struct store_account a;
	struct err e = { 0 };
	size_t limit = 100;
	char cursor[48], *next = NULL;
	int opt, rc;
	char *end;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		switch (opt) {
		case 'f': q.folder = optarg; break;
		case 'b': before = optarg; break;
		case 'j': cli->json = true; break;
		case 'l':
			limit = (size_t)strtoul(optarg, &end, 10);
			if (*end || limit < 1 || limit > 100000)
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
	if (before && before_cursor(cli, &a, before, cursor, &e) < 0)
		return cli_fail(cli, &e);
	q.cursor = before ? cursor : NULL;
	l.arr = cli->json ? jdoc_array() : NULL;
	/* Pages of at most SERVICE_LIST_MAX until the limit. */
	do {
		size_t want = limit - l.count;

		q.limit = want > SERVICE_LIST_MAX ? SERVICE_LIST_MAX : want;
		free(next);
		next = NULL;
		if (service_messages_list(cli_env(cli), &a, &q, print_message, &l, &next,
					  &e) < 0) {
			jdoc_free(l.arr);
			return cli_fail(cli, &e);
		}
		if (next) {
			str_copy(cursor, sizeof(cursor), next);
			q.cursor = cursor;
		}
	} while (next && l.count < limit);
	free(next);
	if (l.arr)
		cli_print_json(l.arr);
	else if (l.count == 0)
		cli_out(stdout, "No messages%s. Select folders and run 'inboxsync sync %s'.\n",
		       q.folder ? " in this folder" : " in the selected folders", a.name);
	return EXIT_OK;
}

static int show_raw(struct cli *cli, const struct store_account *a, const char *id)
{
	struct err e = { 0 };
	struct buf mime;
	int rc;

	buf_init(&mime, (size_t)64 << 20);
	rc = service_message_mime(cli_env(cli), a, id, &mime, &e);
	if (rc == 0)
		fwrite(mime.data ? mime.data : "", 1, mime.len, stdout);
	buf_free(&mime);
	return rc < 0 ? cli_fail(cli, &e) : EXIT_OK;
}

static void print_addresses(const char *label, const struct mail_address_list *l)
{
	if (!l->n)
		return;
	cli_out(stdout, "%-9s ", label);
	for (size_t i = 0; i < l->n; i++) {
		char *name = cli_text_safe(l->items[i].name);
		char *addr = cli_text_safe(l->items[i].address);

		cli_out(stdout, "%s%s%s<%s>", i ? ", " : "", name, *name ? " " : "", addr);
		free(name);
		free(addr);
	}
	cli_out(stdout, "\n");
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
	if (service_message_open(cli_env(cli), &a, argv[optind + 1], &m, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json) {
		cli_print_json(service_message_json(&m, true));
	} else {
		char when[32], *subject = cli_text_safe(m.m.subject);
		char *from = cli_text_safe(m.m.from.name), *body;

		cli_out(stdout, "From:     %s <%s>\n", from, m.m.from.address);
		print_addresses("To:", &m.m.to);
		print_addresses("Cc:", &m.m.cc);
		cli_out(stdout, "Subject:  %s\nDate:     %s\nFolder:   %s\nId:       %s\n"
		       "Message-ID: %s\n%s\n", subject, cli_time(m.m.received_at, when),
		       m.folder_path, m.m.remote_id, m.m.internet_message_id,
		       m.m.has_attachments == 1 ? "Attachments: yes (see --raw)\n" : "");
		body = cli_text_safe(m.body);
		fputs(body, stdout);
		fputc('\n', stdout);
		free(body);
		free(subject);
		free(from);
	}
	store_message_clear(&m);
	return EXIT_OK;
}

/* `messages mark/move/delete NAME ID...`: each message in turn; the first
 * failure stops with what was done so far reported. */
static int change_each(struct cli *cli, char **argv, int ids_end,
		       int is_read, const char *folder, bool delete)
{
	struct store_account a;
	struct err e = { 0 };
	json_t *done = cli->json ? jdoc_array() : NULL;
	int rc;

	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1) {
		jdoc_free(done);
		return -rc;
	}
	for (int i = optind + 1; i < ids_end; i++) {
		char *new_id = NULL;

		rc = delete ? service_message_delete(cli_env(cli), &a, argv[i], &e)
			    : service_message_change(cli_env(cli), &a, argv[i], is_read,
						     folder, &new_id, &e);
		if (rc < 0) {
			jdoc_free(done);
			return cli_fail(cli, &e);
		}
		if (done)
			jdoc_push(done, jdoc_pack("{s:s,s:s}", "id", argv[i], "now",
						  new_id ? new_id : argv[i]));
		else
			cli_out(stdout, "%s %s%s%s\n", delete ? "Deleted (moved to Deleted Items)"
			       : folder ? "Moved" : is_read ? "Marked read" : "Marked unread",
			       argv[i], new_id && strcmp(new_id, argv[i]) ? " → " : "",
			       new_id && strcmp(new_id, argv[i]) ? new_id : "");
		free(new_id);
	}
	if (done)
		cli_print_json(jdoc_pack("{s:o}", "changed", done));
	return EXIT_OK;
}

static int cmd_messages_mark(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "read", no_argument, NULL, 'r' },
		{ "unread", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, rc, is_read = -1;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		if (opt == 'r' || opt == 'u') {
			if (is_read >= 0)
				return cli_usage(cli, "give one of --read and --unread");
			is_read = opt == 'r';
		} else if (opt == 'j') {
			cli->json = true;
		}
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (is_read < 0)
		return cli_usage(cli, "give --read or --unread");
	if (argc - optind < 2)
		return cli_usage(cli, "give the account and at least one message id");
	return change_each(cli, argv, argc, is_read, NULL, false);
}

static int cmd_messages_move(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_getopt_json_only(cli, argc, argv)) >= 0)
		return rc;
	if (argc - optind < 3)
		return cli_usage(cli, "give the account, at least one message id and "
				 "the folder to move them to");
	return change_each(cli, argv, argc - 1, MAIL_UNKNOWN, argv[argc - 1], false);
}

static int cmd_messages_delete(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_getopt_json_only(cli, argc, argv)) >= 0)
		return rc;
	if (argc - optind < 2)
		return cli_usage(cli, "give the account and at least one message id");
	return change_each(cli, argv, argc, MAIL_UNKNOWN, NULL, true);
}

const struct cli_command cli_messages_list = {
	"messages", "list", cmd_messages_list,
	"NAME [--folder F] [--limit N] [--before CURSOR] [--json]",
	"List synced messages, newest first.\n\n"
	"Without --folder, all selected folders; a folder that is not selected is\n"
	"refused (its mail is kept but not shown). --before CURSOR continues after\n"
	"the previous page: the cursor of an API page, or the id of the last\n"
	"message listed. Default --limit 100.",
};

const struct cli_command cli_messages_show = {
	"messages", "show", cmd_messages_show, "NAME ID [--json] [--raw]",
	"Show one message with its body.\n\n"
	"The body is fetched from the server the first time and cached. --raw\n"
	"prints the original RFC 822 message (MIME) from the server.",
};

const struct cli_command cli_messages_mark = {
	"messages", "mark", cmd_messages_mark, "NAME ID... (--read | --unread) [--json]",
	"Mark messages read or unread, in the mailbox and here.\n\n"
	"The change is written to the server first, then stored; the next sync\n"
	"does not undo it.",
};

const struct cli_command cli_messages_move = {
	"messages", "move", cmd_messages_move, "NAME ID... FOLDER [--json]",
	"Move messages to another folder, in the mailbox and here.\n\n"
	"A moved message stays one message. Moved to a folder that is not\n"
	"selected, it leaves the local view.",
};

const struct cli_command cli_messages_delete = {
	"messages", "delete", cmd_messages_delete, "NAME ID... [--json]",
	"Delete messages: they move to Deleted Items, in the mailbox and here.",
};
