/*
 * query.h — OData query options as Graph mail accepts them: $select,
 * $top, $skip, $orderby (receivedDateTime asc|desc), $filter
 * (receivedDateTime ge/gt/le/lt combined with `and`, internetMessageId eq,
 * isRead eq), $count. Bad options become Graph 400 errors, never crashes.
 */
#ifndef SIM_QUERY_H
#define SIM_QUERY_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "http.h"

struct odata_query {
	uint64_t select;     /* message field mask (msgjson.h); 0 = default */
	long top;            /* 0 = not given */
	long skip;
	int order;           /* 0 none, 1 asc, -1 desc */
	bool has_lo, lo_incl;
	int64_t lo;          /* receivedDateTime lower bound */
	bool has_hi, hi_incl;
	int64_t hi;
	char *imid;          /* internetMessageId eq (heap) */
	int is_read;         /* -1 = no filter */
	bool count;
	char *filter_text;   /* original $filter (heap), for links */
	char *select_text;   /* original $select (heap) */
	char *orderby_text;
};

/* Parse the message query options of rq. `delta` restricts $filter to
 * receivedDateTime ge/gt and $orderby to receivedDateTime desc, as the
 * delta function does. Timestamps in $filter may carry fractions and
 * offsets; a bound is turned into whole seconds (lo/hi with their
 * inclusive flags) exactly, given the dates the simulator writes
 * (`fractions`: the date_fractions setting, simtime.h). Returns 0, or -1
 * with a 400 written into rs. */
int odata_parse_messages(struct sim_req *rq, struct sim_resp *rs,
			 struct odata_query *q, bool delta, bool fractions);
void odata_free(struct odata_query *q);

/* True when the received time t passes the date filter of q. */
bool odata_time_ok(const struct odata_query *q, int64_t t);

/* Parse $top (default dflt, capped at max). Returns 0 or -1 (400 written). */
int odata_top(struct sim_req *rq, struct sim_resp *rs, long dflt, long max,
	      long *out);

/* Apply $select to a plain JSON object (keeps "@odata.*" and "id");
 * unknown property names give 400. Returns 0 or -1. */
int odata_select_plain(struct sim_req *rq, struct sim_resp *rs, json_t *obj,
		       const char *type_name);

#endif
