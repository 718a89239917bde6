/*
 * graph_delta.c — reading a folder's messages: one messages-delta page
 * (a new round newest first, or the stored next/delta link verbatim),
 * polling many folders' delta links in $batch, and the bounded newest-first
 * listing. Never touches the store: the engine commits each page with the
 * cursor that follows it. 410 / syncStateNotFound arrive as ERR_RESYNC via
 * the error table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/timeutil.h"
#include "graph_internal.h"

static size_t page_size_pick(const struct graph_driver *g, size_t hint)
{
	size_t n = hint ? hint : g->default_page_size;

	return n > GRAPH_MAX_PAGE_SIZE ? GRAPH_MAX_PAGE_SIZE : n;
}

char *graph_delta_start_url(struct graph_driver *g, const char *folder_id,
			    struct err *e)
{
	struct graph_url u;

	graph_url_init(&u, g);
	graph_url_path(&u, "/me/mailFolders/");
	graph_url_id(&u, folder_id);
	graph_url_path(&u, "/messages/delta");
	graph_url_param(&u, "$select", graph_message_select);
	if (!g->no_delta_orderby)
		graph_url_param(&u, "$orderby", "receivedDateTime desc");
	return graph_url_finish(&u, e);
}

/* A cursor is only ever a link Graph gave us; one that points elsewhere
 * (a corrupted store, a changed base URL) must not get our token. */
static int cursor_check(struct graph_driver *g, const struct graph_op *op,
			const char *cursor, struct err *e)
{
	char target[128];

	if (graph_url_is_ours(g, cursor))
		return 0;
	graph_op_target(op, target, sizeof(target));
	return err_set(e, ERR_RESYNC, "bad_cursor",
		       "%s%s: the stored sync cursor does not point at %.200s "
		       "(the Graph URL changed?); the folder will be synced "
		       "again from the start", op->what, target, g->base_url);
}

/* One request whose answer is a page of messages. */
static int page_call(struct graph_driver *g, const struct graph_op *op,
		     const struct graph_req *req, enum graph_page_kind kind,
		     struct driver_page *page, struct err *e)
{
	struct http_response resp;
	int rc;

	memset(page, 0, sizeof(*page));
	http_response_init(&resp);
	rc = graph_call(g, op, req, &resp, e);
	if (rc == 0)
		rc = graph_page_parse(g, resp.body.data, resp.body.len, kind, op,
				      resp.request_id, page, e);
	http_response_free(&resp);
	return rc;
}

/* The URL of the page after `cursor` (NULL: a new round), heap. */
static char *changes_url(struct graph_driver *g, const struct graph_op *op,
			 const char *folder_id, const char *cursor, struct err *e)
{
	if (!cursor)
		return graph_delta_start_url(g, folder_id, e);
	if (cursor_check(g, op, cursor, e) < 0)
		return NULL;
	return xstrdup(cursor);
}

int graph_op_get_changes(struct driver *d, const char *folder_id,
			 const char *cursor, size_t page_size,
			 struct driver_page *page, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = { "listing changes in", GRAPH_TARGET_FOLDER,
			       folder_id, "Mail.Read", false };
	struct graph_req req = { 0 };
	char *url;
	int rc;

	memset(page, 0, sizeof(*page));
	if (!(url = changes_url(g, &op, folder_id, cursor, e)))
		return -1;
	req.url = url;
	req.page_size = page_size_pick(g, page_size);
	rc = graph_prefetch_take(g, folder_id, url, page, e);
	if (rc == 1) {
		free(url);
		return 0; /* its chain goes on by itself */
	}
	if (rc == 0)
		rc = page_call(g, &op, &req, GRAPH_PAGE_DELTA, page, e);
	if (rc < 0 && !cursor && e->class == ERR_PERMANENT && e->http_status == 400 &&
	    !g->no_delta_orderby) {
		/* Newest first is an optimisation; a server that refuses
		 * $orderby on delta still gets a complete, correct round. */
		log_warn("graph", "the server refused $orderby on messages/delta; "
			 "synchronizing without newest-first order");
		g->no_delta_orderby = true;
		free(url);
		if (!(url = graph_delta_start_url(g, folder_id, e)))
			return -1;
		req.url = url;
		rc = page_call(g, &op, &req, GRAPH_PAGE_DELTA, page, e);
	}
	free(url);
	if (rc < 0)
		return -1;
	if (page->next_cursor)
		graph_prefetch_start(g, folder_id, page->next_cursor, req.page_size, 0,
				     false);
	return 0;
}

void graph_op_prefetch_changes(struct driver *d, const char *folder_id,
			       const char *cursor, size_t page_size,
			       size_t next_page_size)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = { "listing changes in", GRAPH_TARGET_FOLDER,
			       folder_id, "Mail.Read", false };
	struct err e;
	char *url = changes_url(g, &op, folder_id, cursor, &e);

	if (!url)
		return; /* the request itself will say what is wrong */
	graph_prefetch_start(g, folder_id, url, page_size_pick(g, page_size),
			     page_size_pick(g, next_page_size), true);
	free(url);
}

