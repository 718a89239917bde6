/*
 * main.c — the m365sim program: parse the command line, build the default
 * world (optionally seeding adele's mailbox), listen on 127.0.0.1, print
 * one JSON line describing the world, and run until SIGTERM/SIGINT, then
 * free everything. See sim/README.md.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <jansson.h>
#include "inboxsync/alloc.h"
#include "mailbox.h"
#include "mime.h"
#include "seed.h"
#include "server.h"
#include "sim.h"

struct options {
	unsigned port;
	unsigned long messages;
	uint64_t seed;
	const char *port_file;
	const char *auto_approve;
	long latency_ms, latency_jitter_ms;
	bool quiet;
};

static void usage(FILE *f)
{
	fputs("usage: m365sim [--listen 127.0.0.1:PORT] [--messages N] [--seed S]\n"
	      "               [--port-file F] [--auto-approve EMAIL] [--quiet]\n"
	      "               [--latency-ms MS] [--latency-jitter-ms MS]\n"
	      "Simulates the Microsoft identity platform and Graph mail on 127.0.0.1.\n"
	      "PORT 0 (default) picks a free port. Prints one JSON line describing the\n"
	      "world once listening; stops on SIGTERM/SIGINT. See sim/README.md.\n", f);
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_listen(const char *s, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	unsigned long p;
	size_t hostlen;

	if (!colon)
		return -1;
	hostlen = (size_t)(colon - s);
	if (!((hostlen == 9 && strncmp(s, "127.0.0.1", 9) == 0) ||
	      (hostlen == 9 && strncasecmp(s, "localhost", 9) == 0)))
		return -1;
	if (parse_ulong(colon + 1, 65535, &p) < 0)
		return -1;
	*port = (unsigned)p;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "messages", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "auto-approve", required_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "latency-ms", required_argument, NULL, 'L' },
		{ "latency-jitter-ms", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	unsigned long v;

	memset(o, 0, sizeof(*o));
	o->seed = 1;
	while ((c = getopt_long(argc, argv, "l:m:s:p:a:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (parse_listen(optarg, &o->port) < 0) {
				fprintf(stderr, "m365sim: --listen must be 127.0.0.1:PORT (loopback only)\n");
				return -1;
			}
			break;
		case 'm':
			if (parse_ulong(optarg, SEED_MAX_COUNT, &o->messages) < 0) {
				fprintf(stderr, "m365sim: --messages must be 0..%u\n", SEED_MAX_COUNT);
				return -1;
			}
			break;
		case 's':
			if (parse_ulong(optarg, (unsigned long)-1, &v) < 0) {
				fprintf(stderr, "m365sim: --seed must be a non-negative integer\n");
				return -1;
			}
			o->seed = v;
			break;
		case 'p':
			o->port_file = optarg;
			break;
		case 'a':
			o->auto_approve = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'L':
		case 'J':
			if (parse_ulong(optarg, 600000, &v) < 0) {
				fprintf(stderr, "m365sim: --%s must be 0..600000 (ms)\n",
					c == 'L' ? "latency-ms" : "latency-jitter-ms");
				return -1;
			}
			*(c == 'L' ? &o->latency_ms : &o->latency_jitter_ms) = (long)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "m365sim: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static void print_world(struct sim_world *w)
{
	json_t *users = json_array(), *line;
	char *text;

	world_rdlock(w);   /* requests may already be arriving */
	for (size_t i = 0; i < w->nusers; i++)
		json_array_append_new(users, json_pack("{s:s, s:s, s:s}", "email", w->users[i]->email,
						       "password", w->users[i]->password, "id",
						       w->users[i]->oid));
	line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "url", w->base_url, "tenant",
			 w->tenants[0]->id, "tenant_domain", w->tenants[0]->domain, "client_id",
			 w->apps[0]->client_id, "client_secret", w->apps[0]->secret, "users", users);
	world_unlock(w);
	text = json_dumps(line, JSON_COMPACT);
	fprintf(stdout, "%s\n", text);
	fflush(stdout);
	free(text);
	json_decref(line);
}

static int write_port_file(const char *path, unsigned port)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	int rc = -1;

	if (f) {
		if (fprintf(f, "%u\n", port) > 0 && fclose(f) == 0 && rename(tmp, path) == 0)
			rc = 0;
		else
			remove(tmp);
	}
	free(tmp);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct sim_world *w;
	struct sim_server *srv;
	sigset_t set;
	int sig = 0;
	char why[200];

	if (parse_args(argc, argv, &o) < 0)
		return 2;
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
	/* Pages are rendered into buffers of a few MB by short-lived threads.
	 * Served from the heap and kept there, they are reused page after
	 * page; from mmap, every page would fault its buffers in afresh
	 * (about 15% of a page's CPU). */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
	if (sodium_init() < 0) {
		fprintf(stderr, "m365sim: libsodium failed to initialise\n");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	simmime_init();
	w = world_new(o.seed);
	w->cfg.latency_ms = o.latency_ms;
	w->cfg.latency_jitter_ms = o.latency_jitter_ms;
	if (o.messages &&
	    seed_mailbox(w->users[0]->mbox, SIM_NONE, (uint32_t)o.messages, o.seed, 0, false,
			 why, sizeof(why)) < 0) {
		fprintf(stderr, "m365sim: cannot seed: %s\n", why);
		world_free(w);
		simmime_shutdown();
		return 2;
	}
	if (o.auto_approve && !(w->auto_approve = world_user(w, o.auto_approve))) {
		fprintf(stderr, "m365sim: --auto-approve: no user %s in the default world\n", o.auto_approve);
		world_free(w);
		simmime_shutdown();
		return 2;
	}
	srv = simsrv_start(w, o.port, why, sizeof(why));
	if (!srv) {
		fprintf(stderr, "m365sim: %s\n", why);
		world_free(w);
		simmime_shutdown();
		return 1;
	}
	w->quiet = o.quiet;
	print_world(w);
	if (o.port_file && write_port_file(o.port_file, simsrv_port(srv)) < 0)
		fprintf(stderr, "m365sim: cannot write port file %s\n", o.port_file);
	if (!o.quiet)
		fprintf(stderr, "m365sim: listening on %s (%lu seeded messages)\n", w->base_url,
			o.messages);
	while (sigwait(&set, &sig) != 0)
		;
	if (!o.quiet)
		fprintf(stderr, "m365sim: signal %d, shutting down\n", sig);
	simsrv_stop(srv);
	world_free(w);
	simmime_shutdown();
	return 0;
}
