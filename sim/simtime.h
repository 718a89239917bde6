/*
 * simtime.h — m365sim's own clock and date text, written with GLib's
 * GDateTime and a table-free civil-date formatter; deliberately independent
 * of the client's timeutil, so that the dates the client parses are not
 * produced by the code that parses them. Times are int64 seconds since the
 * Unix epoch, UTC; sub-second parts are 100 ns "ticks" (0..9,999,999), the
 * resolution Exchange keeps and Graph writes as seven fraction digits.
 */
#ifndef SIM_SIMTIME_H
#define SIM_SIMTIME_H

#include <stdbool.h>
#include <stdint.h>

#define SIMTIME_LEN 40
#define SIMTIME_TICKS_PER_S 10000000u

/* Wall clock, seconds. */
int64_t simtime_now(void);
/* Monotonic clock, milliseconds (durations, deadlines). */
int64_t simtime_mono_ms(void);

/* Parse a timestamp as Graph accepts one in $filter and request bodies:
 * "2024-05-01T10:00:00Z", with a fraction of any length
 * ("…:00.1234567Z"), with an offset ("…+02:00", "…-0530"), or without a
 * zone (UTC, as Graph reads it). Fills *secs (UTC) and, when non-NULL, *ticks (the fraction in 100 ns,
 * digits past the seventh dropped). Returns 0, or -1 when `s` is not such
 * a timestamp (ISO week and ordinal dates are refused too). */
int simtime_parse(const char *s, int64_t *secs, uint32_t *ticks);

/* The 7-digit fraction the simulator gives second `t` when the
 * `date_fractions` setting is on: never 0, a fixed function of t, so that
 * dates keep the order of their seconds and a $filter bound can be
 * compared exactly (see simtime_bound_inclusive). */
uint32_t simtime_fraction(int64_t t);

/* Graph DateTimeOffset text: "2024-05-01T10:00:00Z", or with `fraction`
 * "2024-05-01T10:00:00.1234567Z" (simtime_fraction(t) ticks). */
void simtime_format(int64_t t, bool fraction, char out[SIMTIME_LEN]);

/* Whether a date of second `t` written by the simulator (with or without
 * `fraction`) compares to the bound (t, ticks) as `cmp` asks: cmp > 0 for
 * "gt"/"ge" (strict when !inclusive), cmp < 0 for "lt"/"le". Used to turn a
 * $filter bound with a fraction into whole seconds: a bound second `t` is
 * included when this is true. */
bool simtime_bound_inclusive(int64_t t, uint32_t ticks, bool fraction,
			     int cmp, bool inclusive);

/* "2025-01-09 02:02:12Z" (identity platform `timestamp`). */
void simtime_format_oauth(int64_t t, char out[SIMTIME_LEN]);
/* "2025-01-09T02:02:12" (Graph innerError `date`, no zone). */
void simtime_format_graph_inner(int64_t t, char out[SIMTIME_LEN]);
/* RFC 9110 IMF-fixdate "Thu, 09 Jan 2025 02:02:12 GMT". */
void simtime_format_http(int64_t t, char out[SIMTIME_LEN]);

#endif
