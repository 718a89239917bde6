/*
 * cli_util.c — the helpers every command shares (see cli.h): opening the
 * store, vault and HTTP client in the data dir, turning classified errors
 * into messages (each fix written as the command to run) and exit codes,
 * option parsing with per-command --help, JSON output.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/quote.h"
#include "inboxsync/timeutil.h"

static int make_dirs(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

/* Root running a command on a data directory that belongs to another
 * user (the service's) would leave files the service cannot read. */
static int check_owner(struct cli *cli)
{
	struct stat st;
	struct passwd *pw;
	struct err e = { 0 };

	if (geteuid() != 0 || stat(cli->data_dir, &st) < 0 || st.st_uid == 0)
		return 0;
	pw = getpwuid(st.st_uid);
	err_set(&e, ERR_PERMANENT, "data_dir_owner", "the data directory %s "
		"belongs to the user %s: run this command as that user (sudo -u %s "
		"inboxsync ...) so that the files it writes stay usable by the "
		"service", cli->data_dir, pw ? pw->pw_name : "?", pw ? pw->pw_name : "?");
	cli_fail(cli, &e);
	return -1;
}

/* The data directory holds the store, the key and the log: its owner
 * alone may enter it (0700, as make_dirs creates it). Checked for the
 * user who owns and writes it; another user given read access (an
 * administrator reading a copy) is not its owner and may read. */
static int check_private_dir(struct cli *cli)
{
	struct stat st;
	struct err e = { 0 };

	if (stat(cli->data_dir, &st) < 0 || st.st_uid != geteuid() ||
	    access(cli->data_dir, W_OK) < 0 || !(st.st_mode & 077))
		return 0;
	err_set(&e, ERR_PERMANENT, "data_dir_mode", "the data directory %s is "
		"open to other users (mode %03o); it holds the store, the key and "
		"the log, so inboxsync uses it only when its owner alone may enter "
		"it", cli->data_dir, (unsigned)(st.st_mode & 0777));
	err_set_fix(&e, FIX_PRIVATE_DIR, cli->data_dir);
	cli_fail(cli, &e);
	return -1;
}

/* A data directory whose store is gone but whose key file is still there
 * was in use: a new empty store would forget every account without a
 * word. With a key file of its own elsewhere (--key-file, shared by a
 * fleet) a new data directory is normal. */
static int check_store_there(struct cli *cli, const char *path)
{
	struct err e = { 0 };

	if (cli->database || cli->key_file || access(path, F_OK) == 0 ||
	    access(vault_key_path(cli_vault(cli)), F_OK) < 0)
		return 0;
	err_set(&e, ERR_PERMANENT, "store_missing", "the store %s is missing, but "
		"the data directory has been used (its key file %s is there); to "
		"start afresh instead, move the key file away too", path,
		vault_key_path(cli_vault(cli)));
	err_set_fix(&e, FIX_RESTORE_BACKUP, path);
	cli_fail(cli, &e);
	return -1;
}

struct store *cli_store(struct cli *cli)
{
	struct err e = { 0 };
	char *path;

	if (cli->store)
		return cli->store;
	if (make_dirs(cli->data_dir) < 0) {
		err_set(&e, ERR_PERMANENT, "data_dir",
			"cannot create the data directory %s: %s", cli->data_dir,
			strerror(errno));
		err_set_fix(&e, FIX_STORAGE, cli->data_dir);
		cli_fail(cli, &e);
		return NULL;
	}
	if (check_owner(cli) < 0 || check_private_dir(cli) < 0)
		return NULL;
	cli_config_start_log(cli);
	path = cli_store_path(cli);
	if (check_store_there(cli, path) < 0) {
		free(path);
		return NULL;
	}
	if (store_open(path, &cli->store, &e) < 0) {
		free(path);
		cli_fail(cli, &e);
		return NULL;
	}
	free(path);
	if (cli->vault)
		vault_guard_store(cli->vault, cli->store);
	return cli->store;
}

