/*
 * cmd_provider.c — `provider set` and `provider show`: the administrator's
 * Microsoft app registration. The client secret is sealed by the vault
 * before it reaches the store and is never printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"
#include "inboxsync/log.h"
#include "inboxsync/provider.h"

#define SECRET_MAX 4096

/* Read a secret from `path` ("-" = stdin), without its trailing newline. */
static char *read_secret_file(const char *path, struct err *e)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct buf b;
	char chunk[512];
	size_t n;

	if (!f) {
		err_set(e, ERR_PERMANENT, "usage", "cannot read the client secret "
			"file %s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b, SECRET_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n, e) < 0) {
			err_set(e, ERR_PERMANENT, "usage", "the client secret file %s "
				"is larger than %d bytes", path, SECRET_MAX);
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (e->class != ERR_NONE) {
		buf_free(&b);
		return NULL;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	return buf_detach(&b, NULL);
}

/* "host:port" into the provider's host and port fields. */
static int parse_host_port(const char *arg, char *host, size_t host_len,
			   int *port, const char *what, struct err *e)
{
	const char *colon = strrchr(arg, ':');
	char *end;
	long p;

	if (!colon || colon == arg || (size_t)(colon - arg) >= host_len)
		return err_set(e, ERR_PERMANENT, "usage",
			       "bad %s server '%s': expected HOST:PORT", what, arg);
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || p < 1 || p > 65535)
		return err_set(e, ERR_PERMANENT, "usage",
			       "bad %s port in '%s': expected 1-65535", what, arg);
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = '\0';
	*port = (int)p;
	return 0;
}

static json_t *provider_json(const struct store_provider *p)
{
	json_t *transports = json_array();
	char imap[320], smtp[320];

	if (p->transports & STORE_TRANSPORT_GRAPH)
		json_array_append_new(transports, json_string("graph"));
	if (p->transports & STORE_TRANSPORT_IMAP)
		json_array_append_new(transports, json_string("imap"));
	snprintf(imap, sizeof(imap), "%s:%d", p->imap_host, p->imap_port);
	snprintf(smtp, sizeof(smtp), "%s:%d", p->smtp_host, p->smtp_port);
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s,s:s,s:b,s:o,s:I}",
			 "name", p->name, "tenant", p->tenant, "client_id", p->client_id,
			 "client_secret", p->client_secret_sealed ? "set (encrypted)" : "not set",
			 "public_client", p->client_secret_sealed == NULL,
			 "login_url", p->login_url, "graph_url", p->graph_url,
			 "imap", imap, "smtp", smtp, "enabled", p->enabled,
			 "transports", transports, "updated_at", (json_int_t)p->updated_at);
}

static void print_provider(const struct store_provider *p)
{
	printf("Provider:       Microsoft (%s)\n", p->enabled ? "enabled" : "DISABLED");
	printf("Tenant:         %s\n", p->tenant);
	printf("Client ID:      %s\n", p->client_id);
	printf("Client secret:  %s\n", p->client_secret_sealed
	       ? "set (stored encrypted)" : "not set (public client, PKCE only)");
	printf("Transports:     %s\n", provider_transports_str(p->transports));
	printf("Login URL:      %s\n", p->login_url);
	printf("Graph URL:      %s\n", p->graph_url);
	printf("IMAP server:    %s:%d (TLS)\n", p->imap_host, p->imap_port);
	printf("SMTP server:    %s:%d (STARTTLS)\n", p->smtp_host, p->smtp_port);
	printf("Redirect URI:   register http://localhost in Microsoft Entra "
	       "(any port is accepted for loopback)\n");
}

struct provider_args {
	const char *client_id, *secret, *secret_file, *tenant, *login_url;
	const char *graph_url, *imap, *smtp, *transports;
	int enable;              /* 1 enable, 0 disable, -1 keep */
	bool no_secret;
};

/* Apply the given options over `p` (existing settings or defaults). */
static int apply_args(struct cli *cli, const struct provider_args *a,
		      struct store_provider *p, struct err *e)
{
	char *secret = NULL;

