/*
 * driver.h — the mail-server interface the sync engine sees. A driver
 * hides one transport (Microsoft Graph today; IMAP later): folders, pages
 * of changes since an opaque cursor, newest-first listings, bodies, MIME,
 * flag/move/delete, and the draft-based send the outbox relies on.
 *
 * Drivers never touch the store and never retry on their own (except one
 * token refresh after a 401): they return classified errors and the engine
 * decides. Everything a driver returns is owned by the caller and freed
 * with the matching *_free function. A driver instance is used by one
 * thread at a time; it may run up to its configured number of requests
 * concurrently inside one call (never more than 4 per mailbox).
 */
#ifndef INBOXSYNC_DRIVER_H
#define INBOXSYNC_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/buf.h"
#include "inboxsync/err.h"

struct driver;

/* ---- how a driver gets access tokens -------------------------------------- */

/* Supplied by the caller (the auth layer). `resource` is "graph" or
 * "outlook". `rejected` is NULL normally; after a 401 it is the token the
 * server refused, and the source must return another one (a newer cached
 * token, or a refreshed one). On success *token is a heap string the
 * driver frees. Errors: ERR_AUTH (authorization needed / auth_invalid),
 * ERR_TRANSIENT, ... passed up unchanged. */
struct driver_auth {
	int (*get_token)(void *ctx, const char *resource, const char *rejected,
			 char **token, struct err *e);
	void *ctx;
};

/* ---- values ------------------------------------------------------------------ */

#define DRIVER_UNKNOWN (-1)

struct driver_identity {
	char address[320];         /* primary SMTP address (mail, else UPN) */
	char user_principal_name[320];
	char display_name[256];
	char object_id[64];
};

struct driver_folder {
	const char *remote_id;
	const char *parent_remote_id;  /* "" at the top level */
	const char *name;
	const char *well_known;        /* inbox sentitems drafts deleteditems archive junkemail, or "" */
	long long total;
	long long unread;
};

/* One message as a transport reports it. Strings may be NULL when the
 * server did not send the field (keep the stored value). */
struct driver_message {
	const char *remote_id;         /* immutable id */
	bool removed;                  /* left this folder (moved out or deleted) */
	const char *folder_remote_id;  /* parent folder when known */
	const char *internet_message_id;
	const char *conversation_id;
	const char *subject;
	const char *from_name;
	const char *from_addr;
	const char *to_json;           /* JSON array of {"name","address"} */
	const char *cc_json;
	const char *categories_json;   /* JSON array of strings */
	const char *preview;
	const char *change_key;
	int64_t received_at;           /* 0 = unknown */
	int64_t sent_at;
	int is_read;                   /* 0/1/DRIVER_UNKNOWN */
	int is_flagged;
	int is_draft;
	int has_attachments;
};

/* A page of messages. Exactly one of next_cursor / done_cursor is set for a
 * page of changes: next_cursor = the round goes on (fetch it next),
 * done_cursor = the round is complete (store it; it yields later changes).
 * Listings (driver_list_newest) set neither. */
struct driver_page {
	struct driver_message *items;
	size_t n;
	char *next_cursor;
	char *done_cursor;
	void *priv;                    /* owns what the items point to; its first
					  member is a `void (*)(void *)` that
					  driver_page_free calls to release it */
};

void driver_page_free(struct driver_page *p);

struct driver_body {
	char *content_type;            /* "html" or "text" */
	char *content;
	size_t len;
};

void driver_body_free(struct driver_body *b);

/* ---- the interface ------------------------------------------------------------ */

/* Who the token belongs to (Graph /me). */
int driver_whoami(struct driver *d, struct driver_identity *out, struct err *e);

/* Every folder of the mailbox, recursing into child folders and following
 * paging; calls `cb` per folder, parents before children. Search folders are
 * skipped. A non-zero return from `cb` stops the walk and is returned (set
 * `e` before returning -1 from `cb`). */
typedef int (*driver_folder_cb)(void *ctx, const struct driver_folder *f);
int driver_list_folders(struct driver *d, driver_folder_cb cb, void *ctx,
			struct err *e);

/* One page of changes of `folder_remote_id` after `cursor` (NULL = start a
 * new round: every current message, newest first). `page_size` is a hint
 * (0 = the driver's default). Errors: ERR_RESYNC when the cursor is no
 * longer valid (drop it and start a new round); ERR_THROTTLED with
 * retry_after_s; ERR_TRANSIENT; ERR_AUTH; ERR_PERMANENT (e.g. folder gone:
 * code "folder_gone"). */
int driver_get_changes(struct driver *d, const char *folder_remote_id,
		       const char *cursor, size_t page_size,
		       struct driver_page *page, struct err *e);

/* Poll several folders' done cursors at once (one round trip where the
 * transport allows, e.g. Graph $batch). Each entry gets its own page or
 * error; a page with next_cursor must be continued with driver_get_changes.
 * Returns -1 only when nothing could be attempted (then `e`). */
struct driver_poll {
	const char *folder_remote_id;  /* in */
	const char *cursor;            /* in: a done cursor */
	struct driver_page page;       /* out when rc == 0 */
	int rc;                        /* out: 0 or -1 */
	struct err err;                /* out when rc == -1 */
};
int driver_poll_changes(struct driver *d, struct driver_poll *polls, size_t n,
			size_t page_size, struct err *e);

