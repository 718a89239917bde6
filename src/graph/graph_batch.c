/*
 * graph_batch.c — JSON batching ($batch): up to 20 sub-requests per POST,
 * arranged as at most max_concurrency dependsOn chains so that Outlook
 * never runs more than that many of them at once for this mailbox. Every
 * sub-request carries Prefer: IdType="ImmutableId" in its own headers.
 * Answers are matched by id (they come in any order) and classified one
 * by one with the same table as plain requests. Knows nothing about what
 * the requests mean; callers interpret each item's outcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/json.h"
#include "inboxsync/timeutil.h"
#include "graph_internal.h"

/* ---- one item sent on its own ------------------------------------------------ */

static void run_direct(struct graph_driver *g, struct graph_batch_item *it)
{
	struct http_response r;
	struct graph_req req;
	struct err perr;
	char *body = it->body ? json_dump_compact(it->body) : NULL;

	memset(&req, 0, sizeof(req));
	req.method = it->method;
	req.url = it->url;
	req.content_type = body ? "application/json" : NULL;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.page_size = it->page_size;
	http_response_init(&r);
	it->answered = true;
	it->rc = graph_call(g, &it->op, &req, &r, &it->err);
	it->status = r.status;
	snprintf(it->request_id, sizeof(it->request_id), "%s", r.request_id);
	if (it->rc == 0 && r.body.len) {
		it->response = json_parse_object(r.body.data, r.body.len,
						 "the answer", &perr);
		if (!it->response)
			it->rc = graph_error_bad_response(&it->err, &it->op,
							  r.request_id, perr.msg);
	}
	http_response_free(&r);
	free(body);
}

/* ---- the batch document ------------------------------------------------------- */

static json_t *request_json(const struct graph_batch_item *it, size_t pos,
			    const char *rel, long dep_pos)
{
	json_t *req = json_object(), *headers = json_object();
	char id[24], prefer[96];

	snprintf(id, sizeof(id), "%zu", pos + 1);
	if (it->page_size)
		snprintf(prefer, sizeof(prefer), "%s, odata.maxpagesize=%zu",
			 GRAPH_PREFER_IMMUTABLE, it->page_size);
	else
		snprintf(prefer, sizeof(prefer), "%s", GRAPH_PREFER_IMMUTABLE);
	json_object_set_new(headers, "Prefer", json_string(prefer));
	json_object_set_new(req, "id", json_string(id));
	json_object_set_new(req, "method", json_string(it->method ? it->method : "GET"));
	json_object_set_new(req, "url", json_string(rel));
	if (it->body) {
		json_object_set_new(headers, "Content-Type",
				    json_string("application/json"));
		json_object_set(req, "body", (json_t *)it->body);
	}
	json_object_set_new(req, "headers", headers);
	if (dep_pos >= 0) {
		snprintf(id, sizeof(id), "%ld", dep_pos + 1);
		json_object_set_new(req, "dependsOn", json_pack("[s]", id));
	}
	return req;
}

/* ---- reading the answers ------------------------------------------------------- */

/* Header lookup in a sub-response's headers object (names are
 * case-insensitive); the value as text in `out`. */
static bool header_get(const json_t *headers, const char *name, char *out,
		       size_t n)
{
	const char *key;
	json_t *v;

	if (!json_is_object(headers))
		return false;
	json_object_foreach((json_t *)headers, key, v) {
		if (strcasecmp(key, name) != 0)
			continue;
		if (json_is_string(v))
			snprintf(out, n, "%s", json_string_value(v));
		else if (json_is_integer(v))
			snprintf(out, n, "%lld", (long long)json_integer_value(v));
		else
			return false;
		return true;
	}
	return false;
}

/* Position (0-based) named by a sub-response's "id", or -1. */
static long answer_pos(const json_t *resp, size_t m)
{
	const char *id = json_str_or_null(resp, "id");
	char *end;
	long v;

	if (!id || !*id)
		return -1;
	v = strtol(id, &end, 10);
	if (*end || v < 1 || (size_t)v > m)
		return -1;
	return v - 1;
}

