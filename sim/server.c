/*
 * server.c — libmicrohttpd glue (see server.h). Collects headers, query
 * parameters and the (capped) body, calls sim_handle, and sends the result:
 * from a buffer normally, or through a content-reader callback that drops
 * the connection mid-body, dribbles it slowly, or streams an oversized
 * body without allocating it. Latency (latency.h) and the slow fault wait
 * on a condition variable with a deadline, in the connection's own thread
 * (one per connection), so a held answer costs no CPU and delays no other
 * connection; stopping the server wakes every wait at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "inboxsync/alloc.h"
#include "counters.h"
#include "simtime.h"
#include "dispatch.h"
#include "server.h"
#include "throttle.h"
#include "tls.h"

#define MAX_BODY ((size_t)100 << 20)

struct sim_server {
	struct MHD_Daemon *daemon;
	struct sim_world *world;
	unsigned port;
	bool tls;
	atomic_int stopping;
	pthread_mutex_t nap_lock;    /* with nap_wake: timed waits (nap) */
	pthread_cond_t nap_wake;     /* CLOCK_MONOTONIC; broadcast on stop */
};

struct conn {
	struct buf body;
	bool too_large;
	struct throttle_slot *slot;
	int inflight;                /* counted in flight (ctr_inflight) */
};

/* A response delivered through the content reader. */
struct stream {
	struct sim_server *srv;
	char *data;
	size_t len;
	enum fault_kind kind;
	long delay_ms;
	size_t chunk;        /* slow: bytes per chunk */
	size_t cut;          /* drop: bytes before closing */
	uint64_t total;      /* oversized: body size */
};

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *value)
{
	(void)kind;
	skv_add(cls, key, value ? value : "");
	return MHD_YES;
}

static void build_raw_query(struct sim_req *rq)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < rq->query.n; i++)
		buf_printf(&b, NULL, "%s%s=%s", i ? "&" : "", rq->query.v[i].key,
			   rq->query.v[i].val);
	rq->raw_query = buf_detach(&b, NULL);
}

