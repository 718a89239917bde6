/*
 * http.c — libcurl transfers for the one HTTP client (see http.h).
 * One easy handle per client serves http_perform; a small pool of easy
 * handles on a multi handle serves http_perform_many. All of them share one
 * CURLSH (DNS, TLS sessions, connections), so every request may reuse a warm
 * connection. This file turns transport failures into classified errors;
 * status codes are the caller's business. String helpers: http_util.c.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/http.h"
#include "inboxsync/log.h"
#include "inboxsync/timeutil.h"
#include "inboxsync/version.h"

#define DEFAULT_CONNECT_MS 10000L
#define DEFAULT_TOTAL_MS 60000L
#define MAX_METHOD_LEN 16
#define MAX_ID_LEN 79 /* fits http_response.client_request_id */
#define LOG_URL_IN_MSG "%.160s"
#define LENGTH_MAX ((curl_off_t)INT64_MAX) /* curl_off_t is 64-bit */

struct http_client {
	CURLSH *share;                  /* DNS + TLS sessions + connections */
	CURL *easy;                     /* http_perform */
	CURLM *multi;                   /* http_perform_many, made on demand */
	CURL *pool[HTTP_MAX_PARALLEL];  /* easy handles of the multi */
	size_t pool_len;
	long connect_timeout_ms;
	long total_timeout_ms;
	size_t max_response;
	char *user_agent;
	const volatile sig_atomic_t *abort_flag;
};

/* Everything one request needs while curl runs it. Freed by
 * transfer_release, which also detaches it from the easy handle. */
struct transfer {
	CURL *easy;
	struct http_response *resp;
	const char *method;
	const char *kind;
	const volatile sig_atomic_t *abort_flag;
	CURLU *url;
	struct curl_slist *headers;
	char *log_url;          /* no query, no credentials: safe to log */
	char host[256];
	size_t cap;
	long timeout_ms;
	curl_off_t announced;   /* Content-Length over the cap, or -1 */
	bool is_head;
	bool is_loopback;
	bool public_only;
	bool refused_private;   /* public_only refused the address */
	bool aborted;           /* the client's abort flag was raised */
	bool too_large;
	bool configured;        /* options were set on `easy` */
	int64_t started_ms;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static bool global_ready;
static void (*observer)(const struct http_observation *o);

void http_set_observer(void (*fn)(const struct http_observation *o))
{
	observer = fn;
}

int http_global_init(struct err *e)
{
	CURLcode cc = CURLE_OK;

	pthread_mutex_lock(&global_lock);
	if (!global_ready) {
		cc = curl_global_init(CURL_GLOBAL_DEFAULT);
		global_ready = cc == CURLE_OK;
	}
	pthread_mutex_unlock(&global_lock);
	if (cc != CURLE_OK)
		return err_set(e, ERR_BUG, "http_init",
			       "libcurl failed to initialise: %s",
			       curl_easy_strerror(cc));
	if (sodium_init() < 0)
		return err_set(e, ERR_BUG, "http_init",
			       "libsodium failed to initialise");
	return 0;
}

void http_global_cleanup(void)
{
	pthread_mutex_lock(&global_lock);
	if (global_ready)
		curl_global_cleanup();
	global_ready = false;
	pthread_mutex_unlock(&global_lock);
}

static void die_curl(const char *what)
{
	fprintf(stderr, "inboxsync: out of memory (%s)\n", what);
	abort();
}

static CURL *easy_new(struct http_client *c)
{
	CURL *h = curl_easy_init();

	if (!h)
		die_curl("curl_easy_init");
	/* The share stays attached across curl_easy_reset. */
	if (curl_easy_setopt(h, CURLOPT_SHARE, c->share) != CURLE_OK)
		die_curl("CURLOPT_SHARE");
	return h;
}

struct http_client *http_client_new(const struct http_options *opt)
{
	struct http_client *c = xcalloc(1, sizeof(*c));

