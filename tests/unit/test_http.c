/*
 * test_http.c — the HTTP client (http.c, http_util.c) against a tiny
 * libmicrohttpd server started in this process on 127.0.0.1. Each test
 * gets a fresh server that records what it received and counts TCP
 * connections, so reuse, headers and limits are checked from the server's
 * side, not by trusting the client.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <microhttpd.h>

#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"
#include "inboxsync/http.h"
#include "mhd_body.h"
#include "inboxsync/log.h"
#include "inboxsync/timeutil.h"

#define MAX_PREFER_SEEN 8

/* What the server saw of the last complete request. */
struct seen {
	char method[16];
	char path[256];
	char authorization[512];
	char client_request_id[128];
	char content_type[128];
	char content_length[32];
	char accept_encoding[128];
	char x_test[128];
	bool has_expect;
	char prefer[MAX_PREFER_SEEN][128];
	int n_prefer;
	char *body;
	size_t body_len;
};

struct server {
	struct MHD_Daemon *daemon;
	unsigned short port;
	char host[64];          /* as it goes in a URL */
	atomic_int connections; /* TCP connections accepted */
	atomic_int requests;
	atomic_int in_flight;
	atomic_int max_in_flight;
	atomic_bool stopping;
	pthread_mutex_t lock;
	struct seen last;
};

static const unsigned char gzip_body[] = {
	0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48,
	0xcd, 0xc9, 0xc9, 0x57, 0x48, 0xaf, 0xca, 0x2c, 0xd0, 0x51, 0xc8, 0xc0,
	0xca, 0x56, 0x04, 0x00, 0x70, 0x2b, 0xf9, 0xb5, 0x23, 0x00, 0x00, 0x00
};
static const char gzip_plain[] = "hello gzip, hello gzip, hello gzip!";

/* ---- the server ------------------------------------------------------- */

static void copy_str(char *dst, size_t n, const char *src)
{
	str_copy(dst, n, src ? src : "");
}

static enum MHD_Result on_header_seen(void *cls, enum MHD_ValueKind kind,
				      const char *key, const char *value)
{
	struct seen *s = cls;

	(void)kind;
	if (strcasecmp(key, "Prefer") == 0 && s->n_prefer < MAX_PREFER_SEEN)
		copy_str(s->prefer[s->n_prefer++], sizeof(s->prefer[0]), value);
	else if (strcasecmp(key, "Authorization") == 0)
		copy_str(s->authorization, sizeof(s->authorization), value);
	else if (strcasecmp(key, "client-request-id") == 0)
		copy_str(s->client_request_id, sizeof(s->client_request_id), value);
	else if (strcasecmp(key, "Content-Type") == 0)
		copy_str(s->content_type, sizeof(s->content_type), value);
	else if (strcasecmp(key, "Content-Length") == 0)
		copy_str(s->content_length, sizeof(s->content_length), value);
	else if (strcasecmp(key, "Accept-Encoding") == 0)
		copy_str(s->accept_encoding, sizeof(s->accept_encoding), value);
	else if (strcasecmp(key, "X-Test") == 0)
		copy_str(s->x_test, sizeof(s->x_test), value);
	else if (strcasecmp(key, "Expect") == 0)
		s->has_expect = true;
	return MHD_YES;
}

static void record(struct server *srv, struct MHD_Connection *conn,
		   const char *method, const char *url, struct buf *body)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	copy_str(s.method, sizeof(s.method), method);
	copy_str(s.path, sizeof(s.path), url);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, on_header_seen, &s);
	s.body = buf_detach(body, &s.body_len);
	pthread_mutex_lock(&srv->lock);
	free(srv->last.body);
	srv->last = s;
	pthread_mutex_unlock(&srv->lock);
	atomic_fetch_add(&srv->requests, 1);
}

static long arg_long(struct MHD_Connection *conn, const char *name, long dflt)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);

	return v ? strtol(v, NULL, 10) : dflt;
}

