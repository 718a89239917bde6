/*
 * graph_batch.c — POST /$batch: up to 20 requests with unique ids, relative
 * urls, per-request headers and bodies, dependsOn (a failed dependency
 * gives 424). Items run through gr_handle like any request (each counts
 * toward the rate window). Outlook runs at most concurrency_limit items of
 * a batch at once: with batch_concurrency_strict, independent items beyond
 * that get 429 ApplicationThrottled (MailboxConcurrency). With latency on,
 * the batch answers after its items' schedule (latency.h): four at a time,
 * each after its dependencies. Responses come back in reverse order on
 * purpose — clients must match them by id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "counters.h"
#include "dispatch.h"
#include "faults.h"
#include "graph.h"
#include "latency.h"

#define BATCH_MAX 20

struct item {
	const json_t *req;
	const char *id;
	int status;        /* 0 = not run yet */
	json_t *resp;
};

static int batch_error(struct sim_req *rq, struct sim_resp *rs, const char *msg)
{
	rs_graph_error(rq, rs, 400, "BadRequest", "Invalid batch payload: %s", msg);
	return -1;
}

static int find(struct item *items, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(items[i].id, id) == 0)
			return (int)i;
	return -1;
}

static int validate(struct sim_req *rq, struct sim_resp *rs, struct item *items,
		    size_t n)
{
	static const char *const methods[] = { "GET", "POST", "PATCH", "PUT", "DELETE" };

	for (size_t i = 0; i < n; i++) {
		const json_t *r = items[i].req;
		const char *m = json_string_value(json_object_get(r, "method"));
		const char *url = json_string_value(json_object_get(r, "url"));
		const json_t *deps = json_object_get(r, "dependsOn");
		const json_t *hdrs = json_object_get(r, "headers");
		bool ok = false;
		size_t k;
		json_t *d;

		if (!json_is_object(r) || !items[i].id || !*items[i].id)
			return batch_error(rq, rs, "every request needs a string 'id'.");
		if (find(items, i, items[i].id) >= 0)
			return batch_error(rq, rs, "request ids must be unique (case-insensitive).");
		for (k = 0; m && k < 5; k++)
			ok |= strcasecmp(m, methods[k]) == 0;
		if (!ok)
			return batch_error(rq, rs, "'method' must be GET, POST, PATCH, PUT or DELETE.");
		if (!url || sim_istarts(url, "http://") || sim_istarts(url, "https://"))
			return batch_error(rq, rs, "'url' must be relative to the version root, e.g. /me/messages.");
		if (hdrs && !json_is_object(hdrs))
			return batch_error(rq, rs, "'headers' must be an object.");
		if (deps && !json_is_array(deps))
			return batch_error(rq, rs, "'dependsOn' must be an array of request ids.");
		json_array_foreach(deps, k, d) {
			int j = json_is_string(d) ? find(items, n, json_string_value(d)) : -1;

			if (j < 0 || (size_t)j == i)
				return batch_error(rq, rs, "'dependsOn' names an unknown request id.");
		}
	}
	return 0;
}

static json_t *error_body(const char *code, const char *msg)
{
	return json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
}

/* Run one item as an inner request. */
static void run(struct sim_world *w, struct sim_req *outer, struct item *it)
{
	const json_t *r = it->req;
	const char *url = json_string_value(json_object_get(r, "url"));
	const char *q = strchr(url, '?');
	const json_t *hdrs = json_object_get(r, "headers"), *body = json_object_get(r, "body");
	struct sim_req in;
	struct sim_resp out;
	struct fault_hit hit;
	char *bodytext = NULL;
	const char *key;
	json_t *v, *rh;

	rq_init(&in);
	rs_init(&out);
	in.inner = true;
	in.method = xstrdup(json_string_value(json_object_get(r, "method")));
	for (char *c = in.method; *c; c++)
		*c = (char)((*c >= 'a' && *c <= 'z') ? *c - 32 : *c);
	{
		size_t plen = q ? (size_t)(q - url) : strlen(url);
		char *raw = xstrndup(url, plen);
		char *dec = sim_url_decode(raw, plen, false);
		const char *rel = dec;

		/* "/v1.0/me/..." is taken as "/me/...": the Graph JS client
		 * writes item urls that way when given absolute URLs */
		if (sim_istarts(rel, "/v1.0/") || sim_istarts(rel, "/beta/"))
			rel = strchr(rel + 1, '/');
		in.path = xasprintf("/v1.0%s%s", rel[0] == '/' ? "" : "/", rel);
		free(raw);
		free(dec);
	}
	in.raw_query = xstrdup(q ? q + 1 : "");
	sim_form_parse(in.raw_query, strlen(in.raw_query), &in.query);
	json_object_foreach((json_t *)hdrs, key, v)
		if (json_is_string(v))
			skv_add(&in.headers, key, json_string_value(v));
	if (!skv_iget(&in.headers, "Authorization") && rq_header(outer, "Authorization"))
		skv_add(&in.headers, "Authorization", rq_header(outer, "Authorization"));
	in.host = xstrdup(outer->host);
	in.scheme = outer->scheme;
	in.public_url = outer->public_url;
	sim_guid_random(in.request_id);
	in.client_request_id = rq_header(&in, "client-request-id");
	if (!in.client_request_id)
		in.client_request_id = outer->client_request_id;
	if (body && !json_is_null(body)) {
		bodytext = json_is_string(body) ? xstrdup(json_string_value(body))
						: json_dumps(body, JSON_COMPACT);
		in.body = bodytext;
		in.body_len = strlen(bodytext);
	}
	if (rq_split_path(&in) < 0) {
		rs_graph_error(&in, &out, 400, "BadRequest", "The request URL has too many segments.");
	} else if (bodytext && !rq_header(&in, "Content-Type")) {
		rs_graph_error(&in, &out, 400, "BadRequest",
				 "Content-Type header must be specified for a request with a body.");
	} else if (flt_match(w->faults, in.path, in.raw_query, outer->user->email, true, &hit)) {
		char ra[24];

		ctr_event(w->counters, "faults");
		if (hit.kind == FAULT_429)
			rs_graph_error(&in, &out, 429, "ApplicationThrottled",
					 "Application is over its MailboxConcurrency limit.");
		else if (hit.kind == FAULT_503)
			rs_graph_error(&in, &out, 503, "serviceNotAvailable",
					 "The service is temporarily unavailable. Please retry later.");
		else
			rs_graph_error(&in, &out, 500, "ErrorInternalServerError",
					 "An internal server error occurred. The operation failed.");
		if (hit.retry_after >= 0) {
			snprintf(ra, sizeof(ra), "%ld", hit.retry_after);
			rs_header(&out, "Retry-After", ra);
		}
	} else {
		gr_handle(w, &in, &out);
		rs_json_materialize(&out);
	}
	ctr_request(w->counters, in.method, in.route ? in.route : "(batch item)",
			 out.status, in.body_len, out.json ? 0 : out.body.len);
	it->status = out.status;
	rh = json_object();
	for (size_t i = 0; i < out.headers.n; i++)
		json_object_set_new(rh, out.headers.v[i].key, json_string(out.headers.v[i].val));
	if (out.content_type)
		json_object_set_new(rh, "Content-Type", json_string(out.content_type));
	it->resp = json_pack("{s:s, s:i, s:o}", "id", it->id, "status", out.status, "headers", rh);
	if (out.json) {
		json_object_set(it->resp, "body", out.json);
	} else if (out.body.len) {
		json_t *jb = json_loadb(out.body.data, out.body.len, 0, NULL);

		if (!jb) {
			char *b64 = sim_b64(out.body.data, out.body.len);

			jb = json_string(b64);
			free(b64);
		}
		json_object_set_new(it->resp, "body", jb);
	}
	free(bodytext);
	rq_free(&in);
	rs_free(&out);
}