	http_global_init(NULL);
	c->connect_timeout_ms = opt && opt->connect_timeout_ms > 0 ?
		opt->connect_timeout_ms : DEFAULT_CONNECT_MS;
	c->total_timeout_ms = opt && opt->total_timeout_ms > 0 ?
		opt->total_timeout_ms : DEFAULT_TOTAL_MS;
	c->max_response = opt && opt->max_response ? opt->max_response :
		HTTP_DEFAULT_MAX_RESPONSE;
	c->user_agent = xstrdup(opt && opt->user_agent ? opt->user_agent :
				"inboxsync/" INBOXSYNC_VERSION);
	c->abort_flag = opt ? opt->abort_flag : NULL;
	c->share = curl_share_init();
	if (!c->share)
		die_curl("curl_share_init");
	if (curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT))
		die_curl("curl_share_setopt");
	c->easy = easy_new(c);
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->pool_len; i++)
		curl_easy_cleanup(c->pool[i]);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	curl_easy_cleanup(c->easy);
	curl_share_cleanup(c->share); /* closes the pooled connections */
	free(c->user_agent);
	free(c);
}

/* Forget what an earlier (or interim 1xx) response left behind. */
static void response_headers_reset(struct http_response *r)
{
	r->retry_after_s = -1;
	r->request_id[0] = '\0';
	r->content_type[0] = '\0';
	r->location[0] = '\0';
}

static void response_reset(struct http_response *r, size_t cap)
{
	r->status = 0;
	buf_reset(&r->body);
	r->body.limit = cap;
	r->client_request_id[0] = '\0';
	response_headers_reset(r);
}

/* ---- URLs ------------------------------------------------------------ */

/* True for 127.0.0.0/8, ::1 and "localhost" as curl reports the host (IPv6
 * literals keep their brackets). curl resolves "localhost" to the loopback
 * addresses itself, without asking DNS. */
static bool host_is_loopback(const char *host)
{
	unsigned char a4[4], a6[16];
	static const unsigned char v6_loopback[16] = { [15] = 1 };
	char v6[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0)
		return true;
	if (inet_pton(AF_INET, host, a4) == 1)
		return a4[0] == 127;
	if (n < 3 || host[0] != '[' || host[n - 1] != ']' || n - 2 >= sizeof(v6))
		return false;
	memcpy(v6, host + 1, n - 2);
	v6[n - 2] = '\0';
	return inet_pton(AF_INET6, v6, a6) == 1 &&
	       memcmp(a6, v6_loopback, sizeof(a6)) == 0;
}

/* Parse `url` with curl's URL API and apply the scheme/loopback rule. On
 * success hands back the parsed handle (caller frees) and the host. */
static int url_parse_checked(const char *url, bool allow_http, CURLU **out,
			     char *host_out, size_t host_n, struct err *e)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	*out = NULL;
	if (!url || !*url)
		return err_set(e, ERR_PERMANENT, "bad_url", "empty URL");
	u = curl_url();
	if (!u)
		die_curl("curl_url");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		err_set(e, ERR_PERMANENT, "bad_url",
			"'%.200s' is not an absolute http(s) URL", url);
		goto out;
	}
	if (strcasecmp(scheme, "https") != 0 && strcasecmp(scheme, "http") != 0) {
		err_set(e, ERR_PERMANENT, "bad_url",
			"unsupported URL scheme '%.32s' in '%.200s' (use https, "
			"or http to a loopback address)", scheme, url);
		goto out;
	}
	if (strcasecmp(scheme, "http") == 0 && !allow_http && !host_is_loopback(host)) {
		err_set(e, ERR_PERMANENT, "insecure_url",
			"refusing plain http:// to %.200s: only loopback hosts "
			"(127.0.0.0/8, ::1, localhost) may be reached without TLS; "
			"use an https:// URL", host);
		goto out;
	}
	if (host_out)
		str_copy(host_out, host_n, host);
	*out = u;
	u = NULL;
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

int http_check_url(const char *url, struct err *e)
{
	CURLU *u;

	if (url_parse_checked(url, false, &u, NULL, 0, e) < 0)
		return -1;
	curl_url_cleanup(u);
	return 0;
}

int http_check_user_url(const char *url, struct err *e)
{
	CURLU *u;

	if (url_parse_checked(url, true, &u, NULL, 0, e) < 0)
		return -1;
	curl_url_cleanup(u);
	return 0;
}

