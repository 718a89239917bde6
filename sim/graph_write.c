/*
 * graph_write.c — changing existing messages: PATCH (isRead, flag,
 * categories, importance; draft fields on drafts; If-Match on changeKey),
 * DELETE (to Deleted Items, or gone when already there), move, copy and
 * permanentDelete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "graph.h"
#include "msgcontent.h"
#include "msgjson.h"
#include "msgstore.h"

static void respond_message(struct sim_world *w, struct sim_req *rq,
			    struct sim_resp *rs, int status, uint32_t num)
{
	struct render_opts o = { 0 };

	o.immutable = rq->prefer.immutable;
	o.body_type = rq->prefer.body_type;
	gr_preference_applied(rq, rs, 0);
	rs_json(rs, status, msgjson_render(w, rq->mb, num, &o));
}

/* Content properties: editing any of them needs stored content. */
static bool touches_content(const json_t *in)
{
	static const char *const flag_only[] = { "isRead", "flag", "importance" };
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)in, key, v) {
		bool only = false;

		for (size_t i = 0; i < sizeof(flag_only) / sizeof(flag_only[0]); i++)
			only |= strcmp(key, flag_only[i]) == 0;
		if (!only && key[0] != '@')
			return true;
	}
	return false;
}

void gr_message_patch(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num = gr_message_arg(w, rq, rs, rq->caps[0]);
	const char *if_match = rq_header(rq, "If-Match");
	struct sim_msg *m;
	json_t *b, *fields;
	uint16_t flags;
	bool draft;

	if (num == SIM_NONE || !(b = rq_json_body(rq, rs, NULL)))
		return;
	if (if_match && strcmp(if_match, "*") != 0) {
		char *ck = msgjson_change_key(w, rq->mb, num);
		char *etag = xasprintf("W/\"%s\"", ck);
		bool same = strcmp(if_match, etag) == 0 || strcmp(if_match, ck) == 0;

		free(ck);
		free(etag);
		if (!same) {
			rs_graph_error(rq, rs, 412, "ErrorIrresolvableConflict",
					 "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.");
			json_decref(b);
			return;
		}
	}
	m = &rq->mb->msgs[num];
	draft = m->flags & MSG_DRAFT;
	flags = m->flags;
	fields = touches_content(b) ? json_deep_copy(msgcontent_materialize(w, rq->mb, num)->fields)
				    : json_object();
	if (gr_apply_message_json(rq, rs, fields, &flags, b, draft, false) < 0) {
		json_decref(fields);
		json_decref(b);
		return;
	}
	m = &rq->mb->msgs[num];
	if (m->ext && touches_content(b)) {
		json_decref(m->ext->fields);
		m->ext->fields = fields;
		if (draft) {
			free(m->ext->mime);
			m->ext->mime = NULL;
		}
	} else {
		json_decref(fields);
	}
	mbx_msg_set_read(rq->mb, num, flags & MSG_READ);
	m->flags = (uint16_t)((m->flags & MSG_READ) | (flags & (uint16_t)~MSG_READ));
	mbx_msg_touch(rq->mb, num);
	respond_message(w, rq, rs, 200, num);
	json_decref(b);
}

void gr_message_delete(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num = gr_message_arg(w, rq, rs, rq->caps[0]);
	uint32_t deleted;

	if (num == SIM_NONE)
		return;
	deleted = mbx_wk(rq->mb, WK_DELETED);
	if (rq->mb->msgs[num].folder == deleted)
		mbx_msg_destroy(rq->mb, num);
	else
		mbx_msg_move(rq->mb, num, deleted);
	rs_empty(rs, 204);
}

void gr_message_permanent_delete(struct sim_world *w, struct sim_req *rq,
				    struct sim_resp *rs)
{
	uint32_t num = gr_message_arg(w, rq, rs, rq->caps[0]);

	if (num == SIM_NONE)
		return;
	mbx_msg_destroy(rq->mb, num);
	rs_empty(rs, 204);
}

/* destinationId of the body, resolved; SIM_NONE with an error written. */
static uint32_t destination(struct sim_world *w, struct sim_req *rq,
			    struct sim_resp *rs)
{
	json_t *b = rq_json_body(rq, rs, NULL);
	const char *d;
	uint32_t f = SIM_NONE;

	if (!b)
		return SIM_NONE;
	d = json_string_value(json_object_get(b, "destinationId"));
	if (!d)
		rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
				 "The request is missing the destinationId parameter.");
	else
		f = gr_folder_arg(w, rq, rs, d);
	json_decref(b);
	return f;
}

void gr_message_move(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num = gr_message_arg(w, rq, rs, rq->caps[0]), dest;

	if (num == SIM_NONE || (dest = destination(w, rq, rs)) == SIM_NONE)
		return;
	mbx_msg_move(rq->mb, num, dest);
	respond_message(w, rq, rs, 201, num);
}

void gr_message_copy(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num = gr_message_arg(w, rq, rs, rq->caps[0]), dest, copy;
	struct sim_msg *m;
	json_t *fields, *atts, *a;
	char *mime = NULL;
	size_t mime_len = 0, i;

	if (num == SIM_NONE || (dest = destination(w, rq, rs)) == SIM_NONE)
		return;
	m = &rq->mb->msgs[num];
	{
		json_t *orig = msgcontent_fields(w, rq->mb, num, WANT_ALL);

		fields = json_deep_copy(orig);
		json_decref(orig);
	}
	atts = msgcontent_attachments(w, rq->mb, num, true);
	json_array_foreach(atts, i, a)
		json_object_del(a, "_index");
	if (m->ext && m->ext->mime) {
		mime = xmalloc(m->ext->mime_len + 1);
		memcpy(mime, m->ext->mime, m->ext->mime_len);
		mime[m->ext->mime_len] = '\0';
		mime_len = m->ext->mime_len;
	}
	copy = msgstore_put(w, rq->mb, dest, m->received,
			     (uint16_t)(m->flags & (MSG_READ | MSG_DRAFT | MSG_FLAG_MASK | MSG_IMP_MASK)),
			     fields, atts, mime, mime_len);
	respond_message(w, rq, rs, 201, copy);
}
