/*
 * cmd_serve.c — `serve`: parses the options (INTERFACE.md "Server" and
 * "Many nodes"), prints `listening on URL` as the first line of stdout
 * once the port is bound, and runs the server until SIGTERM or SIGINT,
 * then exits 0. Everything else is src/server's.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "inboxsync/server.h"

static volatile sig_atomic_t stop_serving;

static void on_signal(int sig)
{
	(void)sig;
	stop_serving = 1;
}

static void on_listening(void *ctx, const char *url)
{
	struct cli *cli = ctx;

	printf("listening on %s\n", url);
	fflush(stdout);
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
	struct sigaction sa;
	struct err e = { 0 };
	char *store_path;
	int opt, rc;

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
	rc = server_run(&cfg, on_listening, cli, &e);
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
