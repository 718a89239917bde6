/*
 * ids.c — id and cursor encoding (see ids.h): 4-byte kind prefix chosen so
 * the text looks like Exchange ids ("AAMkA…", "AAkAL…", "AQMkA…"), three
 * 32-bit fields, and a 13-byte BLAKE2b MAC under the world's id key.
 */
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "ids.h"

#define MAC_LEN 13
#define ID_LEN (4 + 12 + MAC_LEN)

static const unsigned char prefixes[][4] = {
	[ID_REST] = { 0x00, 0x03, 0x24, 0x00 },
	[ID_IMMUTABLE] = { 0x00, 0x09, 0x00, 0x2e },
	[ID_FOLDER] = { 0x01, 0x03, 0x24, 0x00 },
	[ID_ATTACHMENT] = { 0x00, 0x03, 0x24, 0x41 },
};

static void mac(const struct sim_world *w, const unsigned char *p, size_t n,
		unsigned char *out, size_t outlen)
{
	unsigned char full[crypto_generichash_BYTES_MIN];

	crypto_generichash(full, sizeof(full), p, n, w->id_key, sizeof(w->id_key));
	memcpy(out, full, outlen);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static char *make(const struct sim_world *w, enum id_kind kind, uint32_t mbox,
		  uint32_t a, uint32_t b)
{
	unsigned char raw[ID_LEN];

	memcpy(raw, prefixes[kind], 4);
	put32(raw + 4, mbox);
	put32(raw + 8, a);
	put32(raw + 12, b);
	mac(w, raw, 16, raw + 16, MAC_LEN);
	return sim_b64url(raw, sizeof(raw), true);
}

char *ids_message(const struct sim_world *w, uint32_t mbox, uint32_t msg,
		  uint32_t gen, bool immutable)
{
	return make(w, immutable ? ID_IMMUTABLE : ID_REST, mbox, msg,
		    immutable ? 0 : gen);
}

char *ids_folder(const struct sim_world *w, uint32_t mbox, uint32_t folder)
{
	return make(w, ID_FOLDER, mbox, folder, 0);
}

char *ids_attachment(const struct sim_world *w, uint32_t mbox, uint32_t msg,
		     uint32_t att)
{
	return make(w, ID_ATTACHMENT, mbox, msg, att);
}

int ids_parse(const struct sim_world *w, const char *s, struct id_parts *out)
{
	unsigned char raw[ID_LEN + 8], want[MAC_LEN];
	size_t n = 0;

	if (!s || strlen(s) > 64 || sim_b64url_decode(s, raw, sizeof(raw), &n) < 0 ||
	    n != ID_LEN)
		return -1;
	mac(w, raw, 16, want, MAC_LEN);
	if (sodium_memcmp(want, raw + 16, MAC_LEN) != 0)
		return -1;
	for (int k = ID_REST; k <= ID_ATTACHMENT; k++) {
		if (memcmp(raw, prefixes[k], 4) == 0) {
			out->kind = (enum id_kind)k;
			out->mbox = get32(raw + 4);
			out->a = get32(raw + 8);
			out->b = get32(raw + 12);
			return 0;
		}
	}
	return -1;
}

char *ids_seal(const struct sim_world *w, const void *p, size_t n)
{
	unsigned char raw[256];

	if (n > 200)
		n = 200;
	memcpy(raw, p, n);
	mac(w, raw, n, raw + n, 10);
	return sim_b64url(raw, n + 10, false);
}

int ids_unseal(const struct sim_world *w, const char *s, void *out,
	       size_t cap, size_t *n)
{
	unsigned char raw[256], want[10];
	size_t len = 0;

	if (!s || strlen(s) > 340 || sim_b64url_decode(s, raw, sizeof(raw), &len) < 0 ||
	    len < 10 || len - 10 > cap)
		return -1;
	mac(w, raw, len - 10, want, 10);
	if (sodium_memcmp(want, raw + len - 10, 10) != 0)
		return -1;
	memcpy(out, raw, len - 10);
	*n = len - 10;
	return 0;
}