/* Wait `ms` without using the CPU, waking early when the server stops. */
static void nap(struct sim_server *srv, long ms)
{
	struct timespec until;

	if (ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&srv->nap_lock);
	while (!atomic_load(&srv->stopping) &&
	       pthread_cond_timedwait(&srv->nap_wake, &srv->nap_lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&srv->nap_lock);
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *s = cls;
	size_t n;

	if (atomic_load(&s->srv->stopping))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	switch (s->kind) {
	case FAULT_DROP:
		if (pos >= s->cut)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		n = s->cut - (size_t)pos;
		n = n < max ? n : max;
		memcpy(out, s->data + pos, n);
		return (ssize_t)n;
	case FAULT_SLOW:
		if (pos >= s->len)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (pos > 0)
			nap(s->srv, s->delay_ms);
		n = s->len - (size_t)pos;
		n = n < s->chunk ? n : s->chunk;
		n = n < max ? n : max;
		memcpy(out, s->data + pos, n);
		return (ssize_t)n;
	case FAULT_OVERSIZED: {
		static const char head[] = "{\"@odata.context\":\"m365sim oversized\",\"value\":[],\"padding\":\"";
		static const char tailtxt[] = "\"}";
		size_t hl = sizeof(head) - 1, tl = sizeof(tailtxt) - 1;

		if (pos >= s->total)
			return MHD_CONTENT_READER_END_OF_STREAM;
		n = 0;
		while (n < max && pos + n < s->total) {
			uint64_t p = pos + n;

			if (p < hl)
				out[n] = head[p];
			else if (p >= s->total - tl)
				out[n] = tailtxt[p - (s->total - tl)];
			else
				out[n] = 'x';
			n++;
		}
		return (ssize_t)n;
	}
	default:
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void stream_free(void *cls)
{
	struct stream *s = cls;

	free(s->data);
	free(s);
}

static struct MHD_Response *make_response(struct sim_server *srv,
					  struct sim_resp *rs,
					  const struct fault_hit *hit)
{
	struct stream *s;
	size_t len = rs->body.len;

	if (hit->kind == FAULT_NONE) {
		size_t n = 0;
		char *data = buf_detach(&rs->body, &n);

		(void)len;
		return MHD_create_response_from_buffer(n, data, MHD_RESPMEM_MUST_FREE);
	}
	if (hit->kind == FAULT_MALFORMED) {
		/* Status 200, JSON content type, truncated document + garbage. */
		struct buf b;
		struct MHD_Response *r;

		buf_init(&b, 0);
		if (len > 2)
			buf_append(&b, rs->body.data, len / 2, NULL);
		else
			buf_puts(&b, "{\"value\":[{\"id\":", NULL);
		buf_puts(&b, "\x01<<m365sim: malformed>>", NULL);
		rs->status = 200;
		rs->content_type = "application/json; charset=utf-8";
		r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
		buf_free(&b);
		return r;
	}
	s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->kind = hit->kind;
	s->delay_ms = hit->delay_ms;
	s->data = buf_detach(&rs->body, &s->len);
	if (hit->kind == FAULT_DROP) {
		s->cut = (size_t)hit->bytes < s->len ? (size_t)hit->bytes : s->len / 2;
		if (s->len == 0) {
			/* Nothing to cut (202/204): promise a body, send a bit. */
			free(s->data);
			s->data = xstrdup("{\"value\":[{\"id\":\"AAMkAGI2THVSAAA=\",\"subject\":\"m365sim dropped this response\"}]}");
			s->len = strlen(s->data);
			s->cut = 20;
		}
		return MHD_create_response_from_callback(s->len, 1024, reader, s, stream_free);
	}
	if (hit->kind == FAULT_SLOW) {
		s->chunk = hit->bytes > 0 ? (size_t)hit->bytes : 64;
		return MHD_create_response_from_callback(s->len, 1024, reader, s, stream_free);
	}
	/* oversized */
	s->total = (uint64_t)(hit->bytes > 100 ? hit->bytes : 100);
	rs->status = 200;
	rs->content_type = "application/json; charset=utf-8";
	return MHD_create_response_from_callback(s->total, 65536, reader, s, stream_free);
}

static enum MHD_Result respond(struct sim_server *srv, struct MHD_Connection *c,
			       struct conn *cc, const char *url,
			       const char *method)
{
	struct sim_req rq;
	struct sim_resp rs;
	struct fault_hit hit = { 0 };
	struct MHD_Response *r;
	enum MHD_Result ret;

	rq_init(&rq);
	rs_init(&rs);
	rq.method = xstrdup(method);
	rq.path = xstrdup(url);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_kv, &rq.query);
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_kv, &rq.headers);
	build_raw_query(&rq);
	rq.scheme = srv->tls ? "https" : "http";
	rq.public_url = srv->world->public_url[0] ? srv->world->public_url : NULL;
	rq.host = xstrdup(rq_header(&rq, "Host"));
	if (!rq.host) {
		char h[32];

		snprintf(h, sizeof(h), "127.0.0.1:%u", srv->port);
		rq.host = xstrdup(h);
	}
	rq.body = buf_str(&cc->body);
	rq.body_len = cc->body.len;
	if (cc->too_large) {
		sim_guid_random(rq.request_id);
		rs_graph_error(&rq, &rs, 413, "RequestEntityTooLarge",
				 "The request body exceeds the maximum allowed size of %zu bytes.", MAX_BODY);
		rs_finish(&rs);
	} else {
		sim_handle(srv->world, &rq, &rs, &hit);
	}
	cc->slot = rq.slot;
	cc->inflight = rq.slot ? 1 : rs.inflight;
	if (cc->inflight)
		ctr_inflight(srv->world->counters, cc->inflight);
	/* latency: the answer waits with its throttle slot held, as a request
	 * in flight at Outlook does */
	nap(srv, rs.delay_ms);
	r = make_response(srv, &rs, &hit);
	for (size_t i = 0; i < rs.headers.n; i++)
		MHD_add_response_header(r, rs.headers.v[i].key, rs.headers.v[i].val);
	if (rs.content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs.content_type);
	MHD_add_response_header(r, "request-id", rq.request_id);
	MHD_add_response_header(r, "client-request-id",
				rq.client_request_id ? rq.client_request_id : rq.request_id);
	MHD_add_response_header(r, "x-ms-ags-diagnostic",
				"{\"ServerInfo\":{\"DataCenter\":\"Loopback\",\"Slice\":\"E\",\"Ring\":\"0\",\"ScaleUnit\":\"000\",\"RoleInstance\":\"m365sim\"}}");
	ret = MHD_queue_response(c, (unsigned)rs.status, r);
	MHD_destroy_response(r);
	rq_free(&rq);
	rs_free(&rs);
	return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c,
				 const char *url, const char *method,
				 const char *version, const char *upload_data,
				 size_t *upload_size, void **con_cls)
{
	struct sim_server *srv = cls;
	struct conn *cc = *con_cls;

	(void)version;
	if (!cc) {
		cc = xcalloc(1, sizeof(*cc));
		buf_init(&cc->body, MAX_BODY);
		*con_cls = cc;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!cc->too_large &&
		    buf_append(&cc->body, upload_data, *upload_size, NULL) < 0) {
			cc->too_large = true;
			buf_free(&cc->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return respond(srv, c, cc, url, method);
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct sim_server *srv = cls;
	struct conn *cc = *con_cls;

	(void)c;
	(void)toe;
	if (!cc)
		return;
	thr_release(srv->world->throttle, cc->slot);
	if (cc->inflight)
		ctr_inflight(srv->world->counters, -cc->inflight);
	buf_free(&cc->body);
	free(cc);
	*con_cls = NULL;
}

struct sim_server *simsrv_start(struct sim_world *w, unsigned port,
				const struct simtls_files *tls,
				char *why, size_t whylen)
{
	struct sim_server *s = xcalloc(1, sizeof(*s));
	struct sockaddr_in addr;
	const union MHD_DaemonInfo *info;
	pthread_condattr_t ca;
	struct MHD_OptionItem plain_opts[] = { { MHD_OPTION_END, 0, NULL } };
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, tls ? tls->key_pem : NULL },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, tls ? tls->cert_pem : NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->world = w;
	pthread_mutex_init(&s->nap_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->nap_wake, &ca);
	pthread_condattr_destroy(&ca);
	s->tls = tls != NULL;
	if (tls && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		snprintf(why, whylen, "this libmicrohttpd was built without TLS");
		pthread_cond_destroy(&s->nap_wake);
		pthread_mutex_destroy(&s->nap_lock);
		free(s);
		return NULL;
	}
	s->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
				     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
				     (tls ? MHD_USE_TLS : 0),
				     (uint16_t)port, NULL, NULL, access_cb, s,
				     MHD_OPTION_ARRAY, tls ? tls_opts : plain_opts,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				     MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)2000,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024,
				     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)256,
				     MHD_OPTION_END);
	if (!s->daemon) {
		snprintf(why, whylen, "cannot listen on 127.0.0.1:%u (port in use%s?)", port,
			 tls ? ", or a certificate/key libmicrohttpd refuses" : "");
		pthread_cond_destroy(&s->nap_wake);
		pthread_mutex_destroy(&s->nap_lock);
		free(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	world_lock(w);
	snprintf(w->base_url, sizeof(w->base_url), "%s://127.0.0.1:%u", tls ? "https" : "http",
		 s->port);
	world_unlock(w);
	return s;
}

unsigned simsrv_port(const struct sim_server *s)
{
	return s->port;
}

void simsrv_stop(struct sim_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->nap_lock);
	atomic_store(&s->stopping, 1);
	pthread_cond_broadcast(&s->nap_wake);
	pthread_mutex_unlock(&s->nap_lock);
	MHD_stop_daemon(s->daemon);
	pthread_cond_destroy(&s->nap_wake);
	pthread_mutex_destroy(&s->nap_lock);
	free(s);
}
