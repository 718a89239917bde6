/*
 * graph_request.c — one Graph request: a token from the auth layer, the
 * headers every call carries (Authorization, Prefer: IdType="ImmutableId",
 * Accept, client-request-id), the single forced refresh and retry after a
 * 401, and the classification of whatever came back. Never retries
 * anything else: the engine decides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "graph_internal.h"

void graph_token_free(char *token)
{
	xfree_secret(token);
}

int graph_token(struct graph_driver *g, const struct graph_op *op,
		const char *rejected, char **token, struct err *e)
{
	char target[128];

	*token = NULL;
	if (!g->auth.get_token)
		return err_set(e, ERR_AUTH, "no_token_source",
			       "%s: the Graph driver has no token source; the "
			       "account must be authorized first", op->what);
	if (g->auth.get_token(g->auth.ctx, "graph", rejected, token, e) < 0) {
		graph_token_free(*token);
		*token = NULL;
		graph_op_target(op, target, sizeof(target));
		return err_prefix(e, "%s%s: ", op->what, target);
	}
	if (!*token || !**token) {
		graph_token_free(*token);
		*token = NULL;
		return err_set(e, ERR_AUTH, "no_token",
			       "%s: the auth layer returned an empty access "
			       "token; authorize the account again", op->what);
	}
	return 0;
}

const char *graph_request_id(const struct http_response *r)
{
	return r->request_id;
}

int graph_call(struct graph_driver *g, const struct graph_op *op,
	       const struct graph_req *req, struct http_response *resp,
	       struct err *e)
{
	char crid[37], pagesize[48], *refused = NULL;
	struct http_request hr;

	if (!graph_url_is_ours(g, req->url))
		return err_set(e, ERR_BUG, "foreign_url",
			       "%s: refusing to send the access token to a URL "
			       "outside %.200s", op->what, g->base_url);
	http_new_uuid(crid);
	for (int attempt = 0; attempt < 2; attempt++) {
		char *token;
		int rc, slots;

		if (graph_token(g, op, refused, &token, e) < 0) {
			graph_token_free(refused);
			return -1;
		}
		graph_token_free(refused);
		refused = NULL;
		memset(&hr, 0, sizeof(hr));
		hr.method = req->method ? req->method : "GET";
		hr.url = req->url;
		hr.bearer = token;
		hr.content_type = req->content_type;
		hr.body = req->body;
		hr.body_len = req->body_len;
		hr.client_request_id = crid;
		hr.max_response = req->max_response ? req->max_response :
			g->max_response;
		hr.prefer[0] = GRAPH_PREFER_IMMUTABLE;
		if (req->page_size) {
			snprintf(pagesize, sizeof(pagesize),
				 "odata.maxpagesize=%zu", req->page_size);
			hr.prefer[1] = pagesize;
		}
		hr.headers[0] = req->raw ? "Accept: */*" : "Accept: application/json";
		slots = graph_gate_enter(&g->gate, req->slots);
		rc = http_perform(g->http, &hr, resp, e);
		graph_gate_leave(&g->gate, slots);
		if (rc < 0) {
			graph_token_free(token);
			return graph_error_transport(e, op);
		}
		if (resp->status != 401) {
			graph_token_free(token);
			break;
		}
		refused = token; /* ask the auth layer for another one */
	}
	graph_token_free(refused);
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	return graph_error_from_http(e, op, resp);
}

json_t *graph_response_json(const struct graph_op *op,
			    const struct http_response *resp, struct err *e)
{
	struct err perr;
	json_t *doc = json_parse_object(resp->body.data, resp->body.len,
					"the answer", &perr);

	if (!doc)
		graph_error_bad_response(e, op, resp->request_id, perr.msg);
	return doc;
}

json_t *graph_call_json(struct graph_driver *g, const struct graph_op *op,
			const struct graph_req *req, char *request_id,
			struct err *e)
{
	struct http_response resp;
	json_t *doc = NULL;

	http_response_init(&resp);
	if (request_id)
		request_id[0] = '\0';
	if (graph_call(g, op, req, &resp, e) < 0)
		goto out;
	if (request_id)
		snprintf(request_id, 80, "%s", resp.request_id);
	doc = graph_response_json(op, &resp, e);
out:
	http_response_free(&resp);
	return doc;
}
