/*
 * httpd.c — requests on libmicrohttpd: reading a capped body, matching the
 * route table, authenticating (API token, or session cookie with its CSRF
 * token), resolving the account a route is about (another user's is 404),
 * parsing JSON, calling the handler, and writing the answer with the
 * security headers, a request id, the structured error of INTERFACE.md,
 * one log line and the request metrics. Tokens, cookies, passwords and
 * query strings never reach the log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sodium.h>
#include <microhttpd.h>
#include "inboxsync/alloc.h"
#include "inboxsync/json.h"
#include "inboxsync/log.h"
#include "inboxsync/metrics.h"
#include "inboxsync/timeutil.h"
#include "server/server_internal.h"

#define SESSION_COOKIE "inboxsync_session"
#define UNMATCHED_BODY_MAX 4096

/* What one connection's current request carries between callbacks. */
struct request_state {
	struct request rq;
	struct buf body;
	bool too_large;
	bool answered;             /* a response is queued */
	bool suspended;
	int64_t started_ms;
	bool is_head;
};

/* ---- errors ---------------------------------------------------------------- */

/* Service error codes → HTTP status and the API's code (INTERFACE.md). */
static const struct {
	const char *code;
	int status;
	const char *api;
} error_codes[] = {
	{ "usage", 400, "invalid_request" },
	{ "bad_json", 400, "invalid_request" },
	{ "invalid_request", 400, "invalid_request" },
	{ "bad_url", 400, "invalid_request" },
	{ "private_address", 400, "invalid_request" },
	{ "state_mismatch", 400, "invalid_request" },
	{ "unauthenticated", 401, "unauthenticated" },
	{ "forbidden", 403, "forbidden" },
	{ "not_found", 404, "not_found" },
	{ "method_not_allowed", 405, "method_not_allowed" },
	{ "conflict", 409, "conflict" },
	{ "duplicate", 409, "conflict" },
	{ "already_connected", 409, "conflict" },
	{ "oauth_not_configured", 409, "oauth_not_configured" },
	{ "auth_required", 409, "auth_required" },
	{ "auth_invalid", 409, "auth_invalid" },
	{ "payload_too_large", 413, "payload_too_large" },
	{ "too_large", 413, "payload_too_large" },
	{ "throttled", 429, "throttled" },
	{ "store_busy", 503, "unavailable" },
	{ "store_full", 503, "unavailable" },
	{ "store_readonly", 503, "unavailable" },
	{ "store", 500, "internal" },
	{ "lease_lost", 503, "unavailable" },
	{ "shutting_down", 503, "unavailable" },
};

int server_error_status(const struct err *e, const char **api_code)
{
	for (size_t i = 0; i < sizeof(error_codes) / sizeof(error_codes[0]); i++) {
		if (strcmp(e->code, error_codes[i].code) == 0) {
			*api_code = error_codes[i].api;
			return error_codes[i].status;
		}
	}
	switch (e->class) {
	case ERR_THROTTLED:
		*api_code = "throttled";
		return 429;
	case ERR_AUTH:
		*api_code = "auth_required";
		return 409;
	case ERR_BUG:
		*api_code = "internal";
		return 500;
	default:
		/* Microsoft (or the network to it) failed the action. */
		*api_code = "upstream_error";
		return 502;
	}
}

/* ---- helpers for handlers ------------------------------------------------------ */

const char *rq_param(const struct request *rq, const char *name)
{
	for (size_t i = 0; i < rq->n_params; i++)
		if (strcmp(rq->param_names[i], name) == 0)
			return rq->param_values[i];
	return "";
}

