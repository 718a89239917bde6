/*
 * cli_help.h — inboxsync's help as data, written two ways from the same
 * text: `inboxsync --help` (cli_help.c) and the manual pages inboxsync(1)
 * and inboxsync.conf(5) (cli_man.c, `inboxsync --help-man PAGE`, run by
 * the build), so the two never disagree.
 */
#ifndef INBOXSYNC_CLI_HELP_H
#define INBOXSYNC_CLI_HELP_H

#include <stdio.h>

extern const char cli_synopsis[];       /* after "inboxsync " */
extern const char cli_description[];    /* what inboxsync is, a paragraph */
extern const char cli_global_options[]; /* "  --opt ARG   what it does" lines */
extern const char cli_exit_codes[];     /* a paragraph */

/* `inboxsync --help`: synopsis, global options, every command's first
 * help line, exit codes. */
void cli_print_overview(FILE *out);

/* Write the manual page `page` ("inboxsync.1" or "inboxsync.conf.5") as
 * roff to `out`. Returns 0, or -1 for a page it does not know. */
int cli_write_man(FILE *out, const char *page);

#endif
