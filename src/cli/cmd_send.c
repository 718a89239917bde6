/*
 * cmd_send.c — `send` and `outbox list/retry/remove`: accept a message
 * into the outbox (it shows in Sent at once when Sent Items is synced),
 * deliver it right away with a bounded retry, and show what is still
 * waiting or failed. Reading the body and attachment files (and refusing
 * what is not a regular file) is this file's; the rules are the service's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"
#include "inboxsync/outbox.h"

#define SEND_TRIES 3
#define SEND_MAX_WAIT_S 30
#define BODY_MAX ((size_t)8 << 20)
#define MAX_ATTACH 64

/* Read a regular file (or "-" = stdin) into `out`, capped. */
static int read_file(const char *path, const char *what, struct buf *out,
		     struct err *e)
{
	FILE *f;
	struct stat st;
	char chunk[8192];
	size_t n;
	int rc = 0;

	if (strcmp(path, "-") == 0) {
		f = stdin;
	} else {
		if (stat(path, &st) < 0)
			return err_set(e, ERR_PERMANENT, "usage", "cannot read %s %s: %s",
				       what, path, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return err_set(e, ERR_PERMANENT, "usage", "cannot use %s as %s: "
				       "it is %s, not a regular file", path, what,
				       S_ISDIR(st.st_mode) ? "a directory" :
				       S_ISFIFO(st.st_mode) ? "a pipe (FIFO)" :
				       S_ISCHR(st.st_mode) ? "a device" : "a special file");
		if (!(f = fopen(path, "rb")))
			return err_set(e, ERR_PERMANENT, "usage", "cannot read %s %s: %s",
				       what, path, strerror(errno));
	}
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_append(out, chunk, n, e);
	if (rc < 0)
		err_set(e, ERR_PERMANENT, "too_large", "the message is too large to "
			"send: %s %s takes it past the %.1f MB a message may have; "
			"nothing was sent", what, path,
			(double)OUTBOX_MAX_MESSAGE / 1048576.0);
	if (f != stdin)
		fclose(f);
	return rc;
}

static void on_wait(void *ctx, int seconds, const struct err *why)
{
	(void)ctx;
	cli_out(stderr, "Sending is delayed (%s); retrying in %d s...\n", why->msg, seconds);
}

struct send_args {
	struct outbox_request r;
	const char *body, *body_file;
	const char *paths[MAX_ATTACH];
	size_t n_paths;
};

static int parse_send(struct cli *cli, int argc, char **argv, struct send_args *s)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "cc", required_argument, NULL, 'c' },
		{ "bcc", required_argument, NULL, 'b' },
		{ "subject", required_argument, NULL, 's' },
		{ "body", required_argument, NULL, 'B' },
		{ "body-file", required_argument, NULL, 'F' },
		{ "html", no_argument, NULL, 'H' },
		{ "attach", required_argument, NULL, 'a' },
		{ "reply-to-id", required_argument, NULL, 'r' },
		{ "idempotency-key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		switch (opt) {
		case 't': s->r.to = optarg; break;
		case 'c': s->r.cc = optarg; break;
		case 'b': s->r.bcc = optarg; break;
		case 's': s->r.subject = optarg; break;
		case 'B': s->body = optarg; break;
		case 'F': s->body_file = optarg; break;
		case 'H': s->r.html = true; break;
		case 'r': s->r.reply_to_id = optarg; break;
		case 'k': s->r.idempotency_key = optarg; break;
		case 'j': cli->json = true; break;
		case 'a':
			if (!optarg) /* getopt always sets it; the analyzers cannot know */
				return cli_usage(cli, "--attach needs a file");
			if (s->n_paths == MAX_ATTACH)
				return cli_usage(cli, "at most %d attachments", MAX_ATTACH);
			s->paths[s->n_paths++] = optarg;
			break;
		}
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind >= argc)
		return cli_usage(cli, "name the account to send from");
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (!s->r.to)
		return cli_usage(cli, "--to is required");
	if (!s->r.subject)
		return cli_usage(cli, "--subject is required");
	if (s->body && s->body_file)
		return cli_usage(cli, "give the body either with --body or with "
				 "--body-file, not both");
	if (!s->body && !s->body_file)
		return cli_usage(cli, "give the body with --body TEXT or --body-file F");
	return -1;
}

/* The attachments read into memory (bufs[i] holds file i). */
static int read_attachments(const struct send_args *s, struct buf *bufs,
			    struct mime_attachment *att, struct err *e)
{
	size_t total = 0;