/* Streams `n` bytes of 'y' without a Content-Length (chunked). */
static ssize_t stream_body(void *cls, uint64_t pos, char *out, size_t max)
{
	size_t total = (size_t)(uintptr_t)cls, left;

	if (pos >= total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	left = total - (size_t)pos;
	if (left > max)
		left = max;
	if (left > 100)
		left = 100;
	memset(out, 'y', left);
	return (ssize_t)left;
}

static void sleep_unless_stopping(struct server *srv, long ms)
{
	int64_t end = time_mono_ms() + ms;

	while (!atomic_load(&srv->stopping) && time_mono_ms() < end)
		time_sleep_ms(10);
}

static struct MHD_Response *text_response(const char *text)
{
	return MHD_create_response_from_buffer(strlen(text), (void *)text,
					       MHD_RESPMEM_MUST_COPY);
}

static struct MHD_Response *route(struct server *srv,
				  struct MHD_Connection *conn, const char *url,
				  unsigned *status)
{
	struct MHD_Response *r;
	const char *v;

	*status = MHD_HTTP_OK;
	if (strcmp(url, "/hello") == 0) {
		r = text_response("hello world");
		MHD_add_response_header(r, "Content-Type", "text/plain");
		MHD_add_response_header(r, "request-id", "rid-123");
		return r;
	}
	if (strcmp(url, "/msrid") == 0) {
		r = text_response("{}");
		MHD_add_response_header(r, "X-MS-Request-Id", "ms-rid-9");
		return r;
	}
	if (strcmp(url, "/retry") == 0) {
		v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "value");
		r = text_response("{\"error\":{\"code\":\"TooManyRequests\"}}");
		MHD_add_response_header(r, "Retry-After", v ? v : "");
		MHD_add_response_header(r, "request-id", "rid-429");
		*status = 429;
		return r;
	}
	if (strcmp(url, "/big") == 0) {
		size_t n = (size_t)arg_long(conn, "n", 10);
		char *data = xmalloc(n);

		memset(data, 'x', n);
		r = MHD_create_response_from_buffer(n, data, MHD_RESPMEM_MUST_FREE);
		return r;
	}
	if (strcmp(url, "/stream") == 0) {
		size_t n = (size_t)arg_long(conn, "n", 10);

		return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024,
							 stream_body,
							 (void *)(uintptr_t)n, NULL);
	}
	if (strcmp(url, "/sleep") == 0) {
		int now = atomic_fetch_add(&srv->in_flight, 1) + 1;
		int max = atomic_load(&srv->max_in_flight);

		while (now > max &&
		       !atomic_compare_exchange_weak(&srv->max_in_flight, &max, now))
			;
		sleep_unless_stopping(srv, arg_long(conn, "ms", 100));
		atomic_fetch_sub(&srv->in_flight, 1);
		return text_response("slept");
	}
	if (strcmp(url, "/gzip") == 0) {
		r = MHD_create_response_from_buffer(sizeof(gzip_body),
						    (void *)gzip_body,
						    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Content-Encoding", "gzip");
		MHD_add_response_header(r, "Content-Type", "text/plain");
		return r;
	}
	if (strcmp(url, "/redirect") == 0) {
		r = text_response("moved");
		MHD_add_response_header(r, "Location", "/hello");
		*status = MHD_HTTP_FOUND;
		return r;
	}
	if (strcmp(url, "/echo") == 0) {
		pthread_mutex_lock(&srv->lock);
		r = MHD_create_response_from_buffer(srv->last.body_len,
						    srv->last.body,
						    MHD_RESPMEM_MUST_COPY);
		MHD_add_response_header(r, "client-request-id",
					srv->last.client_request_id);
		pthread_mutex_unlock(&srv->lock);
		return r;
	}
	*status = MHD_HTTP_NOT_FOUND;
	return text_response("not found");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct MHD_Response *r;
	struct buf *body;
	unsigned status;
	enum MHD_Result ret;

	(void)version;
	if (mhd_body_collect(con_cls, upload_data, upload_data_size, &body))
		return MHD_YES;
	record(srv, conn, method, url, body);
	r = route(srv, conn, url, &status);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void on_connection(void *cls, struct MHD_Connection *conn,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct server *srv = cls;

	(void)conn, (void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&srv->connections, 1);
}

/* Start a server on `addr` (an IPv4 literal), port chosen by the kernel. */
static struct server *server_start_on(const char *addr)
{
	struct server *srv = xcalloc(1, sizeof(*srv));
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
	pthread_mutex_init(&srv->lock, NULL);
	srv->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
		0, NULL, NULL, on_request, srv,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_NOTIFY_COMPLETED, mhd_body_completed, srv,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
		MHD_OPTION_END);
	assert_non_null(srv->daemon);
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	srv->port = info->port;
	copy_str(srv->host, sizeof(srv->host), addr);
	return srv;
}

