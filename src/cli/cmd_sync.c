/*
 * cmd_sync.c — `sync`: runs the scheduler over one account or all of them,
 * one pass (--once, the default) or until every selected folder is live
 * (--until-complete), with progress bars on a terminal.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_progress.h"
#include "inboxsync/alloc.h"
#include "inboxsync/provider.h"
#include "inboxsync/sched.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct sync_ui {
	struct cli_progress *progress;
	struct store_account *accounts;
	size_t n;
};

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

/* Which accounts to sync; prints why one is skipped. Returns an exit code
 * or -1 to go on. */
static int choose_accounts(struct cli *cli, const char *name, struct sync_ui *ui,
			   int64_t **ids, size_t *n)
{
	struct store_account *all;
	size_t count;
	struct err e = { 0 };

	*ids = NULL;
	*n = 0;
	if (store_list_accounts(cli->store, &all, &count, &e) < 0)
		return cli_fail(cli, &e);
	ui->accounts = all;
	ui->n = count;
	*ids = xcalloc(count ? count : 1, sizeof(**ids));
	for (size_t i = 0; i < count; i++) {
		const struct store_account *a = &all[i];
		long long selected = 0;

		if (name && strcmp(a->name, name) != 0)
			continue;
		if (!strcmp(a->state, STORE_STATE_AUTH_INVALID) || !a->authorized_at) {
			if (name) {
				err_set(&e, ERR_AUTH, !a->authorized_at ? "auth_required"
					: "auth_invalid", "'%s' is %s%s%.300s; background "
					"sync is suspended until you run 'inboxsync account "
					"authorize %s'", a->name, !a->authorized_at
					? "not authorized" : "auth_invalid",
					a->authorized_at ? ": " : "",
					a->authorized_at ? a->state_reason : "", a->name);
				return cli_fail(cli, &e);
			}
			if (!cli->json)
				fprintf(stderr, "Skipping '%s': %s\n", a->name,
					a->authorized_at ? "auth_invalid (authorize it again)"
							 : "not authorized yet");
			continue;
		}
		store_count_selected_folders(cli->store, a->id, &selected, &e);
		if (selected == 0) {
			if (!cli->json)
				printf("No folders selected for '%s': run 'inboxsync folders "
				       "fetch %s', then 'inboxsync folders select %s Inbox'.\n",
				       a->name, a->name, a->name);
			continue;
		}
		(*ids)[(*n)++] = a->id;
	}
	if (name && count && *n == 0) {
		size_t i = 0;

		while (i < count && strcmp(all[i].name, name) != 0)
			i++;
		if (i == count) {
			err_set(&e, ERR_PERMANENT, "not_found", "no account named '%s' "
				"(see 'inboxsync account list')", name);
			return cli_fail(cli, &e);
		}
	}
	return -1;
}

static void print_outcomes(struct cli *cli, const struct sync_ui *ui,
			   const struct sched_outcome *out, size_t n)
{
	json_t *arr = cli->json ? json_array() : NULL;

	for (size_t i = 0; i < n; i++) {
		const struct sched_outcome *o = &out[i];
		const struct engine_result *t = &o->total;

		if (arr) {
			json_t *item = json_pack("{s:s,s:b,s:i,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:i}",
						 "account", account_name(ui, o->account_id),
						 "complete", o->complete, "passes", o->passes,
						 "pages", (json_int_t)t->pages,
						 "created", (json_int_t)t->created,
						 "updated", (json_int_t)t->updated,
						 "moved", (json_int_t)t->moved,
						 "deleted", (json_int_t)t->deleted,
						 "resyncs", t->resyncs,
						 "folders_selected", t->folders_selected,
						 "folders_live", t->folders_live);
			if (o->rc < 0)
				json_object_set_new(item, "error",
						    json_pack("{s:s,s:s,s:s}", "class",
							      err_class_name(o->err.class), "code",
							      o->err.code, "message", o->err.msg));
			json_array_append_new(arr, item);
			continue;
		}
		printf("%s: %s — %d of %d folders up to date; %lld new, %lld updated, "
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
		cli_print_json(json_pack("{s:o}", "accounts", arr));
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
	struct sync_ui ui = { 0 };
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
	if (!cli_store(cli))
		return EXIT_FAILED;
	if (provider_require(cli->store, NULL, NULL, &e) < 0)
		return cli_fail(cli, &e);
	if ((rc = choose_accounts(cli, optind < argc ? argv[optind] : NULL, &ui, &ids, &n)) >= 0) {
		free(ids);
		free(ui.accounts);
		return rc;
	}
	if (n == 0) {
		if (cli->json)
			cli_print_json(json_pack("{s:[]}", "accounts"));
		free(ids);
		free(ui.accounts);
		return EXIT_OK;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	store_path = cli_store_path(cli);
	cfg.store_path = store_path;
	cfg.data_dir = cli->data_dir;
	cfg.stop = &stop_requested;
	cfg.engine.stop = &stop_requested;
	cfg.engine.budget_ms = 10000; /* share workers between accounts */
	cfg.after_pass = after_pass;
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
		for (size_t i = 0; i < n && code == EXIT_OK; i++) {
			if (out[i].rc < 0)
				code = cli_fail_stderr(cli, &out[i].err);
			else if (out[i].total.outbox_failed > 0) {
				fprintf(stderr, "inboxsync: %s: %d message%s could not be sent; "
					"see 'inboxsync outbox list %s'\n",
					account_name(&ui, out[i].account_id),
					out[i].total.outbox_failed,
					out[i].total.outbox_failed == 1 ? "" : "s",
					account_name(&ui, out[i].account_id));
				code = EXIT_FAILED;
			} else if (until && !out[i].complete && stop_requested) {
				fprintf(stderr, "inboxsync: interrupted; progress so far is "
					"saved and the next sync continues from there\n");
				code = EXIT_FAILED;
			}
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
	"made; with it, sync returns when every selected folder is live. Throttled\n"
	"mailboxes wait as Microsoft asks; temporary failures are retried with\n"
	"backoff. Progress bars appear on a terminal. Ctrl-C stops after the\n"
	"current page; nothing is lost.\n\n"
	"  --workers N    accounts synchronized in parallel (default 4)\n"
	"  --prefetch N   also download the bodies of the newest N messages per folder\n"
	"  --rescan-folders  re-read the folder tree now (it is re-read every 15\n"
	"                 minutes anyway): renamed, new and deleted folders",
};
