/*
 * cmd_messages.c — `messages list` (newest first, paged by cursor or by
 * the id of the last message shown), `messages show` (the body fetched
 * when it is not local yet, HTML laid out as text, To/Cc and the
 * attachments listed; the raw MIME with --raw), `messages attachment`
 * (save one attachment to a file), and write-back: `messages mark`,
 * `move` and `delete`, through the service layer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"
#include "inboxsync/mime.h"
#include "inboxsync/quote.h"

#define ATTACHMENT_MAX ((size_t)64 << 20)

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
	/* the original bytes to a file or a pipe; a terminal gets them quoted */
	if (rc == 0 && isatty(STDOUT_FILENO))
		quote_fwrite(stdout, mime.data, mime.len, QUOTE_KEEP_LINES);
	else if (rc == 0)
		fwrite(mime.data ? mime.data : "", 1, mime.len, stdout);
	buf_free(&mime);
	return rc < 0 ? cli_fail(cli, &e) : EXIT_OK;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* "Name <address>", or the address alone when there is no other name. */
static void print_address(const char *before, const struct mail_address *a)
{
	const char *name = or_empty(a->name), *addr = or_empty(a->address);

	if (!*name || strcasecmp(name, addr) == 0)
		cli_out(stdout, "%s<%s>", before, addr);
	else
		cli_out(stdout, "%s%s <%s>", before, name, addr);
}

static void print_addresses(const char *label, const struct mail_address_list *l)
{
	if (!l->n)
		return;
	cli_out(stdout, "%-9s ", label);
	for (size_t i = 0; i < l->n; i++)
		print_address(i ? ", " : "", &l->items[i]);
	cli_out(stdout, "\n");
}

/* "12.3 KB" */
static const char *human_size(size_t n, char out[32])
{
	if (n < 1024)
		snprintf(out, 32, "%zu B", n);
	else if (n < (size_t)1 << 20)
		snprintf(out, 32, "%.1f KB", (double)n / 1024.0);
	else
		snprintf(out, 32, "%.1f MB", (double)n / 1048576.0);
	return out;
}

/* The attachments of a message that has some, read from the server; a
 * failure to read them is told, not fatal (the message itself is here). */
static void print_attachments(struct cli *cli, const struct store_account *a,
			      const struct store_message *m)
{
	struct mime_part_info *list;
	struct err e = { 0 };
	size_t n;

	if (m->m.has_attachments != 1 || m->pending)
		return;
	if (service_message_attachments(cli_env(cli), a, m->m.remote_id, &list, &n, &e) < 0) {
		cli_out(stdout, "Attachments: yes (they cannot be listed now: %s)\n", e.msg);
		return;
	}
	cli_out(stdout, "Attachments:%s\n", n ? "" : " none that are files");
	for (size_t i = 0; i < n; i++) {
		char size[32];

		cli_out(stdout, "  %zu. %s (%s, %s%s)\n", i + 1,
			list[i].name[0] ? list[i].name : "(no name)", list[i].content_type,
			human_size(list[i].size, size), list[i].is_inline ? ", inline" : "");
	}
	if (n)
		cli_out(stdout, "  save one with 'inboxsync messages attachment %s %s N "
			"--output FILE'\n", a->name, m->m.remote_id);
	free(list);
}

/* The body for a terminal: HTML laid out as text. */
static void print_body(const struct store_message *m)
{
	struct err e = { 0 };
	struct buf text;

	if (!m->body_fetched || !m->body) {
		cli_out(stdout, "(no body)\n");
		return;
	}
	if (!m->body_type || strcmp(m->body_type, "html") != 0) {
		cli_out(stdout, "%s\n", m->body);
		return;
	}
	buf_init(&text, m->body_len * 2 + 4096);
	if (mime_html_to_text(m->body, m->body_len, &text, &e) == 0)
		cli_out(stdout, "%s", buf_str(&text));
	else
		cli_out(stdout, "(the HTML body cannot be shown as text: %s; see --json "
			"or --raw)\n", e.msg);
	buf_free(&text);
}

static void print_message_doc(struct cli *cli, const struct store_account *a,
			      const struct store_message *m)
{
	char when[32];

	print_address("From:     ", &m->m.from);
	cli_out(stdout, "\n");
	print_addresses("To:", &m->m.to);
	print_addresses("Cc:", &m->m.cc);
	cli_out(stdout, "Subject:  %s\nDate:     %s\nFolder:   %s\nId:       %s\n"
		"Message-ID: %s\n", or_empty(m->m.subject), cli_time(m->m.received_at, when),
		or_empty(m->folder_path), or_empty(m->m.remote_id),
		or_empty(m->m.internet_message_id));
	print_attachments(cli, a, m);
	cli_out(stdout, "\n");
	print_body(m);
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
		json_t *doc = service_message_json(&m, true);
		struct mime_part_info *list;
		size_t n;

		if (m.m.has_attachments == 1 && !m.pending) {
			if (service_message_attachments(cli_env(cli), &a, m.m.remote_id, &list,
							&n, &e) == 0) {
				jdoc_set(doc, "attachments", service_attachments_json(list, n));
				free(list);
			} else {
				jdoc_set(doc, "attachments_error", service_error_json(&e));
			}
		}
		cli_print_json(doc);
	} else {
		print_message_doc(cli, &a, &m);
	}
	store_message_clear(&m);
	return EXIT_OK;
}

