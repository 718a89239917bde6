/*
 * cmd_sync.c — `sync`: runs the scheduler over one account or all of them,
 * one pass (--once, the default) or until every selected folder is live
 * (--until-complete), with progress bars on a terminal. Which accounts may
 * sync, and why not, is the service's; the exit code is the most severe
 * outcome of any account asked for (docs/cli.md).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "cli/cli_progress.h"
#include "inboxsync/alloc.h"
#include "inboxsync/sched.h"

#define SYNC_SHARED_BUDGET_MS 10000     /* a pass while others wait */
#define SYNC_OWN_WORKER_BUDGET_MS 120000 /* a pass nobody waits for */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct sync_ui {
	struct cli *cli;
	struct cli_progress *progress;
	struct store_account *accounts;
	size_t n;
	int worst;                 /* exit code of the skipped accounts */
};

/* Exit codes by severity: a failure that needs a person beats one that
 * passes by itself. */
static int more_severe(int a, int b)
{
	static const int order[] = { EXIT_OK, EXIT_TRY_LATER, EXIT_FAILED, EXIT_AUTH,
				     EXIT_NOT_CONFIGURED, EXIT_USAGE, EXIT_INTERRUPTED };
	int ra = 0, rb = 0;

	for (int i = 0; i < (int)(sizeof(order) / sizeof(order[0])); i++) {
		if (order[i] == a)
			ra = i;
		if (order[i] == b)
			rb = i;
	}
	return ra >= rb ? a : b;
}

static const char *account_name(const struct sync_ui *ui, int64_t id)
{
	for (size_t i = 0; i < ui->n; i++)
		if (ui->accounts[i].id == id)
			return ui->accounts[i].name;
	return "?";
}

static void after_pass(void *ctx, int64_t id, int rc, const struct engine_result *r,
		       const struct err *e)
{
	struct sync_ui *ui = ctx;

	(void)r;
	if (!ui->progress || rc == 0)
		return;
	if (e->class == ERR_THROTTLED)
		cli_progress_note(ui->progress, "%s: Microsoft is throttling this mailbox; "
				  "waiting %d s as asked (Retry-After)", account_name(ui, id),
				  e->retry_after_s);
	else if (e->class == ERR_TRANSIENT)
		cli_progress_note(ui->progress, "%s: temporary failure, will retry: %s",
				  account_name(ui, id), e->msg);
}

/* An account that is left out: say why (and what to do); a reason that
 * needs a person counts toward the exit code. */
static void on_skipped(void *ctx, const struct service_skip *sk)
{
	struct sync_ui *ui = ctx;
	char fix[1024];

	str_copy(ui->cli->account, sizeof(ui->cli->account), sk->account->name);
	cli_fix_text(ui->cli, &sk->why, fix, sizeof(fix));
	if (err_is(&sk->why, "no_folders")) {
		if (!ui->cli->json)
			cli_out(stdout, "No folders selected for '%s': %s.\n", sk->account->name, fix);
	} else {
		cli_out(stderr, "Skipping '%s': %s%s%s\n", sk->account->name, sk->why.msg,
			fix[0] ? "; " : "", fix);
	}
	if (!err_is(&sk->why, "no_folders"))
		ui->worst = more_severe(ui->worst, cli_exit_code(&sk->why));
}

static void on_busy(void *ctx, int64_t id, const char *holder)
{
	struct sync_ui *ui = ctx;

	cli_out(stderr, "Waiting: another inboxsync process (%s) is synchronizing "
		"'%s'; this one continues when it is done.\n", holder ? holder : "?",
		account_name(ui, id));
}

