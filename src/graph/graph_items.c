/*
 * graph_items.c — operations on single messages by immutable id: where is
 * it (batched), its body and raw MIME, flags, move, delete, its state, and
 * the search by Message-ID the outbox uses to find a sent copy. Every id
 * goes into the URL through graph_url_id (percent-encoded exactly once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "inboxsync/json.h"
#include "graph_internal.h"

#define STATE_SELECT "id,isDraft,parentFolderId,internetMessageId,conversationId"
#define FIND_MAX_PAGES 50

/* /me/messages/{id}{suffix}[?$select=select] (heap) or NULL with e. */
static char *message_url(struct graph_driver *g, const char *id,
			 const char *suffix, const char *select, struct err *e)
{
	struct graph_url u;

	graph_url_init(&u, g);
	graph_url_path(&u, "/me/messages/");
	graph_url_id(&u, id);
	if (suffix)
		graph_url_path(&u, suffix);
	if (select)
		graph_url_param(&u, "$select", select);
	return graph_url_finish(&u, e);
}

static struct graph_op message_op(const char *what, const char *id,
				  const char *scope)
{
	struct graph_op op = { what, GRAPH_TARGET_MESSAGE, id, scope, false };

	return op;
}

/* ---- where are they ------------------------------------------------------------ */

static void locate_apply(struct driver_locate *l, struct graph_batch_item *it)
{
	const char *folder;
	struct err perr;

	if (it->rc < 0 && it->status == 404) {
		l->gone = true;
		l->rc = 0;
		return;
	}
	if (it->rc < 0) {
		l->err = it->err;
		return;
	}
	if (json_req_string(it->response, "parentFolderId", &folder, &perr) < 0) {
		graph_error_bad_response(&l->err, &it->op, it->request_id, perr.msg);
		return;
	}
	l->folder_remote_id = xstrdup(folder);
	l->rc = 0;
}

/* One GET of /me/messages/{id}?$select=... per message, batched: `id(i)`
 * names message i, a URL that cannot be made goes to `fail(i)`, and
 * every answered item to `apply(i, item)`. Returns -1 only when nothing
 * got an answer. */
struct per_message {
	const char *what, *op_what, *select;
	bool is_content;
	const char *(*id)(void *ctx, size_t i);
	struct err *(*fail)(void *ctx, size_t i);
	void (*apply)(void *ctx, size_t i, struct graph_batch_item *it);
	void *ctx;
};

static int per_message_run(struct graph_driver *g, const struct per_message *pm,
			   size_t n, struct err *e)
{
	struct graph_batch_item *bi = xcalloc(n + 1, sizeof(*bi));
	char **urls = xcalloc(n + 1, sizeof(*urls));
	size_t *which = xcalloc(n + 1, sizeof(*which));
	size_t m = 0, answered = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		const char *id = pm->id(pm->ctx, i);

		urls[m] = message_url(g, id, NULL, pm->select, pm->fail(pm->ctx, i));
		if (!urls[m])
			continue;
		bi[m].op = message_op(pm->op_what, id, "Mail.Read");
		bi[m].op.is_content = pm->is_content;
		bi[m].url = urls[m];
		which[m++] = i;
	}
	rc = graph_batch_run(g, pm->what, bi, m, GRAPH_BATCH_RERUN_DEPENDENTS, e);
	for (size_t k = 0; k < m; k++) {
		answered += bi[k].answered;
		pm->apply(pm->ctx, which[k], &bi[k]);
	}
	graph_batch_release(bi, m);
	for (size_t k = 0; k < m; k++)
		free(urls[k]);
	free(urls);
	free(which);
	free(bi);
	return rc < 0 && !answered ? -1 : 0;
}

static const char *locate_id(void *ctx, size_t i)
{
	return ((struct driver_locate *)ctx)[i].remote_id;
}

static struct err *locate_err(void *ctx, size_t i)
{
	return &((struct driver_locate *)ctx)[i].err;
}

static void locate_each(void *ctx, size_t i, struct graph_batch_item *it)
{
	locate_apply(&((struct driver_locate *)ctx)[i], it);
}

int graph_op_locate_messages(struct driver *d, struct driver_locate *items,
			     size_t n, struct err *e)
{
	struct per_message pm = { "locating messages", "locating", "id,parentFolderId",
				  false, locate_id, locate_err, locate_each, items };

	for (size_t i = 0; i < n; i++)
		items[i].rc = -1;
	return per_message_run(graph_of(d), &pm, n, e);
}

/* ---- content ---------------------------------------------------------------- */

/* A body out of a message object {"body":{"contentType","content"}}. */
static int body_read(const json_t *doc, const struct graph_op *op, const char *rid,
		     struct driver_body *out, struct err *e)
{
	const char *type, *content;
	struct err perr;
	json_t *body;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (json_req_object(doc, "body", &body, &perr) < 0 ||
	    json_req_string(body, "contentType", &type, &perr) < 0 ||
	    json_req_string(body, "content", &content, &perr) < 0)
		return graph_error_bad_response(e, op, rid, perr.msg);
	if (strcasecmp(type, "html") != 0 && strcasecmp(type, "text") != 0)
		return graph_error_bad_response(e, op, rid, "a body contentType other "
						"than html or text");
	len = json_string_length(json_object_get(body, "content"));
	out->content_type = xstrdup(strcasecmp(type, "html") == 0 ? "html" : "text");
	out->content = xmalloc(len + 1);
	memcpy(out->content, content, len);
	out->content[len] = '\0';
	out->len = len;
	return 0;
}