static void server_stop(struct server *srv)
{
	atomic_store(&srv->stopping, true);
	MHD_stop_daemon(srv->daemon);
	free(srv->last.body);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

static char *url_of(const struct server *srv, const char *path)
{
	return xasprintf("http://%s:%u%s", srv->host, (unsigned)srv->port, path);
}

/* ---- fixtures --------------------------------------------------------- */

struct fixture {
	struct server *srv;
	struct http_client *client;
	struct http_response resp;
	struct err err;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->srv = server_start_on("127.0.0.1");
	f->client = http_client_new(NULL);
	http_response_init(&f->resp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_client_free(f->client);
	http_response_free(&f->resp);
	server_stop(f->srv);
	free(f);
	return 0;
}

/* GET `path` on the fixture's server with `req` as a template. */
static int get(struct fixture *f, const char *path, struct http_request *req)
{
	struct http_request plain;
	char *url = url_of(f->srv, path);
	int rc;

	if (!req) {
		memset(&plain, 0, sizeof(plain));
		req = &plain;
	}
	req->url = url;
	err_clear(&f->err);
	rc = http_perform(f->client, req, &f->resp, &f->err);
	req->url = NULL;
	free(url);
	return rc;
}

static int snapshot_seen(struct server *srv, struct seen *out)
{
	pthread_mutex_lock(&srv->lock);
	*out = srv->last;
	out->body = srv->last.body ? xstrndup(srv->last.body, srv->last.body_len) : NULL;
	pthread_mutex_unlock(&srv->lock);
	return 0;
}

static bool is_uuid_v4(const char *s)
{
	if (strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' ||
	    s[23] != '-' || s[14] != '4' || !strchr("89ab", s[19]))
		return false;
	for (size_t i = 0; i < 36; i++)
		if (s[i] != '-' && !strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

/* ---- tests: responses ------------------------------------------------- */

static void test_get_returns_status_body_and_headers(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(get(f, "/hello", NULL), 0);
	assert_int_equal(f->resp.status, 200);
	assert_string_equal(buf_str(&f->resp.body), "hello world");
	assert_int_equal(f->resp.body.len, 11);
	assert_string_equal(f->resp.request_id, "rid-123");
	assert_string_equal(f->resp.content_type, "text/plain");
	assert_int_equal(f->resp.retry_after_s, -1);
	assert_string_equal(f->resp.location, "");
}

static void test_404_is_a_response_not_an_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(get(f, "/nowhere", NULL), 0);
	assert_int_equal(f->resp.status, 404);
	assert_string_equal(buf_str(&f->resp.body), "not found");
}

static void test_response_is_reset_between_requests(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(get(f, "/hello", NULL), 0);
	assert_int_equal(get(f, "/msrid", NULL), 0);
	assert_string_equal(buf_str(&f->resp.body), "{}");
	/* Graph's request-id from the previous response is gone; the
	 * identity platform's x-ms-request-id is taken instead */
	assert_string_equal(f->resp.request_id, "ms-rid-9");
	assert_string_equal(f->resp.content_type, "");
}

static void test_redirect_is_not_followed(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(get(f, "/redirect", NULL), 0);
	assert_int_equal(f->resp.status, 302);
	assert_string_equal(f->resp.location, "/hello");
	assert_string_equal(buf_str(&f->resp.body), "moved");
	assert_int_equal(atomic_load(&f->srv->requests), 1);
}

static void test_gzip_body_is_decoded(void **state)
{
	struct fixture *f = *state;
	struct seen s;

	assert_int_equal(get(f, "/gzip", NULL), 0);
	assert_int_equal(f->resp.status, 200);
	assert_string_equal(buf_str(&f->resp.body), gzip_plain);
	snapshot_seen(f->srv, &s);
	assert_non_null(strstr(s.accept_encoding, "gzip"));
	assert_non_null(strstr(s.accept_encoding, "deflate"));
	free(s.body);
}

static void test_retry_after_seconds(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(get(f, "/retry?value=120", NULL), 0);
	assert_int_equal(f->resp.status, 429);
	assert_int_equal(f->resp.retry_after_s, 120);
	assert_string_equal(f->resp.request_id, "rid-429");
}

static void test_retry_after_http_date(void **state)
{
	struct fixture *f = *state;
	char date[64], *esc, *path;
	time_t when = time(NULL) + 120;
	struct tm tm;

	gmtime_r(&when, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	esc = http_escape(date);
	path = xasprintf("/retry?value=%s", esc);
	assert_int_equal(get(f, path, NULL), 0);
	assert_int_equal(f->resp.status, 429);
	assert_in_range(f->resp.retry_after_s, 115, 120);
	free(esc);
	free(path);
}

static void test_retry_after_garbage_is_absent(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(get(f, "/retry?value=soon", NULL), 0);
	assert_int_equal(f->resp.status, 429);
	assert_int_equal(f->resp.retry_after_s, -1);
}

/* ---- tests: what the server receives ---------------------------------- */

static void test_request_headers_arrive(void **state)
{
	struct fixture *f = *state;
	struct http_request req = {
		.bearer = "tok-abc.def",
		.prefer = { "IdType=\"ImmutableId\"", "odata.maxpagesize=50" },
		.headers = { "X-Test: yes" },
	};
	struct seen s;

	assert_int_equal(get(f, "/hello", &req), 0);
	snapshot_seen(f->srv, &s);
	assert_string_equal(s.method, "GET");
	assert_string_equal(s.authorization, "Bearer tok-abc.def");
	assert_int_equal(s.n_prefer, 2);
	assert_string_equal(s.prefer[0], "IdType=\"ImmutableId\"");
	assert_string_equal(s.prefer[1], "odata.maxpagesize=50");
	assert_string_equal(s.x_test, "yes");
	assert_false(s.has_expect);
	free(s.body);
}

static void test_client_request_id_fresh_uuid_each_time(void **state)
{
	struct fixture *f = *state;
	struct seen s;
	char first[80];

	assert_int_equal(get(f, "/hello", NULL), 0);
	snapshot_seen(f->srv, &s);
	free(s.body);
	assert_true(is_uuid_v4(f->resp.client_request_id));
	assert_string_equal(s.client_request_id, f->resp.client_request_id);
	str_copy(first, sizeof(first), f->resp.client_request_id);

	assert_int_equal(get(f, "/hello", NULL), 0);
	assert_true(is_uuid_v4(f->resp.client_request_id));
	assert_string_not_equal(first, f->resp.client_request_id);
}

static void test_client_request_id_given_is_sent_and_echoed(void **state)
{
	struct fixture *f = *state;
	struct http_request req = { .client_request_id = "retry-of-op-42" };
	struct seen s;

	assert_int_equal(get(f, "/hello", &req), 0);
	assert_string_equal(f->resp.client_request_id, "retry-of-op-42");
	snapshot_seen(f->srv, &s);
	assert_string_equal(s.client_request_id, "retry-of-op-42");
	free(s.body);
	/* /echo answers with the id it received, as Graph does */
	assert_int_equal(get(f, "/echo", &req), 0);
	assert_string_equal(f->resp.client_request_id, "retry-of-op-42");
}

static void test_post_form_body(void **state)
{
	struct fixture *f = *state;
	struct buf form;
	struct seen s;
	struct http_request req = {
		.method = "POST",
		.content_type = "application/x-www-form-urlencoded",
	};

	buf_init(&form, 0);
	assert_int_equal(http_form_add(&form, "grant_type", "refresh_token", NULL), 0);
	assert_int_equal(http_form_add(&form, "scope", "Mail.Read offline_access", NULL), 0);
	assert_int_equal(http_form_add(&form, "redirect_uri",
				       "http://127.0.0.1:8080/cb?a=1&b=2", NULL), 0);
	req.body = form.data;
	req.body_len = form.len;
	assert_int_equal(get(f, "/echo", &req), 0);
	snapshot_seen(f->srv, &s);
	assert_string_equal(s.method, "POST");
	assert_string_equal(s.content_type, "application/x-www-form-urlencoded");
	assert_string_equal(s.body,
			    "grant_type=refresh_token&scope=Mail.Read%20offline_access"
			    "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcb%3Fa%3D1%26b%3D2");
	assert_string_equal(buf_str(&f->resp.body), s.body);
	free(s.body);
	buf_free(&form);
}

static void test_empty_post_sends_content_length_zero(void **state)
{
	struct fixture *f = *state;
	struct http_request req = { .method = "POST" };
	struct seen s;

	assert_int_equal(get(f, "/hello", &req), 0);
	snapshot_seen(f->srv, &s);
	assert_string_equal(s.method, "POST");
	assert_string_equal(s.content_length, "0");
	assert_string_equal(s.content_type, ""); /* no made-up form type */
	free(s.body);
}

static void test_patch_put_delete_with_and_without_body(void **state)
{
	struct fixture *f = *state;
	static const char json[] = "{\"isRead\":true,\"x\":\"\\u0000\"}";
	struct http_request req = {
		.method = "PATCH", .content_type = "application/json",
		.body = json, .body_len = sizeof(json) - 1,
	};
	struct seen s;

	assert_int_equal(get(f, "/hello", &req), 0);
	snapshot_seen(f->srv, &s);
	assert_string_equal(s.method, "PATCH");
	assert_string_equal(s.content_type, "application/json");
	assert_string_equal(s.body, json);
	free(s.body);

	req.method = "PUT";
	assert_int_equal(get(f, "/hello", &req), 0);
	snapshot_seen(f->srv, &s);
	assert_string_equal(s.method, "PUT");
	assert_int_equal(s.body_len, sizeof(json) - 1);
	free(s.body);

	memset(&req, 0, sizeof(req));
	req.method = "DELETE";
	assert_int_equal(get(f, "/hello", &req), 0);
	snapshot_seen(f->srv, &s);
	assert_string_equal(s.method, "DELETE");
	assert_int_equal(s.body_len, 0);
	free(s.body);
}

static void test_binary_body_with_nul_bytes(void **state)
{
	struct fixture *f = *state;
	static const char bin[] = { 'a', '\0', 'b', '\0', 'c' };
	struct http_request req = {
		.method = "POST", .content_type = "application/octet-stream",
		.body = bin, .body_len = sizeof(bin),
	};
	struct seen s;

	assert_int_equal(get(f, "/echo", &req), 0);
	snapshot_seen(f->srv, &s);
	assert_int_equal(s.body_len, sizeof(bin));
	assert_int_equal(f->resp.body.len, sizeof(bin));
	assert_memory_equal(f->resp.body.data, bin, sizeof(bin));
	free(s.body);
}

static void test_large_body_sent_without_expect(void **state)
{
	struct fixture *f = *state;
	size_t n = (size_t)3 << 20;
	char *big = xmalloc(n);
	struct http_request req = {
		.method = "POST", .content_type = "application/octet-stream",
		.body = big, .body_len = n,
	};
	struct seen s;

	memset(big, 'q', n);
	assert_int_equal(get(f, "/hello", &req), 0);
	assert_int_equal(f->resp.status, 200);
	snapshot_seen(f->srv, &s);
	assert_false(s.has_expect);
	assert_int_equal(s.body_len, n);
	free(s.body);
	free(big);
}

static void test_bad_request_fields_refused(void **state)
{
	struct fixture *f = *state;
	struct http_request req = { .bearer = "tok\r\nX-Evil: 1" };

	assert_int_equal(get(f, "/hello", &req), -1);
	assert_string_equal(f->err.code, "bad_request");
	memset(&req, 0, sizeof(req));
	req.method = "GET /x HTTP/1.1";
	assert_int_equal(get(f, "/hello", &req), -1);
	assert_string_equal(f->err.code, "bad_request");
	memset(&req, 0, sizeof(req));
	req.headers[0] = "no colon here";
	assert_int_equal(get(f, "/hello", &req), -1);
	assert_string_equal(f->err.code, "bad_request");
	assert_int_equal(atomic_load(&f->srv->connections), 0);
}

/* ---- tests: limits and failures --------------------------------------- */

static void test_size_cap_exactly_at_limit_is_fine(void **state)
{
	struct fixture *f = *state;
	struct http_request req = { .max_response = 1000 };

	assert_int_equal(get(f, "/big?n=1000", &req), 0);
	assert_int_equal(f->resp.body.len, 1000);
	assert_int_equal(get(f, "/stream?n=1000", &req), 0);
	assert_int_equal(f->resp.body.len, 1000);
}

static void test_size_cap_with_content_length_refused_early(void **state)
{
	struct fixture *f = *state;
	struct http_request req = { .max_response = 1000 };

	assert_int_equal(get(f, "/big?n=1001", &req), -1);
	assert_int_equal(f->err.class, ERR_PERMANENT);
	assert_string_equal(f->err.code, "too_large");
	assert_non_null(strstr(f->err.msg, "1000 bytes"));
	assert_non_null(strstr(f->err.msg, "1001"));
	assert_non_null(strstr(f->err.msg, "127.0.0.1"));
	assert_int_equal(f->resp.body.len, 0); /* nothing of the body read */
}

static void test_size_cap_without_content_length(void **state)
{
	struct fixture *f = *state;
	struct http_request req = { .max_response = 1000 };

	assert_int_equal(get(f, "/stream?n=50000", &req), -1);
	assert_int_equal(f->err.class, ERR_PERMANENT);
	assert_string_equal(f->err.code, "too_large");
	assert_non_null(strstr(f->err.msg, "1000 bytes"));
	/* never buffered past the cap */
	assert_true(f->resp.body.len <= 1000);
	assert_true(f->resp.body.alloc <= 1001);
	/* the client is still usable afterwards */
	assert_int_equal(get(f, "/hello", NULL), 0);
	assert_string_equal(buf_str(&f->resp.body), "hello world");
}

static void test_client_wide_size_cap(void **state)
{
	struct fixture *f = *state;
	struct http_options opt = { .max_response = 100 };
	struct http_client *small = http_client_new(&opt);
	struct http_request req = { 0 };
	char *url = url_of(f->srv, "/stream?n=5000");

	req.url = url;
	assert_int_equal(http_perform(small, &req, &f->resp, &f->err), -1);
	assert_string_equal(f->err.code, "too_large");
	assert_non_null(strstr(f->err.msg, "100 bytes"));
	free(url);
	http_client_free(small);
}

static void test_total_timeout(void **state)
{
	struct fixture *f = *state;
	struct http_request req = { .total_timeout_ms = 300 };
	int64_t t0 = time_mono_ms();

	assert_int_equal(get(f, "/sleep?ms=5000", &req), -1);
	assert_true(time_mono_ms() - t0 < 2500);
	assert_int_equal(f->err.class, ERR_TRANSIENT);
	assert_string_equal(f->err.code, "timeout");
	assert_non_null(strstr(f->err.msg, "127.0.0.1"));
	assert_non_null(strstr(f->err.msg, "300 ms"));
}

static unsigned short unused_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd); /* nobody listens there now */
	return ntohs(sa.sin_port);
}

static void test_connection_refused_is_network(void **state)
{
	struct fixture *f = *state;
	struct http_request req = { 0 };
	char *url = xasprintf("http://127.0.0.1:%u/x?code=secret",
			      (unsigned)unused_port());

	req.url = url;
	assert_int_equal(http_perform(f->client, &req, &f->resp, &f->err), -1);
	assert_int_equal(f->err.class, ERR_TRANSIENT);
	assert_string_equal(f->err.code, "network");
	assert_non_null(strstr(f->err.msg, "127.0.0.1"));
	assert_null(strstr(f->err.msg, "secret")); /* query not in messages */
	assert_int_equal(f->resp.status, 0);
	free(url);
}

static void test_bad_urls(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"", "not a url", "ftp://example.com/x", "file:///etc/passwd",
		"//example.com/x", "https://", "http://[::1/",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_request req = { .url = bad[i] };

		err_clear(&f->err);
		assert_int_equal(http_perform(f->client, &req, &f->resp, &f->err), -1);
		assert_string_equal(f->err.code, "bad_url");
		assert_int_equal(f->err.class, ERR_PERMANENT);
		assert_int_equal(http_check_url(bad[i], NULL), -1);
	}
	assert_int_equal(http_check_url(NULL, &f->err), -1);
	assert_string_equal(f->err.code, "bad_url");
}

static void test_check_url_loopback_rule(void **state)
{
	static const char *const ok[] = {
		"https://graph.microsoft.com/v1.0/me",
		"https://login.microsoftonline.com/common/oauth2/v2.0/token",
		"http://127.0.0.1:8080/x", "http://127.8.9.10/", "http://[::1]:99/x",
		"http://localhost/", "http://LocalHost:1/", "HTTP://127.0.0.1/",
		"https://10.1.2.3/",
		/* curl normalises numeric IPv4 forms; it connects where it says */
		"http://0x7f.1/", "http://2130706433/",
	};
	static const char *const insecure[] = {
		"http://example.com/", "http://127.0.0.1.example.com/",
		"http://localhost.example.com/", "http://[::2]/", "http://10.0.0.1/",
		"http://128.0.0.1/", "http://user:pw@example.com/",
		"http://[::ffff:8.8.8.8]/", "http://[::ffff:127.0.0.1]/",
		"http:///path", /* curl reads "path" as the host */
	};
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		err_clear(&e);
		if (http_check_url(ok[i], &e) != 0)
			fail_msg("%s refused: %s", ok[i], e.msg);
	}
	for (size_t i = 0; i < sizeof(insecure) / sizeof(insecure[0]); i++) {
		err_clear(&e);
		assert_int_equal(http_check_url(insecure[i], &e), -1);
		assert_string_equal(e.code, "insecure_url");
		assert_int_equal(e.class, ERR_PERMANENT);
		assert_non_null(strstr(e.msg, "https://"));
	}
}

