/*
 * cli_progress.h — progress bars on stderr for long syncs: one line per
 * folder (messages synced / total, rate, phase), redrawn in place and
 * fitted to the terminal's width (followed on SIGWINCH) so that no line
 * wraps. Only used when stderr is a terminal. Thread-safe (workers
 * report).
 */
#ifndef INBOXSYNC_CLI_PROGRESS_H
#define INBOXSYNC_CLI_PROGRESS_H

#include "inboxsync/engine.h"

struct cli_progress;

/* Start drawing; installs a SIGWINCH handler until cli_progress_free. */
struct cli_progress *cli_progress_new(void);
/* engine_opts.progress callback; ctx is the cli_progress. */
void cli_progress_update(void *ctx, const struct engine_progress *p);
/* Print a status line above the bars (e.g. "throttled, waiting 30 s"). */
void cli_progress_note(struct cli_progress *pr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Final redraw and free. */
void cli_progress_free(struct cli_progress *pr);

#endif
