/*
 * api_misc.c — the routes that are not about a user's data: /healthz
 * (this node answers and its store too), /metrics (Prometheus text), the
 * embedded OpenAPI document, and the web UI's static files with their
 * content types, ETags and a strict Content-Security-Policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "server/embedded.h"
#include "server/server_internal.h"

int api_healthz(struct request *rq);
int api_metrics(struct request *rq);
int api_openapi(struct request *rq);

int api_healthz(struct request *rq)
{
	int64_t seq;
	struct err e;

	err_clear(&e);
	if (store_last_event_seq(rq->env->store, &seq, &e) < 0)
		return rq_reply(rq, 503, json_pack("{s:s,s:s,s:s}", "status", "error",
						   "node", rq->srv->node_id, "error", e.msg));
	return rq_reply(rq, 200, json_pack("{s:s,s:s}", "status", "ok", "node",
					   rq->srv->node_id));
}

int api_metrics(struct request *rq)
{
	struct buf out;

	buf_init(&out, (size_t)64 << 20);
	if (server_metrics_render(rq->srv, rq->env, &out, &rq->err) < 0) {
		buf_free(&out);
		return -1;
	}
	rq->status = 200;
	rq->raw_out = buf_detach(&out, &rq->raw_out_len);
	rq->raw_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

/* Serve an embedded file's bytes with an ETag (BLAKE2b of the bytes). */
static int answer_file(struct request *rq, const struct embedded_file *f, const char *type)
{
	unsigned char h[12];
	char hex[25];
	const char *inm = rq_header(rq, "If-None-Match");

	crypto_generichash(h, sizeof(h), f->data, f->len, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(rq->etag, sizeof(rq->etag), "\"%s\"", hex);
	rq->status = 200;
	rq->raw_type = type;
	if (inm && strstr(inm, rq->etag)) {
		rq->not_modified = true;
		return 0;
	}
	rq->raw_out = xmalloc(f->len + 1);
	memcpy(rq->raw_out, f->data, f->len);
	rq->raw_out[f->len] = '\0';
	rq->raw_out_len = f->len;
	return 0;
}

int api_openapi(struct request *rq)
{
	for (size_t i = 0; i < openapi_files_count; i++)
		if (strcmp(openapi_files[i].path, "openapi.json") == 0)
			return answer_file(rq, &openapi_files[i], "application/json");
	err_set(&rq->err, ERR_BUG, "internal", "the OpenAPI document is not built in");
	return -1;
}

static const struct {
	const char *ext;
	const char *type;
} content_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".map", "application/json" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".jpg", "image/jpeg" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(content_types) / sizeof(content_types[0]); i++)
		if (strcmp(dot, content_types[i].ext) == 0)
			return content_types[i].type;
	return "application/octet-stream";
}

static const struct embedded_file *find_web(const char *rel)
{
	for (size_t i = 0; i < web_files_count; i++)
		if (strcmp(web_files[i].path, rel) == 0)
			return &web_files[i];
	return NULL;
}

int static_answer(struct request *rq, const char *path)
{
	const struct embedded_file *f;
	const char *rel = path[0] == '/' ? path + 1 : path;
	const char *last = strrchr(path, '/');

	if (!*rel)
		rel = "index.html";
	f = strstr(rel, "..") ? NULL : find_web(rel);
	/* Pages of the UI's own router (no file extension) get the app. */
	if (!f && last && !strchr(last, '.') && !strstr(rel, ".."))
		f = find_web("index.html");
	if (!f) {
		err_set(&rq->err, ERR_PERMANENT, "not_found", "no such page: %.200s", path);
		return err_set_fix(&rq->err, FIX_CHECK_INPUT, "open /");
	}
	return answer_file(rq, f, content_type(f->path));
}
