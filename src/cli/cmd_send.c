/*
 * cmd_send.c — `send` and `outbox list`: accept a message into the outbox
 * (it shows in Sent at once), deliver it right away with a bounded retry,
 * and show what is still waiting or failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "inboxsync/account.h"
#include "inboxsync/alloc.h"
#include "inboxsync/outbox.h"
#include "inboxsync/provider.h"
#include "inboxsync/timeutil.h"

#define SEND_TRIES 3
#define SEND_MAX_WAIT_S 30
#define BODY_MAX ((size_t)8 << 20)
#define MAX_ATTACH 64

static int read_file(const char *path, struct buf *out, struct err *e)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[8192];
	size_t n;
	int rc = 0;

	if (!f)
		return err_set(e, ERR_PERMANENT, "usage", "cannot read %s", path);
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_append(out, chunk, n, e);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* Deliver now, retrying throttling/temporary failures a few times. */
static int deliver_now(struct cli *cli, const struct store_account *a,
		       struct store_outbox *o, struct err *e)
{
	struct auth_env env = { cli->store, cli_vault(cli), http_client_new(NULL), 0 };
	struct account_conn c;
	int rc = -1;

	if (account_connect(&env, a, &c, e) == 0) {
		for (int i = 0; i < SEND_TRIES; i++) {
			rc = outbox_deliver(cli->store, c.driver, o, e);
			if (rc == 0 || (e->class != ERR_TRANSIENT && e->class != ERR_THROTTLED))
				break;
			if (i + 1 < SEND_TRIES) {
				int wait = e->class == ERR_THROTTLED && e->retry_after_s > 0
					   ? e->retry_after_s : 2 << i;

				if (wait > SEND_MAX_WAIT_S)
					break;
				fprintf(stderr, "Sending is delayed (%s); retrying in %d s...\n",
					e->msg, wait);
				time_sleep_ms((int64_t)wait * 1000);
			}
		}
		account_disconnect(&c);
	}
	http_client_free(env.http);
	return rc;
}

