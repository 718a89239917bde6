/*
 * graph.c — the Graph front door (gr_handle): bearer-token checks with
 * Graph's 401/403 shapes, /users/{id} → /me, Outlook throttling per (app,
 * mailbox), and the route table. Routes are matched on path segments after
 * the version; literal segments compare case-insensitively, '*' captures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "counters.h"
#include "dispatch.h"
#include "graph.h"
#include "oauth.h"
#include "throttle.h"

enum need { NEED_NONE, NEED_USER, NEED_READ, NEED_WRITE, NEED_SEND };

struct route {
	const char *method;
	const char *pattern;   /* "me/messages/{*}" ({*} = one segment) */
	enum need need;
	gr_fn *fn;
	const char *name;      /* counters template */
};

static const struct route routes[] = {
	{ "GET", "me", NEED_USER, gr_me_get, "/v1.0/me" },
	{ "POST", "me/revokeSignInSessions", NEED_NONE, gr_revoke_sessions, "/v1.0/me/revokeSignInSessions" },
	{ "POST", "$batch", NEED_NONE, gr_batch, "/v1.0/$batch" },
	{ "POST", "me/translateExchangeIds", NEED_READ, gr_translate_ids, "/v1.0/me/translateExchangeIds" },
	{ "GET", "me/mailFolders", NEED_READ, gr_folders_list, "/v1.0/me/mailFolders" },
	{ "POST", "me/mailFolders", NEED_WRITE, gr_folder_create, "/v1.0/me/mailFolders" },
	{ "GET", "me/mailFolders/delta", NEED_READ, gr_folders_delta, "/v1.0/me/mailFolders/delta" },
	{ "GET", "me/mailFolders/*", NEED_READ, gr_folder_get, "/v1.0/me/mailFolders/{id}" },
	{ "PATCH", "me/mailFolders/*", NEED_WRITE, gr_folder_update, "/v1.0/me/mailFolders/{id}" },
	{ "DELETE", "me/mailFolders/*", NEED_WRITE, gr_folder_delete, "/v1.0/me/mailFolders/{id}" },
	{ "POST", "me/mailFolders/*/move", NEED_WRITE, gr_folder_move, "/v1.0/me/mailFolders/{id}/move" },
	{ "GET", "me/mailFolders/*/childFolders", NEED_READ, gr_children_list, "/v1.0/me/mailFolders/{id}/childFolders" },
	{ "POST", "me/mailFolders/*/childFolders", NEED_WRITE, gr_folder_create, "/v1.0/me/mailFolders/{id}/childFolders" },
	{ "GET", "me/mailFolders/*/messages", NEED_READ, gr_messages_list, "/v1.0/me/mailFolders/{id}/messages" },
	{ "POST", "me/mailFolders/*/messages", NEED_WRITE, gr_draft_create, "/v1.0/me/mailFolders/{id}/messages" },
	{ "GET", "me/mailFolders/*/messages/delta", NEED_READ, gr_messages_delta, "/v1.0/me/mailFolders/{id}/messages/delta" },
	{ "GET", "me/messages", NEED_READ, gr_messages_list, "/v1.0/me/messages" },
	{ "POST", "me/messages", NEED_WRITE, gr_draft_create, "/v1.0/me/messages" },
	{ "POST", "me/sendMail", NEED_SEND, gr_send_mail, "/v1.0/me/sendMail" },
	{ "GET", "me/messages/*", NEED_READ, gr_message_get, "/v1.0/me/messages/{id}" },
	{ "PATCH", "me/messages/*", NEED_WRITE, gr_message_patch, "/v1.0/me/messages/{id}" },
	{ "DELETE", "me/messages/*", NEED_WRITE, gr_message_delete, "/v1.0/me/messages/{id}" },
	{ "GET", "me/messages/*/$value", NEED_READ, gr_message_value, "/v1.0/me/messages/{id}/$value" },
	{ "GET", "me/messages/*/attachments", NEED_READ, gr_attachments_list, "/v1.0/me/messages/{id}/attachments" },
	{ "POST", "me/messages/*/attachments", NEED_WRITE, gr_attachment_add, "/v1.0/me/messages/{id}/attachments" },
	{ "GET", "me/messages/*/attachments/*", NEED_READ, gr_attachment_get, "/v1.0/me/messages/{id}/attachments/{id}" },
	{ "DELETE", "me/messages/*/attachments/*", NEED_WRITE, gr_attachment_delete, "/v1.0/me/messages/{id}/attachments/{id}" },
	{ "GET", "me/messages/*/attachments/*/$value", NEED_READ, gr_attachment_value, "/v1.0/me/messages/{id}/attachments/{id}/$value" },
	{ "POST", "me/messages/*/move", NEED_WRITE, gr_message_move, "/v1.0/me/messages/{id}/move" },
	{ "POST", "me/messages/*/copy", NEED_WRITE, gr_message_copy, "/v1.0/me/messages/{id}/copy" },
	{ "POST", "me/messages/*/permanentDelete", NEED_WRITE, gr_message_permanent_delete, "/v1.0/me/messages/{id}/permanentDelete" },
	{ "POST", "me/messages/*/send", NEED_SEND, gr_draft_send, "/v1.0/me/messages/{id}/send" },
	{ "POST", "me/messages/*/createReply", NEED_WRITE, gr_create_reply, "/v1.0/me/messages/{id}/createReply" },
	{ "POST", "me/messages/*/createReplyAll", NEED_WRITE, gr_create_reply_all, "/v1.0/me/messages/{id}/createReplyAll" },
	{ "POST", "me/messages/*/createForward", NEED_WRITE, gr_create_forward, "/v1.0/me/messages/{id}/createForward" },
	{ "POST", "me/messages/*/reply", NEED_SEND, gr_reply, "/v1.0/me/messages/{id}/reply" },
	{ "POST", "me/messages/*/replyAll", NEED_SEND, gr_reply_all, "/v1.0/me/messages/{id}/replyAll" },
	{ "POST", "me/messages/*/forward", NEED_SEND, gr_forward, "/v1.0/me/messages/{id}/forward" },
};

