/*
 * driver.h — the mail-server interface the sync engine sees. A driver
 * hides one transport (Microsoft Graph, IMAP): folders, pages of changes
 * since an opaque cursor, newest-first listings, bodies, MIME,
 * flag/move/delete, and the draft-based send the outbox relies on. It
 * speaks mail.h's vocabulary and declares its own limits; the registry
 * at the end names every transport and opens its driver for an account.
 *
 * Drivers never touch the store and never retry on their own (except one
 * token refresh after a 401): they return classified errors and the engine
 * decides. Everything a driver returns is owned by the caller and freed
 * with the matching *_free function. A driver instance is used by one
 * thread at a time; it may run up to its configured number of requests
 * concurrently, inside one call or in the background between calls
 * (pages fetched ahead, driver_prefetch_changes) — never more than 4 per
 * mailbox in all.
 */
#ifndef INBOXSYNC_DRIVER_H
#define INBOXSYNC_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/buf.h"
#include "inboxsync/err.h"
#include "inboxsync/mail.h"

struct driver;
struct http_client;

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

#define DRIVER_UNKNOWN MAIL_UNKNOWN

struct driver_identity {
	char address[320];         /* primary SMTP address (mail, else UPN) */
	char user_principal_name[320];
	char display_name[256];
	char object_id[64];
};

/* A page of messages. Exactly one of next_cursor / done_cursor is set for a
 * page of changes: next_cursor = the round goes on (fetch it next),
 * done_cursor = the round is complete (store it; it yields later changes).
 * Listings (driver_list_newest) set neither. */