/* ---- many folders at once ---------------------------------------------------- */

int graph_op_poll_changes(struct driver *d, struct driver_poll *polls,
			  size_t n, size_t page_size, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_batch_item *items = xcalloc(n + 1, sizeof(*items));
	size_t *which = xcalloc(n + 1, sizeof(*which));
	char **urls = xcalloc(n + 1, sizeof(*urls));
	size_t m = 0, answered = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		struct driver_poll *p = &polls[i];
		struct graph_op op = { "polling for changes in", GRAPH_TARGET_FOLDER,
				       p->folder_remote_id, "Mail.Read", false };

		p->rc = -1;
		if (p->cursor && cursor_check(g, &op, p->cursor, &p->err) < 0)
			continue;
		urls[m] = p->cursor ? xstrdup(p->cursor) :
			graph_delta_start_url(g, p->folder_remote_id, &p->err);
		if (!urls[m])
			continue;
		items[m].op = op;
		items[m].url = urls[m];
		items[m].page_size = page_size_pick(g, page_size);
		which[m++] = i;
	}
	rc = graph_batch_run(g, "polling folders for changes", items, m, 0, e);
	for (size_t k = 0; k < m; k++) {
		struct driver_poll *p = &polls[which[k]];
		struct graph_batch_item *it = &items[k];
		char *text;

		answered += it->answered;
		if (it->rc < 0) {
			p->err = it->err;
			continue;
		}
		if (!it->response) {
			graph_error_bad_response(&p->err, &it->op, it->request_id,
						 "an empty delta page");
			continue;
		}
		/* The batch answer is one jansson document; its pages go through
		 * the same page parser as every other (they are small: changes
		 * since the last poll). */
		text = json_dump_compact(it->response);
		p->rc = graph_page_parse(g, text, strlen(text), GRAPH_PAGE_DELTA,
					 &it->op, it->request_id, &p->page, &p->err);
		free(text);
	}
	graph_batch_release(items, m);
	for (size_t k = 0; k < m; k++)
		free(urls[k]);
	free(urls);
	free(which);
	free(items);
	return rc < 0 && !answered ? -1 : 0;
}

/* ---- newest first --------------------------------------------------------------- */

int graph_op_list_newest(struct driver *d, const char *folder_id,
			 int64_t received_after, size_t limit,
			 struct driver_page *page, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = { "listing the newest messages of",
			       GRAPH_TARGET_FOLDER, folder_id, "Mail.Read", false };
	struct graph_req req = { 0 };
	char top[24], filter[TIME_RFC3339_LEN + 32], when[TIME_RFC3339_LEN];
	struct graph_url u;
	char *url;
	int rc;

	memset(page, 0, sizeof(*page));
	snprintf(top, sizeof(top), "%zu", page_size_pick(g, limit));
	graph_url_init(&u, g);
	graph_url_path(&u, "/me/mailFolders/");
	graph_url_id(&u, folder_id);
	graph_url_path(&u, "/messages");
	graph_url_param(&u, "$select", graph_message_select);
	graph_url_param(&u, "$orderby", "receivedDateTime desc");
	graph_url_param(&u, "$top", top);
	if (received_after > 0) {
		time_format_rfc3339(received_after, when);
		snprintf(filter, sizeof(filter), "receivedDateTime gt %s", when);
		graph_url_param(&u, "$filter", filter);
	}
	if (!(url = graph_url_finish(&u, e)))
		return -1;
	req.url = url;
	rc = page_call(g, &op, &req, GRAPH_PAGE_LIST, page, e);
	free(url);
	return rc;
}

int graph_op_count_messages(struct driver *d, const char *folder_id,
			    long long *total, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = { "counting the messages of", GRAPH_TARGET_FOLDER,
			       folder_id, "Mail.Read", false };
	struct graph_req req = { 0 };
	struct graph_url u;
	struct err perr;
	char rid[80], *url;
	json_t *doc;
	int rc;

	graph_url_init(&u, g);
	graph_url_path(&u, "/me/mailFolders/");
	graph_url_id(&u, folder_id);
	graph_url_param(&u, "$select", "totalItemCount");
	if (!(url = graph_url_finish(&u, e)))
		return -1;
	req.url = url;
	doc = graph_call_json(g, &op, &req, rid, e);
	free(url);
	if (!doc)
		return -1;
	err_clear(&perr);
	rc = json_req_int(doc, "totalItemCount", total, &perr);
	json_decref(doc);
	if (rc < 0 || *total < 0)
		return graph_error_bad_response(e, &op, rid, rc < 0 ? perr.msg
						: "a negative totalItemCount");
	return 0;
}
