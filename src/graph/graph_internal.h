/*
 * graph_internal.h — contracts shared by the files of the Graph driver
 * (src/graph). Nothing outside src/graph includes this: the engine sees
 * driver.h, the program sees graph.h. Layers, bottom up: URLs (graph_url.c),
 * error classification (graph_error.c), one request with auth and the 401
 * refresh (graph_request.c), $batch (graph_batch.c), message pages
 * (graph_messages.c), then the operations (delta, folders, items, send).
 */
#ifndef INBOXSYNC_GRAPH_INTERNAL_H
#define INBOXSYNC_GRAPH_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include "inboxsync/json.h"
#include "inboxsync/buf.h"
#include "inboxsync/driver.h"
#include "inboxsync/err.h"
#include "inboxsync/graph.h"
#include "inboxsync/http.h"

#define GRAPH_DEFAULT_MAX_RESPONSE ((size_t)32 << 20)
#define GRAPH_DEFAULT_PAGE_SIZE 100
#define GRAPH_MAX_PAGE_SIZE 1000       /* Graph's cap for $top on messages */
#define GRAPH_BATCH_MAX 20             /* requests per $batch */
#define GRAPH_MAX_CONCURRENCY 4        /* Outlook: per app and mailbox */
#define GRAPH_THROTTLE_HINT_S 10       /* 429 without Retry-After */
#define GRAPH_PREFER_IMMUTABLE "IdType=\"ImmutableId\""
#define GRAPH_PREFETCH_SLOTS 3         /* next pages fetched ahead */

/* A next page being fetched ahead (graph_prefetch.c). */
struct graph_prefetch {
	bool used;
	bool running;                  /* its thread has not been joined */
	pthread_t thread;
	char *url;
	size_t page_size;
	char *token;
	struct http_client *http;      /* the slot's own, kept for reuse */
	struct http_response resp;
	int rc;
	struct err err;
};

struct graph_driver {
	struct driver base;            /* first: driver.h casts to it */
	char *base_url;                /* no trailing '/' */
	struct http_client *http;      /* borrowed */
	struct driver_auth auth;
	size_t max_response;
	size_t default_page_size;
	int max_concurrency;
	bool no_batch;                 /* the server has no $batch: one by one */
	bool no_delta_orderby;         /* delta refused $orderby: plain rounds */
	struct graph_prefetch prefetch[GRAPH_PREFETCH_SLOTS];
};

/* The Graph driver behind a struct driver made by graph_driver_new. */
struct graph_driver *graph_of(struct driver *d);

/* ---- what a request is about (for messages and 404 mapping) ------------ */

enum graph_target {
	GRAPH_TARGET_NONE = 0,
	GRAPH_TARGET_FOLDER,           /* a 404 means "folder_gone" */
	GRAPH_TARGET_MESSAGE,          /* a 404 means "not_found" */
};

struct graph_op {
	const char *what;              /* "listing changes", "moving" ... */
	enum graph_target target;
	const char *target_id;         /* folder or message id, or NULL */
	const char *scope;             /* permission it needs, for 403 text */
	bool is_content;               /* body/MIME fetch: oversized = permanent */
};

/* ---- URLs (graph_url.c) -------------------------------------------------- */

/* Builds base_url + path + query. Pieces are appended in order; ids and
 * query values are percent-encoded exactly once here, literal path text is
 * taken as is. A failure (absurdly long input) is remembered and reported
 * by graph_url_finish. */
struct graph_url {
	struct buf b;
	bool has_query;
	bool failed;
};

void graph_url_init(struct graph_url *u, const struct graph_driver *g);
/* Literal path text such as "/me/messages/" (not encoded). */
void graph_url_path(struct graph_url *u, const char *literal);
/* One path segment (an id or a well-known name), percent-encoded. */
void graph_url_id(struct graph_url *u, const char *id);
/* "?key=value" or "&key=value"; `key` literal, `value` percent-encoded. */
void graph_url_param(struct graph_url *u, const char *key, const char *value);
/* The URL (heap, caller frees), or NULL with ERR_PERMANENT "bad_request"
 * in `e` when a piece could not be added. Frees the builder either way. */
char *graph_url_finish(struct graph_url *u, struct err *e);

/* True when `url` is an absolute URL on the same scheme, host and port as
 * the configured base URL — the only place a bearer token may go. */
bool graph_url_is_ours(const struct graph_driver *g, const char *url);

/* `url` relative to the base URL for a $batch sub-request ("/me/..." with
 * its query, nothing decoded or re-encoded), heap; NULL when `url` does not
 * lie under the base URL. */
char *graph_url_relative(const struct graph_driver *g, const char *url);

/* ---- errors (graph_error.c) ---------------------------------------------- */

/* Classify an error answer (status + Graph's error body, which may be NULL
 * or not an error document) through the status/code table. The message
 * names op, target, status, Graph's code and the request-id (taken from
 * `request_id` or else the body's innerError) and says what to do. Sets
 * e->http_status and, for throttled/transient answers, e->retry_after_s
 * (`retry_after_s` < 0 = absent). Returns -1. */