static const char *const need_scopes[][4] = {
	[NEED_NONE] = { NULL },
	[NEED_USER] = { "User.Read", "User.ReadWrite", "User.ReadBasic.All", NULL },
	[NEED_READ] = { "Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic", NULL },
	[NEED_WRITE] = { "Mail.ReadWrite", "Mail.ReadWrite.Shared", NULL, NULL },
	[NEED_SEND] = { "Mail.Send", "Mail.Send.Shared", NULL, NULL },
};

static bool has_need(const struct oa_access *a, enum need need)
{
	if (need == NEED_NONE)
		return true;
	for (size_t i = 0; i < 4 && need_scopes[need][i]; i++) {
		char c[128];

		snprintf(c, sizeof(c), GRAPH_RESOURCE "/%s", need_scopes[need][i]);
		if (idp_scope_has(a->scopes, c))
			return true;
	}
	return false;
}

static void unauthorized(struct sim_req *rq, struct sim_resp *rs, const char *msg)
{
	rs_graph_error(rq, rs, 401, "InvalidAuthenticationToken", "%s", msg);
	rs_header(rs, "WWW-Authenticate",
		    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"");
}

static bool authenticate(struct sim_world *w, struct sim_req *rq,
			 struct sim_resp *rs)
{
	const char *authz = rq_header(rq, "Authorization");
	struct oa_access *a = NULL;

	if (!authz || !*authz) {
		unauthorized(rq, rs, "Access token is empty.");
		return false;
	}
	if (!sim_istarts(authz, "Bearer ") || !authz[7]) {
		unauthorized(rq, rs, "Access token validation failure. The authorization header must use the Bearer scheme.");
		return false;
	}
	switch (oa_access_check(w, authz + 7, &a)) {
	case TOK_UNKNOWN:
		unauthorized(rq, rs, "Access token validation failure. Invalid authentication token.");
		return false;
	case TOK_EXPIRED:
		unauthorized(rq, rs, "Lifetime validation failed, the token is expired.");
		return false;
	case TOK_OK:
		break;
	}
	if (a->res != RES_GRAPH) {
		unauthorized(rq, rs, "Access token validation failure. Invalid audience.");
		return false;
	}
	rq->tok = a;
	rq->user = a->user;
	rq->mb = a->user->mbox;
	return true;
}

