/*
 * test_send_alloc_torture.c — a recorded send scenario (compose, send
 * through the outbox to m365sim, the sync that replaces the local Sent
 * entry with the server's copy by internetMessageId) made to abort at its
 * 1st, 2nd, ... allocation in turn, every allocation it makes, until a run
 * completes: after each abort the next runs converge with the message sent
 * exactly once (the simulator's mailbox, sent log and the recipient's
 * Inbox), its outbox entry confirmed and one local Sent entry with the
 * server's id, nothing else pending and the store equal to the server.
 *
 * Each step is the real command line (cli_main) in a forked child: no
 * exec per run, so the roughly 900 aborted runs of the default scenario
 * (Sent Items synced) cost about half a minute of CPU. With --slow (ctest
 * label slow) Inbox is synced too, and the sync after a completed send
 * and a send with Cc, an attachment and a reply also run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <curl/curl.h>
#include <jansson.h>
#include "cli/cli.h"
#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"
#include "sim_harness.h"

#define ADELE "adele@contoso.com"
#define BOB "bob@contoso.com"

static struct sim_harness sim;
static char tmp[128];
static bool inbox_synced;    /* Inbox selected too (the slow scenario) */
static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	failures++;
}

/* ---- running the command line in a child --------------------------------------- */

/* How a child run ended. */
struct run {
	int status;              /* waitpid's */
	bool aborted;            /* SIGABRT after "out of memory": the hook's abort */
	bool completed;          /* exited (any code): the command ran to its end */
	int code;                /* exit code when completed */
	unsigned long allocs;    /* allocations counted, when completed */
};

/* The child's stderr, for messages about a run that went wrong. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (!f)
		return xstrdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = xmalloc(n > 0 ? (size_t)n + 1 : 1);
	n = n > 0 ? (long)fread(s, 1, (size_t)n, f) : 0;
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Point descriptor `fd` at a new file `path` (the stdio stream on it keeps
 * its buffering: stderr stays unbuffered, so the abort's line is kept). */
static int redirect(int fd, const char *path)
{
	int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (f < 0 || dup2(f, fd) < 0)
		return -1;
	close(f);
	return 0;
}

/* Run `inboxsync ARGS...` (NULL-terminated) in a forked child with the
 * allocation hook set to `fail_at` (0 = off) and, when `crash_at` is not
 * NULL, INBOXSYNC_CRASH_AT. Its stdout goes to `out_path` (NULL: nowhere),
 * stderr to tmp/err. */
static struct run cli_run(unsigned long fail_at, const char *crash_at,
			  const char *out_path, const char *const *args)
{
	struct run r = { 0 };
	char err_path[192];
	const char *argv[32];
	int argc = 0, fd[2];
	pid_t pid;

	snprintf(err_path, sizeof(err_path), "%s/err", tmp);
	argv[argc++] = "inboxsync";
	for (size_t i = 0; args[i] && argc < 31; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	if (pipe(fd) < 0)
		abort();
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		int rc;

		close(fd[0]);
		if (redirect(STDOUT_FILENO, out_path ? out_path : "/dev/null") < 0 ||
		    redirect(STDERR_FILENO, err_path) < 0)
			_exit(120);
		if (crash_at)
			setenv("INBOXSYNC_CRASH_AT", crash_at, 1);
		alloc_fail_at(fail_at);
		rc = cli_main(argc, (char **)argv);
		r.allocs = alloc_count();
		fflush(stdout);
		fflush(stderr);
		_exit(write(fd[1], &r.allocs, sizeof(r.allocs)) == sizeof(r.allocs) ? rc : 121);
	}
	close(fd[1]);
	if (read(fd[0], &r.allocs, sizeof(r.allocs)) != sizeof(r.allocs))
		r.allocs = 0;
	close(fd[0]);
	if (waitpid(pid, &r.status, 0) != pid)
		abort();
	r.completed = WIFEXITED(r.status);
	r.code = r.completed ? WEXITSTATUS(r.status) : -1;
	if (WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGABRT) {
		char *text = read_text(err_path);

		r.aborted = strstr(text, "out of memory") != NULL;
		free(text);
	}
	return r;
}

