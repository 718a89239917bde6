/*
 * metrics.h — process-wide counters and histograms with labels, rendered
 * as Prometheus text by the server's /metrics. Library code counts what
 * happens (token refreshes, throttle waits, requests) without knowing who
 * reads it; a program that never renders pays a mutex and a table lookup
 * per count. Series are bounded (METRICS_MAX_SERIES): past the bound new
 * label sets are dropped and counted in inboxsync_metrics_dropped_total.
 * Gauges computed from the store at scrape time are the server's.
 */
#ifndef INBOXSYNC_METRICS_H
#define INBOXSYNC_METRICS_H

#include <stddef.h>
#include "inboxsync/buf.h"

#define METRICS_MAX_SERIES 20000
#define METRICS_MAX_LABELS 4

/* Say what a metric is ("counter" or "histogram") and what it means, for
 * the # HELP and # TYPE lines. Metrics without a description are still
 * rendered (as untyped). Thread-safe. */
void metrics_describe(const char *name, const char *type, const char *help);

/* Add `delta` to the counter `name` with labels given as key, value
 * pairs ending with NULL: metrics_add("x_total", 1, "outcome", "ok", NULL).
 * At most METRICS_MAX_LABELS pairs; values are escaped here. */
void metrics_add(const char *name, double delta, ...)
	__attribute__((sentinel));

/* Record `value` (seconds) in the histogram `name` (buckets from 5 ms to
 * 10 s), labels as for metrics_add. */
void metrics_observe(const char *name, double value, ...)
	__attribute__((sentinel));

/* Append every series in Prometheus text format 0.0.4, grouped by name.
 * Errors as buf_append. */
int metrics_render(struct buf *out, struct err *e);

/* Write `v` as a Prometheus label value (quotes, backslashes and line
 * breaks escaped) into `out` of size `n`, truncating. */
void metrics_escape(const char *v, char *out, size_t n);

/* Forget every series and description (tests). */
void metrics_reset(void);

#endif
