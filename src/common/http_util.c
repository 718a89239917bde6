/*
 * http_util.c — the pure helpers of the HTTP client (see http.h): the
 * response's set-up and release, Retry-After parsing, form and path
 * encoding, client-request-id UUIDs.
 * Nothing here touches a URL or a connection; URL checking and transfers
 * live in http.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/http.h"
#include "inboxsync/timeutil.h"

#define RETRY_AFTER_MAX_S (24 * 3600)
#define ESCAPE_CHUNK 65536 /* curl_easy_escape takes an int length */

void http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, HTTP_DEFAULT_MAX_RESPONSE);
	r->retry_after_s = -1;
}

void http_response_free(struct http_response *r)
{
	buf_free(&r->body);
}

void http_response_free_secret(struct http_response *r)
{
	buf_free_secret(&r->body);
}

/* Delta-seconds: digits only (surrounding blanks trimmed by the caller).
 * Values too large for a long long are still "a long time": capped. */
static int parse_delta_seconds(const char *s, size_t n)
{
	long long v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v <= RETRY_AFTER_MAX_S)
			v = v * 10 + (s[i] - '0');
	}
	return v > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int)v;
}

int http_parse_retry_after(const char *value, long long now)
{
	char date[128];
	size_t n;
	int64_t when;
	long long delta;
	int has_alpha = 0;

	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	n = strlen(value);
	while (n && (value[n - 1] == ' ' || value[n - 1] == '\t' ||
		     value[n - 1] == '\r' || value[n - 1] == '\n'))
		n--;
	if (!n)
		return -1;
	delta = parse_delta_seconds(value, n);
	if (delta >= 0)
		return (int)delta;
	/* Every HTTP-date form names the day or month in letters; without
	 * any, curl_getdate's leniency would accept noise such as "1.5". */
	if (n >= sizeof(date))
		return -1;
	for (size_t i = 0; i < n; i++)
		has_alpha |= isalpha((unsigned char)value[i]) != 0;
	if (!has_alpha)
		return -1;
	memcpy(date, value, n);
	date[n] = '\0';
	if (time_parse_http_date(date, &when) < 0)
		return -1;
	if (when <= now)
		return 0;
	delta = (long long)when - now;
	return delta > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int)delta;
}

/* Percent-encode `n` bytes of `s` onto `out` with curl_easy_escape (which
 * keeps only ALPHA DIGIT - . _ ~), in chunks so any length works. */
static int escape_append(struct buf *out, const char *s, size_t n,
			 struct err *e)
{
	while (n) {
		size_t take = n > ESCAPE_CHUNK ? ESCAPE_CHUNK : n;
		char *esc = curl_easy_escape(NULL, s, (int)take);
		int rc;

		if (!esc) {
			fprintf(stderr, "inboxsync: out of memory (URL-escaping)\n");
			abort();
		}
		rc = buf_puts(out, esc, e);
		curl_free(esc);
		if (rc < 0)
			return -1;
		s += take;
		n -= take;
	}
	return 0;
}

int http_form_add(struct buf *form, const char *key, const char *value,
		  struct err *e)
{
	size_t old_len = form->len;

	if (!value)
		value = "";
	if ((form->len && buf_puts(form, "&", e) < 0) ||
	    escape_append(form, key, strlen(key), e) < 0 ||
	    buf_puts(form, "=", e) < 0 ||
	    escape_append(form, value, strlen(value), e) < 0) {
		/* leave the form as it was: no half-written pair */
		form->len = old_len;
		if (form->data)
			form->data[old_len] = '\0';
		return -1;
	}
	return 0;
}

char *http_escape(const char *s)
{
	struct buf b;

	buf_init(&b, (size_t)-1 / 4);
	if (s && escape_append(&b, s, strlen(s), NULL) < 0) {
		fprintf(stderr, "inboxsync: out of memory (URL-escaping)\n");
		abort();
	}
	return buf_detach(&b, NULL);
}

void http_new_uuid(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	size_t o = 0;

	if (sodium_init() < 0)
		abort(); /* no usable randomness: nothing safe to do */
	randombytes_buf(r, sizeof(r));
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (size_t i = 0; i < sizeof(r); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[r[i] >> 4];
		out[o++] = hex[r[i] & 0x0f];
	}
	out[o] = '\0';
}
