/*
 * graph_common.c — helpers every Graph handler uses: resolving folder and
 * message ids (with Graph's malformed / not-found errors), choosing the id
 * form for a response, and Preference-Applied.
 */
#include <stdio.h>
#include <string.h>
#include "graph.h"
#include "ids.h"

uint32_t gr_folder_arg(struct sim_world *w, struct sim_req *rq,
			  struct sim_resp *rs, const char *id)
{
	enum sim_wk wk = mbx_wk_parse(id);
	struct id_parts p;

	if (wk != WK_NONE) {
		uint32_t f = mbx_wk(rq->mb, wk);

		if (f == SIM_NONE)
			rs_graph_error(rq, rs, 404, "ErrorItemNotFound",
					 "The specified object was not found in the store.");
		return f;
	}
	if (ids_parse(w, id, &p) < 0 || p.kind != ID_FOLDER) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidIdMalformed", "Id is malformed.");
		return SIM_NONE;
	}
	if (p.mbox != rq->mb->num || !mbx_folder(rq->mb, p.a)) {
		rs_graph_error(rq, rs, 404, "ErrorItemNotFound",
				 "The specified object was not found in the store.");
		return SIM_NONE;
	}
	return p.a;
}

uint32_t gr_message_arg(struct sim_world *w, struct sim_req *rq,
			   struct sim_resp *rs, const char *id)
{
	struct id_parts p;
	struct sim_msg *m;

	if (ids_parse(w, id, &p) < 0 || (p.kind != ID_REST && p.kind != ID_IMMUTABLE)) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidIdMalformed", "Id is malformed.");
		return SIM_NONE;
	}
	m = p.mbox == rq->mb->num ? mbx_msg(rq->mb, p.a) : NULL;
	if (!m || (p.kind == ID_REST && p.b != m->gen)) {
		rs_graph_error(rq, rs, 404, "ErrorItemNotFound",
				 "The specified object was not found in the store.");
		return SIM_NONE;
	}
	return p.a;
}

char *gr_msg_id(struct sim_world *w, const struct sim_req *rq,
		   struct sim_mailbox *mb, uint32_t num)
{
	return ids_message(w, mb->num, num, mb->msgs[num].gen, rq->prefer.immutable);
}

void gr_preference_applied(const struct sim_req *rq, struct sim_resp *rs,
			      long pagesize)
{
	char v[200];
	size_t n = 0;

	v[0] = '\0';
	if (pagesize > 0)
		n += (size_t)snprintf(v + n, sizeof(v) - n, "odata.maxpagesize=%ld", pagesize);
	if (rq->prefer.immutable && n < sizeof(v))
		n += (size_t)snprintf(v + n, sizeof(v) - n, "%sIdType=\"ImmutableId\"", n ? ", " : "");
	if (rq->prefer.body_type && n < sizeof(v))
		snprintf(v + n, sizeof(v) - n, "%soutlook.body-content-type=\"%s\"", n ? ", " : "",
			 rq->prefer.body_type == 1 ? "text" : "html");
	if (v[0])
		rs_header(rs, "Preference-Applied", v);
}
