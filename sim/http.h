/*
 * http.h — m365sim's transport-neutral request and response. The MHD glue
 * (server.c) and $batch (graph_batch.c) both build a struct sim_req and
 * read back a struct sim_resp, so every handler works the same whether it
 * is reached over a socket or from inside a batch. Also the error bodies
 * of the two surfaces: Graph's {"error":{code,message,innerError}} and the
 * identity platform's {error, error_description, error_codes, ...}.
 */
#ifndef SIM_HTTP_H
#define SIM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "inboxsync/buf.h"
#include "simutil.h"

struct sim_world;
struct sim_user;
struct sim_mailbox;
struct oa_access;
struct throttle_slot;

#define SIM_MAX_SEGS 24
#define SIM_URL_MAX 256               /* base URLs: --public-url and Host */

/* Parsed Prefer header values. */
struct sim_prefer {
	long maxpagesize;      /* 0 = not given */
	bool immutable;        /* IdType="ImmutableId" */
	int body_type;         /* 0 = not given, 1 = text, 2 = html */
};

struct sim_req {
	char *method;
	char *path;                    /* percent-decoded path */
	char *raw_query;               /* "a=b&c=d" as sent (may be "") */
	struct sim_kvlist query;       /* decoded query parameters */
	struct sim_kvlist headers;
	const char *body;
	size_t body_len;
	char *host;                    /* Host header value */
	const char *scheme;            /* "http" or "https" (static) */
	const char *public_url;        /* --public-url or NULL (the world's) */
	bool inner;                    /* a $batch item */

	/* filled by routing */
	char *segs[SIM_MAX_SEGS];      /* path segments, key('x') split */
	size_t nsegs;
	const char *route;             /* template for counters */
	const char *caps[4];           /* captured {id} segments */
	char request_id[37];
	const char *client_request_id;

	/* filled by Graph authentication */
	struct oa_access *tok;
	struct sim_user *user;
	struct sim_mailbox *mb;
	struct sim_prefer prefer;
	struct throttle_slot *slot;    /* released when the response is done */
};

struct sim_resp {
	int status;
	struct sim_kvlist headers;
	struct buf body;
	json_t *json;                  /* body to serialise, see rs_finish */
	struct buf items;              /* pre-serialised "value" items, see
					* rs_json_items */
	bool has_items;
	const char *content_type;      /* static string, NULL = none */
	long delay_ms;                 /* hold the answer this long (latency.h);
					* -1 = not decided yet (rs_init) */
	int inflight;                  /* requests of the mailbox it stands for
					* while in flight (a $batch: its items
					* running at once); 0 = see the slot */
};

void rq_init(struct sim_req *rq);
void rq_free(struct sim_req *rq);
void rs_init(struct sim_resp *rs);
void rs_free(struct sim_resp *rs);

/* Split rq->path into rq->segs: "mailFolders('x')" becomes two segments,
 * "mailFolders" and "x". Returns 0 or -1 when there are too many. */
int rq_split_path(struct sim_req *rq);

/* Match rq->segs[first..] against a pattern like "me/messages/{*}"
 * (literal segments case-insensitive, '*' any one segment, captured into
 * rq->caps). The whole remaining path must match. */
bool rq_match(struct sim_req *rq, size_t first, const char *pattern);

/* First header / query value with that name (headers case-insensitive). */
const char *rq_header(const struct sim_req *rq, const char *name);
const char *rq_query(const struct sim_req *rq, const char *name);

/* Parse the Prefer headers (all of them, comma-separated values). */
void rq_parse_prefer(struct sim_req *rq);

/* Set a response header (replacing one of the same name). */
void rs_header(struct sim_resp *rs, const char *name, const char *value);
/* Serialise a pending JSON body (rs->json) into rs->body. Safe without
 * the world lock: the tree belongs to the response. */
void rs_finish(struct sim_resp *rs);
/* JSON body (takes the reference) with status; serialised later by
 * rs_finish so that the work happens outside the world lock. */
void rs_json(struct sim_resp *rs, int status, json_t *v);
/* JSON body of a page (takes the reference to `envelope`, which must hold
 * "value": [] and nothing else named "value" at the top) whose items are
 * already serialised: `items` (moved out of the caller, left empty) is the
 * inside of the array, comma-separated values dumped by jansson
 * (msgjson_render_items). rs_finish splices them into the dumped envelope. */
void rs_json_items(struct sim_resp *rs, int status, json_t *envelope,
		   struct buf *items);
/* Turn a pending rs_json_items body into a parsed tree in rs->json (for a
 * $batch item, whose body is embedded in the batch response). No-op for
 * every other body. */
void rs_json_materialize(struct sim_resp *rs);
/* Text body with status and static content type. */
void rs_text(struct sim_resp *rs, int status, const char *ctype,
	       const char *text, size_t len);
/* Empty body with status (202, 204). */
void rs_empty(struct sim_resp *rs, int status);

/* Graph error: {"error":{"code","message","innerError":{date, request-id,
 * client-request-id}}}. */
void rs_graph_error(const struct sim_req *rq, struct sim_resp *rs,
		      int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Identity-platform error: error, error_description ("AADSTSn: text Trace
 * ID: … Correlation ID: … Timestamp: …"), error_codes, timestamp, trace_id,
 * correlation_id, error_uri. */
void rs_oauth_error(const struct sim_req *rq, struct sim_resp *rs,
		      int status, const char *error, long aadsts,
		      const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Parse the body as JSON for a Graph handler. On failure writes a 400
 * Graph error into rs and returns NULL. An empty body gives NULL with
 * *empty set (no error written) when `empty` is non-NULL. */
json_t *rq_json_body(const struct sim_req *rq, struct sim_resp *rs,
		      bool *empty);

/* Absolute base URL for links in responses (no trailing slash): the
 * --public-url when one was given, else scheme "://" Host, so that every
 * link is one the client can reach. */
void rq_base_url(const struct sim_req *rq, char *out, size_t n);

#endif
