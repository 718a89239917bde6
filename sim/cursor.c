/*
 * cursor.c — fixed little-endian layout for struct cursor, sealed by
 * ids_seal (see cursor.h).
 */
#include <string.h>
#include "cursor.h"
#include "ids.h"

#define CURSOR_VERSION 1

static size_t put(unsigned char *p, size_t off, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[off + i] = (unsigned char)(v >> (8 * i));
	return off + n;
}

static size_t get(const unsigned char *p, size_t off, uint64_t *v, size_t n)
{
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v |= (uint64_t)p[off + i] << (8 * i);
	return off + n;
}

#define LAYOUT(X) \
	X(kind, 1) X(flags, 1) X(mbox, 4) X(folder, 4) X(generation, 4) \
	X(since, 8) X(upto, 8) X(pos_seq, 8) X(pos_received, 8) X(pos_num, 4) \
	X(emitted, 4) X(top, 4) X(select, 8) X(filter_lo, 8)

char *cursor_encode(const struct sim_world *w, const struct cursor *c)
{
	unsigned char raw[128];
	size_t off = put(raw, 0, CURSOR_VERSION, 1);

#define PUT(field, n) off = put(raw, off, (uint64_t)c->field, n);
	LAYOUT(PUT)
#undef PUT
	return ids_seal(w, raw, off);
}

int cursor_decode(const struct sim_world *w, const char *tok, struct cursor *c)
{
	unsigned char raw[128];
	size_t n = 0, off;
	uint64_t v;

	if (ids_unseal(w, tok, raw, sizeof(raw), &n) < 0 || n < 1)
		return -1;
	off = get(raw, 0, &v, 1);
	if (v != CURSOR_VERSION)
		return -1;
	memset(c, 0, sizeof(*c));
#define GET(field, sz) \
	if (off + (sz) > n) \
		return -1; \
	off = get(raw, off, &v, (sz)); \
	c->field = (__typeof__(c->field))v;
	LAYOUT(GET)
#undef GET
	return off == n ? 0 : -1;
}