/* "/v1.0/users/{id|upn}/..." → "/v1.0/me/...", only for the caller. */
static bool rewrite_users(struct sim_req *rq, struct sim_resp *rs)
{
	if (rq->nsegs < 3 || !sim_ieq(rq->segs[1], "users"))
		return true;
	if (!sim_ieq(rq->segs[2], rq->user->email) && !sim_ieq(rq->segs[2], rq->user->oid)) {
		rs_graph_error(rq, rs, 403, "ErrorAccessDenied",
				 "Access is denied. Check credentials and try again.");
		return false;
	}
	free(rq->segs[1]);
	free(rq->segs[2]);
	memmove(&rq->segs[1], &rq->segs[2], (rq->nsegs - 2) * sizeof(rq->segs[0]));
	rq->nsegs--;
	rq->segs[rq->nsegs] = NULL;
	rq->segs[1] = xstrdup("me");
	return true;
}

/* "me/mailFolders/{f}/messages/{m}/..." → "me/messages/{m}/...". */
static void normalize_folder_messages(struct sim_req *rq)
{
	if (rq->nsegs >= 6 && sim_ieq(rq->segs[1], "me") &&
	    sim_ieq(rq->segs[2], "mailFolders") && sim_ieq(rq->segs[4], "messages") &&
	    !sim_ieq(rq->segs[5], "delta")) {
		free(rq->segs[2]);
		free(rq->segs[3]);
		memmove(&rq->segs[2], &rq->segs[4], (rq->nsegs - 4) * sizeof(rq->segs[0]));
		rq->nsegs -= 2;
		rq->segs[rq->nsegs] = NULL;
		rq->segs[rq->nsegs + 1] = NULL;
	}
}

static bool throttled(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	long retry = 0;
	enum throttle_verdict v;
	char ra[24];

	if (rq->inner)
		v = thr_count(w->throttle, &w->cfg, rq->tok->client_id, rq->mb->num, &retry);
	else
		v = thr_admit(w->throttle, &w->cfg, rq->tok->client_id, rq->mb->num,
				   1, &rq->slot, &retry);
	if (v == THROTTLE_OK)
		return false;
	ctr_event(w->counters, "throttled");
	rs_graph_error(rq, rs, 429, "ApplicationThrottled",
			 v == THROTTLE_CONCURRENCY
				 ? "Application is over its MailboxConcurrency limit."
				 : "Application is over its request rate limit (ApplicationRequests).");
	snprintf(ra, sizeof(ra), "%ld", retry);
	rs_header(rs, "Retry-After", ra);
	return true;
}

/* The route for rq: exact match, or with `wrong_method` set a route whose
 * path matches under another method; NULL when the path is unknown. */
static const struct route *find_route(struct sim_req *rq, bool *wrong_method)
{
	const struct route *other = NULL;

	*wrong_method = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!rq_match(rq, 1, routes[i].pattern))
			continue;
		if (strcmp(routes[i].method, rq->method) == 0)
			return &routes[i];
		if (!other)
			other = &routes[i];
	}
	if (other) {
		*wrong_method = true;
		rq_match(rq, 1, other->pattern);
	}
	return other;
}

void gr_handle(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	bool batch = rq->nsegs == 2 && strcmp(rq->segs[1], "$batch") == 0;
	const struct route *r;
	bool wrong_method;

	rq->route = "/v1.0/(unknown)";
	if (!authenticate(w, rq, rs) || !rewrite_users(rq, rs))
		return;
	rq_parse_prefer(rq);
	normalize_folder_messages(rq);
	r = find_route(rq, &wrong_method);
	if (r)
		rq->route = r->name;
	if (!batch && throttled(w, rq, rs))
		return;
	if (!r) {
		rs_graph_error(rq, rs, 400, "BadRequest",
				 "Resource not found for the segment '%s'.",
				 rq->nsegs > 1 ? rq->segs[rq->nsegs - 1] : rq->path);
		return;
	}
	if (wrong_method) {
		rs_graph_error(rq, rs, 405, "ErrorInvalidRequest",
				 "The OData request is not supported: method %s is not allowed on this resource.",
				 rq->method);
		return;
	}
	if (!has_need(rq->tok, r->need)) {
		rs_graph_error(rq, rs, 403, "ErrorAccessDenied",
				 "Access is denied. Check credentials and try again.");
		return;
	}
	r->fn(w, rq, rs);
}
