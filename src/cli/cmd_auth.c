/*
 * cmd_auth.c — `account authorize`, `account test` and `account stop`:
 * connecting a mailbox with Microsoft (loopback redirect or device code),
 * Test & Confirm, and stopping synchronization, through the service
 * layer; the browser's page says how the sign-in ended.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "cli/cli_account.h"
#include "cli/cli_redirect.h"
#include "inboxsync/alloc.h"
#include "inboxsync/provider.h"

#define AUTHORIZE_TIMEOUT_S 300

/* Start a browser on the URL when there is a desktop session. */
static int open_browser(const char *url)
{
	pid_t pid;
	int status;

	if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY"))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull >= 0) {
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execlp("xdg-open", "xdg-open", url, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

static void show_device_message(void *ctx, const char *message, const char *uri,
				const char *code)
{

	(void)ctx;
	(void)uri;
	(void)code;
	cli_out(stderr, "%s\nWaiting for you to finish signing in...\n", message);
	fflush(stderr);
}

struct authorize_opts {
	bool print_url, device_code;
	int port, timeout_s;
};

/* Run the browser flow: listener, URL, wait, finish; the browser's page
 * then says how it ended. */
static int browser_flow(const struct auth_env *env, struct store_account *a,
			const struct authorize_opts *o, struct err *e)
{
	struct redirect_listener *l = NULL;
	struct redirect_result r = { 0 };
	char *uri = NULL, *url = NULL;
	int rc = -1;

	if (redirect_listen(o->port, &l, &uri, e) < 0 ||
	    service_authorize_begin(env, a, uri, NULL, &url, e) < 0)
		goto out;
	if (o->print_url) {
		cli_out(stdout, "%s\n", url);
		fflush(stdout);
	} else {
		if (open_browser(url) == 0)
			cli_out(stderr, "Opened the Microsoft sign-in page in your browser.\n");
		cli_out(stderr, "Sign in as %s at this address (it waits %d s):\n%s\n",
			a->email, o->timeout_s, url);
	}
	if (redirect_wait(l, o->timeout_s, &r, e) < 0)
		goto out;
	rc = service_authorize_finish(env, NULL, r.state, r.code, r.error,
				      r.error_description, a, NULL, e);
	if (rc == 0) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s is connected as account '%s'.",
			 a->identity, a->name);
		redirect_finish(l, 1, msg);
	} else {
		char msg[1400], fix[768];

		err_fix_text(e->fix, e->fix_arg, fix, sizeof(fix));
		snprintf(msg, sizeof(msg), "%s.%s%s", e->msg, fix[0] ? " " : "", fix);
		redirect_finish(l, 0, msg);
	}
out:
	redirect_result_clear(&r);
	redirect_close(l);
	free(uri);
	free(url);
	return rc;
}

/* The Test & Confirm results, as the owner reads them. */
static void print_tests(const struct store_account *a, bool incoming, bool outgoing)
{
	char when[32];

	if (incoming)
		cli_out(stdout, "Incoming: %s (last fetch %s)%s%s\n",
			a->incoming_status == STORE_INCOMING_CONFIRMED ? "Confirmed"
			: "Not confirmed", cli_time(a->incoming_last_fetch_at, when),
			a->incoming_error[0] ? " — " : "", a->incoming_error);
	if (outgoing)
		cli_out(stdout, "Outgoing: %s%s%s\n", a->outgoing_status == STORE_OUTGOING_OK
			? "ok — sending is allowed (tested without sending mail)"
			: store_outgoing_name(a->outgoing_status),
			a->outgoing_error[0] ? " — " : "", a->outgoing_error);
}

static void print_result(struct cli *cli, const struct store_account *a)
{

	if (cli->json) {
		cli_print_account(cli, a);
		return;
	}
	cli_out(stdout, "Authorized '%s' as %s.\n", a->name, a->identity);
	print_tests(a, true, true);
	if (a->state_fix == FIX_FETCH_FOLDERS)
		cli_out(stdout, "Next: inboxsync folders fetch %s\n", a->name);
	else
		cli_out(stdout, "%s\n", a->state_reason);
}

