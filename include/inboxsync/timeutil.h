/*
 * timeutil.h — wall-clock and monotonic time, RFC 3339 and HTTP dates.
 * Times are int64 seconds since the Unix epoch, UTC. Parsing accepts what
 * Graph and HTTP servers send (fractions, offsets, "Z"); formatting always
 * writes "YYYY-MM-DDTHH:MM:SSZ".
 */
#ifndef INBOXSYNC_TIMEUTIL_H
#define INBOXSYNC_TIMEUTIL_H

#include <stdint.h>

#define TIME_RFC3339_LEN 32

/* Seconds since the epoch (wall clock). Tests may override it with
 * time_set_fake_now() to exercise expiry and skew. */
int64_t time_now(void);
void time_set_fake_now(int64_t t); /* 0 = real clock again */

/* Monotonic milliseconds, for durations and deadlines. */
int64_t time_mono_ms(void);

/* Parse an RFC 3339 / ISO 8601 timestamp ("2025-01-09T03:15:08Z",
 * "2025-01-09T03:15:08.1234567Z", "...+02:00", Graph's offset-less
 * "2025-01-09T03:15:08.123"). Fractions are dropped. Returns 0, or -1 when
 * `s` is not such a timestamp. */
int time_parse_rfc3339(const char *s, int64_t *out);

/* Format `t` as "YYYY-MM-DDTHH:MM:SSZ" into `out`. */
void time_format_rfc3339(int64_t t, char out[TIME_RFC3339_LEN]);

/* Parse an HTTP-date (RFC 9110 IMF-fixdate, and the obsolete forms).
 * Returns 0 or -1. */
int time_parse_http_date(const char *s, int64_t *out);

/* Sleep for `ms` milliseconds (restarting after signals). */
void time_sleep_ms(int64_t ms);

#endif
