/*
 * seed.h — filling a mailbox with deterministic seeded messages (content
 * from seedgen.h; only a small struct per message is stored).
 */
#ifndef SIM_SEED_H
#define SIM_SEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mailbox.h"
#include "sim.h"

#define SEED_MAX_COUNT 5000000u

/* Add `count` messages generated from `seed` to mb: all into `folder`, or
 * with folder == SIM_NONE spread 70% Inbox, 15% Sent Items, 10% Archive,
 * 5% Inbox/Projects (created when missing). `end` is the newest
 * receivedDateTime (0 = SEED_DEFAULT_END); dates cover three years before
 * it. `log` makes delta queries report them as new. Returns 0, or -1 with
 * a reason in `why`. */
int seed_mailbox(struct sim_mailbox *mb, uint32_t folder, uint32_t count,
		 uint64_t seed, int64_t end, bool log, char *why, size_t whylen);

#endif