static void print_outcomes(struct cli *cli, const struct sync_ui *ui,
			   const struct sched_outcome *out, size_t n)
{
	json_t *arr = cli->json ? jdoc_array() : NULL;

	for (size_t i = 0; i < n; i++) {
		const struct sched_outcome *o = &out[i];
		const struct engine_result *t = &o->total;

		if (arr) {
			json_t *item = jdoc_pack("{s:s,s:b,s:i,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:i}",
						 "account", account_name(ui, o->account_id),
						 "complete", o->complete, "passes", o->passes,
						 "pages", (long long)t->pages,
						 "created", (long long)t->created,
						 "updated", (long long)t->updated,
						 "moved", (long long)t->moved,
						 "deleted", (long long)t->deleted,
						 "resyncs", t->resyncs,
						 "folders_selected", t->folders_selected,
						 "folders_live", t->folders_live);
			if (o->rc < 0)
				jdoc_set(item, "error", service_error_json(&o->err));
			jdoc_push(arr, item);
			continue;
		}
		cli_out(stdout, "%s: %s — %d of %d folders up to date; %lld new, %lld updated, "
		       "%lld moved, %lld deleted (%lld pages)%s%s\n",
		       account_name(ui, o->account_id),
		       o->rc < 0 ? "stopped by an error" : o->complete ? "up to date"
							    : "in progress",
		       t->folders_live, t->folders_selected, t->created, t->updated,
		       t->moved, t->deleted, t->pages,
		       t->resyncs ? "; expired sync state re-synchronized" : "",
		       t->sent ? "; sent messages delivered" : "");
	}
	if (arr)
		cli_print_json(jdoc_pack("{s:o}", "accounts", arr));
}