int graph_error_set(struct err *e, const struct graph_op *op, long status,
		    const json_t *body, int retry_after_s,
		    const char *request_id);

/* Same for a raw HTTP answer (its body is parsed leniently). Returns -1. */
int graph_error_from_http(struct err *e, const struct graph_op *op,
			  const struct http_response *r);

/* Reclassify a failure of http_perform already in `e`: network/timeout
 * stay ERR_TRANSIENT; "too_large" becomes ERR_TRANSIENT unless op is a
 * content fetch; adds op and target to the message. Returns -1. */
int graph_error_transport(struct err *e, const struct graph_op *op);

/* A 2xx answer we cannot use (bad JSON, missing fields): ERR_TRANSIENT
 * "bad_response" naming op, target, `detail` and the request-id. -1. */
int graph_error_bad_response(struct err *e, const struct graph_op *op,
			     const char *request_id, const char *detail);

/* Append `text` to e->msg as far as it fits (e may be NULL). */
void graph_err_append(struct err *e, const char *text);

/* "folder 'AAMk…'" / "message '…'" / "" into `out` (ids shortened). */
void graph_op_target(const struct graph_op *op, char *out, size_t n);

/* ---- one request (graph_request.c) --------------------------------------- */

struct graph_req {
	const char *method;            /* NULL = GET */
	const char *url;               /* absolute; must be graph_url_is_ours */
	const char *content_type;      /* of body, or NULL */
	const char *body;
	size_t body_len;
	size_t page_size;              /* > 0: Prefer: odata.maxpagesize=N */
	size_t max_response;           /* 0 = the driver's cap */
	bool raw;                      /* answer is not JSON (MIME $value) */
};

/* Perform `req` with a bearer token, Prefer: IdType="ImmutableId", Accept
 * and a client-request-id (the same on the retry). A 401 gets one token
 * refresh (force_refresh) and one retry. Returns 0 for a 2xx answer (resp
 * filled; caller owns resp, initialised with http_response_init). Otherwise
 * -1 with `e` classified (resp keeps the status when one arrived). Blocks. */
int graph_call(struct graph_driver *g, const struct graph_op *op,
	       const struct graph_req *req, struct http_response *resp,
	       struct err *e);

/* graph_call, then the body as a JSON object (new reference, caller
 * decrefs). A 2xx whose body is not a JSON object is ERR_TRANSIENT
 * "bad_response". `request_id` (may be NULL, else >= 80 bytes) gets the
 * answer's request-id. NULL on failure. */
json_t *graph_call_json(struct graph_driver *g, const struct graph_op *op,
			const struct graph_req *req, char *request_id,
			struct err *e);

/* A bearer token for `op` from the auth layer (heap; free with
 * graph_token_free). `rejected` (NULL normally) is a token the server
 * refused: another one is wanted. */
int graph_token(struct graph_driver *g, const struct graph_op *op,
		const char *rejected, char **token, struct err *e);
void graph_token_free(char *token);

/* The body of a 2xx answer as a JSON object (new reference), or NULL with
 * ERR_TRANSIENT "bad_response". */
json_t *graph_response_json(const struct graph_op *op,
			    const struct http_response *resp, struct err *e);

/* Request id of an answer for messages: header, or "". */
const char *graph_request_id(const struct http_response *r);

/* ---- fetching the next page ahead (graph_prefetch.c) --------------------------- */

/* Start fetching `url` (a next link just received) in the background, so
 * the server's time overlaps the engine committing the current page. Uses
 * a token from the auth layer taken now, and a free slot (at most
 * GRAPH_PREFETCH_SLOTS, fewer when max_concurrency is lower, so the driver
 * never has more than max_concurrency requests in flight). Best effort:
 * does nothing when no slot is free. */
void graph_prefetch_start(struct graph_driver *g, const char *url,
			  size_t page_size);

/* The prefetched answer for `url`, if a prefetch for it succeeded with a
 * 2xx: moves it into `out` (initialised by the caller) and returns 1.
 * Otherwise returns 0 (a failed prefetch is dropped: the caller makes the
 * request itself, with the usual 401 refresh and error classification). */
int graph_prefetch_take(struct graph_driver *g, const char *url,
			struct http_response *out);

/* Wait for every running prefetch (results kept), before an operation
 * that runs several requests at once. */
void graph_prefetch_settle(struct graph_driver *g);

/* Wait for and drop every prefetch (driver free). */
void graph_prefetch_clear(struct graph_driver *g);

/* ---- $batch (graph_batch.c) ----------------------------------------------- */