const char *rq_header(const struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *rq_query(const struct request *rq_const, const char *name)
{
	/* Arguments are kept percent-encoded (see on_unescape) and decoded
	 * here into a copy the request keeps. */
	struct request *rq = (struct request *)rq_const;
	const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
	char *copy;

	if (!v)
		return NULL;
	for (size_t i = 0; i < rq->n_query; i++)
		if (strcmp(rq->query_names[i], name) == 0)
			return rq->query_values[i];
	if (rq->n_query == SERVER_MAX_QUERY)
		return NULL;
	copy = xstrdup(v);
	if (MHD_http_unescape(copy) != strlen(copy)) {
		free(copy);
		return NULL; /* an encoded NUL: no such value */
	}
	rq->query_names[rq->n_query] = name;
	rq->query_values[rq->n_query++] = copy;
	return copy;
}

int rq_reply(struct request *rq, int status, json_t *doc)
{
	rq->status = status;
	json_decref(rq->out);
	rq->out = doc;
	return 0;
}

int rq_reply_text(struct request *rq, int status, struct buf *text)
{
	rq->status = status;
	json_decref(rq->out);
	rq->out = NULL;
	free(rq->raw_out);
	rq->raw_out = buf_detach(text, &rq->raw_out_len);
	rq->raw_type = "application/json";
	return 0;
}

int rq_bad(struct request *rq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(&rq->err, ERR_PERMANENT, "invalid_request", fmt, ap);
	va_end(ap);
	return err_set_fix(&rq->err, FIX_CHECK_INPUT, "correct the request");
}

int rq_fail(struct request *rq, const struct err *e)
{
	if (e != &rq->err)
		rq->err = *e;
	if (rq->err.class == ERR_NONE)
		rq->err.class = ERR_BUG;
	return -1;
}

int rq_query_int(struct request *rq, const char *name, long long dflt,
		 long long lo, long long hi, long long *out)
{
	const char *v = rq_query(rq, name);
	char *end;
	long long n;

	*out = dflt;
	if (!v || !*v)
		return 0;
	n = strtoll(v, &end, 10);
	if (*end || n < lo || n > hi)
		return rq_bad(rq, "'%s' must be a whole number from %lld to %lld", name, lo, hi);
	*out = n;
	return 0;
}

int rq_param_id(struct request *rq, const char *name, int64_t *out)
{
	const char *v = rq_param(rq, name);
	char *end;
	long long n = strtoll(v, &end, 10);

	if (!*v || *end || n <= 0) {
		err_set(&rq->err, ERR_PERMANENT, "not_found", "no such object '%.100s'", v);
		return err_set_fix(&rq->err, FIX_CHECK_INPUT, "use an id the API gave you");
	}
	*out = n;
	return 0;
}

/* The body's getters turn json.h's errors (naming the field) into 400s. */
static int body_error(struct request *rq)
{
	str_copy(rq->err.code, sizeof(rq->err.code), "invalid_request");
	return err_set_fix(&rq->err, FIX_CHECK_INPUT, "correct the request body");
}

int rq_body_string(struct request *rq, const char *key, bool required, const char **out)
{
	*out = NULL;
	if (required ? json_req_string(rq->body, key, out, &rq->err) < 0
		     : json_opt_string(rq->body, key, out, &rq->err) < 0)
		return body_error(rq);
	return 0;
}

int rq_body_bool(struct request *rq, const char *key, int *out)
{
	bool v = false;

	*out = -1;
	if (!json_object_get(rq->body, key) || json_is_null(json_object_get(rq->body, key)))
		return 0;
	if (json_opt_bool(rq->body, key, false, &v, &rq->err) < 0)
		return body_error(rq);
	*out = v;
	return 0;
}

int rq_body_array(struct request *rq, const char *key, bool required, json_t **out)
{
	*out = NULL;
	if (required ? json_req_array(rq->body, key, out, &rq->err) < 0
		     : json_opt_array(rq->body, key, out, &rq->err) < 0)
		return body_error(rq);
	return 0;
}

int rq_body_object(struct request *rq, const char *key, bool required, json_t **out)
{
	*out = NULL;
	if (required ? json_req_object(rq->body, key, out, &rq->err) < 0
		     : json_opt_object(rq->body, key, out, &rq->err) < 0)
		return body_error(rq);
	return 0;
}

/* ---- authentication -------------------------------------------------------------- */

static int unauthenticated(struct request *rq, const char *msg)
{
	err_set(&rq->err, ERR_PERMANENT, "unauthenticated", "%s", msg);
	return err_set_fix(&rq->err, FIX_CHECK_INPUT, "sign in, or send an API token "
			   "as 'Authorization: Bearer TOKEN'");
}

static bool changes_state(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* Bearer token first, else the session cookie (with CSRF on writes). */
static int authenticate(struct request *rq)
{
	const char *auth = rq_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND,
							 SESSION_COOKIE);
	char csrf[SERVICE_SECRET_LEN];
	struct store_user u;
	const char *sent;

	if (auth) {
		if (strncasecmp(auth, "Bearer ", 7) != 0)
			return unauthenticated(rq, "the Authorization header must be "
					       "'Bearer TOKEN'");
		auth += 7;
		while (*auth == ' ')
			auth++;
		if (service_token_authenticate(rq->env, auth, &rq->actor, &u, &rq->err) < 0)
			return rq_fail(rq, &rq->err);
		str_copy(rq->username, sizeof(rq->username), u.name);
		store_user_clear(&u);
		rq->authenticated = true;
		return 0;
	}
	if (!cookie)
		return unauthenticated(rq, "authentication required");
	if (service_session_check(rq->env, cookie, &rq->actor, csrf, &rq->err) < 0)
		return rq_fail(rq, &rq->err);
	rq->by_cookie = true;
	rq->authenticated = true;
	if (changes_state(rq->method) && !(rq->route->flags & ROUTE_NO_CSRF)) {
		sent = rq_header(rq, "X-CSRF-Token");
		if (!sent || strlen(sent) != strlen(csrf) ||
		    sodium_memcmp(sent, csrf, strlen(csrf)) != 0) {
			sodium_memzero(csrf, sizeof(csrf));
			err_set(&rq->err, ERR_PERMANENT, "forbidden", "the X-CSRF-Token header "
				"is missing or does not match this session");
			return err_set_fix(&rq->err, FIX_CHECK_INPUT, "send the csrf_token "
					   "given at sign-in as X-CSRF-Token");
		}
	}
	sodium_memzero(csrf, sizeof(csrf));
	if (store_get_user(rq->env->store, rq->actor.user_id, &u, &rq->err) == 1) {
		str_copy(rq->username, sizeof(rq->username), u.name);
		store_user_clear(&u);
	}
	return 0;
}

/* Who may call the route, and the account it is about. */
static int authorize_route(struct request *rq)
{
	int64_t id;

	if (rq->route->who == WHO_ANYONE)
		return 0;
	if (authenticate(rq) < 0)
		return -1;
	if (rq->route->who == WHO_ADMIN && !rq->actor.admin) {
		err_set(&rq->err, ERR_PERMANENT, "forbidden", "only administrators may "
			"do this");
		return err_set_fix(&rq->err, FIX_CHECK_INPUT, "ask an administrator");
	}
	if (rq->route->who != WHO_OWNER)
		return 0;
	if (rq_param_id(rq, "id", &id) < 0)
		return -1;
	if (service_account_get(rq->env, &rq->actor, id, &rq->account, &rq->err) < 0)
		return -1;
	return 0;
}

/* ---- answering ------------------------------------------------------------------- */

static void add_common_headers(struct MHD_Response *r, const struct request *rq,
			       bool is_static)
{
	MHD_add_response_header(r, "X-Request-Id", rq->request_id);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	if (is_static) {
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'self'; base-uri 'self'; form-action "
					"'self'; frame-ancestors 'none'; object-src 'none'");
		MHD_add_response_header(r, "Cache-Control", "no-cache");
	} else {
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'none'; frame-ancestors 'none'");
		MHD_add_response_header(r, "Cache-Control", "no-store");
	}
}

