/*
 * metrics.c — the process-wide metric registry (see metrics.h): one
 * mutex, an open-addressing hash table of series keyed by name and label
 * text, and rendering sorted by name so each family's # HELP/# TYPE lines
 * come once. Nothing here knows which metrics exist.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/metrics.h"

#define TABLE_SIZE 32768           /* > METRICS_MAX_SERIES, a power of two */
#define MAX_DESCRIPTIONS 128
#define LABELS_MAX 512

static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct series {
	char *name;
	char *labels;              /* key="value",... (escaped) */
	bool histogram;
	double value;              /* counter value, or histogram sum */
	unsigned long long count;  /* histogram: observations */
	unsigned long long bucket[N_BUCKETS];
};

struct description {
	char *name, *type, *help;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series *table[TABLE_SIZE];
static size_t n_series;
static double dropped;
static struct description descriptions[MAX_DESCRIPTIONS];
static size_t n_descriptions;

void metrics_escape(const char *v, char *out, size_t n)
{
	size_t at = 0;

	for (; v && *v && at + 3 < n; v++) {
		if (*v == '\\' || *v == '"') {
			out[at++] = '\\';
			out[at++] = *v;
		} else if (*v == '\n') {
			out[at++] = '\\';
			out[at++] = 'n';
		} else {
			out[at++] = *v;
		}
	}
	out[at] = '\0';
}

void metrics_describe(const char *name, const char *type, const char *help)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n_descriptions; i++) {
		if (strcmp(descriptions[i].name, name) == 0) {
			pthread_mutex_unlock(&lock);
			return;
		}
	}
	if (n_descriptions < MAX_DESCRIPTIONS) {
		descriptions[n_descriptions].name = xstrdup(name);
		descriptions[n_descriptions].type = xstrdup(type);
		descriptions[n_descriptions].help = xstrdup(help);
		n_descriptions++;
	}
	pthread_mutex_unlock(&lock);
}

/* key="value",... from a NULL-ended list of pairs. */
static void format_labels(va_list ap, char *out, size_t n)
{
	size_t at = 0;
	int pairs = 0;
	const char *k;

	out[0] = '\0';
	while ((k = va_arg(ap, const char *)) && pairs < METRICS_MAX_LABELS) {
		const char *v = va_arg(ap, const char *);
		char esc[256];
		int w;

		metrics_escape(v ? v : "", esc, sizeof(esc));
		w = snprintf(out + at, n - at, "%s%s=\"%s\"", at ? "," : "", k, esc);
		if (w < 0 || (size_t)w >= n - at) {
			out[at] = '\0';
			break;
		}
		at += (size_t)w;
		pairs++;
	}
}

