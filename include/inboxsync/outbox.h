/*
 * outbox.h — sending mail exactly once. A send is accepted into the outbox
 * with an idempotency key and its complete MIME document (our own
 * Message-ID), together with a local entry in the account's Sent folder,
 * in one transaction. Delivery then walks recorded states:
 *   queued → drafted (draft created on the server, id stored)
 *          → submitted (send accepted) → confirmed (Sent copy synced)
 * or failed (permanent, reason kept, message kept). Before every step
 * that is not idempotent the intent is recorded, and after a crash the
 * server is asked what happened (draft id, then Message-ID) before
 * anything is repeated. See docs/sending.md for the argument.
 */
#ifndef INBOXSYNC_OUTBOX_H
#define INBOXSYNC_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include "inboxsync/auth.h"
#include "inboxsync/driver.h"
#include "inboxsync/mime.h"
#include "inboxsync/store.h"

/* Graph accepts request bodies up to about 4 MB; a base64 MIME document
 * grows by a third, so a message may be at most this large. */
#define OUTBOX_MAX_MESSAGE ((size_t)3 * 1024 * 1024)
#define OUTBOX_MAX_ATTEMPTS 8

struct outbox_request {
	const char *to;               /* address list "a@b, Name <c@d>" */
	const char *cc;               /* may be NULL */
	const char *bcc;              /* may be NULL */
	const char *subject;
	const char *body;
	size_t body_len;
	bool html;
	const struct mime_attachment *attachments;
	size_t n_attachments;
	const char *reply_to_id;      /* remote id of a synced message, or NULL */
	const char *idempotency_key;  /* NULL = a new random key */
};

/* The fingerprint of a request (hex, 65 bytes): the same request gives
 * the same fingerprint, whatever its key, Message-ID or time. */
void outbox_request_hash(const struct outbox_request *r, char out[65]);

/* Accept a message for account `a`: validate (addresses, total size — all
 * before any request), build the MIME document, add the outbox entry and
 * the local Sent entry (when a Sent folder is synced) in one transaction.
 * An auth_invalid or unauthorized account is refused with the fix named.
 * Fills `out` (caller clears). A repeated idempotency key returns the
 * existing entry with code "duplicate" (out->request_hash says what that
 * entry was asked to send). *sent_entry (may be NULL) says whether a
 * local Sent entry was made. */
int outbox_accept(struct store *st, const struct store_account *a,
		  const struct outbox_request *r, struct store_outbox *out,
		  bool *sent_entry, struct err *e);

/* Move one entry as far as it can go now. Returns 0 when it is submitted
 * (or was already), -1 with `e`: ERR_THROTTLED / ERR_TRANSIENT (the entry
 * stays open with next_attempt_at set), or a permanent failure (the entry
 * is now failed with the reason). */
int outbox_deliver(struct store *st, struct driver *d, struct store_outbox *o,
		   struct err *e);

struct outbox_stats {
	int submitted;   /* entries submitted now */
	int open;        /* still queued/drafted (retry later) */
	int failed;      /* failed for good (in this drain) */
};

/* Deliver every due entry of an account. Throttling or a transient error
 * stops the drain and is returned (the entries stay open). */
int outbox_drain(struct store *st, struct driver *d, int64_t account_id,
		 struct outbox_stats *s, struct err *e);

#endif
