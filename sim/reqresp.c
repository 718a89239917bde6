/*
 * reqresp.c — request/response plumbing and the two error shapes
 * (see http.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "http.h"

void rq_init(struct sim_req *rq)
{
	memset(rq, 0, sizeof(*rq));
}

void rq_free(struct sim_req *rq)
{
	free(rq->method);
	free(rq->path);
	free(rq->raw_query);
	free(rq->host);
	skv_free(&rq->query);
	skv_free(&rq->headers);
	for (size_t i = 0; i < rq->nsegs; i++)
		free(rq->segs[i]);
	memset(rq, 0, sizeof(*rq));
}

void rs_init(struct sim_resp *rs)
{
	memset(rs, 0, sizeof(*rs));
	buf_init(&rs->body, (size_t)1 << 30);
	buf_init(&rs->items, (size_t)1 << 30);
	rs->status = 500;
	rs->delay_ms = -1;
}

void rs_free(struct sim_resp *rs)
{
	json_decref(rs->json);
	rs->json = NULL;
	skv_free(&rs->headers);
	buf_free(&rs->body);
	buf_free(&rs->items);
	rs->has_items = false;
}

static int add_seg(struct sim_req *rq, const char *s, size_t n)
{
	if (rq->nsegs >= SIM_MAX_SEGS)
		return -1;
	rq->segs[rq->nsegs++] = xstrndup(s, n);
	return 0;
}

int rq_split_path(struct sim_req *rq)
{
	const char *p = rq->path;

	while (*p) {
		const char *start, *end, *paren;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		start = p;
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		p += n;
		paren = memchr(start, '(', n);
		if (paren && n >= 4 && start[n - 1] == ')') {
			const char *k = paren + 1, *kend = start + n - 1;

			if (kend > k && *k == '\'' && kend[-1] == '\'' && kend - k >= 2) {
				k++;
				kend--;
			}
			if (add_seg(rq, start, (size_t)(paren - start)) < 0 ||
			    add_seg(rq, k, (size_t)(kend - k)) < 0)
				return -1;
			continue;
		}
		if (add_seg(rq, start, n) < 0)
			return -1;
	}
	return 0;
}

static bool seg_match(const char *pat, size_t plen, const char *seg)
{
	return (plen == 1 && pat[0] == '*') ||
	       (strlen(seg) == plen && strncasecmp(pat, seg, plen) == 0);
}

bool rq_match(struct sim_req *rq, size_t first, const char *pattern)
{
	const char *p = pattern;
	size_t i = first, ncap = 0;

	memset(rq->caps, 0, sizeof(rq->caps));
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (i >= rq->nsegs || !seg_match(p, n, rq->segs[i]))
			return false;
		if (n == 1 && *p == '*' && ncap < 4)
			rq->caps[ncap++] = rq->segs[i];
		i++;
		p += n;
		if (*p == '/')
			p++;
	}
	return i == rq->nsegs;
}

const char *rq_header(const struct sim_req *rq, const char *name)
{
	return skv_iget(&rq->headers, name);
}

const char *rq_query(const struct sim_req *rq, const char *name)
{
	return skv_get(&rq->query, name);
}

/* Handle one Prefer token like `odata.maxpagesize=50` or
 * `IdType="ImmutableId"`. */
static void prefer_token(struct sim_prefer *p, const char *t, size_t n)
{
	char tok[160], *eq, *val;
	size_t vlen;

	while (n && (*t == ' ' || *t == '\t')) {
		t++;
		n--;
	}
	while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	if (!n || n >= sizeof(tok))
		return;
	memcpy(tok, t, n);
	tok[n] = '\0';
	eq = strchr(tok, '=');
	if (!eq)
		return;
	*eq = '\0';
	val = eq + 1;
	vlen = strlen(val);
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
		val[vlen - 1] = '\0';
		val++;
	}
	if (strcasecmp(tok, "odata.maxpagesize") == 0) {
		long v;

		if (sim_parse_long(val, 1, 1000000, &v) == 0)
			p->maxpagesize = v;
	} else if (strcasecmp(tok, "IdType") == 0) {
		p->immutable = strcasecmp(val, "ImmutableId") == 0;
	} else if (strcasecmp(tok, "outlook.body-content-type") == 0) {
		p->body_type = strcasecmp(val, "text") == 0 ? 1
			     : strcasecmp(val, "html") == 0 ? 2 : 0;
	}
}

void rq_parse_prefer(struct sim_req *rq)
{
	memset(&rq->prefer, 0, sizeof(rq->prefer));
	for (size_t i = 0; i < rq->headers.n; i++) {
		const char *v = rq->headers.v[i].val;
		bool quoted = false;
		const char *start = v;

		if (strcasecmp(rq->headers.v[i].key, "Prefer") != 0)
			continue;
		for (const char *c = v;; c++) {
			if (*c == '"')
				quoted = !quoted;
			if (*c == '\0' || (*c == ',' && !quoted)) {
				prefer_token(&rq->prefer, start, (size_t)(c - start));
				if (!*c)
					break;
				start = c + 1;
			}
		}
	}
}

void rs_header(struct sim_resp *rs, const char *name, const char *value)
{
	skv_set(&rs->headers, name, value);
}

static void drop_items(struct sim_resp *rs)
{
	buf_free(&rs->items);
	rs->has_items = false;
}

void rs_json(struct sim_resp *rs, int status, json_t *v)
{
	buf_reset(&rs->body);
	drop_items(rs);
	json_decref(rs->json);
	rs->json = v;
	rs->status = status;
	rs->content_type = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
}

