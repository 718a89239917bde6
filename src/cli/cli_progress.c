/*
 * cli_progress.c — in-place progress bars for `sync` (see cli_progress.h).
 * Lines are keyed by account/folder; each redraw moves the cursor up over
 * the previous drawing and clears below it. Every line is fitted to the
 * terminal's width (TIOCGWINSZ, read again after SIGWINCH) by display
 * width, one column short of the edge, so no line ever wraps and the
 * cursor-up count stays true; a terminal with fewer rows than folders
 * shows as many as fit and how many more there are.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "cli/cli_progress.h"
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"
#include "inboxsync/quote.h"
#include "inboxsync/timeutil.h"

#define MAX_LINES 64
#define BAR_MIN 8
#define BAR_MAX 24
#define LABEL_MIN 14
#define DEFAULT_COLS 80
#define DEFAULT_ROWS 24

struct line {
	char key[300];
	char account[128];
	char folder[256];
	char phase[16];
	long long synced, total, start_synced;
	int64_t start_ms;
	bool resync;
};

struct cli_progress {
	pthread_mutex_t lock;
	struct line lines[MAX_LINES];
	size_t n;
	size_t drawn;              /* lines on screen from the last drawing */
	int cols, rows;
	int64_t last_draw_ms;
	struct sigaction old_winch;
};

static volatile sig_atomic_t resized = 1;

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

/* The terminal's size now (stderr's), or the classic 80x24. */
static void read_size(struct cli_progress *pr)
{
	struct winsize ws;

	resized = 0;
	pr->cols = DEFAULT_COLS;
	pr->rows = DEFAULT_ROWS;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		pr->cols = ws.ws_col;
		pr->rows = ws.ws_row > 0 ? ws.ws_row : DEFAULT_ROWS;
	}
}

struct cli_progress *cli_progress_new(void)
{
	struct cli_progress *pr = xcalloc(1, sizeof(*pr));
	struct sigaction sa;

	pthread_mutex_init(&pr->lock, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_winch;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGWINCH, &sa, &pr->old_winch);
	read_size(pr);
	return pr;
}

/* The columns of one drawing, the same for every line so they align. */
struct layout {
	int width;                 /* columns a line may use */
	int digits;                /* of the largest count */
	int phase_w;
	bool rate;                 /* room for msg/s */
	int bar_w;                 /* 0 = no bar */
	int label_w;
};