/* The URL as it may appear in logs and messages: no query (tokens, codes,
 * skip tokens), no fragment, no credentials. Caller frees. */
static char *url_for_log(CURLU *u)
{
	CURLU *view = curl_url_dup(u);
	char *query = NULL, *clean = NULL, *out;
	bool had_query;

	if (!view)
		die_curl("curl_url_dup");
	had_query = curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK;
	curl_free(query);
	curl_url_set(view, CURLUPART_QUERY, NULL, 0);
	curl_url_set(view, CURLUPART_FRAGMENT, NULL, 0);
	curl_url_set(view, CURLUPART_USER, NULL, 0);
	curl_url_set(view, CURLUPART_PASSWORD, NULL, 0);
	curl_url_set(view, CURLUPART_OPTIONS, NULL, 0);
	if (curl_url_get(view, CURLUPART_URL, &clean, 0) != CURLUE_OK)
		out = xstrdup("(unprintable URL)");
	else
		out = xasprintf("%s%s", clean, had_query ? "?..." : "");
	curl_free(clean);
	curl_url_cleanup(view);
	return out;
}

/* ---- callbacks --------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct transfer *t = userdata;
	size_t n = size * nmemb;

	/* buf_append refuses (and leaves the body alone) past the cap, so
	 * nothing beyond it is ever buffered; returning short aborts. */
	if (buf_append(&t->resp->body, data, n, NULL) < 0) {
		t->too_large = true;
		return 0;
	}
	return n;
}

/* Copy a header value into a fixed response field, truncating, with
 * control bytes replaced so the value is safe in messages. */
static void copy_value(char *dst, size_t dst_n, const char *v, size_t n)
{
	if (n >= dst_n)
		n = dst_n - 1;
	for (size_t i = 0; i < n; i++) {
		dst[i] = v[i];
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			dst[i] = '?';
	}
	dst[n] = '\0';
}

static bool name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* Content-Length as a number; "too large to represent" counts as huge. */
static curl_off_t parse_length(const char *v, size_t n)
{
	curl_off_t len = 0;

	if (!n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (len > (LENGTH_MAX - 9) / 10)
			return LENGTH_MAX;
		len = len * 10 + (v[i] - '0');
	}
	return len;
}

static void on_retry_after(struct transfer *t, const char *v, size_t n)
{
	char tmp[128];

	if (n >= sizeof(tmp)) {
		t->resp->retry_after_s = -1;
		return;
	}
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	t->resp->retry_after_s = http_parse_retry_after(tmp, time_now());
}

static size_t on_header(char *line, size_t size, size_t nitems, void *userdata)
{
	struct transfer *t = userdata;
	struct http_response *r = t->resp;
	size_t n = size * nitems, name_n, v_n;
	const char *colon, *v;

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		response_headers_reset(r); /* a new (final or 1xx) response */
		return n;
	}
	colon = memchr(line, ':', n);
	if (!colon)
		return n;
	name_n = (size_t)(colon - line);
	v = colon + 1;
	v_n = n - name_n - 1;
	while (v_n && (*v == ' ' || *v == '\t'))
		v++, v_n--;
	while (v_n && (v[v_n - 1] == '\r' || v[v_n - 1] == '\n' ||
		       v[v_n - 1] == ' ' || v[v_n - 1] == '\t'))
		v_n--;

	if (name_is(line, name_n, "retry-after")) {
		on_retry_after(t, v, v_n);
	} else if (name_is(line, name_n, "request-id")) {
		copy_value(r->request_id, sizeof(r->request_id), v, v_n);
	} else if (name_is(line, name_n, "x-ms-request-id")) {
		/* the identity platform's name for it; Graph's wins */
		if (!r->request_id[0])
			copy_value(r->request_id, sizeof(r->request_id), v, v_n);
	} else if (name_is(line, name_n, "content-type")) {
		copy_value(r->content_type, sizeof(r->content_type), v, v_n);
	} else if (name_is(line, name_n, "location")) {
		copy_value(r->location, sizeof(r->location), v, v_n);
	} else if (name_is(line, name_n, "content-length") && !t->is_head) {
		curl_off_t len = parse_length(v, v_n);

		if (len > 0 && (uint64_t)len > (uint64_t)t->cap) {
			t->announced = len;
			t->too_large = true;
			return 0; /* refuse before reading any of the body */
		}
	}
	return n;
}

