/*
 * graph_prefetch.c — pages of delta rounds fetched ahead, and the gate
 * that keeps a mailbox at its request budget.
 *
 * A chain follows one folder's round on a thread of its own (its own HTTP
 * client, a token taken on the caller's thread): it requests a page,
 * parses it right there (graph_page_parse), queues it, and asks for the
 * next link at once — the way Graph's rules allow at best: pages of one
 * round are a chain, different folders' rounds are independent. So the
 * server's time and the parsing overlap the engine committing earlier
 * pages, and several folders' rounds run side by side. A chain stays at
 * most CHAIN_AHEAD parsed pages ahead of the engine (memory stays flat)
 * and stops at the round's end, at the first answer that is not a clean
 * 2xx page, or when told to. Only clean pages are handed over; for
 * anything else the engine makes the request itself, with the usual 401
 * refresh and error classification. Never touches the auth layer or the
 * store from a background thread.
 *
 * The gate: every request of the driver — the engine's own, each chain's
 * and a $batch (as many as its sub-requests run at once) — passes it, first
 * come first served, so no more than max_concurrency are ever in flight
 * for the mailbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "graph_internal.h"

/* ---- the gate ------------------------------------------------------------------- */

void graph_gate_init(struct graph_gate *gt, int max)
{
	memset(gt, 0, sizeof(*gt));
	pthread_mutex_init(&gt->mu, NULL);
	pthread_cond_init(&gt->cv, NULL);
	gt->max = max > 0 ? max : 1;
}

void graph_gate_destroy(struct graph_gate *gt)
{
	pthread_mutex_destroy(&gt->mu);
	pthread_cond_destroy(&gt->cv);
}

int graph_gate_enter(struct graph_gate *gt, int k)
{
	unsigned long ticket;

	if (k > gt->max)
		k = gt->max;
	if (k < 1)
		k = 1;
	pthread_mutex_lock(&gt->mu);
	ticket = gt->next_ticket++;
	while (gt->serving != ticket || gt->inflight + k > gt->max)
		pthread_cond_wait(&gt->cv, &gt->mu);
	gt->serving++;
	gt->inflight += k;
	if (gt->inflight > gt->peak)
		gt->peak = gt->inflight;
	pthread_cond_broadcast(&gt->cv);
	pthread_mutex_unlock(&gt->mu);
	return k;
}

void graph_gate_leave(struct graph_gate *gt, int k)
{
	pthread_mutex_lock(&gt->mu);
	gt->inflight -= k;
	pthread_cond_broadcast(&gt->cv);
	pthread_mutex_unlock(&gt->mu);
}

/* ---- chains ------------------------------------------------------------------- */

static void ready_clear(struct graph_ready *r)
{
	free(r->url);
	driver_page_free(&r->page);
	memset(r, 0, sizeof(*r));
}

/* One request of the chain into `r`: a parsed page (r->rc 0) or a
 * classified failure (r->rc -1, as graph_call would say; `drop` when the
 * engine must ask again itself: a refused token wants its refresh).
 * Without the chain's lock. */
static void hop(struct graph_chain *c, size_t page_size, struct graph_ready *r,
		bool *drop)
{
	struct graph_op op = { "listing changes in", GRAPH_TARGET_FOLDER,
			       c->folder_id, "Mail.Read", false };
	struct http_response resp;
	struct http_request hr;
	char pagesize[48], crid[37];
	int k;

	memset(&hr, 0, sizeof(hr));
	http_new_uuid(crid);
	hr.method = "GET";
	hr.url = r->url;
	hr.bearer = c->token;
	hr.client_request_id = crid;
	hr.prefer[0] = GRAPH_PREFER_IMMUTABLE;
	snprintf(pagesize, sizeof(pagesize), "odata.maxpagesize=%zu", page_size);
	hr.prefer[1] = pagesize;
	hr.headers[0] = "Accept: application/json";
	hr.max_response = c->g->max_response;
	http_response_init(&resp);
	err_clear(&r->err);
	k = graph_gate_enter(&c->g->gate, 1);
	r->rc = http_perform(c->http, &hr, &resp, &r->err);
	graph_gate_leave(&c->g->gate, k);
	*drop = resp.status == 401;
	if (r->rc < 0)
		graph_error_transport(&r->err, &op);
	else if (resp.status < 200 || resp.status >= 300)
		r->rc = graph_error_from_http(&r->err, &op, &resp);
	else
		r->rc = graph_page_parse(c->g, resp.body.data, resp.body.len,
					 GRAPH_PAGE_DELTA, &op, resp.request_id,
					 &r->page, &r->err);
	http_response_free(&resp);
}