struct driver_page {
	struct mail_message *items;
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
 * paging; calls `cb` per folder, parents before children, each with its
 * role as the server says (Graph well-known names, IMAP SPECIAL-USE).
 * Search folders are skipped. A non-zero return from `cb` stops the walk
 * and is returned (set `e` before returning -1 from `cb`). */
typedef int (*driver_folder_cb)(void *ctx, const struct mail_folder *f);
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

/* A hint: the engine will soon ask driver_get_changes for the page of
 * `folder_remote_id` after `cursor` (NULL = a new round) with
 * `page_size`, and then for the pages after it with `next_page_size`. A
 * transport that can fetches them ahead in the background (several
 * folders' rounds side by side, within limits.max_inflight), so the
 * engine's later calls return at once; one that cannot ignores it. Never
 * fails: errors come from the driver_get_changes call that follows. */
void driver_prefetch_changes(struct driver *d, const char *folder_remote_id,
			     const char *cursor, size_t page_size,
			     size_t next_page_size);

/* Poll several folders' done cursors at once (one round trip where the
 * transport allows, e.g. Graph $batch), at most limits.max_poll of them.
 * Each entry gets its own page or error; a page with next_cursor must be
 * continued with driver_get_changes. Returns -1 only when nothing could be
 * attempted (then `e`). */
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

/* Where are these messages now (at most limits.max_locate at once)? For
 * each id sets folder_remote_id (heap) or leaves it NULL with gone = true
 * when the message no longer exists. A transport whose ids change on a
 * move (IMAP) sets new_remote_id (heap) to the id the message has there.
 * Batched where possible. Per-item errors in rc/err. */
struct driver_locate {
	const char *remote_id;         /* in */
	char *folder_remote_id;        /* out (heap) */
	char *new_remote_id;           /* out (heap), NULL = unchanged */
	bool gone;                     /* out */
	int rc;                        /* out */
	struct err err;                /* out when rc == -1 */
};
int driver_locate_messages(struct driver *d, struct driver_locate *items,
			   size_t n, struct err *e);

/* How many messages the folder holds on the server now: a cheap count
 * (Graph: the folder's totalItemCount; IMAP: STATUS MESSAGES) that
 * confirms a large reconciliation before anything is deleted locally. */
int driver_count_messages(struct driver *d, const char *folder_remote_id,
			  long long *total, struct err *e);

/* The body of a message (HTML or text as the server has it). */
int driver_fetch_body(struct driver *d, const char *remote_id,
		      struct driver_body *out, struct err *e);

/* The bodies of several messages at once (Graph: $batch, 20 per
 * request), at most limits.max_bodies of them. Each entry gets its own
 * body or error (code "not_found" when the message is gone). Returns -1
 * only when nothing could be attempted (then `e`). A transport without a
 * batched form fetches them one by one. */
struct driver_body_fetch {
	const char *remote_id;         /* in */
	struct driver_body body;       /* out when rc == 0 (free it) */
	int rc;                        /* out: 0 or -1 */
	struct err err;                /* out when rc == -1 */
};
int driver_fetch_bodies(struct driver *d, struct driver_body_fetch *items,
			size_t n, struct err *e);

/* The raw RFC 822 message: replaces the contents of `out`, capped at
 * out->limit (the buffer's limit; the driver's own cap applies too). */
int driver_fetch_mime(struct driver *d, const char *remote_id, struct buf *out,
		      struct err *e);

/* Flags: each 0/1, or DRIVER_UNKNOWN to leave unchanged. */
int driver_set_flags(struct driver *d, const char *remote_id, int is_read,
		     int is_flagged, struct err *e);
/* Move a message; *new_remote_id (may be NULL) gets the id it has now
 * (heap) when the transport changes ids on a move, else NULL. */
int driver_move_message(struct driver *d, const char *remote_id,
			const char *dest_folder_remote_id, char **new_remote_id,
			struct err *e);
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
	void (*prefetch_changes)(struct driver *, const char *, const char *,
				 size_t, size_t); /* optional: NULL = a no-op */
	int (*poll_changes)(struct driver *, struct driver_poll *, size_t, size_t,
			    struct err *);
	int (*list_newest)(struct driver *, const char *, int64_t, size_t,
			   struct driver_page *, struct err *);
	int (*locate_messages)(struct driver *, struct driver_locate *, size_t,
			       struct err *);
	int (*count_messages)(struct driver *, const char *, long long *,
			      struct err *);
	int (*fetch_body)(struct driver *, const char *, struct driver_body *,
			  struct err *);
	int (*fetch_bodies)(struct driver *, struct driver_body_fetch *, size_t,
			    struct err *);   /* optional: NULL = one by one */
	int (*fetch_mime)(struct driver *, const char *, struct buf *, struct err *);
	int (*set_flags)(struct driver *, const char *, int, int, struct err *);
	int (*move_message)(struct driver *, const char *, const char *, char **,
			    struct err *);
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

/* What a transport allows at once; the engine sizes its requests by these
 * rather than by any one server's rules. */
struct driver_limits {
	size_t max_poll;               /* folders per driver_poll_changes */
	size_t max_locate;             /* ids per driver_locate_messages */
	size_t max_page;               /* messages per page of changes */
	size_t max_bodies;             /* ids per driver_fetch_bodies (0 = 1) */
	int max_inflight;              /* requests at once for one mailbox */
};

/* Every driver struct starts with this header. */
struct driver {
	const struct driver_ops *ops;
	struct driver_limits limits;
};

/* ---- the registry of transports -------------------------------------------------- */

/* What opening a driver for an account needs (all borrowed). */
struct driver_endpoint {
	const char *graph_url;         /* Graph base URL */
	const char *imap_server;       /* "host:port" */
	const char *smtp_server;       /* "host:port" */
	const char *user;              /* the mailbox address (IMAP/SMTP login) */
	struct http_client *http;      /* one per thread */
	struct driver_auth auth;       /* token source */
};

struct driver_transport {
	const char *name;              /* "graph", "imap" (stored on accounts) */
	const char *label;             /* "Microsoft Graph", "IMAP OAuth2" */
	const char *token_resource;    /* resource of its tokens: "graph" | "outlook" */
	bool can_sync;                 /* a driver exists for mail (not only probes) */
	/* Open a driver. Errors as the driver's. */
	int (*open)(const struct driver_endpoint *ep, struct driver **out,
		    struct err *e);
};

/* The transport named `name`, or NULL. */
const struct driver_transport *driver_transport_find(const char *name);

/* Every transport, NULL-terminated. */
extern const struct driver_transport *const driver_transports[];

#endif
