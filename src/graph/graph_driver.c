/*
 * graph_driver.c — the Graph driver object: configuration defaults, the
 * driver_ops table the engine dispatches through, and the one-request
 * identity lookup (/me). The operations themselves live in graph_delta.c,
 * graph_folders.c, graph_items.c and graph_send.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/json.h"
#include "graph_internal.h"

#define DEFAULT_BASE_URL "https://graph.microsoft.com/v1.0"

const char graph_message_select[] =
	"id,changeKey,conversationId,internetMessageId,subject,from,"
	"toRecipients,ccRecipients,receivedDateTime,sentDateTime,isRead,"
	"isDraft,flag,hasAttachments,parentFolderId,bodyPreview,categories";

static void graph_free(struct driver *d)
{
	struct graph_driver *g = graph_of(d);

	graph_prefetch_clear(g);
	graph_gate_destroy(&g->gate);
	free(g->base_url);
	free(g);
}

static const struct driver_ops graph_ops = {
	.name = "graph",
	.whoami = graph_op_whoami,
	.list_folders = graph_op_list_folders,
	.get_changes = graph_op_get_changes,
	.prefetch_changes = graph_op_prefetch_changes,
	.poll_changes = graph_op_poll_changes,
	.list_newest = graph_op_list_newest,
	.locate_messages = graph_op_locate_messages,
	.count_messages = graph_op_count_messages,
	.fetch_body = graph_op_fetch_body,
	.fetch_bodies = graph_op_fetch_bodies,
	.fetch_mime = graph_op_fetch_mime,
	.set_flags = graph_op_set_flags,
	.move_message = graph_op_move_message,
	.delete_message = graph_op_delete_message,
	.create_draft = graph_op_create_draft,
	.send_draft = graph_op_send_draft,
	.get_state = graph_op_get_state,
	.find_by_message_id = graph_op_find_by_message_id,
	.test_send = graph_op_test_send,
	.free = graph_free,
};

struct graph_driver *graph_of(struct driver *d)
{
	return (struct graph_driver *)(void *)d;
}

struct driver *graph_driver_new(const struct graph_config *cfg)
{
	struct graph_driver *g = xcalloc(1, sizeof(*g));
	const char *base = cfg->base_url && *cfg->base_url ? cfg->base_url :
		DEFAULT_BASE_URL;
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	g->base.ops = &graph_ops;
	g->base_url = xstrndup(base, n);
	g->http = cfg->http;
	g->auth = cfg->auth;
	g->max_response = cfg->max_response ? cfg->max_response :
		GRAPH_DEFAULT_MAX_RESPONSE;
	g->default_page_size = cfg->default_page_size ? cfg->default_page_size :
		GRAPH_DEFAULT_PAGE_SIZE;
	if (g->default_page_size > GRAPH_MAX_PAGE_SIZE)
		g->default_page_size = GRAPH_MAX_PAGE_SIZE;
	g->max_concurrency = cfg->max_concurrency;
	if (g->max_concurrency < 1 || g->max_concurrency > GRAPH_MAX_CONCURRENCY)
		g->max_concurrency = GRAPH_MAX_CONCURRENCY;
	g->base.limits.max_poll = GRAPH_BATCH_MAX;
	g->base.limits.max_locate = GRAPH_BATCH_MAX;
	g->base.limits.max_page = GRAPH_MAX_PAGE_SIZE;
	g->base.limits.max_bodies = GRAPH_BATCH_MAX;
	g->base.limits.max_inflight = g->max_concurrency;
	graph_gate_init(&g->gate, g->max_concurrency);
	return &g->base;
}

int graph_driver_open(const struct driver_endpoint *ep, struct driver **out,
		      struct err *e)
{
	struct graph_config cfg = {
		.base_url = ep->graph_url,
		.http = ep->http,
		.auth = ep->auth,
	};

	(void)e;
	*out = graph_driver_new(&cfg);
	return 0;
}

/* ---- whoami ------------------------------------------------------------------ */

static int copy_field(char *dst, size_t n, const char *v)
{
	return str_copy(dst, n, v ? v : "");
}

int graph_op_whoami(struct driver *d, struct driver_identity *out,
		    struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = { "identifying the signed-in user",
			       GRAPH_TARGET_NONE, NULL, "User.Read", false };
	const char *id, *name = NULL, *mail = NULL, *upn = NULL;
	struct graph_req req = { 0 };
	struct graph_url u;
	char rid[80], *url;
	struct err perr;
	json_t *doc;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	graph_url_init(&u, g);
	graph_url_path(&u, "/me");
	graph_url_param(&u, "$select", "id,displayName,mail,userPrincipalName");
	if (!(url = graph_url_finish(&u, e)))
		return -1;
	req.url = url;
	doc = graph_call_json(g, &op, &req, rid, e);
	free(url);
	if (!doc)
		return -1;
	if (json_req_string(doc, "id", &id, &perr) < 0 ||
	    json_opt_string(doc, "displayName", &name, &perr) < 0 ||
	    json_opt_string(doc, "mail", &mail, &perr) < 0 ||
	    json_opt_string(doc, "userPrincipalName", &upn, &perr) < 0) {
		graph_error_bad_response(e, &op, rid, perr.msg);
		goto out;
	}
	if ((!mail || !*mail) && (!upn || !*upn)) {
		graph_error_bad_response(e, &op, rid,
					 "neither \"mail\" nor \"userPrincipalName\"");
		goto out;
	}
	copy_field(out->object_id, sizeof(out->object_id), id);
	copy_field(out->display_name, sizeof(out->display_name), name);
	copy_field(out->user_principal_name, sizeof(out->user_principal_name), upn);
	copy_field(out->address, sizeof(out->address), mail && *mail ? mail : upn);
	rc = 0;
out:
	json_decref(doc);
	return rc;
}