void gr_batch(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *b = rq_json_body(rq, rs, NULL), *reqs, *responses;
	struct item items[BATCH_MAX];
	struct latency_batch sched;
	size_t n, done = 0;
	long independent = 0;

	if (!b)
		return;
	reqs = json_object_get(b, "requests");
	if (!json_is_array(reqs)) {
		batch_error(rq, rs, "the body must be {\"requests\": [...]}.");
		json_decref(b);
		return;
	}
	n = json_array_size(reqs);
	if (n == 0 || n > BATCH_MAX) {
		batch_error(rq, rs, n ? "the number of requests exceeds the limit of 20."
				      : "the batch contains no requests.");
		json_decref(b);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		items[i].req = json_array_get(reqs, i);
		items[i].id = json_string_value(json_object_get(items[i].req, "id"));
		items[i].status = 0;
		items[i].resp = NULL;
	}
	if (validate(rq, rs, items, n) < 0) {
		json_decref(b);
		return;
	}
	latency_batch_init(&sched, &w->cfg);
	while (done < n) {
		bool progress = false;

		for (size_t i = 0; i < n; i++) {
			const json_t *deps = json_object_get(items[i].req, "dependsOn");
			bool ready = true, failed = false;
			long ready_ms = 0;
			size_t k;
			json_t *d;

			if (items[i].status)
				continue;
			json_array_foreach(deps, k, d) {
				int j = find(items, n, json_string_value(d));
				long f = latency_batch_finish(&sched, (size_t)j);

				if (!items[j].status)
					ready = false;
				else if (items[j].status >= 400)
					failed = true;
				ready_ms = f > ready_ms ? f : ready_ms;
			}
			if (!ready)
				continue;
			progress = true;
			done++;
			/* refused items are answered at once; run ones take a latency */
			sched.finish[i] = ready_ms;
			if (failed) {
				items[i].status = 424;
				items[i].resp = json_pack("{s:s, s:i, s:{}, s:o}", "id", items[i].id,
							  "status", 424, "headers", "body",
							  error_body("FailedDependency",
								     "The request was not executed because a request it depends on failed."));
				continue;
			}
			if (!json_array_size(deps) && ++independent > w->cfg.concurrency_limit &&
			    w->cfg.batch_concurrency_strict) {
				char ra[24];

				snprintf(ra, sizeof(ra), "%ld", w->cfg.concurrency_retry_after);
				items[i].status = 429;
				items[i].resp = json_pack("{s:s, s:i, s:{s:s, s:s}, s:o}", "id", items[i].id,
							  "status", 429, "headers", "Retry-After", ra,
							  "Content-Type", "application/json",
							  "body", error_body("ApplicationThrottled",
									     "Application is over its MailboxConcurrency limit."));
				ctr_event(w->counters, "throttled");
				continue;
			}
			run(w, rq, &items[i]);
			latency_batch_add(&sched, i, ready_ms, latency_draw(&w->cfg));
		}
		if (!progress) {
			for (size_t i = 0; i < n; i++)
				json_decref(items[i].resp);
			batch_error(rq, rs, "'dependsOn' contains a cycle.");
			json_decref(b);
			return;
		}
	}
	responses = json_array();
	for (size_t i = n; i-- > 0;)
		json_array_append_new(responses, items[i].resp);
	rs_json(rs, 200, json_pack("{s:o}", "responses", responses));
	rs->delay_ms = sched.makespan;
	/* in flight: as many items as Outlook runs at once */
	rs->inflight = (int)(independent < w->cfg.concurrency_limit ? independent
			     : w->cfg.concurrency_limit);
	json_decref(b);
}