static int cmd_account_authorize(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "print-url", no_argument, NULL, 'p' },
		{ "device-code", no_argument, NULL, 'd' },
		{ "redirect-port", required_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct authorize_opts o = { .timeout_s = AUTHORIZE_TIMEOUT_S };
	const struct auth_env *env;
	struct store_account a;
	struct err e = { 0 };
	int opt, rc;
	char *end;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		switch (opt) {
		case 'p': o.print_url = true; break;
		case 'd': o.device_code = true; break;
		case 'j': cli->json = true; break;
		case 'P':
			o.port = (int)strtol(optarg, &end, 10);
			if (*end || o.port < 1 || o.port > 65535)
				return cli_usage(cli, "bad --redirect-port '%s'", optarg);
			break;
		case 't':
			o.timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || o.timeout_s < 1 || o.timeout_s > 3600)
				return cli_usage(cli, "bad --timeout '%s' (1-3600 s)", optarg);
			break;
		}
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind >= argc)
		return cli_usage(cli, "name the account to authorize");
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (o.device_code && o.print_url)
		return cli_usage(cli, "--print-url and --device-code do not go together");
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	env = cli_env(cli);
	if (provider_require(env->store, a.transport, NULL, &e) < 0)
		return cli_fail(cli, &e);
	rc = o.device_code ? service_authorize_device(env, &a, show_device_message, NULL, &e)
			   : browser_flow(env, &a, &o, &e);
	if (rc < 0)
		return cli_fail(cli, &e);
	print_result(cli, &a);
	return EXIT_OK;
}

static int cmd_account_test(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "incoming", no_argument, NULL, 'i' },
		{ "outgoing", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool incoming = false, outgoing = false;
	struct store_account a;
	struct err e = { 0 };
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		if (opt == 'i')
			incoming = true;
		else if (opt == 'o')
			outgoing = true;
		else if (opt == 'j')
			cli->json = true;
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind >= argc)
		return cli_usage(cli, "name the account to test");
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (!incoming && !outgoing)
		incoming = outgoing = true;
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	rc = service_account_test(cli_env(cli), &a, incoming, outgoing, &e);
	if (rc < 0 && (err_is(&e, "auth_invalid") || err_is(&e, "auth_required")))
		return cli_fail(cli, &e); /* nothing could be tested */
	if (cli->json) {
		cli_print_account(cli, &a);
	} else {
		print_tests(&a, incoming, outgoing);
	}
	return rc < 0 ? cli_fail_stderr(cli, &e) : EXIT_OK;
}

static int cmd_account_stop(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "purge", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool purge = false;
	struct store_account a;
	struct err e = { 0 };
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		if (opt == 'p')
			purge = true;
		else if (opt == 'j')
			cli->json = true;
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind >= argc)
		return cli_usage(cli, "name the account to stop");
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if ((rc = cli_find_account(cli, argv[optind], &a)) != 1)
		return -rc;
	if (service_account_stop(cli_env(cli), &a, purge, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		return cli_print_account(cli, &a);
	cli_out(stdout, "Stopped synchronization of '%s': removed the OAuth grant, the server "
	       "settings and the folder mappings; %s.\n", a.name,
	       purge ? "synced mail was purged" : "synced mail is kept (use --purge "
	       "to delete it)");
	return EXIT_OK;
}

const struct cli_command cli_account_authorize = {
	"account", "authorize", cmd_account_authorize,
	"NAME [--print-url] [--device-code] [--redirect-port P] [--timeout S] [--json]",
	"Connect the account with Microsoft (sign in and consent).\n\n"
	"Listens on http://127.0.0.1:P/callback for the redirect, opens the browser\n"
	"when there is one, and waits (default 300 s). Microsoft always shows its\n"
	"account picker, so the right mailbox can be chosen even when the browser\n"
	"is signed in to another one. The signed-in identity must be the account's\n"
	"address: otherwise nothing is stored, and the account's last error and\n"
	"the browser's page say why. Then Test & Confirm runs. An account that\n"
	"was synchronized before resumes with its folders; a new or stopped one\n"
	"fetches its folders next.\n\n"
	"  --print-url        print the authorization URL alone on the first line of\n"
	"                     stdout (also with --json), instead of opening a browser\n"
	"  --device-code      sign in on another device with a code (no browser here)\n"
	"  --redirect-port P  listen on this port (default: any free port)\n"
	"  --timeout S        how long to wait for the sign-in (default 300)",
};

const struct cli_command cli_account_test = {
	"account", "test", cmd_account_test, "NAME [--incoming] [--outgoing] [--json]",
	"Test & Confirm the incoming and outgoing side of an account.\n\n"
	"Incoming: the token works and the mailbox is readable (status Confirmed or\n"
	"Not confirmed, with the error, and the last fetch date, which each sync\n"
	"updates). Outgoing: proves send permission without sending mail to\n"
	"anyone. Both when neither option is given. Exits 4 when the account needs\n"
	"authorization (without contacting Microsoft when it is auth_invalid), 1\n"
	"when a test fails.",
};

const struct cli_command cli_account_stop = {
	"account", "stop", cmd_account_stop, "NAME [--purge] [--json]",
	"Stop synchronization: remove the OAuth grant, server settings, folder maps.\n\n"
	"Mail already synced stays unless --purge is given. To resume, authorize\n"
	"again and fetch the folders: Inbox and Sent Items are selected again,\n"
	"with their roles, as the first time. To revoke the app's access at\n"
	"Microsoft too, remove it in your Microsoft account's app permissions or\n"
	"in Entra ID.",
};
