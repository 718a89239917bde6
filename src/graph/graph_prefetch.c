/*
 * graph_prefetch.c — fetching the next page of a delta round ahead. When a
 * page arrives with a next link, its request starts at once on a thread of
 * its own (its own HTTP client, a token taken on the caller's thread), so
 * the server's time overlaps the engine committing the page it has; the
 * engine's next request for that link takes the answer. Only clean 2xx
 * answers are used: anything else is dropped and the caller makes the
 * request itself with the usual refresh and error handling. Never touches
 * the auth layer or the store from the background thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "graph_internal.h"

static void *fetch_main(void *arg)
{
	struct graph_prefetch *p = arg;
	struct http_request hr;
	char pagesize[48];

	memset(&hr, 0, sizeof(hr));
	hr.method = "GET";
	hr.url = p->url;
	hr.bearer = p->token;
	hr.prefer[0] = GRAPH_PREFER_IMMUTABLE;
	snprintf(pagesize, sizeof(pagesize), "odata.maxpagesize=%zu", p->page_size);
	hr.prefer[1] = pagesize;
	hr.headers[0] = "Accept: application/json";
	p->rc = http_perform(p->http, &hr, &p->resp, &p->err);
	return NULL;
}

/* Slots the driver may use without exceeding its concurrency. */
static size_t slots_allowed(const struct graph_driver *g)
{
	size_t n = g->max_concurrency > 1 ? (size_t)g->max_concurrency - 1 : 0;

	return n < GRAPH_PREFETCH_SLOTS ? n : GRAPH_PREFETCH_SLOTS;
}

static void join(struct graph_prefetch *p)
{
	if (p->running) {
		pthread_join(p->thread, NULL);
		p->running = false;
	}
}

/* Join (if needed) and forget the slot's request; keeps its HTTP client. */
static void drop(struct graph_prefetch *p)
{
	join(p);
	http_response_free(&p->resp);
	free(p->url);
	graph_token_free(p->token);
	p->url = NULL;
	p->token = NULL;
	p->used = false;
}

void graph_prefetch_start(struct graph_driver *g, const char *url,
			  size_t page_size)
{
	struct graph_op op = { "fetching the next page ahead", GRAPH_TARGET_NONE,
			       NULL, "Mail.Read", false };
	struct graph_prefetch *p = NULL;
	struct err e;
	char *token;

	for (size_t i = 0; i < slots_allowed(g); i++) {
		if (g->prefetch[i].used && strcmp(g->prefetch[i].url, url) == 0)
			return;
		if (!g->prefetch[i].used && !p)
			p = &g->prefetch[i];
	}
	if (!p || !graph_url_is_ours(g, url) || graph_token(g, &op, NULL, &token, &e) < 0)
		return;
	if (!p->http)
		p->http = http_client_new(NULL);
	p->used = true;
	p->url = xstrdup(url);
	p->page_size = page_size;
	p->token = token;
	p->rc = -1;
	err_clear(&p->err);
	http_response_init(&p->resp);
	if (pthread_create(&p->thread, NULL, fetch_main, p) != 0) {
		drop(p);
		return;
	}
	p->running = true;
}

int graph_prefetch_take(struct graph_driver *g, const char *url,
			struct http_response *out)
{
	for (size_t i = 0; i < GRAPH_PREFETCH_SLOTS; i++) {
		struct graph_prefetch *p = &g->prefetch[i];

		if (!p->used || strcmp(p->url, url) != 0)
			continue;
		join(p);
		if (p->rc == 0 && p->resp.status >= 200 && p->resp.status < 300) {
			http_response_free(out);
			*out = p->resp;
			http_response_init(&p->resp);
			drop(p);
			return 1;
		}
		log_debug("graph", "a page fetched ahead is not used (%s); asking again",
			  p->rc < 0 ? p->err.msg : "not a 2xx answer");
		drop(p);
		return 0;
	}
	return 0;
}

void graph_prefetch_settle(struct graph_driver *g)
{
	for (size_t i = 0; i < GRAPH_PREFETCH_SLOTS; i++)
		join(&g->prefetch[i]);
}

void graph_prefetch_clear(struct graph_driver *g)
{
	for (size_t i = 0; i < GRAPH_PREFETCH_SLOTS; i++) {
		if (g->prefetch[i].used)
			drop(&g->prefetch[i]);
		http_client_free(g->prefetch[i].http);
		g->prefetch[i].http = NULL;
	}
}
