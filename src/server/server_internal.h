/*
 * server_internal.h — what the files of src/server share: the running
 * server, one request as a handler sees it, the route table, and the
 * helpers handlers use to read parameters and bodies and to answer.
 * Handlers (api_*.c) parse, call src/service and render; the rules are
 * the service layer's. httpd.c owns libmicrohttpd; nothing else touches
 * a connection except through these helpers.
 */
#ifndef INBOXSYNC_SERVER_INTERNAL_H
#define INBOXSYNC_SERVER_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "inboxsync/auth.h"
#include "inboxsync/buf.h"
#include "inboxsync/sched.h"
#include "inboxsync/server.h"
#include "inboxsync/service.h"

#define SERVER_BODY_MAX ((size_t)1 << 20)         /* JSON bodies: 1 MiB */
#define SERVER_PAGE_MAX ((size_t)64 << 20)        /* a page of messages as text */
#define SERVER_MAX_PARAMS 4
#define SERVER_MAX_QUERY 8
#define SERVER_LISTEN_DEFAULT "127.0.0.1:8025"
/* Message texts the API remembers (service_text_cache): a few pages of
 * each of many accounts, a few megabytes at most. */
#define SERVER_TEXT_CACHE_SLOTS 4096
#define SERVER_TEXT_CACHE_BYTES ((size_t)8 << 20)

struct feed_waiter;
struct webhook_sender;
struct signin_throttle;
struct MHD_Daemon;
struct MHD_Connection;

struct server {
	struct server_config cfg;
	char public_url[512];      /* no trailing slash */
	char redirect_uri[600];    /* public_url + /oauth/callback */
	char listen_url[300];      /* http://HOST:PORT as bound */
	char node_id[128];
	bool secure_cookies;       /* public URL is https */
	struct MHD_Daemon *daemon;
	struct sched_service *sched;
	pthread_mutex_t sched_lock; /* guards `sched` against shutdown */
	struct feed_waiter *feed;
	struct webhook_sender *webhooks;
	struct signin_throttle *throttle;
	struct service_text_cache *texts; /* rendered messages of pages */
	volatile sig_atomic_t stopping;
	volatile sig_atomic_t http_abort; /* cut remote requests of handlers short */
	int64_t started_at;
};

/* Who may call a route. */
enum route_who {
	WHO_ANYONE = 0,            /* no authentication */
	WHO_USER,                  /* any signed-in user or token */
	WHO_ADMIN,                 /* administrators (else 403) */
	WHO_OWNER,                 /* the owner of account {id} (else 404) */
};

struct request;

/* What a handler returns: 0 answered (rq->status, rq->out), -1 failed
 * (rq->err), ROUTE_SUSPEND wait for events (long poll; called again). */
#define ROUTE_SUSPEND 2

struct route {
	const char *method;        /* GET POST PUT PATCH DELETE */
	const char *pattern;       /* "/api/v1/accounts/{id}/messages/{message_id}" */
	enum route_who who;
	int (*handler)(struct request *rq);
	size_t body_max;           /* 0 = SERVER_BODY_MAX */
	unsigned flags;
	const char *summary;       /* one line, also the OpenAPI summary */
};

#define ROUTE_NO_CSRF 0x1u         /* sign-in: there is no session yet */
#define ROUTE_RAW 0x2u             /* answers its own content (not JSON) */

extern const struct route server_routes[];
extern const size_t server_routes_count;

/* Match `method` and the raw (still percent-encoded) `path` against the
 * table: the route, with decoded parameters in names/values (at most
 * SERVER_MAX_PARAMS). NULL when nothing matches; *path_known then says
 * whether another method would (405). */
const struct route *route_match(const char *method, const char *path,
				const char **names, char **values, size_t *n,
				bool *path_known);

struct request {
	struct server *srv;
	struct MHD_Connection *conn;
	const struct route *route;
	const struct auth_env *env;  /* this thread's store, vault, HTTP client */
	struct service_actor actor;
	bool authenticated;
	bool by_cookie;
	char username[128];
	struct store_account account; /* WHO_OWNER: the account {id} */
	const char *param_names[SERVER_MAX_PARAMS];
	char *param_values[SERVER_MAX_PARAMS];
	size_t n_params;
	const char *query_names[SERVER_MAX_QUERY];
	char *query_values[SERVER_MAX_QUERY];  /* decoded copies */
	size_t n_query;
	const char *method;
	char path[1024];           /* raw, without the query */
	char request_id[40];
	json_t *body;              /* the parsed JSON body (object), or NULL */
	const char *raw_body;
	size_t raw_len;
	bool resumed;              /* called again after a long-poll wait */
	int64_t wait_until_ms;     /* long poll: monotonic deadline */
	int64_t wait_after_seq;    /* long poll: what the caller has seen */
	/* the answer */
	int status;
	json_t *out;
	struct err err;
	char *raw_out;             /* ROUTE_RAW: body (heap) */
	size_t raw_out_len;
	const char *raw_type;      /* its Content-Type */
	char location[1024];       /* Location header ("" = none) */
	char set_cookie[512];      /* Set-Cookie header ("" = none) */
	char etag[64];             /* ETag header ("" = none) */
	bool not_modified;         /* answer 304 */
	bool replayed;             /* Idempotent-Replayed: the first answer again */
	bool head_only;
};

