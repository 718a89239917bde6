/*
 * latency.h — how long m365sim holds an answer back, the way Microsoft's
 * front ends take a few hundred milliseconds per request: a fixed part
 * (latency_ms) plus a uniform random jitter (0..latency_jitter_ms), drawn
 * per request and per $batch item. A batch runs its items the way Outlook
 * does, at most concurrency_limit (4) at a time and each after the items it
 * dependsOn, so its answer waits for that schedule's makespan (20
 * independent items ≈ 5 latencies, a dependsOn chain of 20 ≈ 20). The
 * wait itself is the server's (server.c): a timed wait of the connection's
 * thread, never a spin, never with the world lock held.
 */
#ifndef SIM_LATENCY_H
#define SIM_LATENCY_H

#include <stddef.h>
#include "sim.h"

#define LATENCY_MAX_ITEMS 20
#define LATENCY_MAX_WORKERS 64

/* One request's delay in ms under `c` (0 when latency is off). */
long latency_draw(const struct sim_config *c);

/* A $batch being scheduled: items are added in the order they run. */
struct latency_batch {
	long workers;                       /* min(concurrency_limit, MAX) */
	long free_at[LATENCY_MAX_WORKERS];  /* ms from the batch's start */
	long finish[LATENCY_MAX_ITEMS];     /* per item, ms */
	long makespan;
};

void latency_batch_init(struct latency_batch *b, const struct sim_config *c);
/* Item `i` (< LATENCY_MAX_ITEMS) takes `cost` ms once it may start:
 * after `ready` ms (the latest finish of the items it depends on) and as
 * soon as one of the batch's workers is free. Returns its finish time. */
long latency_batch_add(struct latency_batch *b, size_t i, long ready, long cost);
/* Finish time of item `i` (for its dependants). */
long latency_batch_finish(const struct latency_batch *b, size_t i);

#endif
