/*
 * cmd_provider.c — `provider set`, `provider show` and `provider check`:
 * the administrator's Microsoft app registration, through the service
 * layer. The client secret is read from a file (or stdin) here, sealed
 * by the service before it reaches the store, and never printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"
#include "inboxsync/log.h"
#include "inboxsync/provider.h"
#include "inboxsync/timeutil.h"
#include "inboxsync/vault.h"

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

static void print_provider(const json_t *p)
{
	const json_t *problem = jdoc_get(p, "problem");
	const json_t *transports = jdoc_get(p, "transports");
	const char *expires = jdoc_get_str(p, "client_secret_expires_at");

	cli_out(stdout, "Provider:       Microsoft (%s)\n",
	       jdoc_get_bool(p, "enabled") ? "enabled" : "DISABLED");
	cli_out(stdout, "Tenant:         %s\n", jdoc_get_str(p, "tenant"));
	cli_out(stdout, "Client ID:      %s\n", jdoc_get_str(p, "client_id"));
	cli_out(stdout, "Client secret:  %s%s%s\n", jdoc_get_bool(p, "has_client_secret")
	       ? "set (stored encrypted)" : "not set (public client, PKCE only)",
	       expires ? ", expires " : "", expires ? expires : "");
	cli_out(stdout, "Transports:    ");
	for (size_t i = 0; i < jdoc_size(transports); i++)
		cli_out(stdout, "%s %s", i ? "," : "",
		       provider_transport_label(jdoc_str_value(jdoc_item(transports, i))));
	cli_out(stdout, "\n");
	cli_out(stdout, "Login URL:      %s\n", jdoc_get_str(p, "login_url"));
	cli_out(stdout, "Graph URL:      %s\n", jdoc_get_str(p, "graph_url"));
	cli_out(stdout, "IMAP server:    %s (TLS)\n", jdoc_get_str(p, "imap"));
	cli_out(stdout, "SMTP server:    %s (STARTTLS)\n", jdoc_get_str(p, "smtp"));
	if (problem && jdoc_get_str(problem, "message"))
		cli_out(stdout, "Problem:        %s\n", jdoc_get_str(problem, "message"));
	cli_out(stdout, "Redirect URI:   register http://localhost in Microsoft Entra for the\n"
	       "                command line (any port is accepted for loopback);\n"
	       "                'inboxsync serve' prints its own\n");
}

/* --client-secret-expires DATE: YYYY-MM-DD or RFC 3339. */
static int parse_expiry(const char *arg, int64_t *out, struct err *e)
{
	char full[64];

	if (strlen(arg) == 10)
		snprintf(full, sizeof(full), "%sT00:00:00Z", arg);
	else
		str_copy(full, sizeof(full), arg);
	if (time_parse_rfc3339(full, out) < 0)
		return err_set(e, ERR_PERMANENT, "usage", "bad --client-secret-expires "
			       "'%s': use YYYY-MM-DD", arg);
	return 0;
}

