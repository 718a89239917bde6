/*
 * latency.c — latency draws and the $batch schedule (see latency.h).
 * Randomness comes from libsodium (a few bytes per request).
 */
#include <string.h>
#include <sodium.h>
#include "latency.h"

long latency_draw(const struct sim_config *c)
{
	long ms = c->latency_ms;

	if (c->latency_jitter_ms > 0)
		ms += (long)randombytes_uniform((uint32_t)c->latency_jitter_ms + 1);
	return ms;
}

void latency_batch_init(struct latency_batch *b, const struct sim_config *c)
{
	memset(b, 0, sizeof(*b));
	b->workers = c->concurrency_limit < LATENCY_MAX_WORKERS ? c->concurrency_limit
								: LATENCY_MAX_WORKERS;
	if (b->workers < 1)
		b->workers = 1;
}

long latency_batch_add(struct latency_batch *b, size_t i, long ready, long cost)
{
	long w = 0, start;

	for (long k = 1; k < b->workers; k++)
		if (b->free_at[k] < b->free_at[w])
			w = k;
	start = b->free_at[w] > ready ? b->free_at[w] : ready;
	b->free_at[w] = start + cost;
	if (i < LATENCY_MAX_ITEMS)
		b->finish[i] = start + cost;
	if (start + cost > b->makespan)
		b->makespan = start + cost;
	return start + cost;
}

long latency_batch_finish(const struct latency_batch *b, size_t i)
{
	return i < LATENCY_MAX_ITEMS ? b->finish[i] : 0;
}