static int digits_of(long long v)
{
	int d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static long long shown_total(const struct line *l)
{
	return l->total > l->synced ? l->total : l->synced;
}

static void plan(const struct cli_progress *pr, size_t shown, struct layout *lay)
{
	int tail;

	memset(lay, 0, sizeof(*lay));
	lay->width = pr->cols - 1;
	for (size_t i = 0; i < shown; i++) {
		const struct line *l = &pr->lines[i];
		int d = digits_of(shown_total(l));
		int pw = (int)strlen(l->phase) + (l->resync ? 10 : 0);

		lay->digits = d > lay->digits ? d : lay->digits;
		lay->phase_w = pw > lay->phase_w ? pw : lay->phase_w;
	}
	/* " 123/456 1234 msg/s backfill" */
	tail = 1 + 2 * lay->digits + 1 + 1 + lay->phase_w;
	lay->rate = lay->width - tail - 11 >= LABEL_MIN + BAR_MIN + 3;
	if (lay->rate)
		tail += 11;
	lay->bar_w = (lay->width - tail - LABEL_MIN - 3) / 2;
	if (lay->bar_w > BAR_MAX)
		lay->bar_w = BAR_MAX;
	if (lay->bar_w < BAR_MIN)
		lay->bar_w = 0;
	lay->label_w = lay->width - tail - (lay->bar_w ? lay->bar_w + 3 : 0);
	if (lay->label_w < 1)
		lay->label_w = 1;
}

/* "account: folder" in `w` columns: the folder is what tells the lines
 * apart, so the account's name is cut first. */
static void label_cell(const struct line *l, int w, char *out, size_t n)
{
	char acc[300], both[700];
	int fw = cli_text_width(l->folder);
	int aw = w - fw - 2;

	if (cli_text_width(l->account) + 2 + fw > w) {
		if (aw < 6)
			aw = w / 3 > 1 ? w / 3 : 1;
		cli_text_cell(l->account, aw, 0, acc, sizeof(acc));
	} else {
		str_copy(acc, sizeof(acc), l->account);
	}
	snprintf(both, sizeof(both), "%s: %s", acc, l->folder);
	cli_text_cell(both, w, 1, out, n);
}

/* One folder's line by the layout, never wider than lay->width. */
static void format_line(const struct line *l, const struct layout *lay, char *out,
			size_t n)
{
	double secs = (double)(time_mono_ms() - l->start_ms) / 1000.0;
	double rate = secs > 0.2 ? (double)(l->synced - l->start_synced) / secs : 0;
	long long total = shown_total(l);
	char label[700], bar[BAR_MAX + 1], rate_text[32] = "", whole[1000];

	for (int b = 0; b < lay->bar_w; b++)
		bar[b] = total && b < (int)((double)l->synced * lay->bar_w / (double)total)
			 ? '#' : '-';
	bar[lay->bar_w] = '\0';
	if (lay->rate)
		snprintf(rate_text, sizeof(rate_text), " %4.0f msg/s", rate > 9999 ? 9999 : rate);
	label_cell(l, lay->label_w, label, sizeof(label));
	snprintf(whole, sizeof(whole), "%s%s%s%s %*lld/%-*lld%s %s%s", label,
		 lay->bar_w ? " [" : "", bar, lay->bar_w ? "]" : "", lay->digits,
		 l->synced, lay->digits, total, rate_text, l->phase,
		 l->resync ? " (re-sync)" : "");
	/* Whatever is left over is cut: the line never reaches the edge. */
	cli_text_cell(whole, lay->width, 0, out, n);
}

/* Move up over the last drawing and clear it. Lock held. */
static void erase(struct cli_progress *pr)
{
	if (pr->drawn)
		fprintf(stderr, "\r\033[%zuA\033[J", pr->drawn);
	else
		fputs("\r\033[J", stderr);
	pr->drawn = 0;
}

static void draw(struct cli_progress *pr)
{
	struct layout lay;
	size_t room, shown;
	char text[1000];

	if (resized)
		read_size(pr);
	erase(pr);
	room = pr->rows > 2 ? (size_t)pr->rows - 1 : 1;
	shown = pr->n <= room ? pr->n : room - 1;
	plan(pr, shown, &lay);
	for (size_t i = 0; i < shown; i++) {
		format_line(&pr->lines[i], &lay, text, sizeof(text));
		fprintf(stderr, "%s\n", text);
	}
	if (shown < pr->n) {
		char more[64];

		snprintf(more, sizeof(more), "... and %zu more folders", pr->n - shown);
		fprintf(stderr, "%s\n", cli_text_cell(more, pr->cols - 1, 0, text, sizeof(text)));
		shown++;
	}
	pr->drawn = shown;
	fflush(stderr);
	pr->last_draw_ms = time_mono_ms();
}

void cli_progress_update(void *ctx, const struct engine_progress *p)
{
	struct cli_progress *pr = ctx;
	char key[300];
	struct line *l = NULL;

	snprintf(key, sizeof(key), "%s/%s", p->account, p->folder);
	pthread_mutex_lock(&pr->lock);
	for (size_t i = 0; i < pr->n; i++)
		if (strcmp(pr->lines[i].key, key) == 0)
			l = &pr->lines[i];
	if (!l && pr->n < MAX_LINES) {
		l = &pr->lines[pr->n++];
		str_copy(l->key, sizeof(l->key), key);
		str_copy(l->account, sizeof(l->account), p->account);
		str_copy(l->folder, sizeof(l->folder), p->folder);
		l->start_synced = p->synced;
		l->start_ms = time_mono_ms();
	}
	if (l) {
		str_copy(l->phase, sizeof(l->phase), p->phase);
		l->synced = p->synced;
		l->total = p->total;
		l->resync = p->resync;
	}
	if (time_mono_ms() - pr->last_draw_ms > 100 || !strcmp(p->phase, "live") || resized)
		draw(pr);
	pthread_mutex_unlock(&pr->lock);
}

void cli_progress_note(struct cli_progress *pr, const char *fmt, ...)
{
	char *text;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	text = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(text, (size_t)n + 1, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&pr->lock);
	erase(pr);
	/* A note scrolls away above the bars, wrapped short of the edge so
	 * that the terminal never wraps a line itself. */
	cli_out_wrapped(stderr, text, pr->cols - 1);
	draw(pr);
	pthread_mutex_unlock(&pr->lock);
	free(text);
}

void cli_progress_free(struct cli_progress *pr)
{
	if (!pr)
		return;
	pthread_mutex_lock(&pr->lock);
	draw(pr);
	pthread_mutex_unlock(&pr->lock);
	sigaction(SIGWINCH, &pr->old_winch, NULL);
	pthread_mutex_destroy(&pr->lock);
	free(pr);
}
