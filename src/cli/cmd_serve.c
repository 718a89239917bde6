/*
 * cmd_serve.c — `serve`: parses the options (INTERFACE.md "Server" and
 * "Many nodes"), prints `listening on URL` as the first line of stdout
 * once the port is bound, and runs the server until SIGTERM or SIGINT,
 * then exits 0. The settings file (config.h) gives the defaults of every
 * option. Under systemd (Type=notify) it says READY once the port answers,
 * STOPPING when a shutdown begins, and keeps the watchdog fed (notify.h).
 * Everything else is src/server's.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "inboxsync/config.h"
#include "inboxsync/log.h"
#include "inboxsync/notify.h"
#include "inboxsync/server.h"
#include "inboxsync/timeutil.h"

static volatile sig_atomic_t stop_serving;

/* The service manager's side: WATCHDOG=1 every notify_watchdog_usec()
 * while serving, STOPPING=1 once a signal asked for the stop (the signal
 * handler itself only sets the flag). */
struct manager {
	pthread_t thread;
	bool started;
	volatile sig_atomic_t done;    /* server_run returned */
};

static void *manager_main(void *arg)
{
	struct manager *m = arg;
	uint64_t every_ms = notify_watchdog_usec() / 1000;
	int64_t next = time_mono_ms() + (int64_t)every_ms;
	struct err e = { 0 };

	while (!stop_serving && !m->done) {
		struct timespec nap = { 0, 200 * 1000 * 1000 };

		nanosleep(&nap, NULL);
		if (every_ms && time_mono_ms() >= next) {
			if (notify_watchdog(&e) < 0)
				log_warn("serve", "%s", e.msg);
			next = time_mono_ms() + (int64_t)every_ms;
		}
	}
	if (stop_serving && notify_stopping("stopping: finishing what is in flight", &e) < 0)
		log_warn("serve", "%s", e.msg);
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_serving = 1;
}

static void on_listening(void *ctx, const char *url)
{
	struct cli *cli = ctx;

	char status[300];
	struct err e = { 0 };

	printf("listening on %s\n", url);
	fflush(stdout);
	snprintf(status, sizeof(status), "serving on %.250s", url);
	if (notify_ready(status, &e) < 0)
		log_warn("serve", "%s", e.msg);
	if (cli->verbosity >= 0)
		fprintf(stderr, "inboxsync: serving on %s; Ctrl-C or SIGTERM stops\n", url);
}

/* A whole number option in [lo, hi]; -1 after a usage error. */
static int number(struct cli *cli, const char *name, const char *v, int lo, int hi, int *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*end || n < lo || n > hi) {
		cli_usage(cli, "bad %s '%s' (%d-%d)", name, v, lo, hi);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int cmd_serve(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "public-url", required_argument, NULL, 'u' },
		{ "workers", required_argument, NULL, 'w' },
		{ "http-threads", required_argument, NULL, 'T' },
		{ "poll-interval", required_argument, NULL, 'p' },
		{ "lease-ttl", required_argument, NULL, 't' },
		{ "node-id", required_argument, NULL, 'n' },
		{ "allow-private-webhooks", no_argument, NULL, 'P' },
		{ "routes", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct server_config cfg = { .listen = "127.0.0.1:8025", .stop = &stop_serving };
	struct manager mgr = { 0 };
	struct sigaction sa;
	struct err e = { 0 };
	char *store_path;
	int opt, rc;

	if (cli->config) { /* the settings file and environment; flags win */
		const struct config *c = cli->config;

		if (c->listen)
			cfg.listen = c->listen;
		cfg.public_url = c->public_url;
		cfg.node_id = c->node_id;
		cfg.workers = c->workers;
		cfg.http_threads = c->http_threads;
		cfg.poll_interval_s = c->poll_interval;
		cfg.lease_ttl_s = c->lease_ttl;
		cfg.allow_private_webhooks = c->allow_private_webhooks;
	}
	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		int bad = 0;

		switch (opt) {
		case 'l': cfg.listen = optarg; break;
		case 'u': cfg.public_url = optarg; break;
		case 'n': cfg.node_id = optarg; break;
		case 'P': cfg.allow_private_webhooks = true; break;
		case 'w': bad = number(cli, "--workers", optarg, 1, 256, &cfg.workers); break;
		case 'T': bad = number(cli, "--http-threads", optarg, 1, 256, &cfg.http_threads); break;
		case 'p': bad = number(cli, "--poll-interval", optarg, 1, 86400, &cfg.poll_interval_s); break;
		case 't': bad = number(cli, "--lease-ttl", optarg, 5, 3600, &cfg.lease_ttl_s); break;
		case 'R':
			server_print_routes(stdout);
			return EXIT_OK;
		}
		if (bad)
			return EXIT_USAGE;
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (!cli_env(cli))
		return EXIT_FAILED;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	store_path = cli_store_path(cli);
	cfg.store_path = store_path;
	cfg.data_dir = cli->data_dir;
	cfg.key_file = cli->key_file;
	mgr.started = pthread_create(&mgr.thread, NULL, manager_main, &mgr) == 0;
	rc = server_run(&cfg, on_listening, cli, &e);
	mgr.done = 1;
	if (mgr.started)
		pthread_join(mgr.thread, NULL);
	free(store_path);
	if (rc < 0)
		return cli_fail(cli, &e);
	if (cli->verbosity >= 0)
		fprintf(stderr, "inboxsync: stopped\n");
	return EXIT_OK;
}

const struct cli_command cli_serve = {
	NULL, "serve", cmd_serve,
	"[--listen HOST:PORT] [--public-url URL] [--workers N] [--poll-interval S] "
	"[--lease-ttl S] [--node-id ID] [--allow-private-webhooks] [--http-threads N] [--routes]",
	"Run the server: synchronization of every account, the REST API under\n"
	"/api/v1, the OAuth redirect endpoint, the web UI, /healthz and /metrics.\n\n"
	"  --listen HOST:PORT  where to listen (default 127.0.0.1:8025; port 0\n"
	"                      picks one and prints 'listening on http://HOST:PORT'\n"
	"                      as the first line of stdout)\n"
	"  --public-url URL    how browsers reach this server (default http:// and\n"
	"                      the listen address); the redirect URI to register in\n"
	"                      Microsoft Entra is URL/oauth/callback\n"
	"  --workers N         accounts synchronized at once (default 4)\n"
	"  --poll-interval S   seconds between polls of an up-to-date mailbox (60)\n"
	"  --lease-ttl S       how long a node's hold on an account lasts without\n"
	"                      renewal (default 30); another node takes over after\n"
	"  --node-id ID        this node's name (default HOST:PID)\n"
	"  --allow-private-webhooks  allow webhook URLs on loopback and private\n"
	"                      addresses (refused by default)\n"
	"  --http-threads N    threads answering requests (default 8)\n"
	"  --routes            print the route table (JSON lines) and exit\n\n"
	"SIGTERM or SIGINT stops it within 10 seconds, exit status 0.",
};
