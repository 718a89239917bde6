/*
 * graph_url.c — Graph request URLs: building them from the base URL with
 * every id and query value percent-encoded exactly once, checking that a
 * link the server (or the store) hands us stays on our origin before a
 * token is attached to it, and turning absolute links into the relative
 * form $batch sub-requests need. URL parsing is libcurl's (CURLU).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "inboxsync/alloc.h"
#include "graph_internal.h"

#define URL_LIMIT ((size_t)1 << 20)

void graph_url_init(struct graph_url *u, const struct graph_driver *g)
{
	buf_init(&u->b, URL_LIMIT);
	u->has_query = false;
	u->failed = buf_puts(&u->b, g->base_url, NULL) < 0;
}

static void url_put(struct graph_url *u, const char *s)
{
	if (!u->failed && buf_puts(&u->b, s, NULL) < 0)
		u->failed = true;
}

void graph_url_path(struct graph_url *u, const char *literal)
{
	url_put(u, literal);
}

void graph_url_id(struct graph_url *u, const char *id)
{
	char *esc = http_escape(id ? id : "");

	url_put(u, esc);
	free(esc);
}

void graph_url_param(struct graph_url *u, const char *key, const char *value)
{
	url_put(u, u->has_query ? "&" : "?");
	u->has_query = true;
	url_put(u, key);
	url_put(u, "=");
	graph_url_id(u, value);
}

char *graph_url_finish(struct graph_url *u, struct err *e)
{
	if (u->failed) {
		buf_free(&u->b);
		err_set(e, ERR_PERMANENT, "bad_request",
			"a Graph request URL would exceed %zu bytes (an id or "
			"value is far too long); nothing was sent", URL_LIMIT);
		return NULL;
	}
	return buf_detach(&u->b, NULL);
}

/* ---- parsing ------------------------------------------------------------- */

struct url_parts {
	char *scheme, *host, *port, *path, *query;
};

static void parts_free(struct url_parts *p)
{
	curl_free(p->scheme);
	curl_free(p->host);
	curl_free(p->port);
	curl_free(p->path);
	curl_free(p->query);
	memset(p, 0, sizeof(*p));
}

/* Split an absolute URL with libcurl; the path and query stay encoded as
 * given. Returns 0 or -1. */
static int parts_get(const char *url, struct url_parts *p)
{
	CURLU *h = curl_url();
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (!h)
		return -1;
	if (url && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_SCHEME, &p->scheme, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_HOST, &p->host, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_PORT, &p->port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_PATH, &p->path, 0) == CURLUE_OK) {
		if (curl_url_get(h, CURLUPART_QUERY, &p->query, 0) != CURLUE_OK)
			p->query = NULL;
		rc = 0;
	}
	curl_url_cleanup(h);
	if (rc < 0)
		parts_free(p);
	return rc;
}

static bool same_origin(const struct url_parts *a, const struct url_parts *b)
{
	return strcasecmp(a->scheme, b->scheme) == 0 &&
	       strcasecmp(a->host, b->host) == 0 &&
	       strcmp(a->port, b->port) == 0;
}

bool graph_url_is_ours(const struct graph_driver *g, const char *url)
{
	struct url_parts base, other;
	bool ok = false;

	if (parts_get(g->base_url, &base) < 0)
		return false;
	if (parts_get(url, &other) == 0) {
		ok = same_origin(&base, &other);
		parts_free(&other);
	}
	parts_free(&base);
	return ok;
}

char *graph_url_relative(const struct graph_driver *g, const char *url)
{
	struct url_parts base, other;
	char *out = NULL;
	size_t n;

	if (parts_get(g->base_url, &base) < 0)
		return NULL;
	if (parts_get(url, &other) < 0) {
		parts_free(&base);
		return NULL;
	}
	n = strlen(base.path);
	while (n && base.path[n - 1] == '/')
		n--;
	if (same_origin(&base, &other) && strncmp(other.path, base.path, n) == 0 &&
	    other.path[n] == '/')
		out = xasprintf("%s%s%s", other.path + n, other.query ? "?" : "",
				other.query ? other.query : "");
	parts_free(&other);
	parts_free(&base);
	return out;
}