/* ---- helpers for handlers (httpd.c) ------------------------------------------ */

/* A decoded path parameter ("" when absent). */
const char *rq_param(const struct request *rq, const char *name);
/* A decoded query argument, or NULL. */
const char *rq_query(const struct request *rq, const char *name);
/* A request header, or NULL. */
const char *rq_header(const struct request *rq, const char *name);

/* Query integers: absent = dflt; not an integer in [lo, hi] = 400. */
int rq_query_int(struct request *rq, const char *name, long long dflt,
		 long long lo, long long hi, long long *out);

/* Answer `status` with `doc` (stolen; NULL = no body). Returns 0. */
int rq_reply(struct request *rq, int status, json_t *doc);
/* Answer `status` with the JSON text in `text` (taken over, `text` left
 * empty): the same answer as rq_reply with the document it holds. */
int rq_reply_text(struct request *rq, int status, struct buf *text);

/* Fail with a 400 invalid_request naming what is wrong. Returns -1. */
int rq_bad(struct request *rq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Fail with `e` (copied; its code decides the status). Returns -1. */
int rq_fail(struct request *rq, const struct err *e);

/* The path parameter {name} as a positive id (else 404 not_found). */
int rq_param_id(struct request *rq, const char *name, int64_t *out);

/* Body getters (the body may be absent: optional fields are then absent,
 * required ones missing). Type errors are 400 naming the field. */
int rq_body_string(struct request *rq, const char *key, bool required, const char **out);
int rq_body_bool(struct request *rq, const char *key, int *out); /* -1 = absent */
int rq_body_array(struct request *rq, const char *key, bool required, json_t **out);
int rq_body_object(struct request *rq, const char *key, bool required, json_t **out);

/* An HTTP status for an error and the API's code for it. */
int server_error_status(const struct err *e, const char **api_code);

/* ---- the pieces ------------------------------------------------------------------ */

/* This thread's env (opened on first use; NULL with `e` on failure). */
const struct auth_env *server_thread_env(struct server *srv, struct err *e);
void server_thread_env_init(void);

/* Ask the scheduler to look for due accounts now. */
void server_poke_sync(struct server *srv);

/* Long-poll waiting (feed.c): register a suspended connection to be
 * resumed when an event newer than rq->wait_after_seq may exist or at its
 * deadline. */
int feed_start(struct server *srv, struct feed_waiter **out, struct err *e);
void feed_wait(struct feed_waiter *f, struct MHD_Connection *conn,
	       int64_t after_seq, int64_t until_ms);
/* Resume every waiting connection; later waits resume at once. */
void feed_stop(struct feed_waiter *f);
void feed_free(struct feed_waiter *f); /* after the daemon stopped */

/* Webhook delivery (webhooks.c). */
int webhooks_start(struct server *srv, struct webhook_sender **out, struct err *e);
void webhooks_signal_stop(struct webhook_sender *w); /* no new attempts */
void webhooks_stop(struct webhook_sender *w);        /* wait, cut short, free */
/* The signature header value for `body` at `t` (out: 128 bytes). */
void webhook_signature(const char *secret, long long t, const char *body, size_t len,
		       char *out, size_t n);
/* Check a webhook URL as given by a user (scheme, host, SSRF rule). */
int webhook_check_url(const struct server *srv, const char *url, struct err *e);

/* Sign-in throttling (api_session.c). */
struct signin_throttle *signin_throttle_new(void);
void signin_throttle_free(struct signin_throttle *t);

/* /metrics text (metrics_http.c). */
void server_metrics_describe(void);
int server_metrics_render(struct server *srv, const struct auth_env *env,
			  struct buf *out, struct err *e);
void server_observe_http(const struct http_observation *o);

/* Static files (static.c): answer rq for `path` from the web UI. */
int static_answer(struct request *rq, const char *path);

#endif
