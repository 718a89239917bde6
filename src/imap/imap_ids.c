/*
 * imap_ids.c — the small text formats the IMAP driver hands out and gets
 * back: message ids ("<uidvalidity>:<uid>:<mailbox>", stable until the
 * message moves or the folder's UIDVALIDITY changes), the per-folder sync
 * cursor (what a round or the live phase has reported so far), and the
 * flag digests the cursor carries for servers without CONDSTORE/QRESYNC.
 * Parsing is strict: a cursor that does not parse restarts the folder.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "imap/imap_internal.h"

#define CURSOR_MAGIC "imap1"

/* ---- message ids ---------------------------------------------------------- */

char *imap_id_format(const char *mailbox, uint32_t uidvalidity, uint32_t uid)
{
	return xasprintf("%" PRIu32 ":%" PRIu32 ":%s", uidvalidity, uid, mailbox);
}

/* A decimal uint32 at *p up to `stop`; advances *p past it. */
static int parse_u32(const char **p, char stop, uint32_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
		s++;
	}
	if (*s != stop)
		return -1;
	*out = (uint32_t)v;
	*p = s + (stop ? 1 : 0);
	return 0;
}

int imap_id_parse(const char *id, char **mailbox, uint32_t *uidvalidity,
		  uint32_t *uid)
{
	const char *p = id;

	if (!id || parse_u32(&p, ':', uidvalidity) < 0 || parse_u32(&p, ':', uid) < 0 ||
	    !*uidvalidity || !*uid || !*p)
		return -1;
	*mailbox = xstrdup(p);
	return 0;
}

/* ---- digests ----------------------------------------------------------------- */

void imap_digests_init(struct imap_digests *g)
{
	memset(g, 0, sizeof(*g));
}

void imap_digests_free(struct imap_digests *g)
{
	free(g->d);
	imap_digests_init(g);
}

void imap_digests_clear(struct imap_digests *g)
{
	g->n = 0;
}

/* splitmix64 of (uid, flags): spreads every bit so sums rarely collide. */
static uint64_t digest_of(uint32_t uid, unsigned flags)
{
	uint64_t z = ((uint64_t)uid << 8 | (flags & 0xffu)) + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Index of `bucket` or of where it would go (the array is sorted). */
static size_t find_bucket(const struct imap_digests *g, uint32_t bucket)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->d[mid].bucket < bucket)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct imap_digest *bucket_slot(struct imap_digests *g, uint32_t bucket)
{
	size_t i = find_bucket(g, bucket);

	if (i < g->n && g->d[i].bucket == bucket)
		return &g->d[i];
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->d = xrealloc(g->d, g->cap * sizeof(*g->d));
	}
	memmove(&g->d[i + 1], &g->d[i], (g->n - i) * sizeof(*g->d));
	g->n++;
	g->d[i] = (struct imap_digest){ bucket, 0, 0 };
	return &g->d[i];
}

void imap_digests_add(struct imap_digests *g, uint32_t uid, unsigned flags)
{
	struct imap_digest *d = bucket_slot(g, uid >> IMAP_BUCKET_SHIFT);

	d->count++;
	d->sum += digest_of(uid, flags);
}

struct imap_digest imap_digests_get(const struct imap_digests *g, uint32_t bucket)
{
	size_t i = find_bucket(g, bucket);

	if (i < g->n && g->d[i].bucket == bucket)
		return g->d[i];
	return (struct imap_digest){ bucket, 0, 0 };
}

void imap_digests_put(struct imap_digests *g, struct imap_digest d)
{
	size_t i = find_bucket(g, d.bucket);

	if (d.count == 0) {
		if (i < g->n && g->d[i].bucket == d.bucket) {
			memmove(&g->d[i], &g->d[i + 1], (g->n - i - 1) * sizeof(*g->d));
			g->n--;
		}
		return;
	}
	*bucket_slot(g, d.bucket) = d;
}

uint64_t imap_digests_total(const struct imap_digests *g)
{
	uint64_t n = 0;

	for (size_t i = 0; i < g->n; i++)
		n += g->d[i].count;
	return n;
}

/* ---- the cursor ------------------------------------------------------------- */

void imap_cursor_init(struct imap_cursor *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = IMAP_CURSOR_ROUND;
	c->mode = IMAP_MODE_SCAN;
	imap_digests_init(&c->digests);
}

void imap_cursor_free(struct imap_cursor *c)
{
	imap_digests_free(&c->digests);
}