char *cli_store_path(const struct cli *cli)
{
	if (cli->database)
		return xstrdup(cli->database);
	return xasprintf("%s/inboxsync.db", cli->data_dir);
}

struct vault *cli_vault(struct cli *cli)
{
	if (!cli->vault)
		cli->vault = cli->key_file ? vault_new_file(cli->key_file)
					   : vault_new(cli->data_dir);
	/* once the store is open, no new key while it holds secrets */
	vault_guard_store(cli->vault, cli->store);
	return cli->vault;
}

const struct auth_env *cli_env(struct cli *cli)
{
	struct err e = { 0 };

	if (!cli_store(cli))
		return NULL;
	if (vault_check(cli_vault(cli), &e) < 0) {
		cli_fail(cli, &e);
		return NULL;
	}
	if (cli_config_client_secret(cli, cli_vault(cli)) < 0)
		return NULL;
	if (!cli->http)
		cli->http = http_client_new(NULL);
	cli->env.store = cli->store;
	cli->env.vault = cli_vault(cli);
	cli->env.http = cli->http;
	return &cli->env;
}

/* ---- errors ------------------------------------------------------------------ */

int cli_exit_code(const struct err *e)
{
	static const struct {
		const char *code;
		int exit_code;
	} by_code[] = {
		{ "usage", EXIT_USAGE },
		{ "oauth_not_configured", EXIT_NOT_CONFIGURED },
		{ "auth_required", EXIT_AUTH },
		{ "auth_invalid", EXIT_AUTH },
		{ "interrupted", EXIT_INTERRUPTED },
	};

	for (size_t i = 0; i < sizeof(by_code) / sizeof(by_code[0]); i++)
		if (strcmp(e->code, by_code[i].code) == 0)
			return by_code[i].exit_code;
	switch (e->class) {
	case ERR_AUTH:
		return EXIT_AUTH;
	case ERR_TRANSIENT:
	case ERR_THROTTLED:
		return EXIT_TRY_LATER;
	default:
		return EXIT_FAILED;
	}
}

/* The account a fix names: its argument, else the command's account. */
static const char *fix_account(const struct cli *cli, const struct err *e)
{
	return e->fix_arg[0] ? e->fix_arg : cli->account[0] ? cli->account : "NAME";
}