static uint32_t hash(const char *name, const char *labels)
{
	uint32_t h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '{') * 16777619u;
	for (const char *p = labels; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

/* The series for (name, labels), made when new; NULL when full. Lock held. */
static struct series *find(const char *name, const char *labels, bool histogram)
{
	uint32_t i = hash(name, labels) & (TABLE_SIZE - 1);

	for (;;) {
		struct series *s = table[i];

		if (!s)
			break;
		if (strcmp(s->name, name) == 0 && strcmp(s->labels, labels) == 0)
			return s;
		i = (i + 1) & (TABLE_SIZE - 1);
	}
	if (n_series >= METRICS_MAX_SERIES) {
		dropped += 1;
		return NULL;
	}
	table[i] = xcalloc(1, sizeof(struct series));
	table[i]->name = xstrdup(name);
	table[i]->labels = xstrdup(labels);
	table[i]->histogram = histogram;
	n_series++;
	return table[i];
}

/* Add one value to the series of `name` with the labels in `ap`. */
static void record(const char *name, bool histogram, double value, va_list ap)
{
	char labels[LABELS_MAX];
	struct series *s;

	format_labels(ap, labels, sizeof(labels));
	pthread_mutex_lock(&lock);
	if ((s = find(name, labels, histogram))) {
		s->value += value;
		if (histogram) {
			s->count++;
			for (size_t i = 0; i < N_BUCKETS; i++)
				if (value <= buckets[i])
					s->bucket[i]++;
		}
	}
	pthread_mutex_unlock(&lock);
}

void metrics_add(const char *name, double delta, ...)
{
	va_list ap;

	va_start(ap, delta);
	record(name, false, delta, ap);
	va_end(ap);
}

void metrics_observe(const char *name, double value, ...)
{
	va_list ap;

	va_start(ap, value);
	record(name, true, value, ap);
	va_end(ap);
}

static int by_name(const void *a, const void *b)
{
	const struct series *x = *(const struct series *const *)a;
	const struct series *y = *(const struct series *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->labels, y->labels);
}

static const struct description *described(const char *name)
{
	for (size_t i = 0; i < n_descriptions; i++)
		if (strcmp(descriptions[i].name, name) == 0)
			return &descriptions[i];
	return NULL;
}

static int render_histogram(struct buf *out, const struct series *s, struct err *e)
{
	const char *sep = s->labels[0] ? "," : "";
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < N_BUCKETS; i++)
		rc = buf_printf(out, e, "%s_bucket{%s%sle=\"%g\"} %llu\n", s->name,
				s->labels, sep, buckets[i], s->bucket[i]);
	if (rc == 0)
		rc = buf_printf(out, e, "%s_bucket{%s%sle=\"+Inf\"} %llu\n%s_sum%s%s%s %.6f\n"
				"%s_count%s%s%s %llu\n", s->name, s->labels, sep, s->count,
				s->name, s->labels[0] ? "{" : "", s->labels,
				s->labels[0] ? "}" : "", s->value, s->name,
				s->labels[0] ? "{" : "", s->labels, s->labels[0] ? "}" : "",
				s->count);
	return rc;
}

int metrics_render(struct buf *out, struct err *e)
{
	struct series **all;
	size_t n = 0;
	int rc = 0;

	pthread_mutex_lock(&lock);
	all = xcalloc(n_series ? n_series : 1, sizeof(*all));
	for (size_t i = 0; i < TABLE_SIZE; i++)
		if (table[i])
			all[n++] = table[i];
	qsort(all, n, sizeof(*all), by_name);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct series *s = all[i];

		if (i == 0 || strcmp(all[i - 1]->name, s->name) != 0) {
			const struct description *d = described(s->name);

			if (d)
				rc = buf_printf(out, e, "# HELP %s %s\n# TYPE %s %s\n",
						s->name, d->help, s->name, d->type);
			if (rc < 0)
				break;
		}
		if (s->histogram)
			rc = render_histogram(out, s, e);
		else
			rc = buf_printf(out, e, "%s%s%s%s %.17g\n", s->name,
					s->labels[0] ? "{" : "", s->labels,
					s->labels[0] ? "}" : "", s->value);
	}
	if (rc == 0 && dropped > 0)
		rc = buf_printf(out, e, "# HELP inboxsync_metrics_dropped_total label sets "
				"not kept (the series limit was reached)\n# TYPE "
				"inboxsync_metrics_dropped_total counter\n"
				"inboxsync_metrics_dropped_total %.17g\n", dropped);
	pthread_mutex_unlock(&lock);
	free(all);
	return rc;
}

void metrics_reset(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < TABLE_SIZE; i++) {
		if (!table[i])
			continue;
		free(table[i]->name);
		free(table[i]->labels);
		free(table[i]);
		table[i] = NULL;
	}
	n_series = 0;
	dropped = 0;
	for (size_t i = 0; i < n_descriptions; i++) {
		free(descriptions[i].name);
		free(descriptions[i].type);
		free(descriptions[i].help);
	}
	n_descriptions = 0;
	pthread_mutex_unlock(&lock);
}