struct graph_batch_item {
	/* in */
	struct graph_op op;
	const char *method;            /* NULL = GET */
	const char *url;               /* absolute (our origin) */
	const json_t *body;            /* JSON body, or NULL */
	size_t page_size;              /* Prefer: odata.maxpagesize when > 0 */
	/* out */
	int rc;                        /* 0 = 2xx; -1 = see err */
	long status;                   /* HTTP status; 0 = not attempted */
	json_t *response;              /* 2xx JSON object (own ref) or NULL */
	char request_id[80];
	struct err err;
	bool answered;                 /* an answer (or its absence in a
					  batch answer) decided rc */
	/* runner's bookkeeping */
	long depends_on;               /* index in the items array, or -1 */
	bool rerun;
};

/* Re-run an item whose dependency failed with a definite answer (a 404,
 * say) instead of reporting its 424. Chain heads always get an answer, so
 * every round makes progress. */
#define GRAPH_BATCH_RERUN_DEPENDENTS 0x1

/* Run `n` items: at most 20 per $batch, arranged as at most
 * max_concurrency dependsOn chains so no more than that many run at once
 * in the mailbox; batches go one after another. A lone item, or one whose
 * URL is not under the base URL, is sent as a plain request. Each item
 * gets rc/status/response/err; a 424 is ERR_TRANSIENT "dependency_failed"
 * (ERR_THROTTLED when its dependency was throttled). Returns 0 when every
 * item got an answer; -1 when a whole batch failed (`e` filled; every item
 * still without an answer gets rc -1, status 0 and the same error). Free
 * the responses with graph_batch_release. Blocks. */
int graph_batch_run(struct graph_driver *g, const char *what,
		    struct graph_batch_item *items, size_t n, unsigned flags,
		    struct err *e);
void graph_batch_release(struct graph_batch_item *items, size_t n);

/* ---- message pages (graph_messages.c) ------------------------------------ */

enum graph_page_kind {
	GRAPH_PAGE_DELTA,              /* needs @odata.nextLink or deltaLink */
	GRAPH_PAGE_LIST,               /* a listing: no cursors */
};

/* Turn a collection answer (`doc`, a JSON object; the reference is taken
 * over either way) into `page`: items point into doc, which becomes the
 * page's priv owner together with the few strings made here (to/cc/
 * categories JSON). Anything unusable (no value[], an item without id, a
 * mistyped field, a delta page without a link) is ERR_TRANSIENT
 * "bad_response" and leaves `page` empty; a next or delta link that is not
 * on Graph's origin is ERR_TRANSIENT "foreign_link" (the page is refused
 * whole: a round must never end on a link from elsewhere). */
int graph_page_parse(const struct graph_driver *g, json_t *doc,
		     enum graph_page_kind kind, const struct graph_op *op,
		     const char *request_id, struct driver_page *page, struct err *e);

/* The initial delta URL of a folder (heap), or NULL with `e`. */
char *graph_delta_start_url(struct graph_driver *g, const char *folder_id,
			    struct err *e);

/* ---- operations (one file each group) ------------------------------------ */

int graph_op_whoami(struct driver *d, struct driver_identity *out,
		    struct err *e);
int graph_op_list_folders(struct driver *d, driver_folder_cb cb, void *ctx,
			  struct err *e);
int graph_op_get_changes(struct driver *d, const char *folder_id,
			 const char *cursor, size_t page_size,
			 struct driver_page *page, struct err *e);
int graph_op_poll_changes(struct driver *d, struct driver_poll *polls,
			  size_t n, size_t page_size, struct err *e);
int graph_op_list_newest(struct driver *d, const char *folder_id,
			 int64_t received_after, size_t limit,
			 struct driver_page *page, struct err *e);
int graph_op_count_messages(struct driver *d, const char *folder_id,
			    long long *total, struct err *e);
int graph_op_locate_messages(struct driver *d, struct driver_locate *items,
			     size_t n, struct err *e);
int graph_op_fetch_body(struct driver *d, const char *id,
			struct driver_body *out, struct err *e);
int graph_op_fetch_mime(struct driver *d, const char *id, struct buf *out,
			struct err *e);
int graph_op_set_flags(struct driver *d, const char *id, int is_read,
		       int is_flagged, struct err *e);
int graph_op_move_message(struct driver *d, const char *id,
			  const char *dest_folder_id, char **new_id, struct err *e);
int graph_op_delete_message(struct driver *d, const char *id, struct err *e);
int graph_op_create_draft(struct driver *d, const char *mime, size_t len,
			  char **draft_id, struct err *e);
int graph_op_send_draft(struct driver *d, const char *draft_id,
			struct err *e);
int graph_op_get_state(struct driver *d, const char *id,
		       struct driver_state *out, struct err *e);
int graph_op_find_by_message_id(struct driver *d, const char *imid,
				driver_found_cb cb, void *ctx, struct err *e);
int graph_op_test_send(struct driver *d, struct err *e);

/* Fill a driver_state from a message object (id, isDraft, parentFolderId,
 * internetMessageId, conversationId). -1 with bad_response on mistyped
 * fields. */
int graph_state_from_json(const json_t *msg, const struct graph_op *op,
			  const char *request_id, struct driver_state *out,
			  struct err *e);

#endif
