/*
 * main.c — inboxsync's entry point: global options (INTERFACE.md), the
 * data directory, logging, then dispatch through the command table in
 * cli_commands.c. Help for every command comes from that table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"
#include "inboxsync/http.h"
#include "inboxsync/log.h"

static void print_overview(FILE *out)
{
	const char *group = "";

	fprintf(out,
		"usage: inboxsync [--data-dir DIR] [--json] [-v|-q] COMMAND ...\n\n"
		"Connects Microsoft 365 / Exchange Online / Outlook.com mailboxes\n"
		"through OAuth 2.0 and keeps them synchronized.\n\n"
		"Global options:\n"
		"  --data-dir DIR   where the store, key and log live (default\n"
		"                   $INBOXSYNC_HOME, else $XDG_DATA_HOME/inboxsync,\n"
		"                   else ~/.local/share/inboxsync)\n"
		"  --database LOC   the store: a SQLite file (default DIR/inboxsync.db)\n"
		"                   or postgresql://... (also $INBOXSYNC_DATABASE)\n"
		"  --key-file F     the token-encryption key (default DIR/secret.key;\n"
		"                   also $INBOXSYNC_KEY_FILE; every node shares one)\n"
		"  --owner USER     whose account a NAME means, when names repeat\n"
		"  --json           print one JSON document on stdout, nothing else\n"
		"  -v, --verbose    more detail in the log (debug level)\n"
		"  -q, --quiet      no progress output\n"
		"  --version        print the version\n\n"
		"Commands:\n");
	for (const struct cli_command *const *cp = cli_commands; *cp; cp++) {
		const struct cli_command *c = *cp;
		const char *g = c->group ? c->group : "";

		if (strcmp(g, group) != 0) {
			if (*group)
				fputc('\n', out);
			group = g;
		}
		char name[48];
		size_t first_line = strcspn(c->help, "\n");

		snprintf(name, sizeof(name), "%s%s%s", g, *g ? " " : "", c->name);
		fprintf(out, "  %-20s %.*s\n", name, (int)first_line, c->help);
	}
	fprintf(out, "\nRun 'inboxsync COMMAND --help' for details on a command.\n"
		"Exit codes: 0 ok, 1 failed, 2 usage error, 3 OAuth not configured,\n"
		"4 authorization needed, 5 throttled or temporary failure (try later),\n"
		"130 interrupted (docs/cli.md has the rule).\n");
}

static void cli_free_globals(struct cli *cli)
{
	free(cli->data_dir);
	free(cli->database);
	free(cli->owner);
	free(cli->key_file);
	cli->data_dir = cli->database = cli->owner = cli->key_file = NULL;
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
	return NULL;
}

static char *default_data_dir(void)
{
	const char *home = getenv("INBOXSYNC_HOME");
	const char *xdg = getenv("XDG_DATA_HOME");

	if (home && *home)
		return xstrdup(home);
	if (xdg && *xdg)
		return xasprintf("%s/inboxsync", xdg);
	home = getenv("HOME");
	return xasprintf("%s/.local/share/inboxsync", home && *home ? home : ".");
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
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_overview(stdout);
			return -2;
		} else {
			fprintf(stderr, "inboxsync: unknown global option '%s' "
				"(see 'inboxsync --help')\n", a);
			return -1;
		}
	}
	return i;
}

/* An environment variable's value when it is set and not empty, else
 * NULL (read once: a second getenv may not see the first's string). */
static const char *env_value(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const struct cli_command *cmd;
	struct err e = { 0 };
	char command_name[64];
	int first, used = 0, rc;

	umask(077); /* the store, key and log hold private data */
	cli_text_init();
	first = parse_globals(&cli, argc, argv);
	if (first < 0) {
		cli_free_globals(&cli);
		return first == -2 ? EXIT_OK : EXIT_USAGE;
	}
	if (first >= argc) {
		print_overview(stderr);
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
	if (!cli.data_dir)
		cli.data_dir = default_data_dir();
	if (!cli.database)
		cli.database = xstrdup(env_value("INBOXSYNC_DATABASE"));
	if (!cli.key_file)
		cli.key_file = xstrdup(env_value("INBOXSYNC_KEY_FILE"));
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
