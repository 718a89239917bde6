/*
 * msgjson.h — a message as Graph JSON: the property table ($select names,
 * default set), rendering of one message for a request (ids per Prefer
 * IdType, body per outlook.body-content-type, only selected properties),
 * and the @removed form used by delta.
 */
#ifndef SIM_MSGJSON_H
#define SIM_MSGJSON_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
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

/* Render messages nums[0..n) into out[0..n) (new references), using a
 * second thread for half of a large page on a multi-core machine. The
 * caller holds the world lock (shared is enough) for the whole call. */
void msgjson_render_many(struct sim_world *w, struct sim_mailbox *mb,
			 const uint32_t *nums, size_t n,
			 const struct render_opts *o, json_t **out);

/* {"@odata.type":..., "id":..., "@removed":{"reason":...}} */
json_t *msgjson_removed(struct sim_world *w, struct sim_mailbox *mb,
			uint32_t num, uint32_t gen, bool immutable,
			const char *reason);

/* changeKey of a message (heap). */
char *msgjson_change_key(struct sim_world *w, struct sim_mailbox *mb,
			 uint32_t num);

#endif
