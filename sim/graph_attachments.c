/*
 * graph_attachments.c — /me/messages/{id}/attachments: list, get one, raw
 * bytes ($value), add a small file attachment (< max_attachment_bytes,
 * else 413), delete. Upload sessions are not simulated (see README).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "graph.h"
#include "ids.h"
#include "msgcontent.h"
#include "query.h"

/* Finish an attachment object for output: id from _index. */
static void finish(struct sim_world *w, struct sim_mailbox *mb, uint32_t num,
		   json_t *a)
{
	json_int_t k = json_integer_value(json_object_get(a, "_index"));
	char *id = ids_attachment(w, mb->num, num, (uint32_t)k);

	json_object_del(a, "_index");
	json_object_set_new(a, "id", json_string(id));
	if (!json_object_get(a, "@odata.type"))
		json_object_set_new(a, "@odata.type", json_string("#microsoft.graph.fileAttachment"));
	free(id);
}

void gr_attachments_list(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num = gr_message_arg(w, rq, rs, rq->caps[0]);
	const char *sel = rq_query(rq, "$select");
	json_t *atts, *value, *a;
	size_t i;
	char base[SIM_URL_MAX], ctx[SIM_URL_MAX + 256];

	if (num == SIM_NONE)
		return;
	atts = msgcontent_attachments(w, rq->mb, num, !sel || strstr(sel, "contentBytes"));
	value = json_array();
	json_array_foreach(atts, i, a) {
		json_t *copy = json_deep_copy(a);

		finish(w, rq->mb, num, copy);
		if (odata_select_plain(rq, rs, copy, "microsoft.graph.attachment") < 0) {
			json_decref(atts);
			json_decref(value);
			return;
		}
		json_array_append_new(value, copy);
	}
	json_decref(atts);
	rq_base_url(rq, base, sizeof(base));
	snprintf(ctx, sizeof(ctx), "%s/v1.0/$metadata#users('%s')/messages('%s')/attachments",
		 base, rq->user->oid, rq->caps[0]);
	rs_json(rs, 200, json_pack("{s:s, s:o}", "@odata.context", ctx, "value", value));
}

/* The attachment named by caps[1] of message caps[0] (new reference). */
static json_t *one(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs,
		   uint32_t *num_out, size_t *index_out)
{
	uint32_t num = gr_message_arg(w, rq, rs, rq->caps[0]);
	struct id_parts p;
	json_t *atts, *a;

	if (num == SIM_NONE)
		return NULL;
	if (ids_parse(w, rq->caps[1], &p) < 0 || p.kind != ID_ATTACHMENT) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidIdMalformed", "Id is malformed.");
		return NULL;
	}
	atts = msgcontent_attachments(w, rq->mb, num, true);
	a = p.mbox == rq->mb->num && p.a == num ? json_array_get(atts, p.b) : NULL;
	if (!a) {
		json_decref(atts);
		rs_graph_error(rq, rs, 404, "ErrorItemNotFound",
				 "The specified object was not found in the store.");
		return NULL;
	}
	json_incref(a);
	json_decref(atts);
	*num_out = num;
	*index_out = p.b;
	return a;
}

void gr_attachment_get(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num;
	size_t k;
	json_t *a = one(w, rq, rs, &num, &k);

	if (!a)
		return;
	finish(w, rq->mb, num, a);
	if (odata_select_plain(rq, rs, a, "microsoft.graph.attachment") < 0)
		return;
	rs_json(rs, 200, a);
}

void gr_attachment_value(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num;
	size_t k;
	json_t *a = one(w, rq, rs, &num, &k);
	const char *b64, *ct;
	unsigned char *bytes = NULL;
	size_t len = 0;

	if (!a)
		return;
	b64 = json_string_value(json_object_get(a, "contentBytes"));
	ct = json_string_value(json_object_get(a, "contentType"));
	if (!b64 || sim_b64_decode(b64, strlen(b64), &bytes, &len) < 0) {
		rs_graph_error(rq, rs, 500, "ErrorInternalServerError", "Attachment content is unavailable.");
	} else {
		rs_text(rs, 200, NULL, (const char *)bytes, len);
		rs_header(rs, "Content-Type", ct ? ct : "application/octet-stream");
	}
	free(bytes);
	json_decref(a);
}

void gr_attachment_add(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num = gr_message_arg(w, rq, rs, rq->caps[0]);
	json_t *b, *a;
	const char *type, *name, *b64;
	unsigned char *bytes = NULL;
	size_t len = 0;
	struct sim_msg_ext *ext;
	char t[SIMTIME_LEN];

	if (num == SIM_NONE || !(b = rq_json_body(rq, rs, NULL)))
		return;
	type = json_string_value(json_object_get(b, "@odata.type"));
	name = json_string_value(json_object_get(b, "name"));
	b64 = json_string_value(json_object_get(b, "contentBytes"));
	if (!type || strcasecmp(type, "#microsoft.graph.fileAttachment") != 0 || !name) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
				 "m365sim supports fileAttachment with @odata.type, name and contentBytes.");
	} else if (!b64 || sim_b64_decode(b64, strlen(b64), &bytes, &len) < 0) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
				 "contentBytes must be base64.");
	} else if ((long)len > w->cfg.max_attachment_bytes) {
		rs_graph_error(rq, rs, 413, "ErrorMessageSizeExceeded",
				 "The attachment is larger than %ld bytes; use an upload session.",
				 w->cfg.max_attachment_bytes);
	} else {
		ext = msgcontent_materialize(w, rq->mb, num);
		simtime_format(simtime_now(), w->cfg.date_fractions, t);
		a = json_pack("{s:s, s:s, s:s, s:I, s:b, s:O, s:s, s:s}", "@odata.type",
			      "#microsoft.graph.fileAttachment", "name", name, "contentType",
			      json_string_value(json_object_get(b, "contentType"))
				      ? json_string_value(json_object_get(b, "contentType"))
				      : "application/octet-stream",
			      "size", (json_int_t)len, "isInline",
			      json_is_true(json_object_get(b, "isInline")), "contentId",
			      json_object_get(b, "contentId") ? json_object_get(b, "contentId") : json_null(),
			      "lastModifiedDateTime", t, "contentBytes", b64);
		json_array_append_new(ext->attachments, a);
		free(ext->mime);
		ext->mime = NULL;
		rq->mb->msgs[num].flags |= MSG_HASATT;
		mbx_msg_touch(rq->mb, num);
		a = json_deep_copy(a);
		json_object_set_new(a, "_index", json_integer((json_int_t)json_array_size(ext->attachments) - 1));
		finish(w, rq->mb, num, a);
		rs_json(rs, 201, a);
	}
	free(bytes);
	json_decref(b);
}

void gr_attachment_delete(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num;
	size_t k;
	json_t *a = one(w, rq, rs, &num, &k);
	struct sim_msg_ext *ext;

	if (!a)
		return;
	json_decref(a);
	ext = msgcontent_materialize(w, rq->mb, num);
	json_array_remove(ext->attachments, k);
	free(ext->mime);
	ext->mime = NULL;
	if (!json_array_size(ext->attachments))
		rq->mb->msgs[num].flags &= (uint16_t)~MSG_HASATT;
	mbx_msg_touch(rq->mb, num);
	rs_empty(rs, 204);
}