/* A non-loopback IPv4 address of this machine, or "" when it has none. */
static void local_non_loopback(char *out, size_t n)
{
	struct ifaddrs *ifs, *i;

	out[0] = '\0';
	if (getifaddrs(&ifs) < 0)
		return;
	for (i = ifs; i; i = i->ifa_next) {
		struct sockaddr_in *sa = (struct sockaddr_in *)(void *)i->ifa_addr;

		if (!sa || sa->sin_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
		    !(i->ifa_flags & IFF_UP))
			continue;
		inet_ntop(AF_INET, &sa->sin_addr, out, (socklen_t)n);
		break;
	}
	freeifaddrs(ifs);
}

static void test_plain_http_to_non_loopback_never_connects(void **state)
{
	struct fixture *f = *state;
	struct server *lan;
	struct http_request req = { 0 };
	char addr[64], *url;
	int rc;

	local_non_loopback(addr, sizeof(addr));
	if (!addr[0])
		skip();
	lan = server_start_on(addr);
	/* http:// to the machine's own LAN address: refused up front */
	url = url_of(lan, "/hello");
	req.url = url;
	assert_int_equal(http_perform(f->client, &req, &f->resp, &f->err), -1);
	assert_string_equal(f->err.code, "insecure_url");
	assert_int_equal(atomic_load(&lan->connections), 0);
	free(url);
	/* the same address over https is reachable (TLS then fails against
	 * this plain server), which proves the refusal above was ours */
	url = xasprintf("https://%s:%u/hello", addr, (unsigned)lan->port);
	req.url = url;
	req.total_timeout_ms = 3000;
	rc = http_perform(f->client, &req, &f->resp, &f->err);
	free(url);
	assert_int_equal(rc, -1);
	/* the plain server's answer to a TLS hello fails the handshake, or
	 * (slowed down under valgrind) the time runs out first */
	if (strcmp(f->err.code, "network") != 0 && strcmp(f->err.code, "timeout") != 0)
		fail_msg("https to the plain server: %s", f->err.code);
	assert_int_equal(atomic_load(&lan->connections), 1);
	server_stop(lan);
}

