/*
 * cli_help.c — the text of `inboxsync --help` (see cli_help.h). The
 * command list comes from the command table; the manual page is written
 * from these same strings by cli_man.c.
 */
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_help.h"
#include "inboxsync/config.h"

const char cli_synopsis[] =
	"[--config FILE] [--data-dir DIR] [--json] [-v|-q] COMMAND ...";

const char cli_description[] =
	"Connects Microsoft 365 / Exchange Online / Outlook.com mailboxes\n"
	"through OAuth 2.0 and keeps them synchronized.";

const char cli_global_options[] =
	"  --config FILE    the settings file (default $INBOXSYNC_CONFIG, else\n"
	"                   " CONFIG_DEFAULT_PATH " when it exists;\n"
	"                   see 'inboxsync config check')\n"
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
	"  --version        print the version\n"
	"  --help-man PAGE  write the manual page inboxsync.1 or inboxsync.conf.5";

const char cli_exit_codes[] =
	"Exit codes: 0 ok, 1 failed, 2 usage error, 3 OAuth not configured,\n"
	"4 authorization needed, 5 throttled or temporary failure (try later),\n"
	"130 interrupted (docs/cli.md has the rule).";

void cli_print_overview(FILE *out)
{
	const char *group = "";

	fprintf(out, "usage: inboxsync %s\n\n%s\n\nGlobal options:\n%s\n\nCommands:\n",
		cli_synopsis, cli_description, cli_global_options);
	for (const struct cli_command *const *cp = cli_commands; *cp; cp++) {
		const struct cli_command *c = *cp;
		const char *g = c->group ? c->group : "";
		size_t first_line = strcspn(c->help, "\n");
		char name[48];

		if (strcmp(g, group) != 0) {
			if (*group)
				fputc('\n', out);
			group = g;
		}
		snprintf(name, sizeof(name), "%s%s%s", g, *g ? " " : "", c->name);
		fprintf(out, "  %-20s %.*s\n", name, (int)first_line, c->help);
	}
	fprintf(out, "\nRun 'inboxsync COMMAND --help' for details on a command.\n%s\n",
		cli_exit_codes);
}
