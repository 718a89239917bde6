/*
 * crashpoint.c — SIGKILL at a named point for crash-safety tests (see
 * crashpoint.h).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/crashpoint.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char target[128];
static long target_count = 1;
static _Atomic long hits;

static void load(void)
{
	const char *v = getenv("INBOXSYNC_CRASH_AT");
	const char *colon;
	size_t n;

	if (!v || !*v)
		return;
	colon = strrchr(v, ':');
	n = strlen(v);
	if (colon && colon[1] >= '0' && colon[1] <= '9') {
		target_count = strtol(colon + 1, NULL, 10);
		n = (size_t)(colon - v);
	}
	if (n >= sizeof(target))
		n = sizeof(target) - 1;
	memcpy(target, v, n);
	target[n] = '\0';
}

void crashpoint(const char *name)
{
	pthread_once(&once, load);
	if (!target[0] || strcmp(target, name) != 0)
		return;
	if (atomic_fetch_add(&hits, 1) + 1 >= target_count)
		raise(SIGKILL);
}