static int cmd_send(struct cli *cli, int argc, char **argv)
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
	struct outbox_request r = { 0 };
	const char *attach[MAX_ATTACH], *body = NULL, *body_file = NULL;
	struct store_outbox o;
	struct store_account a;
	struct err e = { 0 };
	struct buf text;
	size_t n_attach = 0;
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		switch (opt) {
		case 't': r.to = optarg; break;
		case 'c': r.cc = optarg; break;
		case 'b': r.bcc = optarg; break;
		case 's': r.subject = optarg; break;
		case 'B': body = optarg; break;
		case 'F': body_file = optarg; break;
		case 'H': r.html = true; break;
		case 'r': r.reply_to_id = optarg; break;
		case 'k': r.idempotency_key = optarg; break;
		case 'j': cli->json = true; break;
		case 'a':
			if (n_attach == MAX_ATTACH)
				return cli_usage(cli, "at most %d attachments", MAX_ATTACH);
			attach[n_attach++] = optarg;
			break;
		}
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind >= argc)
		return cli_usage(cli, "name the account to send from");
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (!r.to)
		return cli_usage(cli, "--to is required");
	if (!r.subject)
		return cli_usage(cli, "--subject is required");
	if (!body == !body_file)
		return cli_usage(cli, "give the body with --body TEXT or --body-file F");
	if (r.idempotency_key && (strlen(r.idempotency_key) < 1 ||
				  strlen(r.idempotency_key) > 72))
		return cli_usage(cli, "--idempotency-key must be 1 to 72 characters");
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	if (provider_require(cli->store, a.transport, NULL, &e) < 0)
		return cli_fail(cli, &e);
	buf_init(&text, BODY_MAX);
	if (body_file ? read_file(body_file, &text, &e) < 0 : buf_puts(&text, body, &e) < 0) {
		buf_free(&text);
		return cli_fail(cli, &e);
	}
	r.body = buf_str(&text);
	r.body_len = text.len;
	r.attachments = attach;
	r.n_attachments = n_attach;
	rc = outbox_accept(cli->store, &a, &r, &o, &e);
	buf_free(&text);
	if (rc < 0) {
		/* A repeated key: deliver the entry already in the outbox. */
		int64_t existing = err_is(&e, "duplicate") ? o.id : 0;

		store_outbox_clear(&o);
		if (!existing || store_outbox_get(cli->store, existing, &o, &e) != 1)
			return cli_fail(cli, &e);
	}
	rc = deliver_now(cli, &a, &o, &e);
	if (cli->json) {
		json_t *doc = json_pack("{s:s,s:s,s:s,s:s?}", "idempotency_key", o.idem_key,
					"state", o.state, "internet_message_id",
					o.internet_message_id, "error",
					rc < 0 ? e.msg : NULL);
		cli_print_json(doc);
	} else if (rc == 0) {
		printf("Sent %s. It is in Sent Items now (a local entry until the next "
		       "sync brings the server's copy).\n", o.internet_message_id);
	}
	store_outbox_clear(&o);
	if (rc < 0) {
		if (e.class == ERR_TRANSIENT || e.class == ERR_THROTTLED)
			err_prefix(&e, "the message is queued and 'inboxsync sync' will send "
				   "it: ");
		return cli_fail_stderr(cli, &e);
	}
	return EXIT_OK;
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
	if (store_outbox_list_all(cli->store, a.id, &list, &n, &e) < 0)
		return cli_fail(cli, &e);
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char when[32];
		json_t *req = json_loads(list[i].request_json ? list[i].request_json : "{}", 0, NULL);

		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o,s:i,s:s?,s:s}",
			"idempotency_key", list[i].idem_key, "state", list[i].state,
			"internet_message_id", list[i].internet_message_id,
			"request", req ? req : json_object(), "attempts", list[i].attempts,
			"last_error", list[i].last_error[0] ? list[i].last_error : NULL,
			"created_at", cli_time(list[i].created_at, when)));
		if (!cli->json) {
			const char *subject = json_string_value(json_object_get(req, "subject"));

			printf("%-10s %s %s%s%s\n", list[i].state, list[i].internet_message_id,
			       subject ? subject : "", list[i].last_error[0] ? " — " : "",
			       list[i].last_error);
		}
	}
	if (cli->json)
		cli_print_json(arr);
	else
		json_decref(arr);
	store_outbox_list_free(list, n);
	return EXIT_OK;
}

/* The outbox entry KEY of account NAME, or a printed error (negated code). */
static int find_entry(struct cli *cli, int argc, char **argv,
		      struct store_account *a, struct store_outbox *o)
{
	struct err e = { 0 };
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 2, "give the account and the "
				  "idempotency key (see 'inboxsync outbox list')")) >= 0)
		return -rc;
	if ((rc = cli_find_account(cli, argv[optind], a)) != 1)
		return rc;
	rc = store_outbox_find(cli->store, a->id, argv[optind + 1], o, &e);
	if (rc == 0)
		err_set(&e, ERR_PERMANENT, "not_found", "no outbox entry with key '%s' in "
			"'%s' (see 'inboxsync outbox list %s')", argv[optind + 1], a->name,
			a->name);
	return rc == 1 ? 1 : -cli_fail(cli, &e);
}

