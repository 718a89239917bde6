/*
 * msgjson.h — a message as Graph JSON: the property table ($select names,
 * default set), rendering of one message for a request (ids per Prefer
 * IdType, body per outlook.body-content-type, only selected properties),
 * pages of messages written as text for list and delta, and the @removed
 * form used by delta.
 */
#ifndef SIM_MSGJSON_H
#define SIM_MSGJSON_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "inboxsync/buf.h"
#include "http.h"
#include "mailbox.h"
#include "sim.h"

/* Bit of the property `name` (case-insensitive), or -1 when Graph's
 * message type has no such property. */
int msgjson_field_bit(const char *name);
/* Mask of the properties returned when $select is absent. */
uint64_t msgjson_default_mask(void);
/* Comma-separated property names of `mask` in table order (heap). */
char *msgjson_mask_names(uint64_t mask);

struct render_opts {
	uint64_t mask;        /* 0 = default set */
	bool immutable;       /* ids: immutable vs REST */
	int body_type;        /* 0 = as stored, 1 = text, 2 = html */
	bool odata_type;      /* add "@odata.type" (delta items) */
};

/* Render message `num` of mb (new reference). */
json_t *msgjson_render(struct sim_world *w, struct sim_mailbox *mb,
		       uint32_t num, const struct render_opts *o);

/* One item of a page: message `num` rendered per the options, or, when
 * `removed`, its @removed form ("deleted") with REST generation `gen`. */
struct msgjson_item {
	uint32_t num;
	uint32_t gen;
	bool removed;
};

/* Serialise items[0..n) in order as compact JSON, separated by commas —
 * the inside of a JSON array — and append the text to `out`: byte for
 * byte what json_dumps(JSON_COMPACT) of msgjson_render's tree (or
 * msgjson_removed's) would give, written from jansson-encoded fragments,
 * or copied from the mailbox's render cache (msgcache.h) when the
 * message's text is kept there. A large page is split across up to one
 * thread per core (at most 4). The caller holds the world lock (shared is
 * enough) for the whole call. Returns 0, or -1 when `out` would exceed its
 * limit (then `out` is unchanged). */
int msgjson_render_items(struct sim_world *w, struct sim_mailbox *mb,
			 const struct msgjson_item *items, size_t n,
			 const struct render_opts *o, struct buf *out);

/* {"@odata.type":..., "id":..., "@removed":{"reason":...}} */
json_t *msgjson_removed(struct sim_world *w, struct sim_mailbox *mb,
			uint32_t num, uint32_t gen, bool immutable,
			const char *reason);

/* changeKey of a message (heap). */
char *msgjson_change_key(struct sim_world *w, struct sim_mailbox *mb,
			 uint32_t num);

#endif
