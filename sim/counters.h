/*
 * counters.h — request counters for GET /_sim/counters: requests by
 * "METHOD route-template" and status, bytes in and out, token requests by
 * grant type and by outcome, throttled and faulted responses, latency
 * applied, mailbox requests in flight at once. Thread-safe
 * (own mutex).
 */
#ifndef SIM_COUNTERS_H
#define SIM_COUNTERS_H

#include <stddef.h>
#include <jansson.h>

struct counters;

struct counters *ctr_new(void);
void ctr_free(struct counters *c);
void ctr_reset(struct counters *c);

/* Count one finished request. */
void ctr_request(struct counters *c, const char *method,
		      const char *route, int status, size_t bytes_in,
		      size_t bytes_out);
/* Count a token-endpoint outcome: grant type and "ok" or the OAuth error. */
void ctr_token(struct counters *c, const char *grant, const char *outcome);
/* Count named events ("throttled", "faults"). */
void ctr_event(struct counters *c, const char *name);

/* Count an answer held back `ms` by the latency setting (latency.h);
 * "latency": {"delayed": n, "ms": total, "max_ms": longest}. */
void ctr_latency(struct counters *c, long ms);

/* A mailbox request entering (+n) or leaving (-n) flight: from its
 * handling to the last byte sent, a $batch counting as the items it runs
 * at once; "inflight": {"now": n, "max": highest since the reset}. */
void ctr_inflight(struct counters *c, int n);

/* Snapshot as JSON (new reference). */
json_t *ctr_to_json(struct counters *c);

#endif
