/*
 * crashpoint.h — deliberate crashes for crash-safety tests (isync/SQLite
 * style): when the environment variable INBOXSYNC_CRASH_AT names a point
 * ("outbox:after_draft", "engine:after_page:3" for the third time the
 * point is reached), the process kills itself with SIGKILL there. Without
 * the variable a crash point costs one cached getenv check.
 */
#ifndef INBOXSYNC_CRASHPOINT_H
#define INBOXSYNC_CRASHPOINT_H

/* Die with SIGKILL if INBOXSYNC_CRASH_AT selects `name` (and this is the
 * N-th time it is reached, when ":N" is given). */
void crashpoint(const char *name);

#endif