/* Write `data` to a new file `path` ("-" = stdout); an existing file is
 * never overwritten. */
static int save_file(const char *path, const struct buf *data, struct err *e)
{
	FILE *f;
	int fd;

	if (strcmp(path, "-") == 0) {
		if (fwrite(data->data ? data->data : "", 1, data->len, stdout) != data->len)
			return err_set(e, ERR_PERMANENT, "io", "writing to stdout failed");
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		err_set(e, ERR_PERMANENT, errno == EEXIST ? "conflict" : "io",
			"cannot create %s: %s; nothing was written", path, strerror(errno));
		return err_set_fix(e, FIX_CHECK_INPUT, errno == EEXIST
				   ? "choose a file that does not exist yet (an existing one is never overwritten)"
				   : "choose a file in a directory you may write");
	}
	f = fdopen(fd, "wb");
	if (!f || fwrite(data->data ? data->data : "", 1, data->len, f) != data->len ||
	    fclose(f) != 0) {
		err_set(e, ERR_PERMANENT, "io", "writing %s failed: %s", path, strerror(errno));
		if (!f)
			close(fd);
		unlink(path);
		return -1;
	}
	return 0;
}

static int cmd_messages_attachment(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *output = NULL;
	struct mime_part_info info;
	struct store_account a;
	struct err e = { 0 };
	struct buf data;
	unsigned long index;
	char *end, size[32];
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "ho:", opts, &opt, NULL)) == 0 && opt != -1) {
		if (opt == 'o')
			output = optarg;
		else if (opt == 'j')
			cli->json = true;
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (argc - optind != 3)
		return cli_usage(cli, "give the account, the message id and the number of "
				 "the attachment (as 'inboxsync messages show' lists them)");
	index = strtoul(argv[optind + 2], &end, 10);
	if (*end || index < 1 || index > 10000)
		return cli_usage(cli, "bad attachment number '%s' (1, 2, ... as 'inboxsync "
				 "messages show' lists them)", argv[optind + 2]);
	if (!output)
		return cli_usage(cli, "--output FILE is required (or --output - for stdout)");
	if (cli->json && strcmp(output, "-") == 0)
		return cli_usage(cli, "--json and --output - do not go together");
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	buf_init(&data, ATTACHMENT_MAX);
	rc = service_message_attachment(cli_env(cli), &a, argv[optind + 1], (size_t)index,
					&data, &info, &e);
	if (rc == 0)
		rc = save_file(output, &data, &e);
	buf_free(&data);
	if (rc < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		cli_print_json(jdoc_pack("{s:s,s:s,s:I,s:s,s:s,s:I,s:s}", "account", a.name,
					 "id", argv[optind + 1], "index", (long long)index,
					 "name", info.name, "content_type", info.content_type,
					 "size", (long long)info.size, "output", output));
	else if (strcmp(output, "-") != 0)
		cli_out(stdout, "Saved attachment %lu (%s, %s, %s) to %s.\n", index,
			info.name[0] ? info.name : "no name", info.content_type,
			human_size(info.size, size), output);
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
			cli_out(stdout, "%s %s%s%s%s%s%s\n", delete ? "Deleted (moved to Deleted Items)"
			       : folder ? "Moved" : is_read ? "Marked read" : "Marked unread",
			       argv[i], folder ? " to " : "", folder ? folder : "",
			       new_id && strcmp(new_id, argv[i]) ? " (its id is now " : "",
			       new_id && strcmp(new_id, argv[i]) ? new_id : "",
			       new_id && strcmp(new_id, argv[i]) ? ")" : "");
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
	"Prints From, To, Cc, Subject, Date, the folder, the ids and, for a\n"
	"message with attachments, each attachment's number, name, type and\n"
	"size (read from the server), then the body: an HTML body laid out as\n"
	"text for the terminal. The body is fetched from the server the first\n"
	"time and cached. --json gives the MESSAGE object with body {content_type,\n"
	"content} (the HTML as it is) and attachments; --raw prints the original\n"
	"RFC 822 message (MIME) from the server.",
};

const struct cli_command cli_messages_attachment = {
	"messages", "attachment", cmd_messages_attachment,
	"NAME ID N --output FILE [--json]",
	"Save attachment number N of a message to a file.\n\n"
	"N is the number 'inboxsync messages show' lists (1, 2, ...). The\n"
	"attachment is read from the server and written byte for byte to FILE,\n"
	"which must not exist yet (nothing is ever overwritten); --output -\n"
	"writes it to stdout. Attachments up to 64 MB.",
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