static int cmd_provider_set(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "client-id", required_argument, NULL, 'c' },
		{ "client-secret", required_argument, NULL, 's' },
		{ "client-secret-file", required_argument, NULL, 'S' },
		{ "no-client-secret", no_argument, NULL, 'N' },
		{ "client-secret-expires", required_argument, NULL, 'X' },
		{ "tenant", required_argument, NULL, 't' },
		{ "login-url", required_argument, NULL, 'L' },
		{ "graph-url", required_argument, NULL, 'G' },
		{ "imap", required_argument, NULL, 'I' },
		{ "smtp", required_argument, NULL, 'M' },
		{ "enable", no_argument, NULL, 'e' },
		{ "disable", no_argument, NULL, 'd' },
		{ "transports", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct service_provider_change c = { .enabled = -1, .secret_expires_at = -1 };
	struct service_actor op = SERVICE_OPERATOR;
	const char *secret = NULL, *secret_file = NULL, *expires = NULL;
	const struct auth_env *env;
	bool no_secret = false;
	char *read_secret = NULL;
	struct err e = { 0 };
	json_t *doc;
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		switch (opt) {
		case 'c': c.client_id = optarg; break;
		case 's': secret = optarg; break;
		case 'S': secret_file = optarg; break;
		case 'N': no_secret = true; break;
		case 'X': expires = optarg; break;
		case 't': c.tenant = optarg; break;
		case 'L': c.login_url = optarg; break;
		case 'G': c.graph_url = optarg; break;
		case 'I': c.imap = optarg; break;
		case 'M': c.smtp = optarg; break;
		case 'e': c.enabled = 1; break;
		case 'd': c.enabled = 0; break;
		case 'T': c.transports = optarg; break;
		case 'j': cli->json = true; break;
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
	if ((secret != NULL) + (secret_file != NULL) + no_secret > 1)
		return cli_usage(cli, "give only one of --client-secret, "
				 "--client-secret-file and --no-client-secret");
	if (expires && parse_expiry(expires, &c.secret_expires_at, &e) < 0)
		return cli_fail(cli, &e);
	if (!(env = cli_env(cli)))
		return EXIT_FAILED;
	if (secret_file && !(read_secret = read_secret_file(secret_file, &e)))
		return cli_fail(cli, &e);
	if ((secret && !*secret) || (read_secret && !*read_secret)) {
		vault_free_plain(read_secret);
		return cli_usage(cli, "the client secret is empty");
	}
	c.client_secret = no_secret ? "" : read_secret ? read_secret : secret;
	rc = service_provider_set(env, &op, &c, &e);
	vault_free_plain(read_secret);
	if (rc < 0)
		return cli_fail(cli, &e);
	if (service_provider_get(env, &op, &doc, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		cli_print_json(doc);
	else {
		cli_out(stdout, "Saved the Microsoft provider settings%s.\n",
		       jdoc_get_bool(doc, "has_client_secret")
		       ? " (client secret stored encrypted)" : " (public client: no secret)");
		cli_out(stdout, "Check them against Microsoft with 'inboxsync provider check'.\n");
		jdoc_free(doc);
	}
	return EXIT_OK;
}

static int cmd_provider_show(struct cli *cli, int argc, char **argv)
{
	struct service_actor op = SERVICE_OPERATOR;
	const struct auth_env *env;
	struct err e = { 0 };
	json_t *doc;
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 0, "")) >= 0)
		return rc;
	if (!(env = cli_env(cli)))
		return EXIT_FAILED;
	if (service_provider_get(env, &op, &doc, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json) {
		cli_print_json(doc);
	} else {
		print_provider(doc);
		jdoc_free(doc);
	}
	return EXIT_OK;
}

static int cmd_provider_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "redirect-uri", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct service_actor op = SERVICE_OPERATOR;
	const char *redirect = "http://localhost";
	const struct auth_env *env;
	struct err e = { 0 };
	json_t *doc, *checks;
	int opt, rc;
	bool ok;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		if (opt == 'r')
			redirect = optarg;
		else if (opt == 'j')
			cli->json = true;
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind < argc && strcmp(argv[optind], PROVIDER_MICROSOFT) == 0)
		optind++;
	if (optind < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (!(env = cli_env(cli)))
		return EXIT_FAILED;
	if (service_provider_check(env, &op, redirect, &doc, &e) < 0)
		return cli_fail(cli, &e);
	ok = jdoc_get_bool(doc, "ok");
	checks = jdoc_get(doc, "checks");
	if (!cli->json) {
		for (size_t i = 0; i < jdoc_size(checks); i++) {
			const json_t *c = jdoc_item(checks, i);
			const char *fix = jdoc_get_str(c, "fix");

			cli_out(stdout, "%-5s %-22s %s\n", jdoc_get_bool(c, "ok") ? "ok" : "FAIL",
			       jdoc_get_str(c, "name"), jdoc_get_str(c, "message"));
			if (!jdoc_get_bool(c, "ok") && fix && *fix)
				cli_out(stdout, "      %-22s fix: %s\n", "", fix);
		}
		cli_out(stdout, "%s\n", ok ? "The provider is ready." :
		       "The provider needs attention (see above).");
		jdoc_free(doc);
	} else {
		cli_print_json(doc);
	}
	return ok ? EXIT_OK : EXIT_NOT_CONFIGURED;
}

const struct cli_command cli_provider_set = {
	"provider", "set", cmd_provider_set,
	"microsoft [--client-id ID] [--client-secret S | --client-secret-file F | "
	"--no-client-secret] [--client-secret-expires DATE] [--tenant T] "
	"[--login-url URL] [--graph-url URL] [--imap HOST:PORT] [--smtp HOST:PORT] "
	"[--enable | --disable] [--transports graph,imap] [--json]",
	"Register the Microsoft app (administrator, once).\n\n"
	"The client ID and secret come from the app registration in Microsoft\n"
	"Entra; add the redirect URI http://localhost there (and the server's\n"
	"{public-url}/oauth/callback when you run 'inboxsync serve'). Without a\n"
	"secret the app is a public client (PKCE only). The secret is stored\n"
	"encrypted with the key in the data directory and is never printed;\n"
	"prefer --client-secret-file (or '-' for stdin) over --client-secret,\n"
	"which other local users can see in the process list. Options left out\n"
	"keep their current values. New settings clear a recorded provider\n"
	"problem, so every mailbox retries at once, with no owner signing in.\n\n"
	"  --client-id ID      the Application (client) ID; required the first time\n"
	"  --client-secret-file F  the secret ('-' = stdin); --client-secret S on\n"
	"                      the command line; --no-client-secret: public client\n"
	"  --client-secret-expires DATE  when the secret expires (YYYY-MM-DD):\n"
	"                      a warning appears 30 days before\n"
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

const struct cli_command cli_provider_check = {
	"provider", "check", cmd_provider_check, "[microsoft] [--redirect-uri URI] [--json]",
	"Check the app registration against Microsoft before anyone signs in.\n\n"
	"With a client secret, asks Microsoft for a token for the app itself: a\n"
	"wrong or expired secret, an app unknown in the tenant or a tenant that\n"
	"does not exist each show with what to fix. Prints the redirect URI to\n"
	"register (--redirect-uri: the one 'serve' uses) and warns when the\n"
	"secret expires within 30 days. Exits 3 when something needs fixing.",
};
