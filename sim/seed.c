/*
 * seed.c — seed_mailbox (see seed.h): a seed plan that maps each index of
 * a batch to its folder, date and flags, handed to mbx_add_batch.
 */
#include <stdio.h>
#include "seed.h"
#include "seedgen.h"

struct plan_ctx {
	struct sim_batch b;
	uint32_t by_role[4];
};

static uint32_t folder_of(void *ctx, uint32_t i)
{
	struct plan_ctx *p = ctx;

	if (p->b.folder != SIM_NONE)
		return p->b.folder;
	return p->by_role[seedgen_role(&p->b, i)];
}

static int64_t received_of(void *ctx, uint32_t i)
{
	return seedgen_received(&((struct plan_ctx *)ctx)->b, i);
}

static uint16_t flags_of(void *ctx, uint32_t i)
{
	return seedgen_flags(&((struct plan_ctx *)ctx)->b, i);
}

int seed_mailbox(struct sim_mailbox *mb, uint32_t folder, uint32_t count,
		 uint64_t seed, int64_t end, bool log, char *why, size_t whylen)
{
	struct plan_ctx p = { 0 };
	struct seed_plan plan = { &p, folder_of, received_of, flags_of };

	if (count == 0 || count > SEED_MAX_COUNT) {
		snprintf(why, whylen, "'count' must be between 1 and %u", SEED_MAX_COUNT);
		return -1;
	}
	if (mb->nbatches >= 65000) {
		snprintf(why, whylen, "too many seed batches in this mailbox");
		return -1;
	}
	if ((uint64_t)mb->nmsgs + count > 50000000ULL) {
		snprintf(why, whylen, "the mailbox would exceed 50,000,000 messages");
		return -1;
	}
	p.b.seed = seed;
	p.b.count = count;
	p.b.folder = folder;
	p.b.sent = folder != SIM_NONE && folder == mbx_wk(mb, WK_SENT);
	p.b.end = end ? end : SEED_DEFAULT_END;
	p.b.span = SEED_DEFAULT_SPAN;
	if (folder == SIM_NONE) {
		uint32_t inbox = mbx_wk(mb, WK_INBOX);
		uint32_t projects = mbx_child(mb, inbox, "Projects");

		if (projects == SIM_NONE)
			projects = mbx_folder_create(mb, inbox, "Projects", false);
		p.by_role[ROLE_INBOX] = inbox;
		p.by_role[ROLE_SENT] = mbx_wk(mb, WK_SENT);
		p.by_role[ROLE_ARCHIVE] = mbx_wk(mb, WK_ARCHIVE);
		p.by_role[ROLE_PROJECTS] = projects;
	}
	mbx_add_batch(mb, &p.b, &plan, log);
	return 0;
}