	if (a->client_id && str_copy(p->client_id, sizeof(p->client_id), a->client_id) < 0)
		return err_set(e, ERR_PERMANENT, "usage", "the client id is too long");
	if (a->tenant && str_copy(p->tenant, sizeof(p->tenant), a->tenant) < 0)
		return err_set(e, ERR_PERMANENT, "usage", "the tenant is too long");
	if (a->login_url && str_copy(p->login_url, sizeof(p->login_url), a->login_url) < 0)
		return err_set(e, ERR_PERMANENT, "usage", "the login URL is too long");
	if (a->graph_url && str_copy(p->graph_url, sizeof(p->graph_url), a->graph_url) < 0)
		return err_set(e, ERR_PERMANENT, "usage", "the Graph URL is too long");
	if (a->imap && parse_host_port(a->imap, p->imap_host, sizeof(p->imap_host),
				       &p->imap_port, "IMAP", e) < 0)
		return -1;
	if (a->smtp && parse_host_port(a->smtp, p->smtp_host, sizeof(p->smtp_host),
				       &p->smtp_port, "SMTP", e) < 0)
		return -1;
	if (a->transports && provider_parse_transports(a->transports, &p->transports, e) < 0)
		return -1;
	if (a->enable >= 0)
		p->enabled = a->enable != 0;
	/* strip a trailing slash so URLs join cleanly */
	for (char *u = p->login_url; *u && u[strlen(u) - 1] == '/';)
		u[strlen(u) - 1] = '\0';
	for (char *u = p->graph_url; *u && u[strlen(u) - 1] == '/';)
		u[strlen(u) - 1] = '\0';
	if (provider_validate(p, e) < 0)
		return -1;
	if (a->no_secret) {
		store_provider_clear(p);
		return 0;
	}
	if (a->secret_file && !(secret = read_secret_file(a->secret_file, e)))
		return -1;
	if (a->secret)
		secret = xstrdup(a->secret);
	if (secret) {
		char *sealed;

		if (!*secret) {
			free(secret);
			return err_set(e, ERR_PERMANENT, "usage", "the client secret is empty");
		}
		log_add_secret(secret);
		sealed = vault_seal(cli_vault(cli), secret, strlen(secret), e);
		vault_free_plain(secret);
		if (!sealed)
			return -1;
		store_provider_clear(p);
		p->client_secret_sealed = sealed;
	}
	return 0;
}

static int cmd_provider_set(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client-id", required_argument, NULL, 'c' },
		{ "client-secret", required_argument, NULL, 's' },
		{ "client-secret-file", required_argument, NULL, 'S' },
		{ "no-client-secret", no_argument, NULL, 'N' },
		{ "tenant", required_argument, NULL, 't' },
		{ "login-url", required_argument, NULL, 'L' },
		{ "graph-url", required_argument, NULL, 'G' },
		{ "imap", required_argument, NULL, 'I' },
		{ "smtp", required_argument, NULL, 'M' },
		{ "enable", no_argument, NULL, 'e' },
		{ "disable", no_argument, NULL, 'd' },
		{ "transports", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct provider_args a = { .enable = -1 };
	struct store_provider p;
	struct err e = { 0 };
	struct store *st;
	int opt, rc, exists;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		switch (opt) {
		case 'c': a.client_id = optarg; break;
		case 's': a.secret = optarg; break;
		case 'S': a.secret_file = optarg; break;
		case 'N': a.no_secret = true; break;
		case 't': a.tenant = optarg; break;
		case 'L': a.login_url = optarg; break;
		case 'G': a.graph_url = optarg; break;
		case 'I': a.imap = optarg; break;
		case 'M': a.smtp = optarg; break;
		case 'e': a.enable = 1; break;
		case 'd': a.enable = 0; break;
		case 'T': a.transports = optarg; break;
		}
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind >= argc)
		return cli_usage(cli, "name the provider: 'inboxsync provider set microsoft ...'");
	if (strcmp(argv[optind], PROVIDER_MICROSOFT) != 0)
		return cli_usage(cli, "unknown provider '%s': the supported provider is "
				 "'microsoft'", argv[optind]);
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if ((a.secret != NULL) + (a.secret_file != NULL) + a.no_secret > 1)
		return cli_usage(cli, "give only one of --client-secret, "
				 "--client-secret-file and --no-client-secret");
	if (!(st = cli_store(cli)))
		return EXIT_FAILED;
	exists = store_get_provider(st, PROVIDER_MICROSOFT, &p, &e);
	if (exists < 0)
		return cli_fail(cli, &e);
	if (!exists) {
		provider_defaults(&p);
		if (!a.client_id)
			return cli_usage(cli, "--client-id is required the first time: "
					 "the Application (client) ID of the app registered "
					 "in Microsoft Entra");
	}
	if (apply_args(cli, &a, &p, &e) < 0 || store_put_provider(st, &p, &e) < 0) {
		store_provider_clear(&p);
		return cli_fail(cli, &e);
	}
	if (cli->json) {
		store_provider_clear(&p);
		if (store_get_provider(st, PROVIDER_MICROSOFT, &p, &e) < 0)
			return cli_fail(cli, &e);
		cli_print_json(provider_json(&p));
	} else {
		printf("Saved the Microsoft provider settings%s.\n",
		       p.client_secret_sealed ? " (client secret stored encrypted)"
					      : " (public client: no secret)");
	}
	store_provider_clear(&p);
	return EXIT_OK;
}