/* Run ARGS to completion without failures; exit code 0 expected. */
static bool cli_ok(const char *what, const char *out_path, const char *const *args)
{
	struct run r = cli_run(0, NULL, out_path, args);

	if (r.completed && r.code == 0)
		return true;
	{
		char path[192], *text;

		snprintf(path, sizeof(path), "%s/err", tmp);
		text = read_text(path);
		fail("%s: status %d (exit %d): %s", what, r.status, r.code, text);
		free(text);
	}
	return false;
}

/* `inboxsync --json ARGS...` parsed, or NULL (reported). */
static json_t *cli_json(const char *what, const char *const *args)
{
	char out[192];
	json_error_t je;
	json_t *doc;

	snprintf(out, sizeof(out), "%s/out.json", tmp);
	if (!cli_ok(what, out, args))
		return NULL;
	if (!(doc = json_load_file(out, 0, &je)))
		fail("%s: not JSON: %s", what, je.text);
	return doc;
}

/* ---- setting up the account ---------------------------------------------------- */

/* Follow an authorization URL as a browser would (every redirect). */
static int browse(const char *url)
{
	CURL *c = curl_easy_init();
	FILE *sink = fopen("/dev/null", "w");
	CURLcode cc;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	cc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	fclose(sink);
	return cc == CURLE_OK ? 0 : -1;
}

/* `account authorize work --print-url` in a child; the simulator approves
 * Adele at once and we follow the URL it printed. */
