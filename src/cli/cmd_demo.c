/*
 * cmd_demo.c — `demo`: the end-to-end demonstration of INTERFACE.md
 * ("inboxsync demo starts m365sim and the server with a demo administrator,
 * a demo user and a demo mailbox, walks the main flow, prints the URL and
 * the logins"). The walk itself is scripts/demo.sh (the same script `make
 * demo` runs); this command finds it and m365sim next to this program (a
 * build tree) or where the packages install them, and runs it with this
 * very binary.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "inboxsync/alloc.h"

/* The directory of this executable into `out` ("" when unknown). */
static void self_dir(char *out, size_t n)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	out[0] = '\0';
	if (len <= 0)
		return;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (slash) {
		*slash = '\0';
		str_copy(out, n, exe);
	}
}

/* The first of `candidates` that is an executable (want_exec) or readable
 * file, into `out`: a candidate starting with "+" is relative to `dir` (the
 * executable's directory), any other is taken as it is. */
static bool find_file(const char *dir, const char *const *candidates, bool want_exec,
		      char *out, size_t n)
{
	for (size_t i = 0; candidates[i]; i++) {
		if (candidates[i][0] == '+')
			snprintf(out, n, "%s/%s", dir, candidates[i] + 1);
		else
			str_copy(out, n, candidates[i]);
		if (access(out, want_exec ? X_OK : R_OK) == 0)
			return true;
	}
	return false;
}

static int cmd_demo(struct cli *cli, int argc, char **argv)
{
	static const char *const scripts[] = {
		"+../scripts/demo.sh",                 /* build/inboxsync */
		"+../share/inboxsync/demo.sh",         /* /usr/bin/inboxsync */
		NULL,
	};
	static const char *const sims[] = {
		"+m365sim", "/usr/bin/m365sim", "/usr/local/bin/m365sim", NULL,
	};
	char dir[PATH_MAX], script[PATH_MAX + 64], sim[PATH_MAX + 64], self[PATH_MAX + 64];
	const char *given = getenv("INBOXSYNC_DEMO_SCRIPT");
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 0, "")) >= 0)
		return rc;
	self_dir(dir, sizeof(dir));
	snprintf(self, sizeof(self), "%s/inboxsync", dir);
	if (given && *given)
		str_copy(script, sizeof(script), given);
	else if (!find_file(dir, scripts, false, script, sizeof(script))) {
		fprintf(stderr, "inboxsync: the demo script was not found next to this program "
			"(%s/../scripts/demo.sh or %s/../share/inboxsync/demo.sh); run 'make demo' "
			"in the source tree, or set INBOXSYNC_DEMO_SCRIPT\n", dir, dir);
		return EXIT_FAILED;
	}
	if (!find_file(dir, sims, true, sim, sizeof(sim))) {
		fprintf(stderr, "inboxsync: the demo needs m365sim (the simulator of Microsoft "
			"365): install the inboxsync-sim package, or build it (make)\n");
		return EXIT_FAILED;
	}
	setenv("INBOXSYNC_BIN", self, 1);
	setenv("M365SIM_BIN", sim, 1);
	fflush(NULL);
	execl("/bin/bash", "bash", script, (char *)NULL);
	fprintf(stderr, "inboxsync: could not run %s with /bin/bash\n", script);
	return EXIT_FAILED;
}

const struct cli_command cli_demo = {
	NULL, "demo", cmd_demo, "",
	"Run the end-to-end demo against m365sim, the Microsoft 365 simulator.\n\n"
	"Starts m365sim with seeded mailboxes and 'inboxsync serve' on a private\n"
	"data directory, creates a demo administrator and a demo user, connects,\n"
	"authorizes and synchronizes a demo mailbox and sends a message through\n"
	"the REST API, then prints the address of the web UI and the logins.\n"
	"From a terminal it keeps serving until Ctrl-C; otherwise it stops\n"
	"everything and exits 0 after the walk-through. Environment:\n"
	"DEMO_MESSAGES (messages per mailbox, default 5000), DEMO_PORT (the\n"
	"server's port, default 8025; 0 picks a free one).",
};