int graph_op_fetch_body(struct driver *d, const char *id,
			struct driver_body *out, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = message_op("fetching the body of", id, "Mail.Read");
	struct graph_req req = { 0 };
	char rid[80];
	json_t *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	op.is_content = true;
	if (!(req.url = message_url(g, id, NULL, "body", e)))
		return -1;
	doc = graph_call_json(g, &op, &req, rid, e);
	free((char *)req.url);
	if (!doc)
		return -1;
	rc = body_read(doc, &op, rid, out, e);
	json_decref(doc);
	return rc;
}

static const char *body_id(void *ctx, size_t i)
{
	return ((struct driver_body_fetch *)ctx)[i].remote_id;
}

static struct err *body_err(void *ctx, size_t i)
{
	return &((struct driver_body_fetch *)ctx)[i].err;
}

static void body_each(void *ctx, size_t i, struct graph_batch_item *it)
{
	struct driver_body_fetch *f = &((struct driver_body_fetch *)ctx)[i];

	if (it->rc < 0)
		f->err = it->err;
	else if (!it->response)
		graph_error_bad_response(&f->err, &it->op, it->request_id, "an empty answer");
	else
		f->rc = body_read(it->response, &it->op, it->request_id, &f->body, &f->err);
}

int graph_op_fetch_bodies(struct driver *d, struct driver_body_fetch *items,
			  size_t n, struct err *e)
{
	struct per_message pm = { "fetching message bodies", "fetching the body of",
				  "body", true, body_id, body_err, body_each, items };

	return per_message_run(graph_of(d), &pm, n, e);
}

int graph_op_fetch_mime(struct driver *d, const char *id, struct buf *out,
			struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = message_op("fetching the raw MIME of", id, "Mail.Read");
	struct graph_req req = { 0 };
	struct http_response resp;
	int rc;

	op.is_content = true;
	if (!(req.url = message_url(g, id, "/$value", NULL, e)))
		return -1;
	req.raw = true;
	req.max_response = out->limit ? out->limit : g->max_response;
	http_response_init(&resp);
	rc = graph_call(g, &op, &req, &resp, e);
	if (rc == 0) {
		/* hand the body over without copying; out keeps its cap */
		buf_free(out);
		out->limit = req.max_response;
		out->data = resp.body.data;
		out->len = resp.body.len;
		out->alloc = resp.body.alloc;
		resp.body.data = NULL;
		resp.body.len = resp.body.alloc = 0;
	}
	http_response_free(&resp);
	free((char *)req.url);
	return rc;
}

/* ---- changes ------------------------------------------------------------------ */

/* One write request with a JSON body (may be NULL); the answer is not
 * needed. */
static int write_call(struct graph_driver *g, const struct graph_op *op,
		      const char *method, const char *url, const json_t *body,
		      struct err *e)
{
	struct graph_req req = { 0 };
	struct http_response resp;
	char *text = body ? json_dump_compact(body) : NULL;
	int rc;

	req.method = method;
	req.url = url;
	req.content_type = text ? "application/json" : NULL;
	req.body = text;
	req.body_len = text ? strlen(text) : 0;
	http_response_init(&resp);
	rc = graph_call(g, op, &req, &resp, e);
	http_response_free(&resp);
	free(text);
	return rc;
}

int graph_op_set_flags(struct driver *d, const char *id, int is_read,
		       int is_flagged, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = message_op("changing the flags of", id, "Mail.ReadWrite");
	json_t *body;
	char *url;
	int rc;

	if (is_read == DRIVER_UNKNOWN && is_flagged == DRIVER_UNKNOWN)
		return 0;
	if (!(url = message_url(g, id, NULL, NULL, e)))
		return -1;
	body = json_object();
	if (is_read != DRIVER_UNKNOWN)
		json_object_set_new(body, "isRead", json_boolean(is_read));
	if (is_flagged != DRIVER_UNKNOWN)
		json_object_set_new(body, "flag", json_pack("{s:s}", "flagStatus",
			is_flagged ? "flagged" : "notFlagged"));
	rc = write_call(g, &op, "PATCH", url, body, e);
	json_decref(body);
	free(url);
	return rc;
}

int graph_op_move_message(struct driver *d, const char *id,
			  const char *dest_folder_id, char **new_id, struct err *e)
{
	/* With immutable ids (every request asks for them) a move keeps the
	 * id: *new_id stays NULL. */
	(void)new_id;
	struct graph_driver *g = graph_of(d);
	struct graph_op op = message_op("moving", id, "Mail.ReadWrite");
	json_t *body;
	char *url;
	int rc;

	if (!(url = message_url(g, id, "/move", NULL, e)))
		return -1;
	body = json_pack("{s:s}", "destinationId", dest_folder_id ? dest_folder_id : "");
	rc = write_call(g, &op, "POST", url, body, e);
	json_decref(body);
	free(url);
	return rc;
}