char *imap_cursor_format(const struct imap_cursor *c)
{
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, NULL, CURSOR_MAGIC ";%c;%c;v=%" PRIu32 ";n=%" PRIu32 ";m=%" PRIu64
		   ";l=%" PRIu32 ";s=%" PRIu32 ";k=%" PRIu32 ";d=", (char)c->kind,
		   (char)c->mode, c->uidvalidity, c->uidnext, c->modseq, c->low, c->seq,
		   c->scan);
	for (size_t i = 0; i < c->digests.n; i++)
		buf_printf(&b, NULL, "%s%" PRIx32 ":%" PRIx32 ":%" PRIx64, i ? "," : "",
			   c->digests.d[i].bucket, c->digests.d[i].count,
			   c->digests.d[i].sum);
	return buf_detach(&b, NULL);
}

/* "key=" followed by a decimal number up to ';'. */
static int parse_field(const char **p, const char *key, uint64_t max, uint64_t *out)
{
	size_t k = strlen(key);
	const char *s = *p;
	uint64_t v = 0;

	if (strncmp(s, key, k) != 0)
		return -1;
	s += k;
	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		uint64_t digit = (uint64_t)(*s - '0');

		if (v > (max - digit) / 10)
			return -1;
		v = v * 10 + digit;
		s++;
	}
	if (*s != ';')
		return -1;
	*out = v;
	*p = s + 1;
	return 0;
}

/* One lowercase hex number at *p ending at `stop`; advances past it. */
static int parse_hex(const char **p, uint64_t max, char stop, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	size_t digits = 0;

	for (; (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'); s++, digits++) {
		if (digits == 16 || v > max >> 4)
			return -1;
		v = v << 4 | (uint64_t)(*s <= '9' ? *s - '0' : *s - 'a' + 10);
	}
	if (!digits || v > max || *s != stop)
		return -1;
	*out = v;
	*p = stop ? s + 1 : s;
	return 0;
}

/* "bucket:count:sum" entries separated by ',', buckets increasing. */
static int parse_digests(struct imap_digests *g, const char *p)
{
	while (*p) {
		uint64_t bucket, count, sum;
		char stop = p[strcspn(p, ",")];

		if (parse_hex(&p, UINT32_MAX, ':', &bucket) < 0 ||
		    parse_hex(&p, UINT32_MAX, ':', &count) < 0 ||
		    parse_hex(&p, UINT64_MAX, stop, &sum) < 0 || count == 0 ||
		    (g->n && bucket <= g->d[g->n - 1].bucket) || (stop && !*p))
			return -1;
		imap_digests_put(g, (struct imap_digest){ (uint32_t)bucket,
							   (uint32_t)count, sum });
	}
	return 0;
}

int imap_cursor_parse(struct imap_cursor *c, const char *text, struct err *e)
{
	const char *p = text;
	uint64_t v[6];
	static const char *const keys[] = { "v=", "n=", "m=", "l=", "s=", "k=" };
	static const uint64_t max[] = { UINT32_MAX, UINT32_MAX, UINT64_MAX,
					UINT32_MAX, UINT32_MAX, UINT32_MAX };

	imap_cursor_free(c);
	imap_cursor_init(c);
	if (!text || strncmp(p, CURSOR_MAGIC ";", sizeof(CURSOR_MAGIC)) != 0)
		goto bad;
	p += sizeof(CURSOR_MAGIC);
	if ((p[0] != IMAP_CURSOR_ROUND && p[0] != IMAP_CURSOR_LIVE) || p[1] != ';' ||
	    (p[2] != IMAP_MODE_QRESYNC && p[2] != IMAP_MODE_CONDSTORE &&
	     p[2] != IMAP_MODE_SCAN) || p[3] != ';')
		goto bad;
	c->kind = (enum imap_cursor_kind)p[0];
	c->mode = (enum imap_change_mode)p[2];
	p += 4;
	for (size_t i = 0; i < 6; i++)
		if (parse_field(&p, keys[i], max[i], &v[i]) < 0)
			goto bad;
	c->uidvalidity = (uint32_t)v[0];
	c->uidnext = (uint32_t)v[1];
	c->modseq = v[2];
	c->low = (uint32_t)v[3];
	c->seq = (uint32_t)v[4];
	c->scan = (uint32_t)v[5];
	if (strncmp(p, "d=", 2) != 0 || parse_digests(&c->digests, p + 2) < 0 ||
	    !c->uidvalidity || !c->uidnext)
		goto bad;
	return 0;
bad:
	imap_cursor_free(c);
	imap_cursor_init(c);
	return err_set(e, ERR_RESYNC, "bad_cursor", "the IMAP sync state of the folder "
		       "is not one this version wrote; the folder is synchronized again");
}
