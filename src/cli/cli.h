/*
 * cli.h — shared plumbing of the inboxsync command line: the context every
 * command receives (data dir, output mode, lazily opened store, vault and
 * HTTP client for the service layer), exit codes (INTERFACE.md, the rule
 * in docs/cli.md), error reporting with each fix rendered as the command
 * to run, option parsing helpers and the command table entry type. The
 * commands parse, call src/service and print; only src/cli prints or
 * exits.
 */
#ifndef INBOXSYNC_CLI_H
#define INBOXSYNC_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include "inboxsync/err.h"
#include "inboxsync/jdoc.h"
#include "inboxsync/service.h"
#include "inboxsync/store.h"
#include "inboxsync/vault.h"

enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_NOT_CONFIGURED = 3,
	EXIT_AUTH = 4,
	EXIT_TRY_LATER = 5,
	EXIT_INTERRUPTED = 130,   /* SIGINT or SIGTERM (128 + SIGINT) */
};

struct cli {
	char *data_dir;
	char *database;           /* --database / $INBOXSYNC_DATABASE, or NULL */
	bool json;
	int verbosity;            /* -1 quiet, 0 normal, 1+ verbose */
	char *owner;              /* --owner USER: narrows account names */
	char *key_file;           /* --key-file / $INBOXSYNC_KEY_FILE, or NULL */
	char *config_path;        /* --config FILE, or NULL */
	struct config *config;    /* the effective settings (cli_config.c) */
	struct store *store;      /* opened on first cli_store() */
	struct vault *vault;      /* created on first cli_vault() */
	struct http_client *http; /* created on first cli_env() */
	struct auth_env env;      /* filled by cli_env() */
	const char *command;      /* "account add", for messages */
	char account[128];        /* the account the command is about, for fixes */
	const struct cli_command *cmd;
};

struct cli_command {
	const char *group;        /* "account", or NULL for a top-level command */
	const char *name;         /* "add" */
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage;        /* one line: arguments and options */
	const char *help;         /* what it does, options explained */
};

/* Read the settings (file, environment, global flags: cli_config.c) into
 * cli->config and fill data_dir, database and key_file from them. On
 * failure prints the error and returns -1 (exit EXIT_FAILED). */
int cli_config_load(struct cli *cli);
void cli_config_free(struct cli *cli);

/* Send log lines where the settings say (the data dir's log file, the
 * journal under systemd, stderr) at their level. */
void cli_config_start_log(const struct cli *cli);

/* Seal the client secret the settings point to (client_secret_file or the
 * systemd credential), if any, so that it replaces the stored one; once
 * per process. -1 after printing the error. */
int cli_config_client_secret(struct cli *cli, struct vault *v);

/* The whole command line: what main() runs (entry.c), returning the exit
 * status. Runs once per process (the allocation torture runs it in forked
 * children). */
int cli_main(int argc, char **argv);

/* The table of every command (cli_commands.c), NULL-terminated. */
extern const struct cli_command *const cli_commands[];

/* Open the store in the data dir (creating the dir 0700), once. On failure
 * prints the error and returns NULL (callers return EXIT_FAILED). */
struct store *cli_store(struct cli *cli);
struct vault *cli_vault(struct cli *cli);

/* The store, vault and an HTTP client together, for service calls; NULL
 * after printing the error when the store cannot be opened. */
const struct auth_env *cli_env(struct cli *cli);

/* Where the store is: --database when given, else <data dir>/inboxsync.db
 * (heap string). */
char *cli_store_path(const struct cli *cli);

/* Print `e` with its fix as the command to run (stderr, plus a JSON
 * error document on stdout with --json) and return the exit code its
 * class/code maps to. */
int cli_fail(struct cli *cli, const struct err *e);

/* The exit code an error maps to (docs/cli.md). */
int cli_exit_code(const struct err *e);

/* The fix of `e` as what to do at this command line ("run 'inboxsync
 * account authorize work'"), into `out`; "" when there is none. */
const char *cli_fix_text(const struct cli *cli, const struct err *e, char *out,
			 size_t n);

/* Like cli_fail, but only on stderr (for a second error after a JSON
 * document was already printed). */
int cli_fail_stderr(struct cli *cli, const struct err *e);

/* Parse a command whose only options are --json and --help and that takes
 * exactly `nargs` arguments (`what` describes them for the usage error).
 * Returns -1 to go on (the arguments are argv[optind...]), else the exit
 * code to return. */
int cli_simple_args(struct cli *cli, int argc, char **argv, int nargs,
		    const char *what);

/* Parse a command whose only options are --json and --help; the
 * arguments are argv[optind...]. Returns -1 to go on, else the exit code. */
int cli_getopt_json_only(struct cli *cli, int argc, char **argv);

/* printf-style usage error for the current command: prints it with a hint
 * to `--help` and returns EXIT_USAGE. */
int cli_usage(struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print `v` as the one JSON document on stdout (steals the reference). */
void cli_print_json(json_t *v);

/* Print a human line for a notice from the service (stderr). */
void cli_notice(const struct cli *cli, const char *text);

/* Human output goes to stdout unless --json; progress to stderr only when
 * it is a terminal and not -q. */
bool cli_progress_enabled(const struct cli *cli);

/* Parse argv with getopt_long; `--help`/`-h` prints the command's help and
 * returns 1 (the caller returns EXIT_OK); an unknown option returns -1 after
 * printing a usage error. Otherwise 0 with optind past the options. */
int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, int *opt, int *index);

/* The account `name` names (name or id; --owner narrows), or a printed
 * error — returns 1 found, else the exit code to return (negated). */
int cli_find_account(struct cli *cli, const char *name,
		     struct store_account *out);

/* Format a time as RFC 3339, or "never" for 0. */
const char *cli_time(int64_t t, char buf[32]);

#endif