static int cmd_sync(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "until-complete", no_argument, NULL, 'u' },
		{ "workers", required_argument, NULL, 'w' },
		{ "prefetch", required_argument, NULL, 'p' },
		{ "rescan-folders", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sched_config cfg = { 0 };
	struct service_actor op = SERVICE_OPERATOR;
	struct sync_ui ui = { .cli = cli };
	struct sched_outcome *out = NULL;
	struct err e = { 0 };
	int64_t *ids = NULL;
	size_t n = 0;
	char *store_path;
	int opt, rc, code = EXIT_OK;
	bool once = false, until = false;
	char *end;

	cfg.mode = SCHED_ONCE;
	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		switch (opt) {
		case 'o': once = true; break;
		case 'u': until = true; break;
		case 'j': cli->json = true; break;
		case 'R': cfg.engine.rescan_folders = true; break;
		case 'w':
			cfg.workers = (int)strtol(optarg, &end, 10);
			if (*end || cfg.workers < 1 || cfg.workers > 64)
				return cli_usage(cli, "bad --workers '%s' (1-64)", optarg);
			break;
		case 'p':
			cfg.engine.prefetch_bodies = (size_t)strtoul(optarg, &end, 10);
			if (*end || cfg.engine.prefetch_bodies > 1000)
				return cli_usage(cli, "bad --prefetch '%s' (0-1000)", optarg);
			break;
		}
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (once && until)
		return cli_usage(cli, "--once and --until-complete do not go together");
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (until)
		cfg.mode = SCHED_UNTIL_COMPLETE;
	if (!cli_env(cli))
		return EXIT_FAILED;
	if (optind < argc)
		str_copy(cli->account, sizeof(cli->account), argv[optind]);
	if (service_sync_targets(cli_env(cli), &op, optind < argc ? argv[optind] : NULL,
				 until ? SERVICE_SYNC_WAIT_THROTTLED : 0, &ui.accounts, &ui.n, &ids, &n, on_skipped, &ui, &e) < 0) {
		free(ids);
		free(ui.accounts);
		return cli_fail(cli, &e);
	}
	if (n == 0) {
		if (cli->json)
			cli_print_json(jdoc_pack("{s:[]}", "accounts"));
		else if (ui.n == 0)
			cli_out(stdout, "No accounts yet. Add one with 'inboxsync account add NAME "
			       "--email ADDRESS'.\n");
		free(ids);
		free(ui.accounts);
		return ui.worst;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	store_path = cli_store_path(cli);
	cfg.store_path = store_path;
	cfg.data_dir = cli->data_dir;
	cfg.key_file = cli->key_file;
	cfg.stop = &stop_requested;
	cfg.engine.stop = &stop_requested;
	/* A pass's budget shares the workers between accounts. When every
	 * account has a worker of its own and the sync runs to the end, a
	 * pass that ends only drops the pages fetched ahead and starts its
	 * chains again (about two round trips each time): then a pass runs
	 * longer. */
	cfg.engine.budget_ms = until && n <= (size_t)(cfg.workers > 0 ? cfg.workers : SCHED_DEFAULT_WORKERS)
			       ? SYNC_OWN_WORKER_BUDGET_MS : SYNC_SHARED_BUDGET_MS;
	cfg.after_pass = after_pass;
	cfg.on_busy = on_busy;
	cfg.after_pass_ctx = &ui;
	if (!cli->json && cli_progress_enabled(cli)) {
		ui.progress = cli_progress_new();
		cfg.engine.progress = cli_progress_update;
		cfg.engine.progress_ctx = ui.progress;
	}
	out = xcalloc(n, sizeof(*out));
	rc = sched_run(&cfg, ids, n, out, &e);
	cli_progress_free(ui.progress);
	if (rc < 0) {
		code = cli_fail(cli, &e);
	} else {
		print_outcomes(cli, &ui, out, n);
		code = ui.worst;
		for (size_t i = 0; i < n; i++) {
			str_copy(cli->account, sizeof(cli->account),
				 account_name(&ui, out[i].account_id));
			if (out[i].rc < 0 && stop_requested && out[i].err.class == ERR_NONE)
				code = more_severe(code, EXIT_INTERRUPTED);
			else if (out[i].rc < 0)
				code = more_severe(code, cli_fail_stderr(cli, &out[i].err));
			else if (out[i].total.outbox_failed > 0) {
				cli_out(stderr, "inboxsync: %s: %d message%s could not be sent; "
					"see 'inboxsync outbox list %s'\n",
					account_name(&ui, out[i].account_id),
					out[i].total.outbox_failed,
					out[i].total.outbox_failed == 1 ? "" : "s",
					account_name(&ui, out[i].account_id));
				code = more_severe(code, EXIT_FAILED);
			}
		}
		if (stop_requested) {
			cli_out(stderr, "inboxsync: interrupted; progress so far is saved "
				"and the next sync continues from there\n");
			code = EXIT_INTERRUPTED;
		}
	}
	free(out);
	free(ids);
	free(ui.accounts);
	free(store_path);
	return code;
}

const struct cli_command cli_sync = {
	NULL, "sync", cmd_sync, "[NAME] [--once | --until-complete] [--workers N] "
	"[--prefetch N] [--rescan-folders] [--json]",
	"Synchronize the selected folders of one account (or all accounts).\n\n"
	"Per folder: the newest messages first, then older mail backfilled in\n"
	"pages, then incremental updates. Without --until-complete one pass is\n"
	"made; with it, sync returns when every selected folder is live and the\n"
	"outbox is drained, waiting as Microsoft asks when throttled and retrying\n"
	"temporary failures with backoff. A single pass stops at either (exit 5).\n"
	"Microsoft's Retry-After is kept on the mailbox: until then no process\n"
	"makes a request for it, and 'sync' says when it may run again. One\n"
	"process syncs a mailbox at a time: another one waits and says who holds\n"
	"it. With no folder selected, sync says so and exits 0. Without NAME\n"
	"every account is synced and the exit code is the most severe among\n"
	"them (docs/cli.md). Progress bars appear on a terminal. Ctrl-C stops\n"
	"after the current page (exit 130); nothing is lost.\n\n"
	"  --workers N    accounts synchronized in parallel (default 4)\n"
	"  --prefetch N   also download the bodies of the newest N messages per folder\n"
	"  --rescan-folders  re-read the folder tree now (it is re-read every 15\n"
	"                 minutes anyway): renamed, new and deleted folders",
};
