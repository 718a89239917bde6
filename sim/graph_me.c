/*
 * graph_me.c — GET /me (the signed-in user's profile),
 * POST /me/revokeSignInSessions and POST /me/translateExchangeIds
 * (restId ↔ restImmutableEntryId).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph.h"
#include "ids.h"
#include "query.h"

void gr_me_get(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_user *u = rq->user;
	char base[SIM_URL_MAX], ctx[SIM_URL_MAX + 256];
	const char *sp = strchr(u->name, ' ');
	json_t *me;

	(void)w;
	rq_base_url(rq, base, sizeof(base));
	snprintf(ctx, sizeof(ctx), "%s/v1.0/$metadata#users/$entity", base);
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
	char base[SIM_URL_MAX], ctx[SIM_URL_MAX + 64];

	(void)w;
	rq->user->grant_epoch++;
	rq_base_url(rq, base, sizeof(base));
	snprintf(ctx, sizeof(ctx), "%s/v1.0/$metadata#Edm.Boolean", base);
	rs_json(rs, 200, json_pack("{s:s, s:b}", "@odata.context", ctx, "value", 1));
}

void gr_translate_ids(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *b = rq_json_body(rq, rs, NULL), *in, *out, *v;
	const char *src, *dst;
	bool to_immutable;
	size_t i;

	if (!b)
		return;
	in = json_object_get(b, "inputIds");
	src = json_string_value(json_object_get(b, "sourceIdType"));
	dst = json_string_value(json_object_get(b, "targetIdType"));
	if (!json_is_array(in) || json_array_size(in) > 1000 || !src || !dst ||
	    (strcmp(dst, "restId") != 0 && strcmp(dst, "restImmutableEntryId") != 0) ||
	    (strcmp(src, "restId") != 0 && strcmp(src, "restImmutableEntryId") != 0)) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
			       "inputIds (at most 1000) and sourceIdType/targetIdType (restId or restImmutableEntryId) are required; m365sim translates only between those two.");
		json_decref(b);
		return;
	}
	to_immutable = strcmp(dst, "restImmutableEntryId") == 0;
	out = json_array();
	json_array_foreach(in, i, v) {
		const char *id = json_string_value(v);
		struct id_parts p;
		struct sim_msg *m = NULL;

		if (id && ids_parse(w, id, &p) == 0 && (p.kind == ID_REST || p.kind == ID_IMMUTABLE) &&
		    p.mbox == rq->mb->num)
			m = mbx_msg(rq->mb, p.a);
		if (!m || (p.kind == ID_REST && p.b != m->gen)) {
			json_array_append_new(out, json_pack("{s:s, s:{s:s, s:s}}", "sourceId", id ? id : "",
							     "errorDetails", "code", "ErrorItemNotFound",
							     "message", "The specified object was not found in the store."));
			continue;
		}
		{
			char *target = ids_message(w, rq->mb->num, p.a, m->gen, to_immutable);

			json_array_append_new(out, json_pack("{s:s, s:s}", "sourceId", id, "targetId", target));
			free(target);
		}
	}
	{
		char base[SIM_URL_MAX], ctx[SIM_URL_MAX + 96];

		rq_base_url(rq, base, sizeof(base));
		snprintf(ctx, sizeof(ctx), "%s/v1.0/$metadata#Collection(microsoft.graph.convertIdResult)",
			 base);
		rs_json(rs, 200, json_pack("{s:s, s:o}", "@odata.context", ctx, "value", out));
	}
	json_decref(b);
}