/* public_only: refuse the connection when the address is not public. */
static curl_socket_t on_open_socket(void *userdata, curlsocktype purpose,
				    struct curl_sockaddr *addr)
{
	struct transfer *t = userdata;

	if (purpose != CURLSOCKTYPE_IPCXN ||
	    http_addr_is_private((const struct sockaddr *)&addr->addr)) {
		t->refused_private = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

/* The client's abort flag ends the transfer (shutdown). */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct transfer *t = userdata;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (t->abort_flag && *t->abort_flag) {
		t->aborted = true;
		return 1;
	}
	return 0;
}

/* ---- request set-up ---------------------------------------------------- */

static bool has_line_break(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

static int check_method(const char *m, struct err *e)
{
	size_t n = strlen(m);

	if (!n || n > MAX_METHOD_LEN)
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			goto bad;
	return 0;
bad:
	return err_set(e, ERR_BUG, "bad_request",
		       "invalid HTTP method '%.20s'", m);
}

static int add_header(struct transfer *t, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int add_header(struct transfer *t, struct err *e, const char *fmt, ...)
{
	struct curl_slist *l;
	va_list ap;
	char *line;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err_set(e, ERR_BUG, "bad_request", "bad header format");
	line = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(line, (size_t)n + 1, fmt, ap);
	va_end(ap);
	l = curl_slist_append(t->headers, line);
	sodium_memzero(line, (size_t)n); /* may hold a bearer token */
	free(line);
	if (!l)
		die_curl("curl_slist_append");
	t->headers = l;
	return 0;
}

static int build_headers(const struct http_request *req, struct transfer *t,
			 struct err *e)
{
	struct http_response *r = t->resp;

	if (has_line_break(req->bearer) || has_line_break(req->content_type) ||
	    has_line_break(req->client_request_id))
		return err_set(e, ERR_BUG, "bad_request",
			       "line break in a header value of %s %s",
			       t->method, t->log_url);
	if (req->client_request_id && *req->client_request_id) {
		if (strlen(req->client_request_id) > MAX_ID_LEN)
			return err_set(e, ERR_BUG, "bad_request",
				       "client-request-id longer than %d bytes",
				       MAX_ID_LEN);
		str_copy(r->client_request_id, sizeof(r->client_request_id),
			 req->client_request_id);
	} else {
		http_new_uuid(r->client_request_id);
	}
	if (add_header(t, e, "client-request-id: %s", r->client_request_id) < 0)
		return -1;
	if (req->bearer &&
	    add_header(t, e, "Authorization: Bearer %s", req->bearer) < 0)
		return -1;
	for (size_t i = 0; i < HTTP_MAX_PREFER && req->prefer[i]; i++) {
		if (has_line_break(req->prefer[i]))
			return err_set(e, ERR_BUG, "bad_request",
				       "line break in a Prefer header");
		if (add_header(t, e, "Prefer: %s", req->prefer[i]) < 0)
			return -1;
	}
	for (size_t i = 0; i < HTTP_MAX_HEADERS && req->headers[i]; i++) {
		if (has_line_break(req->headers[i]) || !strchr(req->headers[i], ':'))
			return err_set(e, ERR_BUG, "bad_request",
				       "extra header '%.60s' is not one "
				       "\"Name: value\" line", req->headers[i]);
		if (add_header(t, e, "%s", req->headers[i]) < 0)
			return -1;
	}
	/* Without a type curl would claim a form body: say nothing instead. */
	if (add_header(t, e, "Content-Type:%s%s", req->content_type ? " " : "",
		       req->content_type ? req->content_type : "") < 0)
		return -1;
	return add_header(t, e, "Expect:");
}

#define SETOPT(h, opt, val) \
	(curl_easy_setopt((h), (opt), (val)) == CURLE_OK ? 0 : 1)

/* Method and body. POST (and PUT/PATCH) always send a body, empty if need
 * be, so the server sees "Content-Length: 0" rather than nothing. */
static int set_method(struct transfer *t, const struct http_request *req)
{
	CURL *h = t->easy;
	const char *body = req->body ? req->body : "";
	bool is_post = strcmp(t->method, "POST") == 0;
	bool is_get = strcmp(t->method, "GET") == 0;
	bool wants_body = req->body || is_post || strcmp(t->method, "PUT") == 0 ||
			  strcmp(t->method, "PATCH") == 0;
	int bad = 0;

	if (t->is_head)
		return SETOPT(h, CURLOPT_NOBODY, 1L);
	if (is_get && !req->body)
		return SETOPT(h, CURLOPT_HTTPGET, 1L);
	if (wants_body) {
		bad += SETOPT(h, CURLOPT_POST, 1L);
		bad += SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE,
			      (curl_off_t)(req->body ? req->body_len : 0));
		bad += SETOPT(h, CURLOPT_POSTFIELDS, body);
	}
	if (!is_post)
		bad += SETOPT(h, CURLOPT_CUSTOMREQUEST, t->method);
	return bad;
}

static int set_options(struct http_client *c, const struct http_request *req,
		       struct transfer *t, struct err *e)
{
	CURL *h = t->easy;
	int bad = 0;

	t->configured = true;
	bad += SETOPT(h, CURLOPT_CURLU, t->url);
	bad += SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
	bad += SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	bad += SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	bad += SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	bad += SETOPT(h, CURLOPT_TIMEOUT_MS, t->timeout_ms);
	bad += SETOPT(h, CURLOPT_ACCEPT_ENCODING, "");
	bad += SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
	bad += SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
	bad += SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
	bad += SETOPT(h, CURLOPT_USERAGENT, c->user_agent);
	bad += SETOPT(h, CURLOPT_HTTPHEADER, t->headers);
	bad += SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
	bad += SETOPT(h, CURLOPT_WRITEDATA, t);
	bad += SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
	bad += SETOPT(h, CURLOPT_HEADERDATA, t);
	bad += SETOPT(h, CURLOPT_ERRORBUFFER, t->errbuf);
	bad += SETOPT(h, CURLOPT_PRIVATE, (void *)t);
	if (t->is_loopback || t->public_only) /* the address checked is the one used */
		bad += SETOPT(h, CURLOPT_PROXY, "");
	if (t->public_only) {
		bad += SETOPT(h, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
		bad += SETOPT(h, CURLOPT_OPENSOCKETDATA, (void *)t);
	}
	if (t->abort_flag) {
		bad += SETOPT(h, CURLOPT_NOPROGRESS, 0L);
		bad += SETOPT(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		bad += SETOPT(h, CURLOPT_XFERINFODATA, (void *)t);
	}
	bad += set_method(t, req);
	if (bad)
		return err_set(e, ERR_BUG, "http_setup",
			       "libcurl refused %d option(s) for %s " LOG_URL_IN_MSG,
			       bad, t->method, t->log_url);
	return 0;
}

/* Prepare `t` to run `req` on `easy`. Nothing is sent yet, and nothing at
 * all when the request is refused. transfer_release must follow. */
static int transfer_begin(struct http_client *c, CURL *easy,
			  const struct http_request *req,
			  struct http_response *resp, struct transfer *t,
			  struct err *e)
{
	memset(t, 0, sizeof(*t));
	t->easy = easy;
	t->resp = resp;
	t->method = req->method ? req->method : "GET";
	t->kind = req->kind;
	t->public_only = req->public_only;
	t->abort_flag = c->abort_flag;
	t->cap = req->max_response ? req->max_response : c->max_response;
	t->timeout_ms = req->total_timeout_ms > 0 ? req->total_timeout_ms :
		c->total_timeout_ms;
	t->announced = -1;
	response_reset(resp, t->cap);
	if (check_method(t->method, e) < 0 ||
	    url_parse_checked(req->url, req->allow_plain_http, &t->url, t->host,
			      sizeof(t->host), e) < 0)
		return -1;
	t->is_head = strcmp(t->method, "HEAD") == 0;
	t->is_loopback = host_is_loopback(t->host);
	t->log_url = url_for_log(t->url);
	if (build_headers(req, t, e) < 0 || set_options(c, req, t, e) < 0)
		return -1;
	t->started_ms = time_mono_ms();
	return 0;
}

/* Free what transfer_begin made and clear the easy handle's options, so it
 * holds no pointer into `t` (the handle keeps its share and connections). */
static void transfer_release(struct transfer *t)
{
	if (t->configured)
		curl_easy_reset(t->easy);
	/* libcurl's copies of the header lines (one holds the bearer token) */
	for (struct curl_slist *l = t->headers; l; l = l->next)
		if (l->data)
			sodium_memzero(l->data, strlen(l->data));
	curl_slist_free_all(t->headers);
	curl_url_cleanup(t->url);
	free(t->log_url);
	t->headers = NULL;
	t->url = NULL;
	t->log_url = NULL;
	t->configured = false;
}

/* ---- results ------------------------------------------------------------ */

static int transfer_error(const struct transfer *t, CURLcode cc,
			  struct err *e)
{
	const struct http_response *r = t->resp;
	const char *why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(cc);
	char rid[128] = "";

	if (r->request_id[0])
		snprintf(rid, sizeof(rid), " (request-id %s)", r->request_id);
	if (t->refused_private)
		err_set(e, ERR_PERMANENT, "private_address",
			"%s " LOG_URL_IN_MSG ": %s resolves to a loopback, private "
			"or link-local address, which this request may not reach",
			t->method, t->log_url, t->host);
	else if (t->aborted)
		err_set(e, ERR_TRANSIENT, "aborted", "%s " LOG_URL_IN_MSG ": stopped "
			"because inboxsync is shutting down", t->method, t->log_url);
	else if (t->too_large && t->announced >= 0)
		err_set(e, ERR_PERMANENT, "too_large",
			"%s " LOG_URL_IN_MSG ": the response from %s announces "
			"%lld bytes, more than the size cap of %zu bytes%s",
			t->method, t->log_url, t->host, (long long)t->announced,
			t->cap, rid);
	else if (t->too_large || cc == CURLE_FILESIZE_EXCEEDED)
		err_set(e, ERR_PERMANENT, "too_large",
			"%s " LOG_URL_IN_MSG ": the response from %s exceeds "
			"the size cap of %zu bytes; transfer aborted%s",
			t->method, t->log_url, t->host, t->cap, rid);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		err_set(e, ERR_TRANSIENT, "timeout",
			"%s " LOG_URL_IN_MSG ": no complete answer from %s "
			"within %ld ms (%s)%s; this is temporary",
			t->method, t->log_url, t->host, t->timeout_ms, why, rid);
	else if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL)
		err_set(e, ERR_PERMANENT, "bad_url", "%s " LOG_URL_IN_MSG ": %s",
			t->method, t->log_url, why);
	else
		err_set(e, ERR_TRANSIENT, "network",
			"%s " LOG_URL_IN_MSG ": network error talking to %s: "
			"%s%s", t->method, t->log_url, t->host, why, rid);
	if (e)
		e->http_status = (int)r->status;
	return -1;
}

static int transfer_end(struct transfer *t, CURLcode cc, struct err *e)
{
	struct http_response *r = t->resp;
	long status = 0;
	int rc = 0;

	if (curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
		r->status = status;
	if (cc != CURLE_OK || t->too_large)
		rc = transfer_error(t, cc, e);
	if (observer) {
		struct http_observation o = {
			.kind = t->kind, .method = t->method, .host = t->host,
			.status = rc ? 0 : r->status,
			.error_code = rc && e ? e->code : rc ? "error" : "",
			.duration_ms = (long long)(time_mono_ms() - t->started_ms),
		};
		char *path = NULL;

		if (curl_url_get(t->url, CURLUPART_PATH, &path, 0) != CURLUE_OK)
			path = NULL;
		o.path = path ? path : "/";
		observer(&o);
		curl_free(path);
	}
	if (log_get_level() >= LOG_DEBUG)
		log_debug("http", "%s %s -> %ld in %lld ms, %zu bytes, "
			  "request-id %s, client-request-id %s%s%s",
			  t->method, t->log_url, r->status,
			  (long long)(time_mono_ms() - t->started_ms),
			  r->body.len, r->request_id[0] ? r->request_id : "-",
			  r->client_request_id, rc ? ": " : "",
			  rc && e ? e->code : "");
	return rc;
}

int http_perform(struct http_client *c, const struct http_request *req,
		 struct http_response *resp, struct err *e)
{
	struct transfer t;
	int rc = -1;

	if (transfer_begin(c, c->easy, req, resp, &t, e) == 0)
		rc = transfer_end(&t, curl_easy_perform(c->easy), e);
	transfer_release(&t);
	return rc;
}

/* ---- many at once ----------------------------------------------------- */

/* Start request `i` on a free pooled handle; a request refused before it
 * starts is finished at once. Returns true when it is now running. */
static bool many_start(struct http_client *c, CURL *h, size_t i,
		       const struct http_request *reqs,
		       struct http_response *resps, struct transfer *ts,
		       int *rcs, struct err *errs)
{
	err_clear(&errs[i]);
	rcs[i] = -1;
	if (transfer_begin(c, h, &reqs[i], &resps[i], &ts[i], &errs[i]) < 0) {
		transfer_release(&ts[i]);
		return false;
	}
	if (curl_multi_add_handle(c->multi, h) != CURLM_OK) {
		err_set(&errs[i], ERR_BUG, "http_setup",
			"libcurl refused to start %s " LOG_URL_IN_MSG,
			ts[i].method, ts[i].log_url);
		transfer_release(&ts[i]);
		return false;
	}
	return true;
}

int http_perform_many(struct http_client *c, const struct http_request *reqs,
		      struct http_response *resps, int *rcs, struct err *errs,
		      size_t n)
{
	CURL *idle[HTTP_MAX_PARALLEL];
	size_t width = n < HTTP_MAX_PARALLEL ? n : HTTP_MAX_PARALLEL;
	size_t n_idle = 0, next = 0, running = 0;
	struct transfer *ts;
	int rc = 0;

	if (!n)
		return 0;
	if (!c->multi && !(c->multi = curl_multi_init()))
		die_curl("curl_multi_init");
	while (c->pool_len < width)
		c->pool[c->pool_len++] = easy_new(c);
	for (size_t i = 0; i < width; i++)
		idle[n_idle++] = c->pool[i];
	ts = xcalloc(n, sizeof(*ts));

	while (next < n || running) {
		CURLMsg *m;
		int still = 0, left;

		while (next < n && n_idle) {
			CURL *h = idle[--n_idle];

			if (many_start(c, h, next, reqs, resps, ts, rcs, errs))
				running++;
			else
				idle[n_idle++] = h;
			next++;
		}
		if (!running)
			continue;
		if (curl_multi_perform(c->multi, &still) != CURLM_OK) {
			rc = -1;
			break;
		}
		while ((m = curl_multi_info_read(c->multi, &left))) {
			CURL *h = m->easy_handle;
			CURLcode res = m->data.result;
			char *priv = NULL;
			struct transfer *t;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
			t = (struct transfer *)(void *)priv;
			curl_multi_remove_handle(c->multi, h);
			rcs[t - ts] = transfer_end(t, res, &errs[t - ts]);
			transfer_release(t);
			idle[n_idle++] = h;
			running--;
		}
		if (still && curl_multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
			rc = -1;
			break;
		}
	}
	if (rc < 0) {
		/* libcurl's multi machinery broke: hand every unfinished
		 * request back as failed and every handle back clean. */
		for (size_t i = 0; i < n; i++) {
			if (i < next && !ts[i].configured)
				continue; /* finished (or refused) already */
			if (ts[i].configured) {
				curl_multi_remove_handle(c->multi, ts[i].easy);
				transfer_release(&ts[i]);
			}
			rcs[i] = -1;
			err_set(&errs[i], ERR_BUG, "http_setup",
				"libcurl's multi interface failed; request not "
				"completed");
		}
	}
	free(ts);
	return rc;
}