static int cmd_provider_show(struct cli *cli, int argc, char **argv)
{
	struct store_provider p;
	struct err e = { 0 };
	struct store *st;
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 0, "")) >= 0)
		return rc;
	if (!(st = cli_store(cli)))
		return EXIT_FAILED;
	rc = store_get_provider(st, PROVIDER_MICROSOFT, &p, &e);
	if (rc < 0)
		return cli_fail(cli, &e);
	if (rc == 0) {
		provider_require(st, NULL, NULL, &e);
		return cli_fail(cli, &e);
	}
	if (cli->json)
		cli_print_json(provider_json(&p));
	else
		print_provider(&p);
	store_provider_clear(&p);
	return EXIT_OK;
}

const struct cli_command cli_provider_set = {
	"provider", "set", cmd_provider_set,
	"microsoft --client-id ID [--client-secret S | --client-secret-file F | "
	"--no-client-secret] [--tenant T] [--login-url URL] [--graph-url URL] "
	"[--imap HOST:PORT] [--smtp HOST:PORT] [--enable | --disable] "
	"[--transports graph,imap]",
	"Register the Microsoft app (administrator, once).\n\n"
	"The client ID and secret come from the app registration in Microsoft\n"
	"Entra; add the redirect URI\n"
	"http://localhost there. Without a secret the app is a public client (PKCE\n"
	"only). The secret is stored encrypted with the key in the data directory\n"
	"and is never printed; prefer --client-secret-file (or '-' for stdin) over\n"
	"--client-secret, which other local users can see in the process list.\n"
	"Options left out keep their current values.\n\n"
	"  --tenant T          common (default), organizations, consumers, a tenant\n"
	"                      id or a verified domain\n"
	"  --login-url URL     identity platform (default https://login.microsoftonline.com)\n"
	"  --graph-url URL     Graph (default https://graph.microsoft.com/v1.0);\n"
	"                      http:// only for loopback addresses\n"
	"  --imap HOST:PORT    default outlook.office365.com:993\n"
	"  --smtp HOST:PORT    default smtp.office365.com:587\n"
	"  --enable/--disable  offer Microsoft as a provider, or not\n"
	"  --transports LIST   graph, imap or graph,imap (default both)",
};

const struct cli_command cli_provider_show = {
	"provider", "show", cmd_provider_show, "[--json]",
	"Show the Microsoft provider settings.\n\n"
	"The client secret is only shown as set / not set. Exits 3 when Microsoft\n"
	"is not configured yet.",
};
