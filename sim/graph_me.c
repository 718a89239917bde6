/*
 * graph_me.c — GET /me (the signed-in user's profile) and
 * POST /me/revokeSignInSessions.
 */
#include <stdio.h>
#include <string.h>
#include "graph.h"
#include "query.h"

void gr_me_get(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_user *u = rq->user;
	char ctx[200];
	const char *sp = strchr(u->name, ' ');
	json_t *me;

	(void)w;
	snprintf(ctx, sizeof(ctx), "https://graph.microsoft.com/v1.0/$metadata#users/$entity");
	me = json_pack("{s:s, s:[], s:s, s:s, s:n, s:n, s:n, s:s, s:n, s:s, s:s, s:s}",
		       "@odata.context", ctx, "businessPhones", "displayName", u->name,
		       "givenName", "", "jobTitle", "mobilePhone", "officeLocation",
		       "preferredLanguage", "en-US", "surname", "mail", u->email,
		       "userPrincipalName", u->email, "id", u->oid);
	if (sp) {
		json_object_set_new(me, "givenName", json_stringn(u->name, (size_t)(sp - u->name)));
		json_object_set_new(me, "surname", json_string(sp + 1));
	} else {
		json_object_set_new(me, "givenName", json_string(u->name));
		json_object_set_new(me, "surname", json_null());
	}
	if (odata_select_plain(rq, rs, me, "microsoft.graph.user") < 0)
		return;
	rs_json(rs, 200, me);
}

void gr_revoke_sessions(struct sim_world *w, struct sim_req *rq,
			   struct sim_resp *rs)
{
	(void)w;
	rq->user->grant_epoch++;
	rs_json(rs, 200, json_pack("{s:s, s:b}", "@odata.context",
				     "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean",
				     "value", 1));
}