	for (size_t i = 0; i < s->n_paths; i++) {
		const char *base = strrchr(s->paths[i], '/');

		/* Room for what is left of the message's limit (at least a byte,
		 * so a file over the limit is told as too large). */
		buf_init(&bufs[i], total < OUTBOX_MAX_MESSAGE ? OUTBOX_MAX_MESSAGE - total : 1);
		if (read_file(s->paths[i], "the attachment", &bufs[i], e) < 0)
			return -1;
		total += bufs[i].len;
		att[i].name = base ? base + 1 : s->paths[i];
		att[i].data = bufs[i].data ? bufs[i].data : "";
		att[i].len = bufs[i].len;
	}
	return 0;
}

static int cmd_send(struct cli *cli, int argc, char **argv)
{
	struct send_args s = { 0 };
	struct mime_attachment att[MAX_ATTACH];
	struct buf bufs[MAX_ATTACH], text;
	struct store_account a;
	struct store_outbox o;
	struct err e = { 0 };
	bool sent_entry = false;
	int rc;

	memset(att, 0, sizeof(att));
	memset(bufs, 0, sizeof(bufs));
	if ((rc = parse_send(cli, argc, argv, &s)) >= 0)
		return rc;
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	buf_init(&text, BODY_MAX);
	if ((s.body_file ? read_file(s.body_file, "the body file", &text, &e)
			 : buf_puts(&text, s.body, &e)) < 0 ||
	    read_attachments(&s, bufs, att, &e) < 0) {
		rc = cli_fail(cli, &e);
		goto out;
	}
	s.r.body = buf_str(&text);
	s.r.body_len = text.len;
	s.r.attachments = att;
	s.r.n_attachments = s.n_paths;
	rc = service_send(cli_env(cli), &a, &s.r, &o, &sent_entry, &e);
	if (rc < 0 && !err_is(&e, "duplicate")) {
		rc = cli_fail(cli, &e);
		goto out;
	}
	if (rc < 0)
		cli_notice(cli, e.msg); /* the same request again: not sent twice */
	rc = service_send_now(cli_env(cli), &a, &o, SEND_TRIES, SEND_MAX_WAIT_S,
			      on_wait, NULL, &e);
	if (cli->json) {
		json_t *doc = service_outbox_json(&o);

		jdoc_set(doc, "idempotency_key", jdoc_string(o.idem_key));
		jdoc_set(doc, "sent_entry", jdoc_bool(sent_entry));
		if (rc < 0)
			jdoc_set(doc, "error", jdoc_string(e.msg));
		cli_print_json(doc);
	} else if (rc == 0) {
		if (sent_entry)
			cli_out(stdout, "Sent %s. It is in Sent Items now (a local entry until "
			       "the next sync brings the server's copy).\n",
			       o.internet_message_id);
		else
			cli_out(stdout, "Sent %s. Sent Items is not synchronized for '%s', so no "
			       "local Sent entry was made; select it to see sent mail "
			       "('inboxsync folders select %s \"Sent Items\"').\n",
			       o.internet_message_id, a.name, a.name);
	}
	store_outbox_clear(&o);
	if (rc < 0) {
		if (e.class == ERR_TRANSIENT || e.class == ERR_THROTTLED)
			err_prefix(&e, "the message is queued and 'inboxsync sync' will send "
				   "it: ");
		rc = cli_fail_stderr(cli, &e);
	} else {
		rc = EXIT_OK;
	}
out:
	buf_free(&text);
	for (size_t i = 0; i < s.n_paths; i++)
		buf_free(&bufs[i]);
	return rc;
}

static int cmd_outbox_list(struct cli *cli, int argc, char **argv)
{
	struct store_outbox *list;
	struct store_account a;
	struct err e = { 0 };
	json_t *arr;
	size_t n;
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 1, "name the account")) >= 0)
		return rc;
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	if (service_outbox_list(cli_env(cli), &a, &list, &n, &e) < 0)
		return cli_fail(cli, &e);
	arr = jdoc_array();
	if (!cli->json && n)
		cli_out(stdout, "%-36s %-10s %s\n", "KEY", "STATE", "SUBJECT / REASON");
	for (size_t i = 0; i < n; i++) {
		json_t *doc = service_outbox_json(&list[i]);

		if (!cli->json) {
			char subject[240];
			char *reason = cli_text_safe(list[i].last_error);

			cli_out(stdout, "%-36s %-10s %s%s%s\n", list[i].idem_key,
			       store_outbox_state_name(list[i].state),
			       cli_text_cell(jdoc_get_str(doc, "subject"), 60, 0, subject,
					     sizeof(subject)),
			       reason[0] ? " — " : "", reason);
			free(reason);
		}
		jdoc_push(arr, doc);
	}
	if (cli->json)
		cli_print_json(arr);
	else if (n == 0)
		cli_out(stdout, "The outbox of '%s' is empty.\n", a.name);
	if (!cli->json)
		jdoc_free(arr);
	store_outbox_list_free(list, n);
	return EXIT_OK;
}

