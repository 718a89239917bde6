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
#include "http.h"
#include "mailbox.h"
#include "mime.h"
#include "seed.h"
#include "server.h"
#include "sim.h"
#include "tls.h"

struct options {
	unsigned port;
	unsigned long messages;
	uint64_t seed;
	const char *port_file;
	const char *auto_approve;
	long latency_ms, latency_jitter_ms;
	bool quiet;
	bool tls;                  /* --tls, or implied by --tls-cert */
	const char *tls_dir;       /* --tls-dir (default simtls_default_dir) */
	const char *tls_cert, *tls_key;
	const char *public_url;
};

static void usage(FILE *f)
{
	fputs("usage: m365sim [--listen 127.0.0.1:PORT] [--messages N] [--seed S]\n"
	      "               [--port-file F] [--auto-approve EMAIL] [--quiet]\n"
	      "               [--latency-ms MS] [--latency-jitter-ms MS]\n"
	      "               [--tls [--tls-dir DIR] | --tls-cert PEM --tls-key PEM]\n"
	      "               [--public-url URL]\n"
	      "Simulates the Microsoft identity platform and Graph mail on 127.0.0.1.\n"
	      "PORT 0 (default) picks a free port. --tls serves HTTPS with a certificate\n"
	      "generated on first start (its CA file is printed as \"ca_file\").\n"
	      "--public-url is the base every link is written with (behind a proxy).\n"
	      "Prints one JSON line describing the\n"
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

/* "http[s]://host[:port][/path]", no query or fragment, fits a base. */
static int check_public_url(const char *u)
{
	const char *host = sim_istarts(u, "https://") ? u + 8 : sim_istarts(u, "http://") ? u + 7 : NULL;

	if (!host || !*host || *host == '/' || strlen(u) >= SIM_URL_MAX || strpbrk(u, "?# \t"))
		return -1;
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
		{ "tls", no_argument, NULL, 'T' },
		{ "tls-dir", required_argument, NULL, 'D' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "public-url", required_argument, NULL, 'U' },
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
		case 'T':
			o->tls = true;
			break;
		case 'D':
			o->tls_dir = optarg;
			o->tls = true;
			break;
		case 'C':
		case 'K':
			*(c == 'C' ? &o->tls_cert : &o->tls_key) = optarg;
			o->tls = true;
			break;
		case 'U':
			if (check_public_url(optarg) < 0) {
				fprintf(stderr, "m365sim: --public-url must be http:// or https:// and a host, without a query (at most %d characters)\n",
					SIM_URL_MAX - 1);
				return -1;
			}
			o->public_url = optarg;
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
	if (!o->tls_cert != !o->tls_key || (o->tls_cert && o->tls_dir)) {
		fprintf(stderr, "m365sim: --tls-cert and --tls-key go together, and not with --tls-dir\n");
		return -1;
	}
	return 0;
}

static void print_world(struct sim_world *w, const char *ca_file)
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
	if (ca_file)
		json_object_set_new(line, "ca_file", json_string(ca_file));
	if (w->public_url[0])
		json_object_set_new(line, "public_url", json_string(w->public_url));
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

/* The certificate to serve with: the user's, or the generated one. */
static int prepare_tls(const struct options *o, struct simtls_files *f, char *why, size_t n)
{
	char *dir;
	int rc;

	if (o->tls_cert)
		return simtls_load_files(o->tls_cert, o->tls_key, f, why, n);
	dir = o->tls_dir ? xstrdup(o->tls_dir) : simtls_default_dir();
	rc = simtls_prepare_dir(dir, f, why, n);
	free(dir);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct sim_world *w = NULL;
	struct sim_server *srv = NULL;
	struct simtls_files tls = { 0 };
	sigset_t set;
	int sig = 0, rc = 1;
	char why[300];

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
	if (o.tls && prepare_tls(&o, &tls, why, sizeof(why)) < 0) {
		fprintf(stderr, "m365sim: %s\n", why);
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
	if (o.public_url)   /* checked by parse_args; kept without a final '/' */
		snprintf(w->public_url, sizeof(w->public_url), "%.*s",
			 (int)(strlen(o.public_url) - (o.public_url[strlen(o.public_url) - 1] == '/')),
			 o.public_url);
	rc = 2;
	if (o.messages &&
	    seed_mailbox(w->users[0]->mbox, SIM_NONE, (uint32_t)o.messages, o.seed, 0, false,
			 why, sizeof(why)) < 0) {
		fprintf(stderr, "m365sim: cannot seed: %s\n", why);
		goto out;
	}
	if (o.auto_approve && !(w->auto_approve = world_user(w, o.auto_approve))) {
		fprintf(stderr, "m365sim: --auto-approve: no user %s in the default world\n", o.auto_approve);
		goto out;
	}
	rc = 1;
	srv = simsrv_start(w, o.port, o.tls ? &tls : NULL, why, sizeof(why));
	if (!srv) {
		fprintf(stderr, "m365sim: %s\n", why);
		goto out;
	}
	w->quiet = o.quiet;
	print_world(w, tls.ca_path);
	if (o.port_file && write_port_file(o.port_file, simsrv_port(srv)) < 0)
		fprintf(stderr, "m365sim: cannot write port file %s\n", o.port_file);
	if (!o.quiet) {
		fprintf(stderr, "m365sim: listening on %s (%lu seeded messages)\n", w->base_url,
			o.messages);
		if (tls.ca_path)
			fprintf(stderr, "m365sim: TLS certificate authority: %s\n", tls.ca_path);
	}
	while (sigwait(&set, &sig) != 0)
		;
	if (!o.quiet)
		fprintf(stderr, "m365sim: signal %d, shutting down\n", sig);
	rc = 0;
out:
	simsrv_stop(srv);
	world_free(w);
	simmime_shutdown();
	simtls_files_free(&tls);
	return rc;
}
