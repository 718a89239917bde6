/*
 * ids.h — opaque identifiers: message ids (REST ids that change on every
 * move, immutable ids that do not), folder ids, attachment ids, and sealed
 * cursors (delta and skip tokens). All are base64url strings carrying a
 * keyed MAC, so a mangled or foreign id is recognised as malformed
 * (ErrorInvalidIdMalformed) rather than looked up. Ids are case-sensitive
 * and may end in '='.
 */
#ifndef SIM_IDS_H
#define SIM_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim.h"

enum id_kind { ID_REST = 1, ID_IMMUTABLE, ID_FOLDER, ID_ATTACHMENT };

struct id_parts {
	enum id_kind kind;
	uint32_t mbox;
	uint32_t a;   /* message or folder number */
	uint32_t b;   /* REST generation, or attachment index */
};

/* Message id (heap): immutable when `immutable`, else the REST id for
 * generation `gen`. */
char *ids_message(const struct sim_world *w, uint32_t mbox, uint32_t msg,
		  uint32_t gen, bool immutable);
char *ids_folder(const struct sim_world *w, uint32_t mbox, uint32_t folder);
char *ids_attachment(const struct sim_world *w, uint32_t mbox, uint32_t msg,
		     uint32_t att);

/* Decode any id above. Returns 0, or -1 when `s` is not a valid m365sim id. */
int ids_parse(const struct sim_world *w, const char *s, struct id_parts *out);

/* Seal `n` bytes (≤ 200) into an opaque URL-safe token (heap). */
char *ids_seal(const struct sim_world *w, const void *p, size_t n);
/* Reverse ids_seal: 0 with the bytes in out (cap) and *n, or -1. */
int ids_unseal(const struct sim_world *w, const char *s, void *out,
	       size_t cap, size_t *n);

#endif