static void answer_apply(struct graph_batch_item *it, const json_t *resp)
{
	const json_t *headers = json_object_get(resp, "headers");
	const json_t *body = json_object_get(resp, "body");
	json_t *status_v = json_object_get(resp, "status");
	char ra[64];
	int retry_after = -1;

	it->answered = true;
	if (!json_is_integer(status_v)) {
		it->rc = graph_error_bad_response(&it->err, &it->op, NULL,
			"a $batch answer without an integer \"status\"");
		return;
	}
	it->status = (long)json_integer_value(status_v);
	if (!header_get(headers, "request-id", it->request_id,
			sizeof(it->request_id)))
		it->request_id[0] = '\0';
	if (header_get(headers, "Retry-After", ra, sizeof(ra)))
		retry_after = http_parse_retry_after(ra, time_now());
	if (it->status >= 200 && it->status < 300) {
		it->rc = 0;
		if (json_is_object(body))
			it->response = json_incref((json_t *)body);
		return;
	}
	it->rc = -1;
	if (it->status != 424) /* 424s are settled once their chain is read */
		graph_error_set(&it->err, &it->op, it->status, body, retry_after,
				it->request_id);
}

/* A 424 (dependency failed): ERR_TRANSIENT, or ERR_THROTTLED when the
 * dependency was throttled; with `rerun`, a dependency that got a definite
 * answer (success, 404, 410 ...) puts the item back in the queue. */
static void dependent_settle(struct graph_batch_item *items, size_t idx,
			     unsigned flags)
{
	struct graph_batch_item *it = &items[idx], *dep = NULL;
	char target[128];

	if (it->depends_on >= 0)
		dep = &items[it->depends_on];
	if ((flags & GRAPH_BATCH_RERUN_DEPENDENTS) && dep &&
	    (dep->rc == 0 || dep->rerun || dep->err.class == ERR_PERMANENT ||
	     dep->err.class == ERR_RESYNC)) {
		it->rerun = true;
		return;
	}
	graph_op_target(&it->op, target, sizeof(target));
	if (dep && dep->err.class == ERR_THROTTLED) {
		err_set(&it->err, ERR_THROTTLED, "throttled",
			"%s%s: not run because the request before it in the "
			"batch was throttled; retry after %d s", it->op.what,
			target, dep->err.retry_after_s);
		it->err.retry_after_s = dep->err.retry_after_s;
	} else {
		err_set(&it->err, ERR_TRANSIENT, "dependency_failed",
			"%s%s: not run because the request before it in the "
			"batch failed (HTTP 424); this is temporary", it->op.what,
			target);
	}
	it->err.http_status = 424;
}

static int answers_read(json_t *doc, struct graph_batch_item *items,
			const size_t *chunk, size_t m, unsigned flags,
			const struct graph_op *op, const char *request_id,
			struct err *e)
{
	json_t *responses, *resp;
	struct err perr;
	size_t i;

	if (json_req_array(doc, "responses", &responses, &perr) < 0)
		return graph_error_bad_response(e, op, request_id, perr.msg);
	json_array_foreach(responses, i, resp) {
		long pos = json_is_object(resp) ? answer_pos(resp, m) : -1;

		if (pos >= 0 && !items[chunk[pos]].answered)
			answer_apply(&items[chunk[pos]], resp);
	}
	for (i = 0; i < m; i++) {
		struct graph_batch_item *it = &items[chunk[i]];

		if (!it->answered) {
			it->answered = true;
			it->rc = graph_error_bad_response(&it->err, &it->op,
				request_id, "the $batch answer has no response "
				"for this request");
		} else if (it->status == 424) {
			/* chains run forward: its dependency is settled */
			dependent_settle(items, chunk[i], flags);
		}
	}
	return 0;
}

/* POST one $batch of the items at `chunk` (relative URLs in `rels`). */
/* The $batch endpoint itself is missing or refused (not a throttle or a
 * server failure). */
static bool batch_unsupported(const struct err *e)
{
	if (e->class != ERR_PERMANENT)
		return false; /* auth, throttling, outages: not about $batch */
	return e->http_status == 400 || e->http_status == 404 ||
	       e->http_status == 405 || e->http_status == 501;
}

