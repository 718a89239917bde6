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
#define GRAPH_CHAINS 4                 /* folders' rounds fetched ahead at once */
#define CHAIN_AHEAD 2                  /* parsed pages a chain may hold */

/* The bump allocator behind a parsed page (graph_arena.c). */
struct graph_arena_chunk;
struct graph_arena {
	struct graph_arena_chunk *head;
	char *at, *end;                /* free room in the current chunk */
	size_t bytes;                  /* allocated in all chunks */
};

void graph_arena_init(struct graph_arena *a);
/* `n` bytes aligned for any type; never NULL (aborts like xmalloc). */
void *graph_arena_alloc(struct graph_arena *a, size_t n);
char *graph_arena_strndup(struct graph_arena *a, const char *s, size_t n);
/* Frees every chunk; `a` is empty and reusable afterwards. */
void graph_arena_free(struct graph_arena *a);

struct cJSON;

/* Parse `text` (len bytes, NUL-terminated at text[len]) with cJSON, every
 * node and string in `a`. NULL when it is not one JSON value followed by
 * nothing but blanks (*error_at is then where cJSON stopped), or when it
 * would take more than json_parse_memory_max(len) (*too_big set: the
 * bound jansson's parses have, so a page's memory is bounded by the
 * response cap however the server structures it). The
 * tree is never freed on its own: it goes with the arena. */
struct cJSON *graph_arena_parse(struct graph_arena *a, const char *text,
				size_t len, size_t *error_at, bool *too_big);

/* Requests in flight for the mailbox, first come first served
 * (graph_prefetch.c). */
struct graph_gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int max, inflight, peak;
	unsigned long next_ticket, serving;
};

void graph_gate_init(struct graph_gate *gt, int max);
void graph_gate_destroy(struct graph_gate *gt);
/* Wait until `k` (clamped to 1..max) more requests may go; returns k. */
int graph_gate_enter(struct graph_gate *gt, int k);
void graph_gate_leave(struct graph_gate *gt, int k);

/* A page a chain has fetched and parsed, or why not. */
struct graph_ready {
	char *url;                     /* the link it answers */
	int rc;                        /* 0: page; -1: err */
	struct driver_page page;
	struct err err;
};

struct graph_driver;

/* One folder's round followed ahead on a thread (graph_prefetch.c). */
struct graph_chain {
	bool init, used, running;
	pthread_t thread;
	pthread_mutex_t mu;            /* guards what follows */
	pthread_cond_t cv;
	struct graph_driver *g;
	char *folder_id;
	char *url;                     /* next to fetch, or NULL */
	char *fetching;                /* on its way (owned by the thread) */
	size_t first_page_size, page_size;
	bool own_first;                /* its first request is the engine's own */
	char *token;
	struct http_client *http;      /* the slot's own, kept for reuse */
	struct graph_ready ready[CHAIN_AHEAD];
	size_t nready;
	bool stop, finished;
	char failure[200];             /* why it stopped early */
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
	struct graph_gate gate;
	struct graph_chain chains[GRAPH_CHAINS];
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
	int slots;                     /* requests it runs at once (a $batch);
					  0 = 1 */
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

/* ---- fetching pages ahead (graph_prefetch.c) ------------------------------------ */

/* Start following the round of `folder_id` from `url` in the background:
 * the page at `url` with `page_size`, the ones after it with
 * `next_page_size` (0 = the same). `own`: the first request is the one the
 * engine asked for ahead (driver_prefetch_changes), so its failure is
 * handed over as the answer; a failure of a page the chain went on to
 * fetch by itself is dropped (the engine asks again). Uses a token from the auth layer taken
 * now and a free chain (at most GRAPH_CHAINS, no more than
 * max_concurrency). A chain of the folder already at `url` is kept; one
 * elsewhere is dropped first. Best effort: does nothing when no chain is
 * free. */
void graph_prefetch_start(struct graph_driver *g, const char *folder_id,
			  const char *url, size_t page_size, size_t next_page_size,
			  bool own);

/* The page at `url` of the folder's chain, parsed: waits while it is on
 * its way, moves it into `out` and returns 1; -1 with `e` when that
 * request failed and its failure is the answer (see `own`). Returns 0
 * when the chain has no such page (none started, another link, a refused
 * token, or a page fetched ahead that did not come back clean: the caller
 * makes the request itself, with the usual 401 refresh and error
 * classification). */
int graph_prefetch_take(struct graph_driver *g, const char *folder_id,
			const char *url, struct driver_page *out, struct err *e);

/* Stop and drop every chain (driver free). */
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

/* Turn a collection answer (`text`, `len` bytes NUL-terminated at
 * text[len]) into `page`: the text is parsed into an arena that becomes
 * the page's priv owner, and the items point into it. Anything unusable (no value[], an item without id, a
 * mistyped field, a delta page without a link) is ERR_TRANSIENT
 * "bad_response" and leaves `page` empty; a next or delta link that is not
 * on Graph's origin is ERR_TRANSIENT "foreign_link" (the page is refused
 * whole: a round must never end on a link from elsewhere). */
int graph_page_parse(const struct graph_driver *g, const char *text, size_t len,
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
void graph_op_prefetch_changes(struct driver *d, const char *folder_id,
			       const char *cursor, size_t page_size,
			       size_t next_page_size);
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
int graph_op_fetch_bodies(struct driver *d, struct driver_body_fetch *items,
			  size_t n, struct err *e);
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
