/*
 * graph_send.c — sending: POST /me/sendMail (JSON or base64 MIME),
 * POST /me/messages/{id}/send (the draft moves to Sent Items keeping its
 * immutable id), reply / replyAll / forward. A send validates recipients,
 * files the Sent Items copy, queues delivery to every recipient who is a
 * sim user (same internetMessageId and conversationId) and records the
 * send in the sent log (GET /_sim/sent), including outside recipients.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "graph.h"
#include "mime.h"
#include "msgcontent.h"
#include "msgstore.h"
#include "oauth.h"

static bool valid_address(const char *a)
{
	const char *at = a ? strchr(a, '@') : NULL;

	if (!at || at == a || !at[1] || strchr(at + 1, '@') || !strchr(at + 1, '.') ||
	    strlen(a) > 254 || at[strlen(at) - 1] == '.')
		return false;
	for (const char *c = a; *c; c++)
		if ((unsigned char)*c <= ' ' || strchr("<>()[]\\,;:\"", *c))
			return false;
	return true;
}

/* All recipient addresses of fields into `out`; the first invalid one (or
 * NULL) into *badaddr. */
static void collect(const json_t *fields, json_t *out, const char **badaddr)
{
	static const char *const keys[] = { "toRecipients", "ccRecipients", "bccRecipients" };

	*badaddr = NULL;
	for (size_t k = 0; k < 3; k++) {
		size_t i;
		json_t *r;

		json_array_foreach(json_object_get(fields, keys[k]), i, r) {
			const char *a = json_string_value(json_object_get(json_object_get(r, "emailAddress"),
									  "address"));

			if (!valid_address(a)) {
				if (!*badaddr)
					*badaddr = a ? a : "";
				continue;
			}
			json_array_append_new(out, json_string(a));
		}
	}
}

static size_t attachments_size(const json_t *atts)
{
	size_t total = 0, i;
	json_t *a;

	json_array_foreach(atts, i, a)
		total += (size_t)json_integer_value(json_object_get(a, "size"));
	return total;
}

static void header_add(json_t *h, const char *name, const char *value)
{
	json_array_append_new(h, json_pack("{s:s, s:s}", "name", name, "value",
					   value ? value : ""));
}

static void ensure_headers(json_t *f, const struct sim_user *u, int64_t now)
{
	char date[SIMTIME_LEN];
	json_t *h;
	const char *to = json_string_value(json_object_get(json_object_get(
		json_array_get(json_object_get(f, "toRecipients"), 0), "emailAddress"), "address"));

	if (json_array_size(json_object_get(f, "internetMessageHeaders")))
		return;
	simtime_format_http(now, date);
	h = json_array();
	header_add(h, "From", u->email);
	header_add(h, "To", to);
	header_add(h, "Subject", json_string_value(json_object_get(f, "subject")));
	header_add(h, "Date", date);
	header_add(h, "Message-ID", json_string_value(json_object_get(f, "internetMessageId")));
	header_add(h, "MIME-Version", "1.0");
	json_object_set_new(f, "internetMessageHeaders", h);
}

static json_t *or_empty(const json_t *v)
{
	return v ? json_deep_copy(v) : json_array();
}

static void log_send(struct sim_world *w, const struct sim_req *rq,
		     const json_t *f, const char *t, json_t *delivered,
		     json_t *external, size_t natt)
{
	json_t *e = json_object();
	const char *subject = json_string_value(json_object_get(f, "subject"));
	const char *imid = json_string_value(json_object_get(f, "internetMessageId"));
	const char *conv = json_string_value(json_object_get(f, "conversationId"));

	json_object_set_new(e, "time", json_string(t));
	json_object_set_new(e, "from", json_string(rq->user->email));
	json_object_set_new(e, "client_id", json_string(rq->tok->client_id));
	json_object_set_new(e, "subject", json_string(subject ? subject : ""));
	json_object_set_new(e, "internetMessageId", json_string(imid ? imid : ""));
	json_object_set_new(e, "conversationId", json_string(conv ? conv : ""));
	json_object_set_new(e, "toRecipients", or_empty(json_object_get(f, "toRecipients")));
	json_object_set_new(e, "ccRecipients", or_empty(json_object_get(f, "ccRecipients")));
	json_object_set_new(e, "bccRecipients", or_empty(json_object_get(f, "bccRecipients")));
	json_object_set(e, "delivered", delivered);
	json_object_set(e, "external", external);
	json_object_set_new(e, "attachments", json_integer((json_int_t)natt));
	json_array_append_new(w->sent_log, e);
}