const char *cli_fix_text(const struct cli *cli, const struct err *e, char *out,
			 size_t n)
{
	const char *a = fix_account(cli, e);
	char when[TIME_RFC3339_LEN];

	out[0] = '\0';
	switch (e->fix) {
	case FIX_NONE:
		break;
	case FIX_AUTHORIZE:
		snprintf(out, n, "run 'inboxsync account authorize %s'", a);
		break;
	case FIX_REAUTHORIZE:
		snprintf(out, n, "run 'inboxsync account authorize %s' to sign in again", a);
		break;
	case FIX_SIGN_IN_AS:
		snprintf(out, n, "run 'inboxsync account authorize %s' again and pick %s "
			 "in Microsoft's account picker (use \"Use another account\" if "
			 "it is not listed)", cli->account[0] ? cli->account : "NAME",
			 e->fix_arg);
		break;
	case FIX_CONFIGURE_PROVIDER:
		snprintf(out, n, "an administrator must %s: run 'inboxsync provider set "
			 "microsoft --client-id ID --client-secret-file FILE [--tenant T]' "
			 "(once it is set up, only what changes), then 'inboxsync "
			 "provider check'",
			 e->fix_arg[0] ? e->fix_arg : "set up the app");
		break;
	case FIX_ENABLE_PROVIDER:
		snprintf(out, n, "an administrator can enable it with 'inboxsync "
			 "provider set microsoft --enable'");
		break;
	case FIX_ENABLE_TRANSPORT:
		snprintf(out, n, "an administrator can enable it with 'inboxsync "
			 "provider set microsoft --transports graph,imap'");
		break;
	case FIX_RETRY_AT:
		time_format_rfc3339((int64_t)strtoll(e->fix_arg, NULL, 10), when);
		if (!cli->command || strcmp(cli->command, "sync") == 0)
			snprintf(out, n, "it continues by itself; 'inboxsync sync' may "
				 "run again from %s", when);
		else
			snprintf(out, n, "run 'inboxsync %s' again from %s", cli->command,
				 when);
		break;
	case FIX_RETRY:
		/* Only `sync` retries by itself; anything else is run again. */
		if (cli->command && strcmp(cli->command, "sync") == 0)
			snprintf(out, n, "this is temporary: the next 'inboxsync sync' "
				 "continues where this one stopped");
		else if (cli->command && strcmp(cli->command, "send") == 0)
			snprintf(out, n, "this is temporary: 'inboxsync sync %s' delivers "
				 "it from the outbox", a);
		else
			snprintf(out, n, "this is temporary: run 'inboxsync %s' again in "
				 "a while", cli->command ? cli->command : "COMMAND");
		break;
	case FIX_FETCH_FOLDERS:
		snprintf(out, n, "run 'inboxsync folders fetch %s'", a);
		break;
	case FIX_SELECT_FOLDERS:
		snprintf(out, n, "run 'inboxsync folders fetch %s', then 'inboxsync "
			 "folders select %s Inbox'", a, a);
		break;
	case FIX_REMOVE_ACCOUNT:
		snprintf(out, n, "use account '%s', or remove it first with 'inboxsync "
			 "account remove %s'", a, a);
		break;
	case FIX_SHOW_OUTBOX:
		snprintf(out, n, "see 'inboxsync outbox list %s'", a);
		break;
	case FIX_CHECK_INPUT:
		snprintf(out, n, "%s", e->fix_arg);
		break;
	case FIX_RESTORE_BACKUP:
		snprintf(out, n, "stop inboxsync and put your latest backup in place "
			 "of %s, the store and its key file together ('inboxsync backup "
			 "FILE --with-key KEYFILE' makes one; docs/operations.md, "
			 "\"Restore\")", e->fix_arg);
		break;
	case FIX_PRIVATE_DIR:
		snprintf(out, n, "run 'chmod 700 %s'", e->fix_arg);
		break;
	case FIX_PRIVATE_FILE:
		snprintf(out, n, "run 'chmod 600 %s'", e->fix_arg);
		break;
	case FIX_MIGRATE:
		snprintf(out, n, "run 'inboxsync migrate' with the same --database "
			 "(once per database, before the nodes start)");
		break;
	default:
		/* The plain words, as the rest of a sentence. */
		err_fix_text(e->fix, e->fix_arg, out, n);
		if (out[0] >= 'A' && out[0] <= 'Z')
			out[0] = (char)(out[0] - 'A' + 'a');
		if (*out && out[strlen(out) - 1] == '.')
			out[strlen(out) - 1] = '\0';
		break;
	}
	return out;
}

int cli_fail(struct cli *cli, const struct err *e)
{
	char redacted[sizeof(e->msg) + 64], clean[sizeof(redacted)];
	char fix[1024], fixredacted[1100], fixclean[sizeof(fixredacted)];

	/* redacted, then printable UTF-8 (a stored reason may predate quoting) */
	log_redact(e->msg, redacted, sizeof(redacted));
	quote_str(clean, sizeof(clean), redacted);
	cli_fix_text(cli, e, fix, sizeof(fix));
	log_redact(fix, fixredacted, sizeof(fixredacted));
	quote_str(fixclean, sizeof(fixclean), fixredacted);
	fprintf(stderr, "inboxsync: %s%s%s\n", clean, fix[0] ? "; " : "", fixclean);
	if (cli->json) {
		json_t *err = jdoc_pack("{s:s,s:s,s:s,s:s,s:s}",
					"code", e->code[0] ? e->code : err_class_name(e->class),
					"class", err_class_name(e->class), "message", clean,
					"fix", fixclean, "fix_code", err_fix_name(e->fix));

		if (err && e->class == ERR_THROTTLED)
			jdoc_set(err, "retry_after", jdoc_int(e->retry_after_s));
		cli_print_json(jdoc_pack("{s:o}", "error", err ? err : jdoc_object()));
	}
	return cli_exit_code(e);
}

