/*
 * cli_util.c — the helpers every command shares (see cli.h): opening the
 * store and vault in the data dir, turning classified errors into messages
 * and exit codes, option parsing with per-command --help, JSON output.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
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

struct store *cli_store(struct cli *cli)
{
	struct err e = { 0 };
	char *path, *log_path;

	if (cli->store)
		return cli->store;
	if (make_dirs(cli->data_dir) < 0) {
		err_set(&e, ERR_PERMANENT, "data_dir",
			"cannot create the data directory %s: %s; choose another "
			"with --data-dir", cli->data_dir, strerror(errno));
		cli_fail(cli, &e);
		return NULL;
	}
	log_path = xasprintf("%s/inboxsync.log", cli->data_dir);
	if (log_set_file(log_path) == 0)
		log_set_level(cli->verbosity > 0 ? LOG_DEBUG : LOG_INFO);
	free(log_path);
	path = cli_store_path(cli);
	if (store_open(path, &cli->store, &e) < 0) {
		free(path);
		cli_fail(cli, &e);
		return NULL;
	}
	free(path);
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
		cli->vault = vault_new(cli->data_dir);
	return cli->vault;
}

/* Exit code for an error: by machine code first, then by class. */
static int exit_code_for(const struct err *e)
{
	static const struct {
		const char *code;
		int exit_code;
	} by_code[] = {
		{ "usage", EXIT_USAGE },
		{ "oauth_not_configured", EXIT_NOT_CONFIGURED },
		{ "auth_required", EXIT_AUTH },
		{ "auth_invalid", EXIT_AUTH },
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

int cli_fail(struct cli *cli, const struct err *e)
{
	char clean[sizeof(e->msg) + 64];

	log_redact(e->msg, clean, sizeof(clean));
	fprintf(stderr, "inboxsync: %s\n", clean);
	if (cli->json) {
		json_t *doc = json_pack("{s:{s:s,s:s,s:s}}", "error", "code",
					e->code[0] ? e->code : err_class_name(e->class),
					"class", err_class_name(e->class), "message", clean);
		if (e->class == ERR_THROTTLED && doc)
			json_object_set_new(json_object_get(doc, "error"), "retry_after",
					    json_integer(e->retry_after_s));
		cli_print_json(doc);
	}
	return exit_code_for(e);
}

int cli_fail_stderr(struct cli *cli, const struct err *e)
{
	struct cli quiet = *cli;

	quiet.json = false;
	return cli_fail(&quiet, e);
}

int cli_simple_args(struct cli *cli, int argc, char **argv, int nargs,
		    const char *what)
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
	if (!v)
		return;
	json_dumpf(v, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(v);
}

bool cli_progress_enabled(const struct cli *cli)
{
	return cli->verbosity >= 0 && isatty(STDERR_FILENO);
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
	if (c == '?' || c == ':') {
		if (optopt)
			cli_usage(cli, "option -%c needs a value or is unknown", optopt);
		else
			cli_usage(cli, "unknown option or missing value: %s",
				  argv[optind - 1]);
		return -1;
	}
	*opt = c;
	return 0;
}

int cli_find_account(struct cli *cli, const char *name, struct store_account *out)
{
	struct store *st = cli_store(cli);
	struct err e = { 0 };
	int rc;

	if (!st)
		return -EXIT_FAILED;
	rc = store_get_account_by_name(st, name, out, &e);
	if (rc < 0)
		return -cli_fail(cli, &e);
	if (rc == 0) {
		err_set(&e, ERR_PERMANENT, "not_found",
			"no account named '%s' (see 'inboxsync account list')", name);
		return -cli_fail(cli, &e);
	}
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