int gr_submit(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs,
		 uint32_t draft, json_t *fields, json_t *atts, char *mime,
		 size_t mime_len, bool save)
{
	struct sim_mailbox *mb = rq->mb;
	json_t *rcpts = json_array(), *delivered = json_array(), *external = json_array();
	const char *badaddr, *from;
	int64_t now = simtime_now();
	char t[SIMTIME_LEN];
	size_t i;
	json_t *a;
	int rc = -1;

	collect(fields, rcpts, &badaddr);
	from = json_string_value(json_object_get(json_object_get(json_object_get(fields, "from"),
								"emailAddress"), "address"));
	if (badaddr) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidRecipients",
				 "At least one recipient is not valid., Recipient '%s' is not resolved. All recipients must be resolved before a message can be submitted.",
				 badaddr);
		goto out;
	}
	if (!json_array_size(rcpts)) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidRecipients",
				 "At least one recipient is required, but none were found.");
		goto out;
	}
	if (from && strcasecmp(from, rq->user->email) != 0) {
		rs_graph_error(rq, rs, 403, "ErrorSendAsDenied",
				 "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account.");
		goto out;
	}
	if ((long)(attachments_size(atts) + mime_len) > w->cfg.max_message_bytes) {
		rs_graph_error(rq, rs, 413, "ErrorMessageSizeExceeded",
				 "The message exceeds the maximum supported size of %ld bytes.",
				 w->cfg.max_message_bytes);
		goto out;
	}
	json_object_set_new(fields, "from", json_pack("{s:{s:s, s:s}}", "emailAddress", "name",
						      rq->user->name, "address", rq->user->email));
	json_object_set(fields, "sender", json_object_get(fields, "from"));
	simtime_format(now, false, t);
	json_object_set_new(fields, "sentDateTime", json_string(t));
	if (!json_string_value(json_object_get(fields, "internetMessageId"))) {
		char *imid = msgcontent_new_imid(rq->user->email);

		json_object_set_new(fields, "internetMessageId", json_string(imid));
		free(imid);
	}
	if (!json_object_get(fields, "conversationId"))
		msgcontent_thread(fields, now);
	ensure_headers(fields, rq->user, now);
	json_array_foreach(rcpts, i, a) {
		struct sim_user *u = world_user(w, json_string_value(a));

		if (u) {
			msgstore_deliver(w, u, fields, atts, mime, mime_len);
			json_array_append(delivered, a);
		} else {
			json_array_append(external, a);
		}
	}
	log_send(w, rq, fields, t, delivered, external, json_array_size(atts));
	if (draft != SIM_NONE) {
		struct sim_msg *m = &mb->msgs[draft];
		struct sim_msg_ext *ext = msgcontent_materialize(w, mb, draft);

		json_decref(ext->fields);
		ext->fields = fields;
		fields = NULL;
		if (mime) {
			free(ext->mime);
			ext->mime = mime;
			ext->mime_len = mime_len;
			mime = NULL;
		}
		json_decref(atts);
		atts = NULL;
		m->flags = (uint16_t)((m->flags & ~MSG_DRAFT) | MSG_READ);
		mbx_msg_resend(mb, draft, mbx_wk(mb, WK_SENT), now);
	} else if (save) {
		msgstore_put(w, mb, mbx_wk(mb, WK_SENT), now, MSG_READ, fields, atts, mime, mime_len);
		fields = atts = NULL;
		mime = NULL;
	}
	rs_empty(rs, 202);
	rc = 0;
out:
	json_decref(rcpts);
	json_decref(delivered);
	json_decref(external);
	json_decref(fields);
	json_decref(atts);
	free(mime);
	return rc;
}