static int outbox_args(struct cli *cli, int argc, char **argv, struct store_account *a)
{
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 2, "give the account and the "
				  "KEY shown by 'inboxsync outbox list'")) >= 0)
		return -rc;
	return cli_find_account(cli, argv[optind], a);
}

static int cmd_outbox_retry(struct cli *cli, int argc, char **argv)
{
	struct store_account a;
	struct store_outbox o;
	struct err e = { 0 };
	int rc;

	if ((rc = outbox_args(cli, argc, argv, &a)) != 1)
		return -rc;
	if (service_outbox_retry(cli_env(cli), &a, argv[optind + 1], &o, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		cli_print_json(service_outbox_json(&o));
	else
		cli_out(stdout, "Queued %s again; 'inboxsync sync %s' sends it.\n",
		       o.internet_message_id, a.name);
	store_outbox_clear(&o);
	return EXIT_OK;
}

static int cmd_outbox_remove(struct cli *cli, int argc, char **argv)
{
	struct store_account a;
	struct err e = { 0 };
	int rc;

	if ((rc = outbox_args(cli, argc, argv, &a)) != 1)
		return -rc;
	if (service_outbox_remove(cli_env(cli), &a, argv[optind + 1], &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		cli_print_json(jdoc_pack("{s:s,s:b}", "key", argv[optind + 1], "removed", 1));
	else
		cli_out(stdout, "Removed %s from the outbox.\n", argv[optind + 1]);
	return EXIT_OK;
}

const struct cli_command cli_outbox_retry = {
	"outbox", "retry", cmd_outbox_retry, "NAME KEY [--json]",
	"Queue a failed message again (after fixing what made it fail).\n\n"
	"Before sending, the server is asked whether an earlier attempt went out,\n"
	"so a retry never sends twice. KEY is the idempotency key shown in the\n"
	"first column of 'inboxsync outbox list'. To change recipients or text,\n"
	"send a new message.",
};

const struct cli_command cli_outbox_remove = {
	"outbox", "remove", cmd_outbox_remove, "NAME KEY [--json]",
	"Remove a failed or finished message from the outbox.\n\n"
	"Messages still being delivered cannot be removed. A draft left on the\n"
	"server by a rejected send stays in Drafts.",
};

const struct cli_command cli_send = {
	NULL, "send", cmd_send,
	"NAME --to ADDR[,ADDR] [--cc ...] [--bcc ...] --subject S (--body TEXT | "
	"--body-file F) [--html] [--attach FILE]... [--reply-to-id ID] "
	"[--idempotency-key K] [--json]",
	"Send a message; it shows in Sent at once and is never sent twice.\n\n"
	"The message goes into the outbox with an idempotency key and, when Sent\n"
	"Items is synced, a local Sent entry that the server's copy replaces on\n"
	"the next sync. Repeating the same --idempotency-key with the same\n"
	"message does not send it again; with a different message it is refused.\n"
	"It is sent right away; throttling and temporary failures are retried,\n"
	"and if they persist 'inboxsync sync' sends it later. A permanent\n"
	"rejection (bad recipient, too large, no send permission) is reported and\n"
	"the message is kept ('inboxsync outbox list'). --reply-to-id ID replies\n"
	"to a synced message, keeping the conversation. Subjects have at most 255\n"
	"characters; messages with attachments may be at most 3 MB; --body-file\n"
	"and --attach take regular files ('-' is stdin for the body).",
};

const struct cli_command cli_outbox_list = {
	"outbox", "list", cmd_outbox_list, "NAME [--json]",
	"List the outbox: every send with its KEY, state and the reason it failed.\n\n"
	"States: queued, drafted, sending, submitted (accepted by the server),\n"
	"confirmed (its Sent copy synced), failed (kept, with the reason).",
};
