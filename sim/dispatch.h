/*
 * dispatch.h — one request from start to finish, independent of the
 * transport: request ids, delayed deliveries, fault rules, routing to the
 * admin API (/_sim), the identity platform (/{tenant}/oauth2/...) or Graph
 * (/v1.0), and the counters.
 */
#ifndef SIM_DISPATCH_H
#define SIM_DISPATCH_H

#include "faults.h"
#include "http.h"
#include "sim.h"

/* Handle `rq` into `rs` (takes the world lock). When a body fault applies,
 * `hit->kind` is set and the caller must deliver rs accordingly; otherwise
 * hit->kind is FAULT_NONE. */
void sim_handle(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs,
		struct fault_hit *hit);

/* Route a Graph request (/v1.0/...): authentication, throttling, then the
 * Graph route table. Used by sim_handle and by $batch for its items
 * (rq->inner). The world lock must be held. */
void gr_handle(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs);

/* Route an admin request (/_sim/...). The world lock must be held. */
void admin_handle(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs);

#endif