static void *chain_main(void *arg)
{
	struct graph_chain *c = arg;
	size_t page_size = c->first_page_size;
	bool own = c->own_first;

	pthread_mutex_lock(&c->mu);
	while (!c->stop && c->url) {
		struct graph_ready r = { .url = c->url };
		bool drop;

		c->url = NULL;
		c->fetching = r.url;
		pthread_mutex_unlock(&c->mu);
		hop(c, page_size, &r, &drop);
		page_size = c->page_size;
		pthread_mutex_lock(&c->mu);
		c->fetching = NULL;
		if (r.rc < 0 && (drop || !own)) {
			/* A page fetched ahead that did not come back clean is
			 * simply asked for again by the engine. */
			snprintf(c->failure, sizeof(c->failure), "%.190s", r.err.msg);
			free(r.url);
			break;
		}
		/* The engine's own next request, made early: its failure is
		 * the answer. */
		own = false;
		c->ready[c->nready++] = r;
		pthread_cond_broadcast(&c->cv);
		if (r.rc < 0)
			break;
		if (r.page.next_cursor && !c->stop) {
			while (!c->stop && c->nready > CHAIN_AHEAD - 1)
				pthread_cond_wait(&c->cv, &c->mu);
			if (!c->stop)
				c->url = xstrdup(r.page.next_cursor);
		}
	}
	c->finished = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Stop the chain's thread, wait for it and drop what it fetched; keeps
 * its HTTP client and lock for the next chain in this slot. */
static void chain_drop(struct graph_chain *c)
{
	if (c->running) {
		pthread_mutex_lock(&c->mu);
		c->stop = true;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
		c->running = false;
	}
	for (size_t i = 0; i < c->nready; i++)
		ready_clear(&c->ready[i]);
	c->nready = 0;
	free(c->url);
	free(c->folder_id);
	graph_token_free(c->token);
	c->url = c->folder_id = NULL;
	c->fetching = NULL;
	c->token = NULL;
	c->failure[0] = '\0';
	c->stop = c->finished = false;
	c->used = false;
}

static size_t slots_allowed(const struct graph_driver *g)
{
	size_t n = g->max_concurrency > 0 ? (size_t)g->max_concurrency : 1;

	return n < GRAPH_CHAINS ? n : GRAPH_CHAINS;
}

static struct graph_chain *chain_of(struct graph_driver *g, const char *folder_id)
{
	for (size_t i = 0; i < GRAPH_CHAINS; i++)
		if (g->chains[i].used && strcmp(g->chains[i].folder_id, folder_id) == 0)
			return &g->chains[i];
	return NULL;
}

void graph_prefetch_start(struct graph_driver *g, const char *folder_id,
			  const char *url, size_t page_size, size_t next_page_size,
			  bool own)
{
	struct graph_op op = { "fetching the next page ahead", GRAPH_TARGET_NONE,
			       NULL, "Mail.Read", false };
	struct graph_chain *c = chain_of(g, folder_id);
	struct err e;
	char *token;

	if (c) {
		bool same;

		pthread_mutex_lock(&c->mu);
		same = (c->nready && strcmp(c->ready[0].url, url) == 0) ||
		       (!c->nready && c->url && strcmp(c->url, url) == 0) ||
		       (!c->nready && c->fetching && strcmp(c->fetching, url) == 0);
		pthread_mutex_unlock(&c->mu);
		if (same)
			return;
		chain_drop(c);
	}
	for (size_t i = 0; !c && i < slots_allowed(g); i++)
		if (!g->chains[i].used)
			c = &g->chains[i];
	if (!c || !graph_url_is_ours(g, url) || graph_token(g, &op, NULL, &token, &e) < 0)
		return;
	if (!c->http)
		c->http = http_client_new(NULL);
	if (!c->init) {
		pthread_mutex_init(&c->mu, NULL);
		pthread_cond_init(&c->cv, NULL);
		c->init = true;
	}
	c->g = g;
	c->used = true;
	c->folder_id = xstrdup(folder_id);
	c->url = xstrdup(url);
	c->first_page_size = page_size;
	c->own_first = own;
	c->page_size = next_page_size ? next_page_size : page_size;
	c->token = token;
	if (pthread_create(&c->thread, NULL, chain_main, c) != 0) {
		chain_drop(c);
		return;
	}
	c->running = true;
}

int graph_prefetch_take(struct graph_driver *g, const char *folder_id,
			const char *url, struct driver_page *out, struct err *e)
{
	struct graph_chain *c = chain_of(g, folder_id);
	int found = 0;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		if (c->nready) {
			found = strcmp(c->ready[0].url, url) == 0;
			break;
		}
		/* Still coming only if this very link is on its way. */
		if (c->finished || !((c->fetching && strcmp(c->fetching, url) == 0) ||
				     (c->url && strcmp(c->url, url) == 0)))
			break;
		pthread_cond_wait(&c->cv, &c->mu);
	}
	if (found) {
		*out = c->ready[0].page;
		if (c->ready[0].rc < 0) {
			*e = c->ready[0].err;
			found = -1;
		}
		free(c->ready[0].url);
		memmove(&c->ready[0], &c->ready[1], (c->nready - 1) * sizeof(c->ready[0]));
		c->nready--;
		memset(&c->ready[c->nready], 0, sizeof(c->ready[0]));
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	if (found == 0 && c->failure[0])
		log_debug("graph", "a page fetched ahead is not used (%s); asking again",
			  c->failure);
	if (found <= 0 || (c->finished && !c->nready))
		chain_drop(c); /* wrong link, failed, or the round's end handed over */
	return found;
}

void graph_prefetch_clear(struct graph_driver *g)
{
	for (size_t i = 0; i < GRAPH_CHAINS; i++) {
		struct graph_chain *c = &g->chains[i];

		chain_drop(c);
		http_client_free(c->http);
		c->http = NULL;
		if (c->init) {
			pthread_mutex_destroy(&c->mu);
			pthread_cond_destroy(&c->cv);
			c->init = false;
		}
	}
}
