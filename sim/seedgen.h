/*
 * seedgen.h — deterministic message content for seeded mailboxes.
 * Everything about seeded message i of a batch (sender, recipients, subject,
 * thread, dates, body, attachments, flags) is a pure function of
 * (batch seed, batch number, i) and the mailbox owner, so m365sim stores only
 * a small struct per seeded message and regenerates the rest on demand.
 */
#ifndef SIM_SEEDGEN_H
#define SIM_SEEDGEN_H

#include <stdbool.h>
#include <stdint.h>
#include "inboxsync/buf.h"
#include "mailbox.h"

/* Newest receivedDateTime of a batch unless the caller gives one:
 * 2025-06-01T00:00:00Z, fixed so that output is reproducible. */
#define SEED_DEFAULT_END 1748736000LL
#define SEED_DEFAULT_SPAN (3LL * 365 * 86400)

/* Folder roles of a spread batch: 70% Inbox, 15% Sent Items, 10% Archive,
 * 5% Inbox/Projects. */
enum seed_role { ROLE_INBOX = 0, ROLE_SENT, ROLE_ARCHIVE, ROLE_PROJECTS };

struct seed_person {
	char name[64];
	char addr[96];
	int contact;                /* index in seedgen's contact table, or
				     * SEED_OWNER for the mailbox owner */
};

#define SEED_OWNER (-1)

struct seed_attachment {
	char name[64];
	char content_type[96];
	uint32_t size;
	uint64_t seed;
};

struct seed_content {
	char subject[200];
	struct seed_person from;
	struct seed_person to[3];
	int nto;
	struct seed_person cc[2];
	int ncc;
	char imid[128];
	char in_reply_to[128];      /* "" when not a reply */
	char references[4][128];    /* oldest first */
	int nrefs;
	char root_imid[128];        /* first message of the thread */
	int64_t sent;
	int64_t received;
	int depth;                  /* 0 for a thread's first message */
	int natt;
	struct seed_attachment att[3];
	uint64_t body_seed;
	uint32_t body_sentences;
};

/* Role (folder) of message i in a spread batch. */
enum seed_role seedgen_role(const struct sim_batch *b, uint32_t i);
/* receivedDateTime of message i (increasing with i). */
int64_t seedgen_received(const struct sim_batch *b, uint32_t i);
/* MSG_* flags of message i (read state, flag, importance, attachments). */
uint16_t seedgen_flags(const struct sim_batch *b, uint32_t i);
/* Whether message i was sent by the mailbox owner. */
bool seedgen_is_sent(const struct sim_batch *b, uint32_t i);

/* Fill `out` for message i of batch number `bnum` (1-based) owned by
 * owner_name <owner_addr>. */
void seedgen_content(const struct sim_batch *b, uint16_t bnum, uint32_t i,
		     const char *owner_name, const char *owner_addr,
		     struct seed_content *out);

/* Append the plain-text body to `out`; with max > 0 stop once about max
 * bytes were written (enough for a preview). */
void seedgen_body_text(const struct seed_content *c, struct buf *out,
		       size_t max);
/* Append the bytes of attachment k to `out`. */
void seedgen_attachment_bytes(const struct seed_content *c, int k,
			      struct buf *out);

/* If `imid` is a seeded internetMessageId of some batch, return 0 with the
 * batch number and index (the caller checks the hash with
 * seedgen_imid_matches); else -1. */
int seedgen_parse_imid(const char *imid, uint32_t *bnum, uint32_t *index);
/* True when `imid` is exactly what message `index` of `b` would carry. */
bool seedgen_imid_matches(const struct sim_batch *b, uint16_t bnum,
			  uint32_t index, const char *imid);

#endif
