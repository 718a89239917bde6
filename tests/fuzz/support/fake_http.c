/*
 * fake_http.c — http.h from memory for the fuzz targets (see fake_http.h).
 * Fills responses the way src/common/http.c does: the body under the
 * request's cap (over it: "too_large", as a real transfer aborts), header
 * values with control bytes replaced, Retry-After already parsed.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "inboxsync/alloc.h"
#include "inboxsync/http.h"
#include "fake_http.h"


struct http_client {
	int unused;
};

static const struct fake_answer *script;
static size_t script_len, calls;
static const char *bearer_origin;

void fake_http_script(const struct fake_answer *answers, size_t n)
{
	script = answers;
	script_len = n;
	calls = 0;
}

size_t fake_http_calls(void)
{
	return calls;
}

void fake_http_bearer_origin(const char *origin)
{
	bearer_origin = origin;
}

int http_global_init(struct err *e)
{
	(void)e;
	return 0;
}

void http_global_cleanup(void)
{
}

struct http_client *http_client_new(const struct http_options *opt)
{
	(void)opt;
	return xcalloc(1, sizeof(struct http_client));
}

void http_client_free(struct http_client *c)
{
	free(c);
}

/* Scheme, host and port of `url` (curl's parser, default ports filled in),
 * as "scheme://host:port" in `out`; -1 when it does not parse. */
static int origin_of(const char *url, char *out, size_t n)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		snprintf(out, n, "%s://%s:%s", scheme, host, port);
		for (char *p = out; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		rc = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/* Whether `url` is on the origin of `base`: where Graph's token may go
 * (checked here independently of the driver's own graph_url_is_ours). */
static bool same_origin(const char *url, const char *base)
{
	char a[512], b[512];

	return origin_of(url, a, sizeof(a)) == 0 && origin_of(base, b, sizeof(b)) == 0 &&
	       strcmp(a, b) == 0;
}

static void copy_header(char *dst, size_t n, const char *v)
{
	size_t i = 0;

	for (; v && v[i] && i + 1 < n; i++)
		dst[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
	dst[i] = '\0';
}

int http_perform(struct http_client *c, const struct http_request *req,
		 struct http_response *resp, struct err *e)
{
	const struct fake_answer *a;
	size_t cap = req->max_response ? req->max_response : HTTP_DEFAULT_MAX_RESPONSE;

	(void)c;
	if (!script_len)
		abort(); /* a target forgot its script */
	if (++calls > FAKE_HTTP_MAX_CALLS) {
		fprintf(stderr, "fake_http: more than %d requests for one input\n",
			FAKE_HTTP_MAX_CALLS);
		abort();
	}
	if (req->bearer && (!bearer_origin || !same_origin(req->url, bearer_origin))) {
		fprintf(stderr, "fake_http: bearer token sent to %s\n", req->url);
		abort();
	}
	a = &script[calls - 1 < script_len ? calls - 1 : script_len - 1];
	resp->status = 0;
	buf_reset(&resp->body);
	resp->body.limit = cap;
	resp->retry_after_s = a->retry_after_s;
	copy_header(resp->request_id, sizeof(resp->request_id), a->request_id);
	copy_header(resp->client_request_id, sizeof(resp->client_request_id),
		    req->client_request_id);
	resp->content_type[0] = '\0';
	resp->location[0] = '\0';
	if (buf_append(&resp->body, a->body, a->len, NULL) < 0)
		return err_set(e, ERR_PERMANENT, "too_large",
			       "%s: the response exceeds the size cap of %zu bytes",
			       req->url, cap);
	resp->status = a->status;
	return 0;
}