int cli_fail_stderr(struct cli *cli, const struct err *e)
{
	struct cli quiet = *cli;

	quiet.json = false;
	return cli_fail(&quiet, e);
}

void cli_notice(const struct cli *cli, const char *text)
{
	if (text && *text && cli->verbosity >= 0)
		cli_out(stderr, "Note: %s.\n", text);
}

/* ---- arguments ----------------------------------------------------------------- */

int cli_getopt_json_only(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1)
		if (opt == 'j')
			cli->json = true;
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	return -1;
}

int cli_simple_args(struct cli *cli, int argc, char **argv, int nargs,
		    const char *what)
{
	int rc = cli_getopt_json_only(cli, argc, argv);

	if (rc >= 0)
		return rc;
	if (argc - optind < nargs)
		return cli_usage(cli, "%s", what);
	if (argc - optind > nargs)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + nargs]);
	return -1;
}

int cli_usage(struct cli *cli, const char *fmt, ...)
{
	struct err e;
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(&e, ERR_PERMANENT, "usage", "%s (see 'inboxsync %s --help')", msg,
		cli->command ? cli->command : "");
	return cli_fail(cli, &e);
}

void cli_print_json(json_t *v)
{
	char *text;

	if (!v)
		return;
	text = jdoc_dump_pretty(v);
	if (text)
		printf("%s\n", text);
	free(text);
	jdoc_free(v);
}

bool cli_progress_enabled(const struct cli *cli)
{
	return cli->verbosity >= 0 && isatty(STDERR_FILENO);
}

/* The long option argv[optind - 1] names, for messages. */
static const char *option_named(char **argv, int at)
{
	return at > 0 ? argv[at - 1] : "?";
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, int *opt, int *index)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, index);
	if (c == 'h' || (c == '?' && optopt == 0 && optind > 0 &&
			 strcmp(argv[optind - 1], "--help") == 0)) {
		const struct cli_command *cmd = cli->cmd;

		if (cmd)
			printf("usage: inboxsync %s%s%s %s\n\n%s\n",
			       cmd->group ? cmd->group : "", cmd->group ? " " : "",
			       cmd->name, cmd->usage, cmd->help);
		return 1;
	}
	if (c == '?') {
		/* getopt sets optopt to the option's value when a known option
		 * lacks its argument, and to 0 for an unknown long option. */
		for (const struct option *o = longopts; optopt && o && o->name; o++)
			if (o->val == optopt && o->has_arg == required_argument)
				return cli_usage(cli, "option --%s needs a value", o->name), -1;
		if (optopt)
			cli_usage(cli, "unknown option -%c", optopt);
		else
			cli_usage(cli, "unknown option %s", option_named(argv, optind));
		return -1;
	}
	*opt = c;
	return 0;
}

int cli_find_account(struct cli *cli, const char *name, struct store_account *out)
{
	const struct auth_env *env = cli_env(cli);
	struct service_actor op = SERVICE_OPERATOR;
	struct err e = { 0 };

	if (!env)
		return -EXIT_FAILED;
	str_copy(cli->account, sizeof(cli->account), name);
	if (service_account_find(env, &op, name, cli->owner, out, &e) < 0) {
		if (err_is(&e, "not_found")) {
			err_set(&e, ERR_PERMANENT, "not_found", "no account named '%.100s'%s%.100s",
				name, cli->owner ? " owned by " : "", cli->owner ? cli->owner : "");
			err_set_fix(&e, FIX_CHECK_INPUT, "see 'inboxsync account list'");
		}
		return -cli_fail(cli, &e);
	}
	str_copy(cli->account, sizeof(cli->account), out->name);
	return 1;
}

const char *cli_time(int64_t t, char buf[32])
{
	if (!t) {
		snprintf(buf, 32, "never");
		return buf;
	}
	time_format_rfc3339(t, buf);
	return buf;
}
