/*
 * msgstore.c — stored messages and the delivery queue (see msgstore.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "msgcontent.h"
#include "msgstore.h"

uint32_t msgstore_put(struct sim_world *w, struct sim_mailbox *mb,
		       uint32_t folder, int64_t received, uint16_t flags,
		       json_t *fields, json_t *atts, char *mime,
		       size_t mime_len)
{
	struct sim_msg_ext *ext = xcalloc(1, sizeof(*ext));
	char t[SIMTIME_LEN];
	json_t *body;

	(void)w;
	if (!json_string_value(json_object_get(fields, "internetMessageId"))) {
		const char *from = json_string_value(json_object_get(
			json_object_get(json_object_get(fields, "from"), "emailAddress"), "address"));
		char *imid = msgcontent_new_imid(from);

		json_object_set_new(fields, "internetMessageId", json_string(imid));
		free(imid);
	}
	if (!json_object_get(fields, "conversationId"))
		msgcontent_thread(fields, received);
	simtime_format(received, false, t);
	if (!json_object_get(fields, "sentDateTime"))
		json_object_set_new(fields, "sentDateTime", json_string(t));
	simtime_format(simtime_now(), false, t);
	json_object_set_new(fields, "createdDateTime", json_string(t));
	body = json_object_get(fields, "body");
	if (!body) {
		body = json_pack("{s:s, s:s}", "contentType", "text", "content", "");
		json_object_set_new(fields, "body", body);
	}
	{
		const char *ct = json_string_value(json_object_get(body, "contentType"));
		const char *content = json_string_value(json_object_get(body, "content"));
		char *text = ct && strcasecmp(ct, "html") == 0 ? msgcontent_html_to_text(content)
							       : xstrdup(content ? content : "");
		char *prev = msgcontent_preview(text);

		json_object_set_new(fields, "bodyPreview", json_string(prev));
		free(prev);
		free(text);
	}
	ext->fields = fields;
	ext->attachments = atts ? atts : json_array();
	ext->mime = mime;
	ext->mime_len = mime_len;
	if (json_array_size(ext->attachments))
		flags |= MSG_HASATT;
	else
		flags &= (uint16_t)~MSG_HASATT;
	return mbx_msg_add(mb, folder, received, flags, ext);
}

void msgstore_deliver(struct sim_world *w, struct sim_user *to,
		      const json_t *fields, const json_t *atts,
		      const char *mime, size_t mime_len)
{
	struct sim_delivery *d = xcalloc(1, sizeof(*d));
	struct sim_delivery **pp = &w->deliveries;

	d->due_ms = simtime_mono_ms() + w->cfg.delivery_delay_ms;
	d->to = to;
	d->fields = json_deep_copy(fields);
	d->attachments = atts ? json_deep_copy(atts) : NULL;
	if (mime) {
		d->mime = xmalloc(mime_len + 1);
		memcpy(d->mime, mime, mime_len);
		d->mime[mime_len] = '\0';
		d->mime_len = mime_len;
	}
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	__atomic_add_fetch(&w->pending_deliveries, 1, __ATOMIC_SEQ_CST);
	world_run_deliveries(w);
}

void world_run_deliveries(struct sim_world *w)
{
	int64_t now = simtime_mono_ms();
	struct sim_delivery **pp = &w->deliveries;

	while (*pp) {
		struct sim_delivery *d = *pp;
		struct sim_mailbox *mb;

		if (d->due_ms > now) {
			pp = &d->next;
			continue;
		}
		*pp = d->next;
		__atomic_sub_fetch(&w->pending_deliveries, 1, __ATOMIC_SEQ_CST);
		mb = d->to->mbox;
		json_object_del(d->fields, "bccRecipients");
		json_object_set_new(d->fields, "bccRecipients", json_array());
		json_object_del(d->fields, "createdDateTime");
		msgstore_put(w, mb, mbx_wk(mb, WK_INBOX), simtime_now(),
			      (uint16_t)(d->attachments && json_array_size(d->attachments) ? MSG_HASATT : 0),
			      d->fields, d->attachments, d->mime, d->mime_len);
		free(d);
	}
}
