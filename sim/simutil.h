/*
 * simutil.h — small helpers shared by every m365sim module: key/value lists
 * (headers, query and form fields), deterministic PRNG and hashing, GUIDs,
 * base64/base64url, URL encoding (libcurl), HTML escaping and
 * the time formats Microsoft uses. Nothing here knows about the world.
 */
#ifndef SIM_SIMUTIL_H
#define SIM_SIMUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/buf.h"

/* ---- key/value lists (ordered, duplicates allowed) ---- */
struct sim_kv {
	char *key;
	char *val;
};

struct sim_kvlist {
	struct sim_kv *v;
	size_t n, cap;
};

/* Append a copy of key/value (val NULL stored as ""). */
void skv_add(struct sim_kvlist *l, const char *key, const char *val);
/* Append, taking ownership of heap strings key and val. */
void skv_add_owned(struct sim_kvlist *l, char *key, char *val);
/* First value for `key` (exact match), or NULL. */
const char *skv_get(const struct sim_kvlist *l, const char *key);
/* First value for `key` compared case-insensitively, or NULL. */
const char *skv_iget(const struct sim_kvlist *l, const char *key);
/* Replace (or add) the value for `key` (case-insensitive match). */
void skv_set(struct sim_kvlist *l, const char *key, const char *val);
void skv_free(struct sim_kvlist *l);

/* Parse an application/x-www-form-urlencoded string ("a=1&b=%20") into
 * `out` ('+' means space). Never fails; malformed escapes are kept. */
void sim_form_parse(const char *s, size_t len, struct sim_kvlist *out);

/* Percent-decode `len` bytes (plus_is_space: '+' → ' '). Heap result. */
char *sim_url_decode(const char *s, size_t len, bool plus_is_space);
/* Percent-encode everything but unreserved characters. Heap result. */
char *sim_url_encode(const char *s);

/* ---- deterministic randomness ---- */
/* splitmix64 step: advances *state, returns the next 64-bit value. */
uint64_t sim_rng_next(uint64_t *state);
/* Uniform value in [0, n) (n > 0) from *state. */
uint32_t sim_rng_below(uint64_t *state, uint32_t n);
/* Mix two 64-bit values into one well-distributed value. */
uint64_t sim_mix(uint64_t a, uint64_t b);
/* 64-bit hash of bytes (BLAKE2b via libsodium, truncated). */
uint64_t sim_hash64(const void *p, size_t n);

/* ---- identifiers ---- */
/* A random GUID "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx". */
void sim_guid_random(char out[37]);
/* A GUID derived deterministically from two numbers. */
void sim_guid_from(uint64_t a, uint64_t b, char out[37]);
/* `nbytes` random bytes as unpadded base64url (heap). */
char *sim_random_token(size_t nbytes);

/* ---- base64 ---- */
/* base64url of `n` bytes (heap); with '=' padding when `pad`. */
char *sim_b64url(const void *p, size_t n, bool pad);
/* Decode base64url (padding optional) into out (cap bytes). Returns 0 and
 * the length in *len, or -1 when malformed or too long. */
int sim_b64url_decode(const char *s, unsigned char *out, size_t cap,
		      size_t *len);
/* Standard base64 with padding (heap). */
char *sim_b64(const void *p, size_t n);
/* Decode standard base64, ignoring whitespace and line breaks. Returns 0
 * with a heap buffer in *out (caller frees, NUL-terminated) or -1. */
int sim_b64_decode(const char *s, size_t n, unsigned char **out, size_t *len);

/* ---- text ---- */
/* Append `s` HTML-escaped (& < > " ') to b. */
void sim_html_escape(struct buf *b, const char *s);
/* Case-insensitive equality (NULL-safe: NULL equals nothing). */
bool sim_ieq(const char *a, const char *b);
/* True when `s` starts with `prefix` (case-insensitive). */
bool sim_istarts(const char *s, const char *prefix);
/* Parse a decimal integer in [min,max]; whole string must be the number.
 * Returns 0 or -1. */
int sim_parse_long(const char *s, long min, long max, long *out);

#endif
