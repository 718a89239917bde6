/*
 * throttle.h — Outlook-style throttling per (app, mailbox): at most
 * `concurrency_limit` requests in flight and `rate_limit_requests` per
 * fixed window of `rate_limit_window` seconds. Throttled requests still
 * count toward the window, as they do at Outlook.
 */
#ifndef SIM_THROTTLE_H
#define SIM_THROTTLE_H

#include <stdint.h>
#include "sim.h"

struct throttle;
struct throttle_slot;   /* one in-flight request; opaque */

struct throttle *thr_new(void);
void thr_free(struct throttle *t);

enum throttle_verdict { THROTTLE_OK = 0, THROTTLE_RATE, THROTTLE_CONCURRENCY };

/* Admit one request of `client_id` to mailbox `mbox`. Counts it toward the
 * rate window. When `take_slot` is true and it is admitted, *slot is set
 * and must be given back with thr_release when the response is done.
 * On a verdict other than OK, *retry_after is the Retry-After in seconds. */
enum throttle_verdict thr_admit(struct throttle *t,
				     const struct sim_config *cfg,
				     const char *client_id, uint32_t mbox,
				     int take_slot, struct throttle_slot **slot,
				     long *retry_after);

/* Count one request toward the rate window only (batch items). Same
 * verdicts except CONCURRENCY. */
enum throttle_verdict thr_count(struct throttle *t,
				     const struct sim_config *cfg,
				     const char *client_id, uint32_t mbox,
				     long *retry_after);

/* Give back an in-flight slot (NULL-safe). Thread-safe without the world
 * lock. */
void thr_release(struct throttle *t, struct throttle_slot *slot);

/* The most requests of any one app that were in flight at once in mailbox
 * `mbox`, counting a request refused for concurrency as one more (so two
 * clients that together ask for 8 show 5 or more). Since the last reset. */
long thr_peak(struct throttle *t, uint32_t mbox);

/* The most requests of any one app counted in one rate window of mailbox
 * `mbox` (throttled ones included, as they count toward the window), since
 * the last reset: what a client asked of the request-rate limit. */
long thr_window_peak(struct throttle *t, uint32_t mbox);

/* Forget all windows and peaks (config change / counters reset). */
void thr_reset(struct throttle *t);

#endif