static int run_batch(struct graph_driver *g, const char *what,
		     struct graph_batch_item *items, const size_t *chunk,
		     char **rels, size_t m, unsigned flags, struct err *e)
{
	size_t chains = (size_t)g->max_concurrency < m ? (size_t)g->max_concurrency : m;
	json_t *requests = json_array(), *doc;
	struct graph_op op = { what, GRAPH_TARGET_NONE, NULL, "Mail.ReadWrite", false };
	struct graph_url u;
	struct graph_req req;
	char rid[80], *body, *url;
	int rc = -1;

	for (size_t p = 0; p < m; p++) {
		long dep = p >= chains ? (long)(p - chains) : -1;

		items[chunk[p]].depends_on = dep >= 0 ? (long)chunk[dep] : -1;
		json_array_append_new(requests, request_json(&items[chunk[p]], p,
							     rels[p], dep));
	}
	doc = json_pack("{s:o}", "requests", requests);
	body = json_dump_compact(doc);
	json_decref(doc);
	graph_url_init(&u, g);
	graph_url_path(&u, "/$batch");
	url = graph_url_finish(&u, e);
	if (!url)
		goto out;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.content_type = "application/json";
	req.body = body;
	req.body_len = strlen(body);
	req.slots = (int)chains; /* Outlook runs that many of its items at once */
	doc = graph_call_json(g, &op, &req, rid, e);
	if (!doc && batch_unsupported(e)) {
		/* A server without JSON batching (some proxies and national
		 * deployments, simple fakes): the same requests one by one. */
		log_warn("graph", "%s: $batch is not available here (HTTP %d); "
			 "sending the requests one by one", what, e->http_status);
		g->no_batch = true;
		for (size_t i = 0; i < m; i++)
			run_direct(g, &items[chunk[i]]);
		err_clear(e);
		rc = 0;
		goto out;
	}
	if (!doc)
		goto out;
	rc = answers_read(doc, items, chunk, m, flags, &op, rid, e);
	json_decref(doc);
out:
	free(url);
	free(body);
	return rc;
}

/* ---- the runner ------------------------------------------------------------------ */

static void item_reset(struct graph_batch_item *it)
{
	json_decref(it->response);
	it->response = NULL;
	it->rc = -1;
	it->status = 0;
	it->answered = false;
	it->rerun = false;
	it->request_id[0] = '\0';
	it->depends_on = -1;
	err_clear(&it->err);
}

/* Send the items at chunk[0..m): the ones that cannot go in a batch (and a
 * lone one) directly, the rest as one $batch. */
static int run_chunk(struct graph_driver *g, const char *what,
		     struct graph_batch_item *items, const size_t *chunk,
		     size_t m, unsigned flags, struct err *e)
{
	size_t *batched = xcalloc(m, sizeof(*batched));
	char **rels = xcalloc(m, sizeof(*rels));
	size_t nb = 0;
	int rc = 0;

	for (size_t i = 0; i < m; i++) {
		char *rel = g->no_batch ? NULL : graph_url_relative(g, items[chunk[i]].url);

		if (rel) {
			rels[nb] = rel;
			batched[nb++] = chunk[i];
		} else {
			run_direct(g, &items[chunk[i]]);
		}
	}
	if (nb == 1)
		run_direct(g, &items[batched[0]]);
	else if (nb > 1)
		rc = run_batch(g, what, items, batched, rels, nb, flags, e);
	for (size_t i = 0; i < nb; i++)
		free(rels[i]);
	free(rels);
	free(batched);
	return rc;
}

int graph_batch_run(struct graph_driver *g, const char *what,
		    struct graph_batch_item *items, size_t n, unsigned flags,
		    struct err *e)
{
	size_t *pending = xcalloc(n + 1, sizeof(*pending));
	size_t *next = xcalloc(n + 1, sizeof(*next));
	size_t npending = n;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		items[i].response = NULL;
		item_reset(&items[i]);
		pending[i] = i;
	}
	while (npending && rc == 0) {
		size_t take = npending < GRAPH_BATCH_MAX ? npending : GRAPH_BATCH_MAX;
		size_t nnext = 0;

		rc = run_chunk(g, what, items, pending, take, flags, e);
		if (rc < 0)
			break;
		for (size_t i = take; i < npending; i++)
			next[nnext++] = pending[i];
		/* cppcheck-suppress knownConditionTrueFalse ; take >= 1 here */
		for (size_t i = 0; i < take; i++) {
			if (!items[pending[i]].rerun)
				continue;
			item_reset(&items[pending[i]]);
			next[nnext++] = pending[i];
		}
		memcpy(pending, next, nnext * sizeof(*pending));
		npending = nnext;
	}
	if (rc < 0) {
		for (size_t i = 0; i < npending; i++) {
			struct graph_batch_item *it = &items[pending[i]];

			if (it->answered)
				continue;
			it->rc = -1;
			it->status = 0;
			if (e)
				it->err = *e;
		}
	}
	free(pending);
	free(next);
	return rc;
}

void graph_batch_release(struct graph_batch_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_decref(items[i].response);
		items[i].response = NULL;
	}
}
