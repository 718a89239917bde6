/*
 * main.c — the body of inboxsync's entry point (cli_main; main() itself is
 * entry.c, so tests can run the command line in a forked process): global
 * options (INTERFACE.md), the settings (cli_config.c: file, environment,
 * flags), then dispatch through the command table in cli_commands.c. Help
 * for every command comes from that table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "cli/cli_help.h"
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"
#include "inboxsync/http.h"
#include "inboxsync/log.h"
#include "inboxsync/version.h"

static void cli_free_globals(struct cli *cli)
{
	free(cli->data_dir);
	free(cli->database);
	free(cli->owner);
	free(cli->key_file);
	free(cli->config_path);
	cli->data_dir = cli->database = cli->owner = cli->key_file = NULL;
	cli->config_path = NULL;
	cli_config_free(cli);
}

/* Global options that take a value, and where it goes. */
static char **global_slot(struct cli *cli, const char *name)
{
	if (strcmp(name, "--data-dir") == 0)
		return &cli->data_dir;
	if (strcmp(name, "--database") == 0)
		return &cli->database;
	if (strcmp(name, "--owner") == 0)
		return &cli->owner;
	if (strcmp(name, "--key-file") == 0)
		return &cli->key_file;
	if (strcmp(name, "--config") == 0)
		return &cli->config_path;
	return NULL;
}

static const struct cli_command *find_command(int argc, char **argv, int *used)
{
	const char *first = argv[0];
	const char *second = argc > 1 ? argv[1] : NULL;

	for (const struct cli_command *const *cp = cli_commands; *cp; cp++) {
		const struct cli_command *c = *cp;

		if (!c->group && strcmp(c->name, first) == 0) {
			*used = 1;
			return c;
		}
		if (c->group && strcmp(c->group, first) == 0 && second &&
		    strcmp(c->name, second) == 0) {
			*used = 2;
			return c;
		}
	}
	return NULL;
}

static int is_group(const char *name)
{
	for (const struct cli_command *const *c = cli_commands; *c; c++)
		if ((*c)->group && strcmp((*c)->group, name) == 0)
			return 1;
	return 0;
}

static void print_group(FILE *out, const char *group)
{
	fprintf(out, "usage: inboxsync %s SUBCOMMAND ...\n\nSubcommands:\n", group);
	for (const struct cli_command *const *c = cli_commands; *c; c++)
		if ((*c)->group && strcmp((*c)->group, group) == 0)
			fprintf(out, "  %s %s %s\n", group, (*c)->name, (*c)->usage);
	fprintf(out, "\nRun 'inboxsync %s SUBCOMMAND --help' for details.\n", group);
}

/* Parse the global options in front of the command; returns the index of
 * the command word, or -1 after printing a usage error (-2: done, exit 0). */
static int parse_globals(struct cli *cli, int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		char name[32];
		char **slot;

		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		if ((slot = global_slot(cli, name))) {
			const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;

			if (!v || !*v) {
				fprintf(stderr, "inboxsync: option %s needs a value (see "
					"'inboxsync --help')\n", name);
				return -1;
			}
			free(*slot);
			*slot = xstrdup(v);
		} else if (strcmp(a, "--json") == 0) {
			cli->json = true;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			cli->verbosity++;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			cli->verbosity = -1;
		} else if (strcmp(a, "--version") == 0) {
			printf("inboxsync %s\n", INBOXSYNC_VERSION);
			return -2;
		} else if (strcmp(name, "--help-man") == 0) {
			const char *page = eq ? eq + 1 : i + 1 < argc ? argv[++i] : "";

			if (cli_write_man(stdout, page) < 0) {
				fprintf(stderr, "inboxsync: --help-man takes inboxsync.1 or "
					"inboxsync.conf.5, not '%s'\n", page);
				return -1;
			}
			return -2;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			cli_print_overview(stdout);
			return -2;
		} else {
			fprintf(stderr, "inboxsync: unknown global option '%s' "
				"(see 'inboxsync --help')\n", a);
			return -1;
		}
	}
	return i;
}

int cli_main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const struct cli_command *cmd;
	struct err e = { 0 };
	char command_name[64];
	int first, used = 0, rc;

	/* Tokens, the client secret and the key sit in this process's memory:
	 * no core dump of it, and no ptrace or /proc/PID/mem reading by other
	 * processes of the same user (root still can). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fprintf(stderr, "inboxsync: warning: cannot make the process "
			"undumpable; a core dump could hold secrets\n");
	umask(077); /* the store, key and log hold private data */
	cli_text_init();
	first = parse_globals(&cli, argc, argv);
	if (first < 0) {
		cli_free_globals(&cli);
		return first == -2 ? EXIT_OK : EXIT_USAGE;
	}
	if (first >= argc) {
		cli_print_overview(stderr);
		cli_free_globals(&cli);
		return EXIT_USAGE;
	}
	cmd = find_command(argc - first, argv + first, &used);
	if (!cmd) {
		if (is_group(argv[first])) {
			print_group(argc - first > 1 && strcmp(argv[first + 1], "--help")
				    ? stderr : stdout, argv[first]);
			cli_free_globals(&cli);
			return argc - first > 1 && strcmp(argv[first + 1], "--help") == 0
			       ? EXIT_OK : EXIT_USAGE;
		}
		fprintf(stderr, "inboxsync: unknown command '%s' (see 'inboxsync "
			"--help')\n", argv[first]);
		cli_free_globals(&cli);
		return EXIT_USAGE;
	}
	if (cli_config_load(&cli) < 0) {
		cli_free_globals(&cli);
		return EXIT_FAILED;
	}
	cli.cmd = cmd;
	snprintf(command_name, sizeof(command_name), "%s%s%s",
		 cmd->group ? cmd->group : "", cmd->group ? " " : "", cmd->name);
	cli.command = command_name;
	if (http_global_init(&e) < 0) {
		fprintf(stderr, "inboxsync: %s\n", e.msg);
		cli_free_globals(&cli);
		return EXIT_FAILED;
	}
	/* Until the data dir is open (cli_store), only warnings reach stderr. */
	log_set_level(LOG_WARN);
	/* getopt in the command sees argv starting at the command word. */
	optind = 1;
	rc = cmd->run(&cli, argc - first - used + 1, argv + first + used - 1);
	if (cli.store)
		store_close(cli.store);
	http_client_free(cli.http);
	vault_free(cli.vault);
	log_set_file(NULL);
	http_global_cleanup();
	cli_free_globals(&cli);
	return rc;
}