void rs_json_items(struct sim_resp *rs, int status, json_t *envelope,
		   struct buf *items)
{
	rs_json(rs, status, envelope);
	rs->items = *items;
	rs->has_items = true;
	buf_init(items, items->limit);
}

/* The dumped envelope with the items spliced into its empty "value" array
 * (a key can only match where it is a key: quotes in strings are escaped). */
static void splice_items(struct sim_resp *rs, const char *env)
{
	static const char marker[] = "\"value\":[]";
	const char *at = strstr(env, marker);
	size_t head;

	buf_free(&rs->body);
	if (!at) {   /* not a page envelope (a bug): the envelope alone */
		buf_puts(&rs->body, env, NULL);
		return;
	}
	head = (size_t)(at - env) + sizeof(marker) - 2;   /* up to and with '[' */
	if (buf_append(&rs->body, env, head, NULL) < 0 ||
	    buf_append(&rs->body, rs->items.data ? rs->items.data : "", rs->items.len, NULL) < 0 ||
	    buf_puts(&rs->body, env + head, NULL) < 0)
		buf_free(&rs->body);
}

void rs_finish(struct sim_resp *rs)
{
	char *text;

	if (!rs->json)
		return;
	text = json_dumps(rs->json, JSON_COMPACT);
	json_decref(rs->json);
	rs->json = NULL;
	buf_free(&rs->body);
	if (text && rs->has_items) {
		splice_items(rs, text);
		free(text);
	} else if (text) {
		/* hand jansson's string to the buffer as is: no copy */
		rs->body.data = text;
		rs->body.len = strlen(text);
		rs->body.alloc = rs->body.len + 1;
	}
	drop_items(rs);
}

void rs_json_materialize(struct sim_resp *rs)
{
	if (!rs->json || !rs->has_items)
		return;
	rs_finish(rs);
	rs->json = json_loadb(buf_str(&rs->body), rs->body.len, 0, NULL);
	buf_reset(&rs->body);
}

void rs_text(struct sim_resp *rs, int status, const char *ctype,
	       const char *text, size_t len)
{
	drop_items(rs);
	json_decref(rs->json);
	rs->json = NULL;
	buf_reset(&rs->body);
	buf_append(&rs->body, text, len, NULL);
	rs->status = status;
	rs->content_type = ctype;
}

void rs_empty(struct sim_resp *rs, int status)
{
	drop_items(rs);
	json_decref(rs->json);
	rs->json = NULL;
	buf_reset(&rs->body);
	rs->status = status;
	rs->content_type = NULL;
}

void rs_graph_error(const struct sim_req *rq, struct sim_resp *rs,
		      int status, const char *code, const char *fmt, ...)
{
	char msg[1024], date[SIMTIME_LEN];
	va_list ap;
	json_t *inner, *err;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	simtime_format_graph_inner(simtime_now(), date);
	inner = json_pack("{s:s, s:s, s:s}", "date", date, "request-id",
			  rq->request_id, "client-request-id",
			  rq->client_request_id ? rq->client_request_id
						: rq->request_id);
	err = json_pack("{s:{s:s, s:s, s:o}}", "error", "code", code, "message",
			msg, "innerError", inner);
	rs_json(rs, status, err);
	rs->content_type = "application/json";
}

void rs_oauth_error(const struct sim_req *rq, struct sim_resp *rs,
		      int status, const char *error, long aadsts,
		      const char *fmt, ...)
{
	char msg[768], ts[SIMTIME_LEN], trace[37], desc[1200], uri[96];
	const char *corr = rq_header(rq, "client-request-id");
	char corrbuf[37];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	simtime_format_oauth(simtime_now(), ts);
	sim_guid_random(trace);
	if (!corr || strlen(corr) > 64) {
		sim_guid_random(corrbuf);
		corr = corrbuf;
	}
	snprintf(desc, sizeof(desc),
		 "AADSTS%ld: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
		 aadsts, msg, trace, corr, ts);
	snprintf(uri, sizeof(uri), "https://login.microsoftonline.com/error?code=%ld",
		 aadsts);
	rs_json(rs, status,
		  json_pack("{s:s, s:s, s:[I], s:s, s:s, s:s, s:s}", "error", error,
			    "error_description", desc, "error_codes",
			    (json_int_t)aadsts, "timestamp", ts, "trace_id", trace,
			    "correlation_id", corr, "error_uri", uri));
	rs->content_type = "application/json; charset=utf-8";
}

json_t *rq_json_body(const struct sim_req *rq, struct sim_resp *rs,
		      bool *empty)
{
	json_error_t jerr;
	json_t *v;
	size_t n = rq->body_len;

	while (n && (rq->body[n - 1] == ' ' || rq->body[n - 1] == '\n' ||
		     rq->body[n - 1] == '\r' || rq->body[n - 1] == '\t'))
		n--;
	if (empty)
		*empty = (n == 0);
	if (n == 0) {
		if (!empty)
			rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
					 "Empty Payload, JSON content expected");
		return NULL;
	}
	v = json_loadb(rq->body, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		rs_graph_error(rq, rs, 400, "BadRequest",
				 "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format. (%s at line %d, column %d)",
				 jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		rs_graph_error(rq, rs, 400, "BadRequest",
				 "The request payload must be a JSON object.");
		return NULL;
	}
	return v;
}

void rq_base_url(const struct sim_req *rq, char *out, size_t n)
{
	if (rq->public_url && *rq->public_url)
		snprintf(out, n, "%s", rq->public_url);
	else
		snprintf(out, n, "%s://%s", rq->scheme ? rq->scheme : "http",
			 rq->host && *rq->host ? rq->host : "127.0.0.1");
}