/* ---- tests: connection reuse and concurrency -------------------------- */

static void test_connection_reused_across_requests(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(get(f, "/hello", NULL), 0);
		assert_int_equal(f->resp.status, 200);
	}
	assert_int_equal(atomic_load(&f->srv->requests), 3);
	assert_int_equal(atomic_load(&f->srv->connections), 1);
}

static void test_perform_many_runs_concurrently(void **state)
{
	struct fixture *f = *state;
	struct http_request reqs[4];
	struct http_response resps[4];
	struct err errs[4];
	int rcs[4];
	char *url = url_of(f->srv, "/sleep?ms=400");
	int64_t t0;

	memset(reqs, 0, sizeof(reqs));
	for (int i = 0; i < 4; i++) {
		reqs[i].url = url;
		http_response_init(&resps[i]);
	}
	t0 = time_mono_ms();
	assert_int_equal(http_perform_many(f->client, reqs, resps, rcs, errs, 4), 0);
	assert_true(time_mono_ms() - t0 < 1200); /* 4 x 400 ms if serial */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rcs[i], 0);
		assert_int_equal(resps[i].status, 200);
		assert_string_equal(buf_str(&resps[i].body), "slept");
		assert_true(is_uuid_v4(resps[i].client_request_id));
	}
	assert_int_equal(atomic_load(&f->srv->max_in_flight), 4);
	assert_int_equal(atomic_load(&f->srv->connections), 4);

	/* a second round and a single request reuse those connections */
	assert_int_equal(http_perform_many(f->client, reqs, resps, rcs, errs, 4), 0);
	assert_int_equal(get(f, "/hello", NULL), 0);
	assert_int_equal(atomic_load(&f->srv->requests), 9);
	assert_int_equal(atomic_load(&f->srv->connections), 4);
	for (int i = 0; i < 4; i++)
		http_response_free(&resps[i]);
	free(url);
}