static int authorize(void)
{
	const char *argv[] = { "inboxsync", "account", "authorize", "work", "--print-url",
			       "--timeout", "30", NULL };
	char url[4096];
	struct sim_http h;
	int fd[2], status;
	FILE *in;
	pid_t pid;

	if (sim_admin(&sim, "POST", "/_sim/auto-approve", "{\"email\":\"" ADELE "\"}", &h) < 0)
		return -1;
	sim_http_free(&h);
	if (pipe(fd) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fd[0]);
		dup2(fd[1], STDOUT_FILENO);
		close(fd[1]);
		_exit(cli_main(7, (char **)argv));
	}
	close(fd[1]);
	in = fdopen(fd[0], "r");
	if (!in || !fgets(url, sizeof(url), in)) {
		fail("authorize printed no URL");
		return -1;
	}
	url[strcspn(url, "\r\n")] = '\0';
	if (browse(url) < 0)
		fail("following the authorization URL failed");
	while (fgets(url, sizeof(url), in))
		;
	fclose(in);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int setup(bool with_inbox)
{
	char secret_path[192], graph[128], data[192];
	FILE *f;

	/* In memory where the machine has it: an abort is the death of a
	 * process, not of the machine, so what was written survives it either
	 * way, and a thousand rounds of durable commits cost no disk flushes. */
	snprintf(tmp, sizeof(tmp), "%s/inboxsync-torture.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(data, sizeof(data), "%s/data", tmp);
	setenv("INBOXSYNC_HOME", data, 1);
	setenv("INBOXSYNC_CONFIG", "", 1);
	unsetenv("INBOXSYNC_DATABASE");
	if (sim_start(&sim, (const char *[]){ "--messages", "0", NULL }) < 0)
		return -1;
	snprintf(secret_path, sizeof(secret_path), "%s/secret", tmp);
	if (!(f = fopen(secret_path, "w")))
		return -1;
	fprintf(f, "%s\n", sim.client_secret);
	fclose(f);
	snprintf(graph, sizeof(graph), "%s/v1.0", sim.url);
	if (!cli_ok("provider set", NULL, (const char *[]){ "provider", "set", "microsoft",
			"--client-id", sim.client_id, "--client-secret-file", secret_path,
			"--login-url", sim.url, "--graph-url", graph, NULL }) ||
	    !cli_ok("account add", NULL, (const char *[]){ "account", "add", "work",
			"--email", ADELE, NULL }) ||
	    authorize() < 0 ||
	    !cli_ok("folders fetch", NULL, (const char *[]){ "folders", "fetch", "work", NULL }) ||
	    (!(inbox_synced = with_inbox) && !cli_ok("folders unselect", NULL, (const char *[]){ "folders",
				    "unselect", "work", "Inbox", NULL })) ||
	    !cli_ok("first sync", NULL, (const char *[]){ "sync", "work", "--until-complete", NULL }))
		return -1;
	return 0;
}

/* ---- the truth after each abort ------------------------------------------------ */

static json_t *sim_json(const char *path)
{
	struct sim_http h;
	json_t *doc = NULL;

	if (sim_admin(&sim, "GET", path, NULL, &h) == 0 && h.status == 200 && h.json)
		doc = json_incref(h.json);
	else
		fail("GET %s: status %ld", path, h.status);
	sim_http_free(&h);
	return doc;
}

static bool str_is(json_t *o, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && want && strcmp(v, want) == 0;
}

/* Entries of `arr` whose `key` is `value`; the first in *first. */
static size_t count_where(json_t *arr, const char *key, const char *value, json_t **first)
{
	size_t i, n = 0;
	json_t *it;

	if (first)
		*first = NULL;
	json_array_foreach(arr, i, it) {
		if (!str_is(it, key, value))
			continue;
		if (first && !n)
			*first = it;
		n++;
	}
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "id\tfolder" lines of `arr` in the synced folders (Sent Items, and Inbox
 * when selected), sorted, joined (heap). */
static char *id_set(json_t *arr, const char *id_key, const char *folder_key)
{
	size_t n = json_array_size(arr), i, k = 0;
	char **lines = xcalloc(n ? n : 1, sizeof(*lines));
	struct err e = { 0 };
	struct buf out;
	json_t *it;

	json_array_foreach(arr, i, it) {
		const char *folder = json_string_value(json_object_get(it, folder_key));

		if (!folder || (strcmp(folder, "Sent Items") &&
				(!inbox_synced || strcmp(folder, "Inbox"))))
			continue;
		lines[k++] = xasprintf("%s\t%s\n",
				       json_string_value(json_object_get(it, id_key)), folder);
	}
	qsort(lines, k, sizeof(*lines), cmp_str);
	buf_init(&out, (size_t)64 << 20);
	for (i = 0; i < k; i++) {
		if (buf_puts(&out, lines[i], &e) < 0)
			fail("id_set: %s", e.msg);
		free(lines[i]);
	}
	free(lines);
	buf_puts(&out, "", &e);
	return buf_detach(&out, NULL);
}

/* What a round leaves behind, removed before the next (clean_up). */
struct round {
	char *server_id;         /* Adele's sent copy */
	char *bob_id;            /* Bob's copy */
};

/* Messages in Adele's mailbox that are not a round's (Bob's question). */
static size_t extra_adele;

/* After the runs that follow an abort: the message under idempotency key
 * `key` went out exactly once and every record of it agrees; *out gets
 * the server's ids of its copies. */
static void check_sent_once(const char *step, const char *key, struct round *out)
{
	json_t *outbox = cli_json("outbox list", (const char *[]){ "--json", "outbox", "list",
								   "work", NULL });
	json_t *local = cli_json("messages list", (const char *[]){ "--json", "messages",
			"list", "work", "--limit", "100000", NULL });
	json_t *adele = sim_json("/_sim/mailboxes/" ADELE "/dump");
	json_t *bob = sim_json("/_sim/mailboxes/" BOB "/dump");
	json_t *sent = sim_json("/_sim/sent");
	json_t *entry, *copy, *mine, *it;
	const char *imid, *server_id;
	char *server_set = NULL, *local_set = NULL;
	size_t n, i;

	if (!outbox || !local || !adele || !bob || !sent)
		goto out;
	if ((n = count_where(outbox, "idempotency_key", key, &entry)) != 1) {
		fail("%s: %zu outbox entries with key %s", step, n, key);
		goto out;
	}
	json_array_foreach(outbox, i, it)
		if (!str_is(it, "state", "confirmed"))
			fail("%s: outbox entry %s is %s (%s)", step,
			     json_string_value(json_object_get(it, "idempotency_key")),
			     json_string_value(json_object_get(it, "state")),
			     json_string_value(json_object_get(it, "last_error")));
	imid = json_string_value(json_object_get(entry, "internet_message_id"));
	if (!imid || !*imid) {
		fail("%s: the outbox entry has no Message-ID", step);
		goto out;
	}
	/* Each round starts from empty mailboxes and sent log (clean_up), so
	 * what is there is this message's and nothing else. */
	n = count_where(json_object_get(adele, "messages"), "internetMessageId", imid, &copy);
	if (n != 1 || json_array_size(json_object_get(adele, "messages")) != extra_adele + 1 ||
	    !str_is(copy, "folderPath", "Sent Items") ||
	    json_is_true(json_object_get(copy, "isDraft"))) {
		fail("%s: %s: %zu copies in Adele's mailbox of %zu messages (want one sent "
		     "copy in Sent Items, no draft)", step, imid, n,
		     json_array_size(json_object_get(adele, "messages")));
		goto out;
	}
	server_id = json_string_value(json_object_get(copy, "id"));
	out->server_id = xstrdup(server_id);
	n = count_where(json_object_get(sent, "value"), "internetMessageId", imid, NULL);
	if (n != 1 || json_array_size(json_object_get(sent, "value")) != 1)
		fail("%s: %s: %zu sends of %zu in the simulator's sent log (want exactly "
		     "this one)", step, imid, n, json_array_size(json_object_get(sent, "value")));
	n = count_where(json_object_get(bob, "messages"), "internetMessageId", imid, &it);
	if (n != 1 || json_array_size(json_object_get(bob, "messages")) != 1 ||
	    !str_is(it, "folderPath", "Inbox"))
		fail("%s: %s: %zu deliveries to Bob", step, imid, n);
	else
		out->bob_id = xstrdup(json_string_value(json_object_get(it, "id")));
	n = count_where(local, "internet_message_id", imid, &mine);
	if (n != 1 || !str_is(mine, "id", server_id) || !str_is(mine, "folder", "Sent Items") ||
	    json_is_true(json_object_get(mine, "pending")))
		fail("%s: %s: %zu local entries (want one with the server's id %s, not pending)",
		     step, imid, n, server_id);
	json_array_foreach(local, i, it)
		if (json_is_true(json_object_get(it, "pending")))
			fail("%s: a pending local entry is left: %s", step,
			     json_string_value(json_object_get(it, "id")));
	/* nothing half-applied: the synced folders hold exactly the server's */
	server_set = id_set(json_object_get(adele, "messages"), "id", "folderPath");
	local_set = id_set(local, "id", "folder");
	if (strcmp(server_set, local_set) != 0)
		fail("%s: the store differs from the server:\nserver:\n%slocal:\n%s", step,
		     server_set, local_set);
out:
	free(server_set);
	free(local_set);
	json_decref(outbox);
	json_decref(local);
	json_decref(adele);
	json_decref(bob);
	json_decref(sent);
}

/* Leave the next round empty mailboxes, an empty sent log and an empty
 * outbox, so each check sees only its own message and costs the same:
 * the copies deleted for good on the server (the next sync removes the
 * local one), the sent log cleared, the confirmed entry removed. */
static void clean_up(const char *key, struct round *r)
{
	struct sim_http h;
	char path[512];

	if (!cli_ok("outbox remove", NULL, (const char *[]){ "outbox", "remove", "work", key,
							     NULL }))
		goto out;
	for (int i = 0; i < 2; i++) {
		const char *id = i ? r->bob_id : r->server_id;

		if (!id)
			continue;
		snprintf(path, sizeof(path), "/_sim/mailboxes/%s/messages/%s?permanent=true",
			 i ? BOB : ADELE, id);
		if (sim_admin(&sim, "DELETE", path, NULL, &h) < 0 || h.status >= 300)
			fail("DELETE %s: status %ld", path, h.status);
		sim_http_free(&h);
	}
	if (sim_admin(&sim, "DELETE", "/_sim/sent", NULL, &h) < 0 || h.status >= 300)
		fail("clearing the sent log: status %ld", h.status);
	sim_http_free(&h);
out:
	free(r->server_id);
	free(r->bob_id);
	r->server_id = r->bob_id = NULL;
}

/* ---- the scenario -------------------------------------------------------------- */

/* A send command of the scenario: argv for `send` with key `key`. */
struct send_cmd {
	const char *args[24];
	char key[64], subject[96];
};

static void send_cmd_init(struct send_cmd *s, const char *tag, unsigned long n, bool rich,
			  const char *attach, const char *reply_to)
{
	size_t k = 0;

	snprintf(s->key, sizeof(s->key), "%s-%lu", tag, n);
	snprintf(s->subject, sizeof(s->subject), "%s %lu", tag, n);
	s->args[k++] = "send";
	s->args[k++] = "work";
	s->args[k++] = "--to";
	s->args[k++] = "Bob <" BOB ">";
	s->args[k++] = "--subject";
	s->args[k++] = s->subject;
	s->args[k++] = "--body";
	s->args[k++] = "The numbers, as promised.";
	s->args[k++] = "--idempotency-key";
	s->args[k++] = s->key;
	if (rich) {
		s->args[k++] = "--cc";
		s->args[k++] = "nestor@contoso.com";
		s->args[k++] = "--attach";
		s->args[k++] = attach;
		if (reply_to) {
			s->args[k++] = "--reply-to-id";
			s->args[k++] = reply_to;
		}
	}
	s->args[k] = NULL;
}

static const char *const SYNC[] = { "sync", "work", "--until-complete", NULL };

/* What a run at fail_at did: aborted, or completed (then the torture of
 * this step is over). Anything else is a failure. */
static bool torture_step(const char *step, unsigned long n, struct run r, bool *done)
{
	*done = false;
	if (r.aborted)
		return true;
	if (r.completed && r.code == 0 && r.allocs < n) {
		*done = true;
		printf("ok: %s: aborted at each of its %lu allocations, converged each time\n",
		       step, r.allocs);
		return true;
	}
	{
		char path[192], *text;

		snprintf(path, sizeof(path), "%s/err", tmp);
		text = read_text(path);
		fail("%s: the run failing at allocation %lu ended with status %d "
		     "(exit %d), not the hook's abort: %s", step, n, r.status, r.code, text);
		free(text);
	}
	return false;
}

/* 1. `send` aborts at its n-th allocation. Then what a user or a script
 *    does: a sync (delivers what was accepted), the same send again with
 *    the same idempotency key (sends what was not, else nothing), a sync
 *    (brings the server's copy). */
static void torture_send(bool rich, const char *attach, const char *reply_to)
{
	const char *tag = rich ? "rich-send" : "send";
	bool done = false;

	for (unsigned long n = 1; !done && failures == 0; n++) {
		struct round r = { NULL, NULL };
		struct send_cmd s;

		send_cmd_init(&s, tag, n, rich, attach, reply_to);
		if (!torture_step(tag, n, cli_run(n, NULL, NULL, s.args), &done))
			return;
		if (!cli_ok("sync after the abort", NULL, SYNC) ||
		    !cli_ok("the same send again", NULL, s.args) ||
		    !cli_ok("sync after sending again", NULL, SYNC))
			return;
		check_sent_once(tag, s.key, &r);
		clean_up(s.key, &r);
	}
}

/* 2. The message is accepted (the send is killed right after), then the
 *    sync that delivers it and replaces the local Sent entry aborts at its
 *    n-th allocation; the next sync finishes the job. With `delivered`,
 *    the send went out before the sync (only the Sent copy is left to
 *    it). */
static void torture_sync(bool delivered)
{
	const char *tag = delivered ? "sync-after-send" : "sync-drains-outbox";
	bool done = false;

	for (unsigned long n = 1; !done && failures == 0; n++) {
		struct round rd = { NULL, NULL };
		struct send_cmd s;
		struct run r;

		send_cmd_init(&s, tag, n, false, NULL, NULL);
		if (delivered) {
			if (!cli_ok("send", NULL, s.args))
				return;
		} else {
			r = cli_run(0, "outbox:after_accept", NULL, s.args);
			if (!WIFSIGNALED(r.status) || WTERMSIG(r.status) != SIGKILL) {
				fail("%s: the send was not killed after accept (status %d)",
				     tag, r.status);
				return;
			}
		}
		if (!torture_step(tag, n, cli_run(n, NULL, NULL, SYNC), &done) ||
		    !cli_ok("sync after the abort", NULL, SYNC))
			return;
		check_sent_once(tag, s.key, &rd);
		clean_up(s.key, &rd);
	}
}

/* The server id of a message Bob sent Adele, synced into her Inbox: what
 * the rich send replies to. */
static char *message_to_reply_to(void)
{
	const char *question = "{\"folder\":\"Inbox\",\"from\":\"" BOB "\","
			       "\"subject\":\"numbers?\",\"body\":\"Where are they?\"}";
	struct sim_http h;
	json_t *local, *it;
	char *id = NULL;
	size_t i;

	if (sim_admin(&sim, "POST", "/_sim/mailboxes/" ADELE "/messages", question, &h) < 0 ||
	    h.status >= 300)
		fail("delivering Bob's question: status %ld: %s", h.status, h.body);
	sim_http_free(&h);
	extra_adele = 1;
	if (!cli_ok("sync for the question", NULL, SYNC) ||
	    !(local = cli_json("messages list", (const char *[]){ "--json", "messages", "list",
			       "work", "--folder", "Inbox", NULL })))
		return NULL;
	json_array_foreach(local, i, it)
		if (str_is(it, "subject", "numbers?"))
			id = xstrdup(json_string_value(json_object_get(it, "id")));
	json_decref(local);
	if (!id)
		fail("Bob's question did not sync");
	return id;
}

int main(int argc, char **argv)
{
	bool slow = argc > 1 && strcmp(argv[1], "--slow") == 0;
	char cmd[256];

	signal(SIGPIPE, SIG_IGN);
	if (setup(slow) < 0) {
		fail("setting up the account against m365sim");
	} else {
		torture_send(false, NULL, NULL);
		torture_sync(false);
		if (slow) {
			char attach[192], *reply_to;
			FILE *f;

			snprintf(attach, sizeof(attach), "%s/numbers.csv", tmp);
			f = fopen(attach, "w");
			fputs("quarter,revenue\nQ1,100\nQ2,120\n", f);
			fclose(f);
			torture_sync(true);
			if ((reply_to = message_to_reply_to()))
				torture_send(true, attach, reply_to);
			free(reply_to);
		}
	}
	if (sim.pid > 0 && sim_stop(&sim) != 0)
		fail("m365sim did not stop cleanly");
	json_decref(sim.info);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (tmp[0] && system(cmd) != 0)
		fail("removing %s", tmp);
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	puts("all passed");
	return 0;
}
