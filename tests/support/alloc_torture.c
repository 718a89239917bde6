/*
 * alloc_torture.c — forked runs of the command line with the allocation
 * hook, the send and sync loops that abort at every allocation in turn,
 * and the local half of the convergence check (see alloc_torture.h). The
 * server's half is the test's.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <curl/curl.h>
#include "cli/cli.h"
#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"
#include "alloc_torture.h"

int torture_failures;
static char tmp[128];
static unsigned run_timeout_s;   /* 0: runs may take as long as they take */

void torture_run_timeout(unsigned seconds)
{
	run_timeout_s = seconds;
}

void torture_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	torture_failures++;
}

const char *torture_dir_make(void)
{
	char data[192];

	snprintf(tmp, sizeof(tmp), "%s/inboxsync-torture.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(tmp)) {
		tmp[0] = '\0';
		return NULL;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	setenv("INBOXSYNC_HOME", data, 1);
	setenv("INBOXSYNC_CONFIG", "", 1);
	unsetenv("INBOXSYNC_DATABASE");
	return tmp;
}

int torture_finish(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (tmp[0] && system(cmd) != 0)
		torture_fail("removing %s", tmp);
	tmp[0] = '\0';
	if (torture_failures) {
		fprintf(stderr, "%d failure(s)\n", torture_failures);
		return 1;
	}
	puts("all passed");
	return 0;
}

/* ---- running the command line in a child --------------------------------------- */

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

/* Report what the last child wrote to stderr after `fmt`. */
static void fail_with_stderr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail_with_stderr(const char *fmt, ...)
{
	char path[192], *text, *what;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	snprintf(path, sizeof(path), "%s/err", tmp);
	text = read_text(path);
	torture_fail("%s: %s", what ? what : fmt, text);
	free(text);
	free(what);
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

struct torture_run torture_cli_run(unsigned long fail_at, const char *crash_at,
				   const char *out_path, const char *const *args)
{
	struct torture_run r = { 0 };
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
		alarm(run_timeout_s);
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

bool torture_cli_ok(const char *what, const char *out_path, const char *const *args)
{
	struct torture_run r = torture_cli_run(0, NULL, out_path, args);

	if (r.completed && r.code == 0)
		return true;
	fail_with_stderr("%s: status %d (exit %d)%s", what, r.status, r.code,
			 WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGALRM
			 ? ", ended: still running after its time" : "");
	return false;
}

json_t *torture_cli_json(const char *what, const char *const *args)
{
	char out[192];
	json_error_t je;
	json_t *doc;

	snprintf(out, sizeof(out), "%s/out.json", tmp);
	if (!torture_cli_ok(what, out, args))
		return NULL;
	if (!(doc = json_load_file(out, 0, &je)))
		torture_fail("%s: not JSON: %s", what, je.text);
	return doc;
}

/* ---- authorizing the account ---------------------------------------------------- */

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

int torture_authorize(struct sim_harness *sim, const char *account, const char *email)
{
	const char *argv[] = { "inboxsync", "account", "authorize", account, "--print-url",
			       "--timeout", "30", NULL };
	char url[4096], *approve = xasprintf("{\"email\":\"%s\"}", email);
	struct sim_http h;
	int fd[2], status, rc;
	FILE *in;
	pid_t pid;

	rc = sim_admin(sim, "POST", "/_sim/auto-approve", approve, &h);
	free(approve);
	if (rc < 0)
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
		torture_fail("authorize printed no URL");
		return -1;
	}
	url[strcspn(url, "\r\n")] = '\0';
	if (browse(url) < 0)
		torture_fail("following the authorization URL failed");
	while (fgets(url, sizeof(url), in))
		;
	fclose(in);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* `head` then `tail` (NULL-terminated) into `argv` of `cap` entries. */
static const char *const *args_join(const char **argv, size_t cap, const char *const *head,
				    const char *const *tail)
{
	size_t n = 0;

	for (size_t i = 0; head[i] && n + 1 < cap; i++)
		argv[n++] = head[i];
	for (size_t i = 0; tail[i] && n + 1 < cap; i++)
		argv[n++] = tail[i];
	argv[n] = NULL;
	return argv;
}

int torture_account(struct sim_harness *sim, const char *account, const char *email,
		    const char *const *provider_args, const char *const *account_args)
{
	char secret_path[192], graph[128];
	const char *argv[32];
	FILE *f;

	snprintf(secret_path, sizeof(secret_path), "%s/secret", tmp);
	if (!(f = fopen(secret_path, "w"))) {
		torture_fail("writing %s", secret_path);
		return -1;
	}
	fprintf(f, "%s\n", sim->client_secret);
	fclose(f);
	snprintf(graph, sizeof(graph), "%s/v1.0", sim->url);
	if (!torture_cli_ok("provider set", NULL, args_join(argv, 32, (const char *[]){
			"provider", "set", "microsoft", "--client-id", sim->client_id,
			"--client-secret-file", secret_path, "--login-url", sim->url,
			"--graph-url", graph, NULL }, provider_args)) ||
	    !torture_cli_ok("account add", NULL, args_join(argv, 32, (const char *[]){
			"account", "add", account, "--email", email, NULL }, account_args)) ||
	    torture_authorize(sim, account, email) < 0 ||
	    !torture_cli_ok("folders fetch", NULL, (const char *[]){ "folders", "fetch",
			    account, NULL }))
		return -1;
	return 0;
}

/* ---- JSON and sets --------------------------------------------------------------- */

bool torture_str_is(json_t *o, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && want && strcmp(v, want) == 0;
}

size_t torture_count_where(json_t *arr, const char *key, const char *value, json_t **first)
{
	size_t i, n = 0;
	json_t *it;

	if (first)
		*first = NULL;
	json_array_foreach(arr, i, it) {
		if (!torture_str_is(it, key, value))
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

static bool is_one_of(const char *s, const char *const *list)
{
	for (size_t i = 0; s && list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

char *torture_id_set(json_t *arr, const char *id_key, const char *folder_key,
		     const char *const *folders)
{
	size_t n = json_array_size(arr), i, k = 0;
	char **lines = xcalloc(n ? n : 1, sizeof(*lines));
	struct err e = { 0 };
	struct buf out;
	json_t *it;

	json_array_foreach(arr, i, it) {
		const char *folder = json_string_value(json_object_get(it, folder_key));

		if (is_one_of(folder, folders))
			lines[k++] = xasprintf("%s\t%s\n",
					       json_string_value(json_object_get(it, id_key)),
					       folder);
	}
	qsort(lines, k, sizeof(*lines), cmp_str);
	buf_init(&out, (size_t)64 << 20);
	for (i = 0; i < k; i++) {
		if (buf_puts(&out, lines[i], &e) < 0)
			torture_fail("id_set: %s", e.msg);
		free(lines[i]);
	}
	free(lines);
	buf_puts(&out, "", &e);
	return buf_detach(&out, NULL);
}

/* ---- the convergence check -------------------------------------------------------- */

/* The outbox holds one entry under `key` and every entry is confirmed:
 * its Message-ID (heap), or NULL (reported). */
static char *outbox_confirmed(const struct torture_scenario *sc, const char *step,
			      const char *key)
{
	json_t *outbox = torture_cli_json("outbox list", (const char *[]){ "--json", "outbox",
					  "list", sc->account, NULL });
	json_t *entry, *it;
	const char *imid;
	char *out = NULL;
	size_t n, i;

	if (!outbox)
		return NULL;
	if ((n = torture_count_where(outbox, "idempotency_key", key, &entry)) != 1) {
		torture_fail("%s: %zu outbox entries with key %s", step, n, key);
		goto out;
	}
	json_array_foreach(outbox, i, it)
		if (!torture_str_is(it, "state", "confirmed"))
			torture_fail("%s: outbox entry %s is %s (%s)", step,
				     json_string_value(json_object_get(it, "idempotency_key")),
				     json_string_value(json_object_get(it, "state")),
				     json_string_value(json_object_get(it, "last_error")));
	imid = json_string_value(json_object_get(entry, "internet_message_id"));
	if (!imid || !*imid)
		torture_fail("%s: the outbox entry has no Message-ID", step);
	else
		out = xstrdup(imid);
out:
	json_decref(outbox);
	return out;
}

/* The store: one entry with `imid`, the server's `server_id` in Sent and
 * not pending, no pending entry, the synced folders as `server_set`. */
static void check_local(const struct torture_scenario *sc, const char *step,
			const char *imid, const char *server_id, const char *server_set)
{
	json_t *local = torture_cli_json("messages list", (const char *[]){ "--json", "messages",
					 "list", sc->account, "--limit", "100000", NULL });
	json_t *mine, *it;
	char *local_set;
	size_t n, i;

	if (!local)
		return;
	n = torture_count_where(local, "internet_message_id", imid, &mine);
	if (n != 1 || !torture_str_is(mine, "id", server_id) ||
	    !torture_str_is(mine, "folder", sc->sent_folder) ||
	    json_is_true(json_object_get(mine, "pending")))
		torture_fail("%s: %s: %zu local entries (want one with the server's id %s "
			     "in %s, not pending)", step, imid, n, server_id, sc->sent_folder);
	json_array_foreach(local, i, it)
		if (json_is_true(json_object_get(it, "pending")))
			torture_fail("%s: a pending local entry is left: %s", step,
				     json_string_value(json_object_get(it, "id")));
	/* nothing half-applied: the synced folders hold exactly the server's */
	local_set = torture_id_set(local, "id", "folder", sc->folders);
	if (strcmp(server_set, local_set) != 0)
		torture_fail("%s: the store differs from the server:\nserver:\n%slocal:\n%s",
			     step, server_set, local_set);
	free(local_set);
	json_decref(local);
}

/* After the runs that follow an abort: the message under `key` went out
 * exactly once and every record of it agrees. Then the round is undone. */
static void check_and_clean(const struct torture_scenario *sc, const char *step,
			    const char *key)
{
	char *imid = outbox_confirmed(sc, step, key), *server_set = NULL, *server_id = NULL;

	if (imid && (server_id = sc->check_server(sc->ctx, step, imid, &server_set)))
		check_local(sc, step, imid, server_id, server_set);
	free(imid);
	free(server_id);
	free(server_set);
	if (torture_cli_ok("outbox remove", NULL, (const char *[]){ "outbox", "remove",
			   sc->account, key, NULL }))
		sc->clean_up(sc->ctx);
}

/* ---- the loops ------------------------------------------------------------------ */

/* A send command of the scenario: argv for `send` with key `key`. */
struct send_cmd {
	const char *args[24];
	char key[64], subject[96];
};

static void send_cmd_init(struct send_cmd *s, const struct torture_scenario *sc,
			  const char *tag, unsigned long n, bool rich, const char *attach,
			  const char *reply_to)
{
	size_t k = 0;

	snprintf(s->key, sizeof(s->key), "%s-%lu", tag, n);
	snprintf(s->subject, sizeof(s->subject), "%s %lu", tag, n);
	s->args[k++] = "send";
	s->args[k++] = sc->account;
	s->args[k++] = "--to";
	s->args[k++] = sc->to;
	s->args[k++] = "--subject";
	s->args[k++] = s->subject;
	s->args[k++] = "--body";
	s->args[k++] = "The numbers, as promised.";
	s->args[k++] = "--idempotency-key";
	s->args[k++] = s->key;
	if (rich) {
		s->args[k++] = "--cc";
		s->args[k++] = sc->cc;
		s->args[k++] = "--attach";
		s->args[k++] = attach;
		if (reply_to) {
			s->args[k++] = "--reply-to-id";
			s->args[k++] = reply_to;
		}
	}
	s->args[k] = NULL;
}

/* What a run at fail_at did: aborted, or completed (then the torture of
 * this step is over). Anything else is a failure. */
static bool torture_step(const char *step, unsigned long n, struct torture_run r, bool *done)
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
	fail_with_stderr("%s: the run failing at allocation %lu ended with status %d "
			 "(exit %d), not the hook's abort", step, n, r.status, r.code);
	return false;
}

void torture_send(const struct torture_scenario *sc, bool rich, const char *attach,
		  const char *reply_to)
{
	const char *tag = rich ? "rich-send" : "send";
	const char *const sync[] = { "sync", sc->account, "--until-complete", NULL };
	bool done = false;

	for (unsigned long n = 1; !done && torture_failures == 0; n++) {
		struct send_cmd s;

		send_cmd_init(&s, sc, tag, n, rich, attach, reply_to);
		if (!torture_step(tag, n, torture_cli_run(n, NULL, NULL, s.args), &done))
			return;
		if (!torture_cli_ok("sync after the abort", NULL, sync) ||
		    !torture_cli_ok("the same send again", NULL, s.args) ||
		    !torture_cli_ok("sync after sending again", NULL, sync))
			return;
		check_and_clean(sc, tag, s.key);
	}
}

void torture_sync(const struct torture_scenario *sc, bool delivered)
{
	const char *tag = delivered ? "sync-after-send" : "sync-drains-outbox";
	const char *const sync[] = { "sync", sc->account, "--until-complete", NULL };
	bool done = false;

	for (unsigned long n = 1; !done && torture_failures == 0; n++) {
		struct send_cmd s;
		struct torture_run r;

		send_cmd_init(&s, sc, tag, n, false, NULL, NULL);
		if (delivered) {
			if (!torture_cli_ok("send", NULL, s.args))
				return;
		} else {
			r = torture_cli_run(0, "outbox:after_accept", NULL, s.args);
			if (!WIFSIGNALED(r.status) || WTERMSIG(r.status) != SIGKILL) {
				torture_fail("%s: the send was not killed after accept (status %d)",
					     tag, r.status);
				return;
			}
		}
		if (!torture_step(tag, n, torture_cli_run(n, NULL, NULL, sync), &done) ||
		    !torture_cli_ok("sync after the abort", NULL, sync))
			return;
		check_and_clean(sc, tag, s.key);
	}
}

/* The local id of the question (heap), delivered and synced; NULL
 * (reported) when it is not there. */
static char *question_id(const struct torture_scenario *sc)
{
	const char *const sync[] = { "sync", sc->account, "--until-complete", NULL };
	json_t *local, *it;
	char *id = NULL;
	size_t i;

	if (sc->deliver_question(sc->ctx) < 0 || !torture_cli_ok("sync for the question", NULL, sync) ||
	    !(local = torture_cli_json("messages list", (const char *[]){ "--json", "messages",
				       "list", sc->account, "--folder", sc->inbox_folder, NULL })))
		return NULL;
	json_array_foreach(local, i, it)
		if (torture_str_is(it, "subject", "numbers?"))
			id = xstrdup(json_string_value(json_object_get(it, "id")));
	json_decref(local);
	if (!id)
		torture_fail("Bob's question did not sync");
	return id;
}

void torture_run(const struct torture_scenario *sc, bool slow)
{
	char attach[192], *reply_to;
	FILE *f;

	torture_send(sc, false, NULL, NULL);
	torture_sync(sc, false);
	if (!slow)
		return;
	snprintf(attach, sizeof(attach), "%s/numbers.csv", tmp);
	if (!(f = fopen(attach, "w"))) {
		torture_fail("writing %s", attach);
		return;
	}
	fputs("quarter,revenue\nQ1,100\nQ2,120\n", f);
	fclose(f);
	torture_sync(sc, true);
	if ((reply_to = question_id(sc)))
		torture_send(sc, true, attach, reply_to);
	free(reply_to);
}
