/*
 * dispatch.c — sim_handle: the life of one request (see dispatch.h).
 * Surfaces: /_sim (admin, never faulted), /{tenant}/oauth2,
 * /{tenant}/v2.0 and /{tenant}/discovery (identity platform), /v1.0 and
 * /beta (Graph).
 */
#include <stdio.h>
#include <string.h>
#include "counters.h"
#include "dispatch.h"
#include "latency.h"
#include "oauth.h"

enum surface { SURF_NONE, SURF_ADMIN, SURF_OAUTH, SURF_GRAPH };

static enum surface surface_of(const struct sim_req *rq)
{
	if (rq->nsegs >= 1 && strcmp(rq->segs[0], "_sim") == 0)
		return SURF_ADMIN;
	if (rq->nsegs >= 1 && (sim_ieq(rq->segs[0], "v1.0") || sim_ieq(rq->segs[0], "beta")))
		return SURF_GRAPH;
	if (rq->nsegs >= 2 && (sim_ieq(rq->segs[1], "oauth2") || sim_ieq(rq->segs[1], "v2.0") ||
			       sim_ieq(rq->segs[1], "discovery")))
		return SURF_OAUTH;
	return SURF_NONE;
}

/* The mailbox a Graph request is about, for mailbox-scoped faults. */
static const char *fault_mailbox(struct sim_world *w, const struct sim_req *rq)
{
	const char *authz = rq_header(rq, "Authorization");
	struct oa_access *a = NULL;

	if (!authz || !sim_istarts(authz, "Bearer "))
		return NULL;
	oa_access_check(w, authz + 7, &a);
	return a ? a->user->email : NULL;
}

static void status_fault(const struct sim_req *rq, struct sim_resp *rs,
			 enum surface surf, const struct fault_hit *hit)
{
	char ra[24];

	if (surf == SURF_OAUTH) {
		if (hit->kind == FAULT_500)
			rs_oauth_error(rq, rs, 500, "server_error", 50000,
					 "There was an error issuing a token or an issue with our sign-in service. (m365sim fault)");
		else
			rs_oauth_error(rq, rs, hit->kind == FAULT_429 ? 429 : 503,
					 "temporarily_unavailable", 90033,
					 "A transient error has occurred. Please try again. (m365sim fault)");
	} else if (hit->kind == FAULT_429) {
		rs_graph_error(rq, rs, 429, "ApplicationThrottled",
				 "Application is over its MailboxConcurrency limit.");
	} else if (hit->kind == FAULT_503) {
		rs_graph_error(rq, rs, 503, "serviceNotAvailable",
				 "The service is temporarily unavailable. Please retry later.");
	} else {
		rs_graph_error(rq, rs, 500, "ErrorInternalServerError",
				 "An internal server error occurred. The operation failed.");
	}
	if (hit->retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%ld", hit->retry_after);
		rs_header(rs, "Retry-After", ra);
	}
}

/* Requests that only read the world: Graph and admin GETs (the identity
 * platform's GETs create transactions and sessions). */
static bool read_only(const struct sim_req *rq, enum surface surf)
{
	return strcmp(rq->method, "GET") == 0 && (surf == SURF_GRAPH || surf == SURF_ADMIN);
}

void sim_handle(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs,
		struct fault_hit *hit)
{
	enum surface surf;
	bool faulted = false, shared;
	const char *crid = rq_header(rq, "client-request-id");
	size_t bytes_out;

	memset(hit, 0, sizeof(*hit));
	if (!rq->request_id[0])
		sim_guid_random(rq->request_id);
	rq->client_request_id = crid && *crid && strlen(crid) <= 100 ? crid : NULL;
	if (rq_split_path(rq) < 0) {
		rs_graph_error(rq, rs, 400, "BadRequest", "The request URL has too many segments.");
		rs_finish(rs);
		return;
	}
	surf = surface_of(rq);
	if (__atomic_load_n(&w->pending_deliveries, __ATOMIC_SEQ_CST)) {
		world_lock(w);
		world_run_deliveries(w);
		world_unlock(w);
	}
	shared = read_only(rq, surf);
	if (shared)
		world_rdlock(w);
	else
		world_lock(w);
	if (surf != SURF_ADMIN &&
	    flt_match(w->faults, rq->path, rq->raw_query,
			 surf == SURF_GRAPH ? fault_mailbox(w, rq) : NULL, false, hit)) {
		ctr_event(w->counters, "faults");
		if (hit->kind == FAULT_429 || hit->kind == FAULT_503 || hit->kind == FAULT_500) {
			status_fault(rq, rs, surf, hit);
			hit->kind = FAULT_NONE;
			rq->route = "(fault)";
			faulted = true;
		}
	}
	switch (faulted ? -1 : (int)surf) {
	case SURF_ADMIN:
		admin_handle(w, rq, rs);
		break;
	case SURF_OAUTH:
		idp_route(w, rq, rs);
		break;
	case SURF_GRAPH:
		gr_handle(w, rq, rs);
		rs_header(rs, "OData-Version", "4.0");
		break;
	case SURF_NONE:
		rq->route = "(unknown)";
		rs_graph_error(rq, rs, 404, "ResourceNotFound",
				 "Resource not found for the segment '%s'.",
				 rq->nsegs ? rq->segs[0] : "");
		break;
	default:
		break;
	}
	if (surf != SURF_ADMIN && rs->delay_ms < 0)
		rs->delay_ms = latency_draw(&w->cfg);
	ctr_latency(w->counters, rs->delay_ms);
	world_unlock(w);
	rs_finish(rs);
	bytes_out = hit->kind == FAULT_OVERSIZED ? (size_t)hit->bytes : rs->body.len;
	ctr_request(w->counters, rq->method, rq->route, rs->status,
			 rq->body_len, bytes_out);
}