static void test_perform_many_mixed_results(void **state)
{
	struct fixture *f = *state;
	struct http_request reqs[5];
	struct http_response resps[5];
	struct err errs[5];
	int rcs[5];
	char *hello = url_of(f->srv, "/hello");
	char *big = url_of(f->srv, "/stream?n=9000");
	char *retry = url_of(f->srv, "/retry?value=7");

	memset(reqs, 0, sizeof(reqs));
	reqs[0].url = hello;
	reqs[1].url = "http://example.com/";
	reqs[2].url = big;
	reqs[2].max_response = 500;
	reqs[3].url = retry;
	reqs[4].url = hello;
	reqs[4].method = "POST";
	for (int i = 0; i < 5; i++)
		http_response_init(&resps[i]);
	assert_int_equal(http_perform_many(f->client, reqs, resps, rcs, errs, 5), 0);
	assert_int_equal(rcs[0], 0);
	assert_string_equal(buf_str(&resps[0].body), "hello world");
	assert_int_equal(rcs[1], -1);
	assert_string_equal(errs[1].code, "insecure_url");
	assert_int_equal(rcs[2], -1);
	assert_string_equal(errs[2].code, "too_large");
	assert_int_equal(rcs[3], 0);
	assert_int_equal(resps[3].status, 429);
	assert_int_equal(resps[3].retry_after_s, 7);
	assert_int_equal(rcs[4], 0);
	assert_int_equal(errs[0].class, ERR_NONE);
	for (int i = 0; i < 5; i++)
		http_response_free(&resps[i]);
	free(hello);
	free(big);
	free(retry);
}

