/*
 * http.h — the one HTTP client every outgoing request goes through (libcurl).
 * Owns: connect/total timeouts, a response size cap, connection reuse, gzip,
 * TLS (http:// only for loopback hosts), Retry-After parsing, request-id
 * capture, optional Prefer headers, debug logging with tokens redacted.
 * Does not interpret status codes: callers (graph, oauth) classify them.
 * A client is used by one thread at a time; make one per worker thread.
 */
#ifndef INBOXSYNC_HTTP_H
#define INBOXSYNC_HTTP_H

#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include "inboxsync/buf.h"
#include "inboxsync/err.h"

/* A response body's cap when neither the client nor the request sets one. */
#define HTTP_DEFAULT_MAX_RESPONSE ((size_t)16 << 20)

struct sockaddr;

#define HTTP_MAX_PREFER 4
#define HTTP_MAX_HEADERS 8
/* http_perform_many runs at most this many transfers at once; further
 * entries wait for a free slot. */
#define HTTP_MAX_PARALLEL 16

struct http_client;

struct http_options {
	long connect_timeout_ms;  /* 0 = 10 s */
	long total_timeout_ms;    /* 0 = 60 s; per request, whole transfer */
	size_t max_response;      /* 0 = 16 MiB; larger bodies fail "too_large" */
	const char *user_agent;   /* NULL = "inboxsync/<version>" */
	/* When set (non-zero) by another thread or a signal handler, transfers
	 * in progress end at once with ERR_TRANSIENT "aborted" (shutdown). */
	const volatile sig_atomic_t *abort_flag;
};

struct http_request {
	const char *method;            /* "GET" (default when NULL), "POST", ... */
	const char *url;               /* absolute http(s) URL */
	const char *bearer;            /* access token -> Authorization: Bearer */
	const char *content_type;      /* of body; NULL when no body */
	const char *body;              /* request body (may contain NULs) */
	size_t body_len;
	const char *prefer[HTTP_MAX_PREFER];   /* each becomes a Prefer: header */
	const char *headers[HTTP_MAX_HEADERS]; /* extra "Name: value" lines */
	const char *client_request_id; /* sent as client-request-id; NULL = new uuid */
	long total_timeout_ms;         /* 0 = the client's */
	size_t max_response;           /* 0 = the client's */
	/* For URLs a user gave (webhooks): never connect to a loopback,
	 * private, link-local or otherwise non-public address, checked on
	 * the address actually connected to (no proxy), and allow plain
	 * http:// to any host. Refused: ERR_PERMANENT "private_address". */
	bool public_only;
	bool allow_plain_http;         /* http:// to any host (see public_only) */
	/* What the request is for, as observers see it (NULL = the mail
	 * provider: Microsoft's identity platform or Graph). */
	const char *kind;
};

/* What one finished request looked like, for metrics (http_set_observer). */
struct http_observation {
	const char *kind;              /* the request's kind (NULL = provider) */
	const char *method;
	const char *host;
	const char *path;              /* without the query */
	long status;                   /* 0 = no response */
	const char *error_code;        /* "" when a response arrived */
	long long duration_ms;
};

struct http_response {
	long status;                 /* HTTP status, 0 until a response arrived */
	struct buf body;             /* response body (decoded from gzip) */
	int retry_after_s;           /* Retry-After in seconds, -1 when absent */
	char request_id[80];         /* server's request-id header, or "" */
	char client_request_id[80];  /* the id this request carried */
	char content_type[128];
	char location[1024];         /* Location header, or "" (truncated) */
};

/* Tell `fn` (NULL = nobody) about every finished request of every
 * client in the process; it is called from the requesting thread and
 * must be thread-safe and quick. Set it before threads start. */
void http_set_observer(void (*fn)(const struct http_observation *o));

/* Initialise libcurl once per process (call before any thread starts). */
int http_global_init(struct err *e);
void http_global_cleanup(void);

/* New client with `opt` (NULL = defaults). Never NULL. */
struct http_client *http_client_new(const struct http_options *opt);
void http_client_free(struct http_client *c);

/* Initialise / release a response (body capped by the request's cap). */
void http_response_init(struct http_response *r);
void http_response_free(struct http_response *r);

/* Same, zeroing the body first (a token endpoint's answer). */
void http_response_free_secret(struct http_response *r);

/* Perform `req`, filling `resp` (initialised by the caller; reset here).
 * Returns 0 whenever an HTTP response arrived, whatever its status.
 * Returns -1 with `e` filled when no complete response arrived:
 *   ERR_TRANSIENT "network" / "timeout"   — connect/read failure or timeout
 *   ERR_PERMANENT "too_large"             — body exceeded the size cap
 *   ERR_PERMANENT "insecure_url"          — http:// to a non-loopback host
 *   ERR_PERMANENT "bad_url"               — unparsable URL
 * Blocks; never retries. Messages name the host and the request-id. */
int http_perform(struct http_client *c, const struct http_request *req,
		 struct http_response *resp, struct err *e);

/* Perform up to `n` requests concurrently on one connection pool (used for
 * at most 4 in flight per mailbox). Each entry gets its own result in
 * `rcs[i]` (0 or -1) and `errs[i]`. Returns 0 when all were attempted. */
int http_perform_many(struct http_client *c, const struct http_request *reqs,
		      struct http_response *resps, int *rcs, struct err *errs,
		      size_t n);

/* Check that `url` is absolute, http(s), and http only for a loopback host
 * (127.0.0.0/8, ::1, localhost). Returns 0 or -1 ("insecure_url"/"bad_url"). */
int http_check_url(const char *url, struct err *e);

/* The same for a URL a user gave (see http_request.allow_plain_http):
 * absolute, http or https, with a host; http to any host. */
int http_check_user_url(const char *url, struct err *e);

/* True for an address a user-given URL must not reach: unspecified,
 * loopback, private (RFC 1918, ULA), link-local, carrier-grade NAT,
 * benchmarking, documentation, multicast, broadcast, and IPv4 mapped or
 * NAT64 forms of those. */
bool http_addr_is_private(const struct sockaddr *sa);

/* Resolve the host of `url` and refuse it ("private_address") when any
 * address it resolves to is private (http_addr_is_private), or "bad_url"
 * when it does not resolve. Blocks on DNS. */
int http_check_public_url(const char *url, struct err *e);

/* Parse a Retry-After value (delta-seconds or HTTP-date, relative to `now`).
 * Returns seconds (>= 0, capped at one day), or -1 when unparsable. */
int http_parse_retry_after(const char *value, long long now);

/* Append "key=value" (both form-urlencoded) to a form body, with '&' as
 * needed. Errors as buf_append. */
int http_form_add(struct buf *form, const char *key, const char *value,
		  struct err *e);

/* Percent-encode `s` for a URL path segment or query value into a fresh
 * heap string (caller frees). */
char *http_escape(const char *s);

/* Make a random UUIDv4 string (37 bytes with NUL). */
void http_new_uuid(char out[37]);

#endif