int graph_op_delete_message(struct driver *d, const char *id, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = message_op("deleting", id, "Mail.ReadWrite");
	char *url;
	int rc;

	if (!(url = message_url(g, id, NULL, NULL, e)))
		return -1;
	rc = write_call(g, &op, "DELETE", url, NULL, e);
	free(url);
	if (rc < 0 && e && e->http_status == 404) {
		err_clear(e); /* already gone: what we wanted */
		rc = 0;
	}
	return rc;
}

/* ---- state --------------------------------------------------------------------- */

int graph_state_from_json(const json_t *msg, const struct graph_op *op,
			  const char *request_id, struct driver_state *out,
			  struct err *e)
{
	const char *folder, *imid, *conv;
	struct err perr;
	bool is_draft;

	memset(out, 0, sizeof(*out));
	if (json_opt_bool(msg, "isDraft", false, &is_draft, &perr) < 0 ||
	    json_opt_string(msg, "parentFolderId", &folder, &perr) < 0 ||
	    json_opt_string(msg, "internetMessageId", &imid, &perr) < 0 ||
	    json_opt_string(msg, "conversationId", &conv, &perr) < 0)
		return graph_error_bad_response(e, op, request_id, perr.msg);
	out->exists = true;
	out->is_draft = is_draft;
	out->folder_remote_id = xstrdup(folder);
	out->internet_message_id = xstrdup(imid);
	out->conversation_id = xstrdup(conv);
	return 0;
}

int graph_op_get_state(struct driver *d, const char *id,
		       struct driver_state *out, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = message_op("looking up", id, "Mail.Read");
	struct graph_req req = { 0 };
	char rid[80];
	json_t *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!(req.url = message_url(g, id, NULL, STATE_SELECT, e)))
		return -1;
	doc = graph_call_json(g, &op, &req, rid, e);
	free((char *)req.url);
	if (!doc) {
		if (e && e->http_status == 404 && err_is(e, "not_found")) {
			err_clear(e);
			return 0; /* exists = false */
		}
		return -1;
	}
	rc = graph_state_from_json(doc, &op, rid, out, e);
	json_decref(doc);
	return rc;
}

/* ---- by Message-ID ---------------------------------------------------------- */

/* internetMessageId eq '<...>' with the OData string literal escaped
 * (a quote doubles); URL encoding happens in graph_url_param. */
static char *imid_filter(const char *imid)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "internetMessageId eq '", NULL);
	for (const char *p = imid; *p; p++) {
		buf_append(&b, p, 1, NULL);
		if (*p == '\'')
			buf_append(&b, p, 1, NULL);
	}
	buf_puts(&b, "'", NULL);
	return buf_detach(&b, NULL);
}

static int found_page(json_t *doc, const struct graph_op *op, const char *rid,
		      driver_found_cb cb, void *ctx, int *stop, struct err *e)
{
	json_t *value, *m;
	struct err perr;
	size_t i;

	if (json_req_array(doc, "value", &value, &perr) < 0)
		return graph_error_bad_response(e, op, rid, perr.msg);
	json_array_foreach(value, i, m) {
		struct driver_state st;
		const char *id;

		if (json_req_string(m, "id", &id, &perr) < 0)
			return graph_error_bad_response(e, op, rid, perr.msg);
		if (!*id) /* it would become the sent copy's id */
			return graph_error_bad_response(e, op, rid,
							"a message with an empty \"id\"");
		if (graph_state_from_json(m, op, rid, &st, e) < 0)
			return -1;
		*stop = cb(ctx, id, &st);
		driver_state_free(&st);
		if (*stop)
			return 0;
	}
	return 0;
}

int graph_op_find_by_message_id(struct driver *d, const char *imid,
				driver_found_cb cb, void *ctx, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = { "searching the mailbox by Message-ID",
			       GRAPH_TARGET_NONE, NULL, "Mail.Read", false };
	struct graph_req req = { 0 };
	struct graph_url u;
	char rid[80], *filter, *url;
	int stop = 0, rc = 0;

	filter = imid_filter(imid ? imid : "");
	graph_url_init(&u, g);
	graph_url_path(&u, "/me/messages");
	graph_url_param(&u, "$filter", filter);
	graph_url_param(&u, "$select", STATE_SELECT);
	free(filter);
	if (!(url = graph_url_finish(&u, e)))
		return -1;
	for (int page = 0; url && page < FIND_MAX_PAGES && !stop && rc == 0; page++) {
		const char *next = NULL;
		json_t *doc;

		req.url = url;
		doc = graph_call_json(g, &op, &req, rid, e);
		free(url);
		url = NULL;
		if (!doc)
			return -1;
		rc = found_page(doc, &op, rid, cb, ctx, &stop, e);
		if (rc == 0 && !stop && json_opt_string(doc, "@odata.nextLink", &next, NULL) == 0 &&
		    next && *next)
			url = xstrdup(next);
		json_decref(doc);
	}
	free(url);
	return rc < 0 ? -1 : stop;
}