static void test_perform_many_more_than_parallel_limit(void **state)
{
	struct fixture *f = *state;
	enum { N = HTTP_MAX_PARALLEL + 5 };
	struct http_request *reqs = xcalloc(N, sizeof(*reqs));
	struct http_response *resps = xcalloc(N, sizeof(*resps));
	struct err *errs = xcalloc(N, sizeof(*errs));
	int *rcs = xcalloc(N, sizeof(*rcs));
	char *url = url_of(f->srv, "/sleep?ms=50");

	for (int i = 0; i < N; i++) {
		reqs[i].url = url;
		http_response_init(&resps[i]);
	}
	assert_int_equal(http_perform_many(f->client, reqs, resps, rcs, errs, N), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(rcs[i], 0);
		assert_int_equal(resps[i].status, 200);
		http_response_free(&resps[i]);
	}
	assert_true(atomic_load(&f->srv->max_in_flight) <= HTTP_MAX_PARALLEL);
	assert_true(atomic_load(&f->srv->connections) <= HTTP_MAX_PARALLEL);
	assert_int_equal(http_perform_many(f->client, reqs, resps, rcs, errs, 0), 0);
	free(url);
	free(reqs);
	free(resps);
	free(errs);
	free(rcs);
}

/* ---- tests: logging --------------------------------------------------- */

static void test_debug_log_line_has_no_secrets(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/test_http_log_XXXXXX";
	struct http_request req = { .bearer = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.secret" };
	char text[4096];
	size_t n;
	FILE *fp;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_set_file(path), 0);
	log_set_level(LOG_DEBUG);
	assert_int_equal(get(f, "/hello?code=authcode123&state=s", &req), 0);
	log_set_level(LOG_WARN);
	log_set_file(NULL);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	unlink(path);
	assert_non_null(strstr(text, "GET http://127.0.0.1:"));
	assert_non_null(strstr(text, "/hello?..."));
	assert_non_null(strstr(text, "-> 200"));
	assert_non_null(strstr(text, "rid-123"));
	assert_null(strstr(text, "authcode123"));
	assert_null(strstr(text, "eyJ0eXAi"));
}

/* ---- tests: helpers (http_util.c) ------------------------------------- */

