/*
 * cli_progress.c — in-place progress bars for `sync` (see cli_progress.h).
 * Lines are keyed by account/folder; each update redraws all of them by
 * moving the cursor up over the previous drawing.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli_progress.h"
#include "inboxsync/alloc.h"
#include "inboxsync/quote.h"
#include "inboxsync/timeutil.h"

#define MAX_LINES 64
#define BAR_WIDTH 24
#define LABEL_SHOWN 28 /* bytes of "account: folder" in the first column */

struct line {
	char key[300];
	char label[64];
	char phase[16];
	long long synced, total, start_synced;
	int64_t start_ms;
	bool resync;
};

struct cli_progress {
	pthread_mutex_t lock;
	struct line lines[MAX_LINES];
	size_t n;
	size_t drawn;
	int64_t last_draw_ms;
};

struct cli_progress *cli_progress_new(void)
{
	struct cli_progress *pr = xcalloc(1, sizeof(*pr));

	pthread_mutex_init(&pr->lock, NULL);
	return pr;
}

static void draw(struct cli_progress *pr)
{
	if (pr->drawn)
		fprintf(stderr, "\033[%zuA", pr->drawn);
	for (size_t i = 0; i < pr->n; i++) {
		const struct line *l = &pr->lines[i];
		double secs = (double)(time_mono_ms() - l->start_ms) / 1000.0;
		double rate = secs > 0.2 ? (double)(l->synced - l->start_synced) / secs : 0;
		long long total = l->total > l->synced ? l->total : l->synced;
		int filled = total ? (int)((double)l->synced * BAR_WIDTH / (double)total) : 0;
		char bar[BAR_WIDTH + 1];

		for (int b = 0; b < BAR_WIDTH; b++)
			bar[b] = b < filled ? '#' : '-';
		bar[BAR_WIDTH] = '\0';
		fprintf(stderr, "\033[2K%-28s [%s] %9lld/%-9lld %7.0f msg/s  %s%s\n",
			l->label, bar, l->synced, total, rate, l->phase,
			l->resync ? " (re-sync)" : "");
	}
	pr->drawn = pr->n;
	fflush(stderr);
	pr->last_draw_ms = time_mono_ms();
}

void cli_progress_update(void *ctx, const struct engine_progress *p)
{
	struct cli_progress *pr = ctx;
	char key[300], label[300];
	struct line *l = NULL;

	snprintf(key, sizeof(key), "%s/%s", p->account, p->folder);
	pthread_mutex_lock(&pr->lock);
	for (size_t i = 0; i < pr->n; i++)
		if (strcmp(pr->lines[i].key, key) == 0)
			l = &pr->lines[i];
	if (!l && pr->n < MAX_LINES) {
		l = &pr->lines[pr->n++];
		str_copy(l->key, sizeof(l->key), key);
		/* the folder's name is the server's: quoted, cut to the column */
		snprintf(label, sizeof(label), "%s: %s", p->account, p->folder);
		quote_str(l->label, LABEL_SHOWN + 1, label);
		l->start_synced = p->synced;
		l->start_ms = time_mono_ms();
	}
	if (l) {
		str_copy(l->phase, sizeof(l->phase), p->phase);
		l->synced = p->synced;
		l->total = p->total;
		l->resync = p->resync;
	}
	if (time_mono_ms() - pr->last_draw_ms > 100 || !strcmp(p->phase, "live"))
		draw(pr);
	pthread_mutex_unlock(&pr->lock);
}

void cli_progress_note(struct cli_progress *pr, const char *fmt, ...)
{
	char note[1024], shown[1024];
	va_list ap;

	pthread_mutex_lock(&pr->lock);
	if (pr->drawn)
		fprintf(stderr, "\033[%zuA\033[J", pr->drawn);
	pr->drawn = 0;
	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", quote_str(shown, sizeof(shown), note));
	draw(pr);
	pthread_mutex_unlock(&pr->lock);
}

void cli_progress_free(struct cli_progress *pr)
{
	if (!pr)
		return;
	pthread_mutex_lock(&pr->lock);
	draw(pr);
	pthread_mutex_unlock(&pr->lock);
	pthread_mutex_destroy(&pr->lock);
	free(pr);
}