static int cmd_outbox_retry(struct cli *cli, int argc, char **argv)
{
	struct store_account a;
	struct store_outbox o;
	struct err e = { 0 };
	int rc;

	if ((rc = find_entry(cli, argc, argv, &a, &o)) != 1)
		return -rc;
	if (strcmp(o.state, STORE_OUTBOX_FAILED) != 0) {
		err_set(&e, ERR_PERMANENT, "usage", "the message is %s, not failed; "
			"only failed messages can be retried", o.state);
		store_outbox_clear(&o);
		return cli_fail(cli, &e);
	}
	/* Back to the queue. attempts stays >= 1, so delivery first asks the
	 * server whether an earlier attempt got through. */
	str_copy(o.state, sizeof(o.state), STORE_OUTBOX_QUEUED);
	o.attempts = 1;
	o.next_attempt_at = 0;
	o.last_error[0] = '\0';
	rc = store_outbox_update(cli->store, &o, &e);
	if (rc == 0 && !cli->json)
		printf("Queued %s again; 'inboxsync sync %s' sends it.\n",
		       o.internet_message_id, a.name);
	else if (rc == 0)
		cli_print_json(json_pack("{s:s,s:s}", "idempotency_key", o.idem_key,
					 "state", o.state));
	store_outbox_clear(&o);
	return rc < 0 ? cli_fail(cli, &e) : EXIT_OK;
}

static int cmd_outbox_remove(struct cli *cli, int argc, char **argv)
{
	struct store_account a;
	struct store_outbox o;
	struct err e = { 0 };
	int rc;

	if ((rc = find_entry(cli, argc, argv, &a, &o)) != 1)
		return -rc;
	if (strcmp(o.state, STORE_OUTBOX_FAILED) != 0 &&
	    strcmp(o.state, STORE_OUTBOX_CONFIRMED) != 0 &&
	    strcmp(o.state, STORE_OUTBOX_SUBMITTED) != 0) {
		err_set(&e, ERR_PERMANENT, "usage", "the message is %s: it may be "
			"on its way, so it cannot be removed now", o.state);
		store_outbox_clear(&o);
		return cli_fail(cli, &e);
	}
	rc = store_outbox_delete(cli->store, &o, &e);
	if (rc == 0 && !cli->json)
		printf("Removed %s from the outbox.\n", o.internet_message_id);
	else if (rc == 0)
		cli_print_json(json_pack("{s:s,s:b}", "idempotency_key", o.idem_key,
					 "removed", 1));
	store_outbox_clear(&o);
	return rc < 0 ? cli_fail(cli, &e) : EXIT_OK;
}

const struct cli_command cli_outbox_retry = {
	"outbox", "retry", cmd_outbox_retry, "NAME KEY",
	"Queue a failed message again (after fixing what made it fail).\n\n"
	"Before sending, the server is asked whether an earlier attempt went out,\n"
	"so a retry never sends twice. KEY is the idempotency key shown by\n"
	"'inboxsync outbox list'. To change recipients or text, send a new message.",
};

const struct cli_command cli_outbox_remove = {
	"outbox", "remove", cmd_outbox_remove, "NAME KEY",
	"Remove a failed or finished message from the outbox.\n\n"
	"Messages still being delivered cannot be removed. A draft left on the\n"
	"server by a rejected send stays in Drafts.",
};

const struct cli_command cli_send = {
	NULL, "send", cmd_send,
	"NAME --to ADDR[,ADDR] [--cc ...] [--bcc ...] --subject S (--body TEXT | "
	"--body-file F) [--html] [--attach FILE]... [--reply-to-id ID] "
	"[--idempotency-key K]",
	"Send a message; it shows in Sent at once and is never sent twice.\n\n"
	"The message goes into the outbox with an idempotency key (repeat the same\n"
	"--idempotency-key and it is not sent again) and a local Sent entry that the\n"
	"server's copy replaces on the next sync. It is sent right away; throttling\n"
	"and temporary failures are retried, and if they persist 'inboxsync sync'\n"
	"sends it later. A permanent rejection (bad recipient, too large, no send\n"
	"permission) is reported and the message is kept ('inboxsync outbox list').\n"
	"--reply-to-id ID replies to a synced message, keeping the conversation.\n"
	"Messages with attachments may be at most 3 MB.",
};

const struct cli_command cli_outbox_list = {
	"outbox", "list", cmd_outbox_list, "NAME [--json]",
	"List the outbox: every send with its state and the reason it failed.\n\n"
	"States: queued, drafted, sending, submitted (accepted by the server),\n"
	"confirmed (its Sent copy synced), failed (kept, with the reason).",
};
