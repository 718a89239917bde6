/*
 * simutil.c — helpers for m365sim (see simutil.h). Encoding work is done by
 * libsodium (base64 decoding, hashing, randomness) and libcurl
 * (percent-encoding); base64 encoding is a plain table walk (hot: ids).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <errno.h>
#include <curl/curl.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "simutil.h"

void skv_add_owned(struct sim_kvlist *l, char *key, char *val)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].key = key;
	l->v[l->n].val = val ? val : xstrdup("");
	l->n++;
}

void skv_add(struct sim_kvlist *l, const char *key, const char *val)
{
	skv_add_owned(l, xstrdup(key), xstrdup(val ? val : ""));
}

const char *skv_get(const struct sim_kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].val;
	return NULL;
}

const char *skv_iget(const struct sim_kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i].key, key) == 0)
			return l->v[i].val;
	return NULL;
}

void skv_set(struct sim_kvlist *l, const char *key, const char *val)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcasecmp(l->v[i].key, key) == 0) {
			free(l->v[i].val);
			l->v[i].val = xstrdup(val ? val : "");
			return;
		}
	}
	skv_add(l, key, val);
}

void skv_free(struct sim_kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

char *sim_url_decode(const char *s, size_t len, bool plus_is_space)
{
	char *tmp = xstrndup(s, len);
	char *dec;
	int outlen = 0;

	if (plus_is_space)
		for (char *p = tmp; *p; p++)
			if (*p == '+')
				*p = ' ';
	dec = curl_easy_unescape(NULL, tmp, (int)len, &outlen);
	if (!dec)
		return tmp;
	free(tmp);
	tmp = xstrndup(dec, (size_t)outlen);
	curl_free(dec);
	return tmp;
}

char *sim_url_encode(const char *s)
{
	char *enc = curl_easy_escape(NULL, s, 0);
	char *out;

	if (!enc)
		return xstrdup("");
	out = xstrdup(enc);
	curl_free(enc);
	return out;
}

void sim_form_parse(const char *s, size_t len, struct sim_kvlist *out)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i, eq = (size_t)-1;

		while (i < len && s[i] != '&') {
			if (s[i] == '=' && eq == (size_t)-1)
				eq = i;
			i++;
		}
		if (i > start) {
			if (eq == (size_t)-1)
				skv_add_owned(out, sim_url_decode(s + start, i - start, true),
					     xstrdup(""));
			else
				skv_add_owned(out, sim_url_decode(s + start, eq - start, true),
					     sim_url_decode(s + eq + 1, i - eq - 1, true));
		}
		i++;
	}
}

uint64_t sim_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

uint32_t sim_rng_below(uint64_t *state, uint32_t n)
{
	return n ? (uint32_t)(sim_rng_next(state) % n) : 0;
}

uint64_t sim_mix(uint64_t a, uint64_t b)
{
	uint64_t s = a ^ (b * 0xD6E8FEB86659FD93ULL);

	return sim_rng_next(&s);
}

uint64_t sim_hash64(const void *p, size_t n)
{
	unsigned char out[crypto_generichash_BYTES_MIN];
	uint64_t v;

	crypto_generichash(out, sizeof(out), p, n, NULL, 0);
	memcpy(&v, out, sizeof(v));
	return v;
}

static void guid_format(const unsigned char b[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

void sim_guid_random(char out[37])
{
	unsigned char b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	guid_format(b, out);
}

void sim_guid_from(uint64_t a, uint64_t b, char out[37])
{
	unsigned char bytes[16];
	uint64_t s = sim_mix(a, b);
	uint64_t x = sim_rng_next(&s), y = sim_rng_next(&s);

	memcpy(bytes, &x, 8);
	memcpy(bytes + 8, &y, 8);
	bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40);
	bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80);
	guid_format(bytes, out);
}

/* Base64 of p[0..n) in `alphabet` (heap), '=' padded when `pad`. The
 * same text as libsodium's encoder, whose constant-time table walk ids
 * and message pages do not need and could not afford. */
static char *b64_encode(const void *p, size_t n, const char *alphabet, bool pad)
{
	const unsigned char *in = p;
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		*o++ = alphabet[v & 63];
	}
	if (i < n) {
		bool two = i + 1 < n;
		uint32_t v = (uint32_t)in[i] << 16 | (two ? (uint32_t)in[i + 1] << 8 : 0);

		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		if (two)
			*o++ = alphabet[(v >> 6) & 63];
		else if (pad)
			*o++ = '=';
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

static const char b64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *sim_b64url(const void *p, size_t n, bool pad)
{
	return b64_encode(p, n, b64_url, pad);
}

char *sim_random_token(size_t nbytes)
{
	unsigned char raw[128];

	if (nbytes > sizeof(raw))
		nbytes = sizeof(raw);
	randombytes_buf(raw, nbytes);
	return sim_b64url(raw, nbytes, false);
}

int sim_b64url_decode(const char *s, unsigned char *out, size_t cap,
		      size_t *len)
{
	const char *end = NULL;
	size_t slen = strlen(s);
	int variant = (slen && s[slen - 1] == '=')
			      ? sodium_base64_VARIANT_URLSAFE
			      : sodium_base64_VARIANT_URLSAFE_NO_PADDING;

	if (sodium_base642bin(out, cap, s, slen, NULL, len, &end, variant) != 0)
		return -1;
	return end && *end ? -1 : 0;
}

char *sim_b64(const void *p, size_t n)
{
	return b64_encode(p, n, b64_std, true);
}

int sim_b64_decode(const char *s, size_t n, unsigned char **out, size_t *len)
{
	size_t cap = n / 4 * 3 + 4;
	unsigned char *bin = xmalloc(cap + 1);
	const char *end = NULL;
	size_t got = 0;

	if (sodium_base642bin(bin, cap, s, n, " \t\r\n", &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    (end && end != s + n)) {
		free(bin);
		return -1;
	}
	bin[got] = '\0';
	*out = bin;
	*len = got;
	return 0;
}

void sim_html_escape(struct buf *b, const char *s)
{
	static const char *const ent[256] = {
		['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
	};
	const char *run = s;

	for (; s && *s; s++) {
		const char *e = ent[(unsigned char)*s];

		if (!e)
			continue;
		buf_append(b, run, (size_t)(s - run), NULL);
		buf_puts(b, e, NULL);
		run = s + 1;
	}
	if (run)
		buf_append(b, run, (size_t)(s - run), NULL);
}

bool sim_ieq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

bool sim_istarts(const char *s, const char *prefix)
{
	return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int sim_parse_long(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !end || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