/* The newest `limit` (at most 1000) messages of a folder received strictly
 * after `received_after` (0 = no bound), newest first. A listing: no
 * cursors. */
int driver_list_newest(struct driver *d, const char *folder_remote_id,
		       int64_t received_after, size_t limit,
		       struct driver_page *page, struct err *e);

/* Where are these messages now? For each id sets folder_remote_id (heap)
 * or leaves it NULL with gone = true when the message no longer exists.
 * Batched where possible. Per-item errors in rc/err. */
struct driver_locate {
	const char *remote_id;         /* in */
	char *folder_remote_id;        /* out (heap) */
	bool gone;                     /* out */
	int rc;                        /* out */
	struct err err;                /* out when rc == -1 */
};
int driver_locate_messages(struct driver *d, struct driver_locate *items,
			   size_t n, struct err *e);

/* The body of a message (HTML or text as the server has it). */
int driver_fetch_body(struct driver *d, const char *remote_id,
		      struct driver_body *out, struct err *e);

/* The raw RFC 822 message: replaces the contents of `out`, capped at
 * out->limit (the buffer's limit; the driver's own cap applies too). */
int driver_fetch_mime(struct driver *d, const char *remote_id, struct buf *out,
		      struct err *e);

/* Flags: each 0/1, or DRIVER_UNKNOWN to leave unchanged. */
int driver_set_flags(struct driver *d, const char *remote_id, int is_read,
		     int is_flagged, struct err *e);
int driver_move_message(struct driver *d, const char *remote_id,
			const char *dest_folder_remote_id, struct err *e);
/* Deleting a message that is already gone succeeds. */
int driver_delete_message(struct driver *d, const char *remote_id,
			  struct err *e);

/* ---- sending (the outbox drives these; see docs/sending.md) -------------- */

/* Create a draft from a complete MIME message (which carries our
 * Message-ID). *draft_id gets the draft's immutable id (heap). */
int driver_create_draft(struct driver *d, const char *mime, size_t mime_len,
			char **draft_id, struct err *e);

/* Send an existing draft. Ambiguous failures (timeouts, 5xx) come back as
 * ERR_TRANSIENT: the caller must check driver_get_state before retrying. */
int driver_send_draft(struct driver *d, const char *draft_id, struct err *e);

/* State of one message by id: exists? still a draft? which folder? */
struct driver_state {
	bool exists;
	bool is_draft;
	char *folder_remote_id;        /* heap, or NULL */
	char *internet_message_id;     /* heap, or NULL */
	char *conversation_id;         /* heap, or NULL */
};
void driver_state_free(struct driver_state *s);
int driver_get_state(struct driver *d, const char *remote_id,
		     struct driver_state *out, struct err *e);

/* Messages with this Message-ID anywhere in the mailbox. Calls `cb` with
 * each one's id and state. */
typedef int (*driver_found_cb)(void *ctx, const char *remote_id,
			       const struct driver_state *s);
int driver_find_by_message_id(struct driver *d, const char *internet_message_id,
			      driver_found_cb cb, void *ctx, struct err *e);

/* Prove that sending is allowed without sending anything to anyone. Graph:
 * a draft with no recipient is sent — 403 means no send permission, the
 * expected ErrorInvalidRecipients means it is granted — and the draft is
 * removed either way. */
int driver_test_send(struct driver *d, struct err *e);

/* Free the driver (not the http client or auth context it borrowed). */
void driver_free(struct driver *d);

/* ---- for implementations ------------------------------------------------------ */

/* Each driver fills this table; the functions above dispatch through it.
 * An implementation that lacks an operation leaves it NULL and the call
 * fails with ERR_PERMANENT "unsupported". */
struct driver_ops {
	const char *name;
	int (*whoami)(struct driver *, struct driver_identity *, struct err *);
	int (*list_folders)(struct driver *, driver_folder_cb, void *, struct err *);
	int (*get_changes)(struct driver *, const char *, const char *, size_t,
			   struct driver_page *, struct err *);
	int (*poll_changes)(struct driver *, struct driver_poll *, size_t, size_t,
			    struct err *);
	int (*list_newest)(struct driver *, const char *, int64_t, size_t,
			   struct driver_page *, struct err *);
	int (*locate_messages)(struct driver *, struct driver_locate *, size_t,
			       struct err *);
	int (*fetch_body)(struct driver *, const char *, struct driver_body *,
			  struct err *);
	int (*fetch_mime)(struct driver *, const char *, struct buf *, struct err *);
	int (*set_flags)(struct driver *, const char *, int, int, struct err *);
	int (*move_message)(struct driver *, const char *, const char *, struct err *);
	int (*delete_message)(struct driver *, const char *, struct err *);
	int (*create_draft)(struct driver *, const char *, size_t, char **,
			    struct err *);
	int (*send_draft)(struct driver *, const char *, struct err *);
	int (*get_state)(struct driver *, const char *, struct driver_state *,
			 struct err *);
	int (*find_by_message_id)(struct driver *, const char *, driver_found_cb,
				  void *, struct err *);
	int (*test_send)(struct driver *, struct err *);
	void (*free)(struct driver *);
};

/* Every driver struct starts with this header. */
struct driver {
	const struct driver_ops *ops;
};

#endif