/* The error document: the service's error with the API's code. */
static json_t *error_doc(const struct err *e, int *status)
{
	const char *api;
	json_t *doc;

	*status = server_error_status(e, &api);
	doc = service_error_json(e);
	if (strcmp(json_string_value(json_object_get(doc, "code")), api) != 0)
		json_object_set_new(doc, "reason", json_incref(json_object_get(doc, "code")));
	json_object_set_new(doc, "code", json_string(api));
	return json_pack("{s:o}", "error", doc);
}

static enum MHD_Result send_answer(struct request_state *st)
{
	struct request *rq = &st->rq;
	struct MHD_Response *r;
	json_t *doc = NULL;
	char *text = NULL;
	size_t len = 0;
	bool is_static = rq->route == NULL && rq->raw_type;
	enum MHD_Result ret;
	int status = rq->status;

	if (rq->err.class != ERR_NONE) {
		doc = error_doc(&rq->err, &status);
		is_static = false;
	} else if (rq->raw_out) {
		text = rq->raw_out;
		len = rq->raw_out_len;
		rq->raw_out = NULL;
	} else if (rq->out) {
		doc = rq->out;
		rq->out = NULL;
	}
	if (doc) {
		text = json_dumps(doc, JSON_COMPACT);
		len = text ? strlen(text) : 0;
		json_decref(doc);
	}
	if (rq->not_modified) {
		status = MHD_HTTP_NOT_MODIFIED;
		free(text);
		text = NULL;
		len = 0;
	}
	r = MHD_create_response_from_buffer(len, text ? text : (void *)"",
					    text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	add_common_headers(r, rq, is_static);
	if (len || status == 200) {
		const char *type = rq->err.class == ERR_NONE && rq->raw_type ? rq->raw_type
				   : "application/json";

		if (status != 204 && status != 304)
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	}
	if (rq->err.class != ERR_NONE && status == 429 && rq->err.retry_after_s > 0) {
		char ra[24];

		snprintf(ra, sizeof(ra), "%d", rq->err.retry_after_s);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"inboxsync\"");
	if (rq->location[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rq->location);
	if (rq->set_cookie[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, rq->set_cookie);
	if (rq->etag[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, rq->etag);
	if (rq->replayed)
		MHD_add_response_header(r, "Idempotent-Replayed", "true");
	if (status == 405 && rq->route == NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, POST, PUT, PATCH, DELETE");
	rq->status = status;
	ret = MHD_queue_response(rq->conn, (unsigned int)status, r);
	MHD_destroy_response(r);
	st->answered = true;
	return ret;
}

/* ---- the request's life -------------------------------------------------------------- */

static bool is_api_path(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

static void no_route(struct request *rq, bool path_known)
{
	if (path_known) {
		err_set(&rq->err, ERR_PERMANENT, "method_not_allowed", "%s is not "
			"allowed on %.200s", rq->method, rq->path);
		err_set_fix(&rq->err, FIX_CHECK_INPUT, "see /api/v1/openapi.json");
	} else {
		err_set(&rq->err, ERR_PERMANENT, "not_found", "no such route: %.200s",
			rq->path);
		err_set_fix(&rq->err, FIX_CHECK_INPUT, "see /api/v1/openapi.json");
	}
}

/* Parse the body of a route that takes one (empty = no body). */
static int parse_body(struct request_state *st)
{
	struct request *rq = &st->rq;

	if (!changes_state(rq->method) || (rq->route->flags & ROUTE_RAW))
		return 0;
	rq->raw_body = buf_str(&st->body);
	rq->raw_len = st->body.len;
	if (st->body.len == 0)
		return 0;
	rq->body = json_parse_object(rq->raw_body, rq->raw_len, "the request body", &rq->err);
	if (!rq->body)
		return body_error(rq);
	return 0;
}

static enum MHD_Result dispatch(struct server *srv, struct request_state *st)
{
	struct request *rq = &st->rq;
	int rc;

	if (!rq->resumed) {
		if (srv->stopping) {
			err_set(&rq->err, ERR_TRANSIENT, "shutting_down", "the server is "
				"shutting down");
			err_set_fix(&rq->err, FIX_RETRY, NULL);
			return send_answer(st);
		}
		if (st->too_large) {
			err_set(&rq->err, ERR_PERMANENT, "payload_too_large", "the request "
				"body is larger than %zu bytes", st->body.limit);
			err_set_fix(&rq->err, FIX_CHECK_INPUT, "send a smaller request");
			return send_answer(st);
		}
		if (!(rq->env = server_thread_env(srv, &rq->err)))
			return send_answer(st);
		if (!rq->route) {
			if (!is_api_path(rq->path) &&
			    (strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0)) {
				static_answer(rq, rq->path);
				return send_answer(st);
			}
			if (rq->err.class == ERR_NONE)
				no_route(rq, false);
			return send_answer(st);
		}
		if (authorize_route(rq) < 0 || parse_body(st) < 0)
			return send_answer(st);
	}
	rc = rq->route->handler(rq);
	if (rc == ROUTE_SUSPEND) {
		st->suspended = true;
		MHD_suspend_connection(rq->conn);
		feed_wait(srv->feed, rq->conn, rq->wait_after_seq, rq->wait_until_ms);
		return MHD_YES;
	}
	if (rc < 0 && rq->err.class == ERR_NONE)
		err_set(&rq->err, ERR_BUG, "internal", "the request failed");
	return send_answer(st);
}

/* Start a request: match its route and size its body cap. */
static struct request_state *begin(struct server *srv, struct MHD_Connection *conn,
				   const char *url, const char *method)
{
	struct request_state *st = xcalloc(1, sizeof(*st));
	struct request *rq = &st->rq;
	bool known = false;
	unsigned char rnd[8];
	const char *cl;
	size_t cap;

	st->started_ms = time_mono_ms();
	rq->srv = srv;
	rq->conn = conn;
	st->is_head = strcmp(method, "HEAD") == 0;
	rq->method = st->is_head ? "GET" : method;
	rq->head_only = st->is_head;
	str_copy(rq->path, sizeof(rq->path), url);
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(rq->request_id, sizeof(rq->request_id), rnd, sizeof(rnd));
	rq->route = route_match(rq->method, rq->path, rq->param_names, rq->param_values,
				&rq->n_params, &known);
	if (!rq->route && is_api_path(rq->path))
		no_route(rq, known);
	cap = rq->route ? (rq->route->body_max ? rq->route->body_max : SERVER_BODY_MAX)
		       : UNMATCHED_BODY_MAX;
	buf_init(&st->body, cap);
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		unsigned long long n = strtoull(cl, &end, 10);

		if (*end == '\0' && n > cap)
			st->too_large = true;
	}
	return st;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct server *srv = cls;
	struct request_state *st = *con_cls;

	(void)version;
	if (!st) {
		*con_cls = st = begin(srv, conn, url, method);
		/* An announced body over the cap is refused before it is read. */
		if (st->too_large)
			return dispatch(srv, st);
		return MHD_YES;
	}
	if (st->answered) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!st->too_large && buf_append(&st->body, upload_data, *upload_size, NULL) < 0)
			st->too_large = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (st->suspended) {
		st->suspended = false;
		st->rq.resumed = true;
	}
	return dispatch(srv, st);
}

/* One log line and the request metrics, then free. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct request_state *st = *con_cls;
	struct request *rq;
	const char *route;
	char status[8];
	double secs;

	(void)cls;
	(void)conn;
	if (!st)
		return;
	rq = &st->rq;
	secs = (double)(time_mono_ms() - st->started_ms) / 1000.0;
	route = rq->route ? rq->route->pattern : is_api_path(rq->path) ? "unmatched" : "static";
	snprintf(status, sizeof(status), "%d", st->answered ? rq->status : 0);
	metrics_add("inboxsync_api_requests_total", 1, "route", route, "method", rq->method,
		    "status", status, NULL);
	metrics_observe("inboxsync_api_request_duration_seconds", secs, "route", route, NULL);
	log_info("http", "%s %s %.300s -> %s in %.0f ms (user %lld)%s", rq->request_id,
		 st->is_head ? "HEAD" : rq->method, rq->path, status, secs * 1000.0,
		 (long long)rq->actor.user_id,
		 why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended early)");
	json_decref(rq->body);
	json_decref(rq->out);
	free(rq->raw_out);
	for (size_t i = 0; i < rq->n_params; i++)
		free(rq->param_values[i]);
	for (size_t i = 0; i < rq->n_query; i++)
		free(rq->query_values[i]);
	buf_free(&st->body);
	free(st);
	*con_cls = NULL;
}

/* Keep the URL and query arguments as they came (percent-encoded): path
 * segments are decoded one by one after splitting (route_match), query
 * values when read (rq_query), so an encoded '/' stays part of an id. */
static size_t on_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("httpd", "%s", line);
}

int httpd_start(struct server *srv, const struct sockaddr *addr, bool ipv6,
		struct err *e);
void httpd_quiesce(struct server *srv);
void httpd_stop(struct server *srv);

int httpd_start(struct server *srv, const struct sockaddr *addr, bool ipv6,
		struct err *e)
{
	unsigned int threads = (unsigned int)(srv->cfg.http_threads > 0
					      ? srv->cfg.http_threads : 8);
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
			     MHD_USE_ITC | (ipv6 ? MHD_USE_IPv6 : 0);

	server_thread_env_init();
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
				       MHD_OPTION_SOCK_ADDR, addr,
				       MHD_OPTION_THREAD_POOL_SIZE, threads,
				       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
				       MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096,
				       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				       MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
				       MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, srv,
				       MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
				       MHD_OPTION_END);
	if (!srv->daemon) {
		err_set(e, ERR_PERMANENT, "listen", "cannot listen on %s (address in use, "
			"or not an address of this machine)", srv->cfg.listen);
		return err_set_fix(e, FIX_CHECK_INPUT, "choose another --listen address");
	}
	return 0;
}

/* The port the daemon listens on. */
int httpd_port(struct server *srv);
int httpd_port(struct server *srv)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon,
							       MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}

void httpd_quiesce(struct server *srv)
{
	if (srv->daemon) {
		MHD_socket s = MHD_quiesce_daemon(srv->daemon);

		if (s != MHD_INVALID_SOCKET)
			close(s);
	}
}

void httpd_stop(struct server *srv)
{
	if (srv->daemon)
		MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
}