void gr_send_mail(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	const char *ct = rq_header(rq, "Content-Type");
	json_t *fields = NULL, *atts = NULL, *b, *msg;
	char *mime = NULL;
	size_t mime_len = 0, total = 0;
	uint16_t flags = 0;
	bool save = true;

	if (ct && sim_istarts(ct, "text/plain")) {
		unsigned char *raw = NULL;
		char why[200];

		if (sim_b64_decode(rq->body ? rq->body : "", rq->body_len, &raw, &mime_len) < 0 ||
		    !mime_len) {
			free(raw);
			rs_graph_error(rq, rs, 400, "ErrorMimeContentInvalidBase64String",
					 "Invalid base64 string for MIME content.");
			return;
		}
		if (simmime_parse((const char *)raw, mime_len, &fields, &atts, why, sizeof(why)) < 0) {
			free(raw);
			rs_graph_error(rq, rs, 400, "ErrorMimeContentInvalid",
					 "The MIME content is invalid: %s.", why);
			return;
		}
		mime = (char *)raw;
		json_object_del(fields, "sentDateTime");
		gr_submit(w, rq, rs, SIM_NONE, fields, atts, mime, mime_len, true);
		return;
	}
	if (!(b = rq_json_body(rq, rs, NULL)))
		return;
	msg = json_object_get(b, "message");
	if (json_is_false(json_object_get(b, "saveToSentItems")) ||
	    sim_ieq(json_string_value(json_object_get(b, "saveToSentItems")), "false"))
		save = false;   /* Graph's own examples send the string "false" */
	if (!json_is_object(msg)) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
				 "The request is missing the required 'message' object.");
		json_decref(b);
		return;
	}
	fields = json_object();
	if (gr_apply_message_json(rq, rs, fields, &flags, msg, true, true) < 0 ||
	    !(atts = gr_parse_attachments(rq, rs, json_object_get(msg, "attachments"), &total))) {
		json_decref(fields);
		json_decref(b);
		return;
	}
	json_decref(b);
	gr_submit(w, rq, rs, SIM_NONE, fields, atts, NULL, 0, save);
}

void gr_draft_send(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num = gr_message_arg(w, rq, rs, rq->caps[0]);
	struct sim_msg_ext *ext;
	json_t *fields, *atts;
	char *mime = NULL;

	if (num == SIM_NONE)
		return;
	if (!(rq->mb->msgs[num].flags & MSG_DRAFT)) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidOperation",
				 "Only draft messages can be sent; this message was already sent or received.");
		return;
	}
	ext = msgcontent_materialize(w, rq->mb, num);
	fields = json_deep_copy(ext->fields);
	atts = json_deep_copy(ext->attachments);
	if (ext->mime) {
		mime = xmalloc(ext->mime_len + 1);
		memcpy(mime, ext->mime, ext->mime_len);
		mime[ext->mime_len] = '\0';
	}
	gr_submit(w, rq, rs, num, fields, atts, mime, mime ? ext->mime_len : 0, true);
}

static void respond_and_send(struct sim_world *w, struct sim_req *rq,
			     struct sim_resp *rs, int kind)
{
	uint32_t num = gr_create_response(w, rq, rs, kind);
	struct sim_msg_ext *ext;

	if (num == SIM_NONE)
		return;
	if (kind == 2 && !json_array_size(json_object_get(rq->mb->msgs[num].ext->fields,
							   "toRecipients"))) {
		mbx_msg_destroy(rq->mb, num);
		rs_graph_error(rq, rs, 400, "ErrorInvalidRecipients",
				 "At least one recipient is required, but none were found.");
		return;
	}
	ext = rq->mb->msgs[num].ext;
	if (gr_submit(w, rq, rs, num, json_deep_copy(ext->fields),
			 json_deep_copy(ext->attachments), NULL, 0, true) < 0)
		mbx_msg_destroy(rq->mb, num);
}

void gr_reply(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	respond_and_send(w, rq, rs, 0);
}

void gr_reply_all(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	respond_and_send(w, rq, rs, 1);
}

void gr_forward(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	respond_and_send(w, rq, rs, 2);
}