static void test_parse_retry_after(void **state)
{
	const long long now = 784111777 - 30; /* 30 s before the RFC's date */

	(void)state;
	assert_int_equal(http_parse_retry_after("120", now), 120);
	assert_int_equal(http_parse_retry_after("  5 \r\n", now), 5);
	assert_int_equal(http_parse_retry_after("0", now), 0);
	assert_int_equal(http_parse_retry_after("86400", now), 86400);
	assert_int_equal(http_parse_retry_after("86401", now), 86400);
	assert_int_equal(http_parse_retry_after("99999999999999999999999", now), 86400);
	assert_int_equal(http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 30);
	assert_int_equal(http_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), 30);
	assert_int_equal(http_parse_retry_after("Sun Nov  6 08:49:37 1994", now), 30);
	/* dates in the past mean "now"; far future is capped at a day */
	assert_int_equal(http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 100), 0);
	assert_int_equal(http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 0), 86400);
	assert_int_equal(http_parse_retry_after(NULL, now), -1);
	assert_int_equal(http_parse_retry_after("", now), -1);
	assert_int_equal(http_parse_retry_after("   ", now), -1);
	assert_int_equal(http_parse_retry_after("-5", now), -1);
	assert_int_equal(http_parse_retry_after("+5", now), -1);
	assert_int_equal(http_parse_retry_after("1.5", now), -1);
	assert_int_equal(http_parse_retry_after("12abc", now), -1);
	assert_int_equal(http_parse_retry_after("soon", now), -1);
	assert_int_equal(http_parse_retry_after("0x10", now), -1);
}

static void test_form_add_and_escape(void **state)
{
	struct buf form;
	struct err e;
	char *s;

	(void)state;
	buf_init(&form, 0);
	assert_int_equal(http_form_add(&form, "a", "1", NULL), 0);
	assert_int_equal(http_form_add(&form, "b c", "x&y=z/\xc3\xa9~-._", NULL), 0);
	assert_int_equal(http_form_add(&form, "empty", "", NULL), 0);
	assert_int_equal(http_form_add(&form, "null", NULL, NULL), 0);
	assert_string_equal(buf_str(&form),
			    "a=1&b%20c=x%26y%3Dz%2F%C3%A9~-._&empty=&null=");
	buf_free(&form);

	/* over the cap: error, and no half-written pair left behind */
	buf_init(&form, 12);
	assert_int_equal(http_form_add(&form, "k", "vvvv", &e), 0);
	assert_int_equal(http_form_add(&form, "key", "value", &e), -1);
	assert_string_equal(e.code, "too_large");
	assert_string_equal(buf_str(&form), "k=vvvv");
	assert_int_equal(form.len, 6);
	buf_free(&form);

	s = http_escape("AQMk/inbox folder?+#%");
	assert_string_equal(s, "AQMk%2Finbox%20folder%3F%2B%23%25");
	free(s);
	s = http_escape("");
	assert_string_equal(s, "");
	free(s);
	s = http_escape(NULL);
	assert_string_equal(s, "");
	free(s);
}

static void test_escape_long_input(void **state)
{
	size_t n = 200000;
	char *in = xmalloc(n + 1), *out;

	(void)state;
	for (size_t i = 0; i < n; i++)
		in[i] = i % 2 ? '/' : 'a';
	in[n] = '\0';
	out = http_escape(in);
	assert_int_equal(strlen(out), n / 2 + (n / 2) * 3);
	assert_memory_equal(out, "a%2Fa%2F", 8);
	free(in);
	free(out);
}

static void test_new_uuid(void **state)
{
	char a[37], b[37];

	(void)state;
	for (int i = 0; i < 100; i++) {
		http_new_uuid(a);
		http_new_uuid(b);
		assert_true(is_uuid_v4(a));
		assert_string_not_equal(a, b);
	}
}

static void test_global_init_twice(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(http_global_init(&e), 0);
	assert_int_equal(http_global_init(&e), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_get_returns_status_body_and_headers),
		T(test_404_is_a_response_not_an_error),
		T(test_response_is_reset_between_requests),
		T(test_redirect_is_not_followed),
		T(test_gzip_body_is_decoded),
		T(test_retry_after_seconds),
		T(test_retry_after_http_date),
		T(test_retry_after_garbage_is_absent),
		T(test_request_headers_arrive),
		T(test_client_request_id_fresh_uuid_each_time),
		T(test_client_request_id_given_is_sent_and_echoed),
		T(test_post_form_body),
		T(test_empty_post_sends_content_length_zero),
		T(test_patch_put_delete_with_and_without_body),
		T(test_binary_body_with_nul_bytes),
		T(test_large_body_sent_without_expect),
		T(test_bad_request_fields_refused),
		T(test_size_cap_exactly_at_limit_is_fine),
		T(test_size_cap_with_content_length_refused_early),
		T(test_size_cap_without_content_length),
		T(test_client_wide_size_cap),
		T(test_total_timeout),
		T(test_connection_refused_is_network),
		T(test_bad_urls),
		T(test_check_url_loopback_rule),
		T(test_plain_http_to_non_loopback_never_connects),
		T(test_connection_reused_across_requests),
		T(test_perform_many_runs_concurrently),
		T(test_perform_many_mixed_results),
		T(test_perform_many_more_than_parallel_limit),
		T(test_debug_log_line_has_no_secrets),
		cmocka_unit_test(test_parse_retry_after),
		cmocka_unit_test(test_form_add_and_escape),
		cmocka_unit_test(test_escape_long_input),
		cmocka_unit_test(test_new_uuid),
		cmocka_unit_test(test_global_init_twice),
	};
	struct err e;
	int failed;

	if (http_global_init(&e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	http_global_cleanup();
	return failed;
}
