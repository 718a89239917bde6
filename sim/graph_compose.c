/*
 * graph_compose.c — drafts: create (JSON or base64 MIME, in Drafts or a
 * given folder, client-provided internetMessageId kept), createReply /
 * createReplyAll / createForward (a draft in the same conversation with
 * In-Reply-To / References), and the message-property table that PATCH
 * and sendMail share.
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
#include "msgjson.h"
#include "msgstore.h"

enum pkind { P_STRING, P_BODY, P_RECIPS, P_RECIP, P_IMID, P_HEADERS,
	     P_CATEGORIES, P_BOOL, P_READ, P_FLAG, P_IMPORTANCE, P_INFERENCE,
	     P_SKIP };

static const struct {
	const char *name;
	enum pkind kind;
	bool draft_only;
} props[] = {
	{ "subject", P_STRING, true },
	{ "body", P_BODY, true },
	{ "toRecipients", P_RECIPS, true },
	{ "ccRecipients", P_RECIPS, true },
	{ "bccRecipients", P_RECIPS, true },
	{ "replyTo", P_RECIPS, true },
	{ "from", P_RECIP, true },
	{ "sender", P_RECIP, true },
	{ "internetMessageId", P_IMID, true },
	{ "internetMessageHeaders", P_HEADERS, true },
	{ "categories", P_CATEGORIES, false },
	{ "isDeliveryReceiptRequested", P_BOOL, false },
	{ "isReadReceiptRequested", P_BOOL, false },
	{ "isRead", P_READ, false },
	{ "flag", P_FLAG, false },
	{ "importance", P_IMPORTANCE, false },
	{ "inferenceClassification", P_INFERENCE, false },
	{ "attachments", P_SKIP, false },
};

static json_t *recipient(const json_t *r)
{
	const json_t *ea = json_object_get(r, "emailAddress");
	const char *a = json_string_value(json_object_get(ea, "address"));
	const char *n = json_string_value(json_object_get(ea, "name"));

	if (!json_is_object(r) || !a)
		return NULL;
	return json_pack("{s:{s:s, s:s}}", "emailAddress", "name", n && *n ? n : a, "address", a);
}

static int bad(struct sim_req *rq, struct sim_resp *rs, const char *prop, const char *why)
{
	rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
			 "The value of property '%s' is invalid: %s", prop, why);
	return -1;
}

static int set_prop(struct sim_req *rq, struct sim_resp *rs, json_t *fields,
		    uint16_t *flags, const char *name, enum pkind kind,
		    const json_t *v)
{
	static const char *const flagnames[] = { "notFlagged", "flagged", "complete" };
	static const char *const imps[] = { "normal", "low", "high" };
	size_t i;
	json_t *e;

	switch (kind) {
	case P_STRING:
		if (!json_is_string(v))
			return bad(rq, rs, name, "expected a string");
		json_object_set(fields, name, (json_t *)v);
		return 0;
	case P_BODY: {
		const char *ct = json_string_value(json_object_get(v, "contentType"));
		const char *c = json_string_value(json_object_get(v, "content"));

		if (!json_is_object(v) || (ct && strcasecmp(ct, "text") && strcasecmp(ct, "html")))
			return bad(rq, rs, name, "expected {contentType: text|html, content}");
		json_object_set_new(fields, name, json_pack("{s:s, s:s}", "contentType",
							    ct && !strcasecmp(ct, "html") ? "html" : "text",
							    "content", c ? c : ""));
		return 0;
	}
	case P_RECIPS: {
		json_t *out = json_array();

		if (!json_is_array(v)) {
			json_decref(out);
			return bad(rq, rs, name, "expected an array of recipients");
		}
		json_array_foreach(v, i, e) {
			json_t *r = recipient(e);

			if (!r) {
				json_decref(out);
				return bad(rq, rs, name, "each recipient needs emailAddress.address");
			}
			json_array_append_new(out, r);
		}
		json_object_set_new(fields, name, out);
		return 0;
	}
	case P_RECIP: {
		json_t *r = recipient(v);

		if (!r)
			return bad(rq, rs, name, "expected {emailAddress:{address}}");
		json_object_set_new(fields, name, r);
		return 0;
	}
	case P_IMID: {
		const char *s = json_string_value(v);

		if (!s || s[0] != '<' || s[strlen(s) - 1] != '>' || !strchr(s, '@') ||
		    strlen(s) > 500) {
			rs_graph_error(rq, rs, 400, "ErrorInvalidInternetMessageId",
					 "The internetMessageId must look like <local@domain>.");
			return -1;
		}
		json_object_set(fields, name, (json_t *)v);
		return 0;
	}
	case P_HEADERS:
		if (!json_is_array(v))
			return bad(rq, rs, name, "expected an array of {name, value}");
		json_array_foreach(v, i, e) {
			const char *n = json_string_value(json_object_get(e, "name"));

			if (!n || !json_is_string(json_object_get(e, "value")))
				return bad(rq, rs, name, "expected an array of {name, value}");
			if (strncasecmp(n, "x-", 2) != 0) {
				rs_graph_error(rq, rs, 400, "InvalidInternetMessageHeader",
						 "The internet message header name '%s' should start with 'x-' or 'X-'.", n);
				return -1;
			}
		}
		json_object_set(fields, name, (json_t *)v);
		return 0;
	case P_CATEGORIES:
		if (!json_is_array(v))
			return bad(rq, rs, name, "expected an array of strings");
		json_array_foreach(v, i, e)
			if (!json_is_string(e))
				return bad(rq, rs, name, "expected an array of strings");
		json_object_set(fields, name, (json_t *)v);
		return 0;
	case P_BOOL:
		if (!json_is_boolean(v))
			return bad(rq, rs, name, "expected true or false");
		json_object_set(fields, name, (json_t *)v);
		return 0;
	case P_READ:
		if (!json_is_boolean(v))
			return bad(rq, rs, name, "expected true or false");
		*flags = json_is_true(v) ? (uint16_t)(*flags | MSG_READ) : (uint16_t)(*flags & ~MSG_READ);
		return 0;
	case P_FLAG: {
		const char *st = json_string_value(json_object_get(v, "flagStatus"));

		for (i = 0; st && i < 3; i++)
			if (strcasecmp(st, flagnames[i]) == 0)
				break;
		if (!st || i == 3)
			return bad(rq, rs, name, "flagStatus must be notFlagged, flagged or complete");
		*flags = (uint16_t)((*flags & ~MSG_FLAG_MASK) | (i << MSG_FLAG_SHIFT));
		return 0;
	}
	case P_IMPORTANCE: {
		const char *st = json_string_value(v);

		for (i = 0; st && i < 3; i++)
			if (strcasecmp(st, imps[i]) == 0)
				break;
		if (!st || i == 3)
			return bad(rq, rs, name, "importance must be low, normal or high");
		*flags = (uint16_t)((*flags & ~MSG_IMP_MASK) | (i << MSG_IMP_SHIFT));
		return 0;
	}
	case P_INFERENCE:
		if (!json_is_string(v) || (strcasecmp(json_string_value(v), "focused") &&
					   strcasecmp(json_string_value(v), "other")))
			return bad(rq, rs, name, "expected focused or other");
		json_object_set(fields, name, (json_t *)v);
		return 0;
	case P_SKIP:
		return 0;
	}
	return 0;
}

int gr_apply_message_json(struct sim_req *rq, struct sim_resp *rs,
			     json_t *fields, uint16_t *flags, const json_t *in,
			     bool draft, bool creating)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)in, key, v) {
		size_t i, n = sizeof(props) / sizeof(props[0]);

		if (key[0] == '@')
			continue;
		for (i = 0; i < n && strcasecmp(props[i].name, key) != 0; i++)
			;
		if (i == n) {
			if (msgjson_field_bit(key) >= 0)
				continue; /* read-only: ignored, as Graph does */
			rs_graph_error(rq, rs, 400, "ErrorInvalidProperty",
					 "The property '%s' does not exist on type 'microsoft.graph.message'.", key);
			return -1;
		}
		if (props[i].kind == P_SKIP && !creating) {
			rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
					 "Attachments cannot be changed with PATCH; use the attachments endpoint.");
			return -1;
		}
		if (props[i].draft_only && !draft) {
			rs_graph_error(rq, rs, 400, "ErrorInvalidPropertyUpdateSentMessage",
					 "Update operation on property '%s' is supported only on draft messages.",
					 props[i].name);
			return -1;
		}
		if (set_prop(rq, rs, fields, flags, props[i].name, props[i].kind, v) < 0)
			return -1;
	}
	return 0;
}

json_t *gr_parse_attachments(struct sim_req *rq, struct sim_resp *rs,
				const json_t *arr, size_t *total)
{
	json_t *out = json_array(), *a;
	size_t i;
	char t[SIMTIME_LEN];

	simtime_format(simtime_now(), false, t);
	if (arr && !json_is_array(arr)) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidRequest", "attachments must be an array.");
		json_decref(out);
		return NULL;
	}
	json_array_foreach(arr, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *b64 = json_string_value(json_object_get(a, "contentBytes"));
		const char *ct = json_string_value(json_object_get(a, "contentType"));
		const char *cid = json_string_value(json_object_get(a, "contentId"));
		unsigned char *bytes = NULL;
		size_t len = 0;

		if (!name || !b64 || sim_b64_decode(b64, strlen(b64), &bytes, &len) < 0) {
			rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
					 "Each attachment needs a name and base64 contentBytes.");
			json_decref(out);
			return NULL;
		}
		free(bytes);
		*total += len;
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:I, s:b, s:s, s:s}",
						     "@odata.type", "#microsoft.graph.fileAttachment",
						     "name", name, "contentType", ct ? ct : "application/octet-stream",
						     "size", (json_int_t)len, "isInline",
						     json_is_true(json_object_get(a, "isInline")),
						     "lastModifiedDateTime", t, "contentBytes", b64));
		json_object_set_new(json_array_get(out, json_array_size(out) - 1), "contentId",
				    cid ? json_string(cid) : json_null());
	}
	return out;
}

static json_t *me_recipient(const struct sim_user *u)
{
	return json_pack("{s:{s:s, s:s}}", "emailAddress", "name", u->name, "address", u->email);
}

/* Decode a base64 MIME body; NULL with 400 written when it is not base64
 * or not a message. */
static int mime_body(struct sim_req *rq, struct sim_resp *rs, json_t **fields,
		     json_t **atts, char **mime, size_t *mime_len)
{
	unsigned char *raw = NULL;
	size_t len = 0;
	char why[200];

	if (sim_b64_decode(rq->body ? rq->body : "", rq->body_len, &raw, &len) < 0 || !len) {
		rs_graph_error(rq, rs, 400, "ErrorMimeContentInvalidBase64String",
				 "Invalid base64 string for MIME content.");
		return -1;
	}
	if (simmime_parse((const char *)raw, len, fields, atts, why, sizeof(why)) < 0) {
		rs_graph_error(rq, rs, 400, "ErrorMimeContentInvalid", "The MIME content is invalid: %s.", why);
		free(raw);
		return -1;
	}
	*mime = (char *)raw;
	*mime_len = len;
	return 0;
}

void gr_draft_create(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	const char *ct = rq_header(rq, "Content-Type");
	uint32_t folder = rq->caps[0] ? gr_folder_arg(w, rq, rs, rq->caps[0])
				      : mbx_wk(rq->mb, WK_DRAFTS);
	json_t *fields = NULL, *atts = NULL, *b;
	char *mime = NULL;
	size_t mime_len = 0, total = 0;
	uint16_t flags = MSG_DRAFT | MSG_READ;
	uint32_t num;
	struct render_opts o = { 0 };

	if (folder == SIM_NONE)
		return;
	if (ct && sim_istarts(ct, "text/plain")) {
		if (mime_body(rq, rs, &fields, &atts, &mime, &mime_len) < 0)
			return;
		total = mime_len;
	} else {
		if (!(b = rq_json_body(rq, rs, NULL)))
			return;
		fields = json_object();
		if (gr_apply_message_json(rq, rs, fields, &flags, b, true, true) < 0 ||
		    !(atts = gr_parse_attachments(rq, rs, json_object_get(b, "attachments"), &total))) {
			json_decref(fields);
			json_decref(b);
			return;
		}
		json_decref(b);
	}
	if ((long)total > w->cfg.max_message_bytes) {
		rs_graph_error(rq, rs, 413, "ErrorMessageSizeExceeded",
				 "The message exceeds the maximum supported size of %ld bytes.",
				 w->cfg.max_message_bytes);
		json_decref(fields);
		json_decref(atts);
		free(mime);
		return;
	}
	if (!json_object_get(fields, "from"))
		json_object_set_new(fields, "from", me_recipient(rq->user));
	if (!json_object_get(fields, "sender"))
		json_object_set(fields, "sender", json_object_get(fields, "from"));
	flags |= MSG_DRAFT | MSG_READ;
	num = msgstore_put(w, rq->mb, folder, simtime_now(), flags, fields, atts, mime, mime_len);
	o.immutable = rq->prefer.immutable;
	o.body_type = rq->prefer.body_type;
	gr_preference_applied(rq, rs, 0);
	rs_json(rs, 201, msgjson_render(w, rq->mb, num, &o));
}

static bool is_me(const json_t *r, const struct sim_user *u)
{
	const char *a = json_string_value(json_object_get(json_object_get(r, "emailAddress"), "address"));

	return a && strcasecmp(a, u->email) == 0;
}

static void append_others(json_t *dst, const json_t *src, const struct sim_user *u)
{
	size_t i;
	json_t *r;

	json_array_foreach(src, i, r)
		if (!is_me(r, u))
			json_array_append(dst, r);
}

static void quoted_body(struct buf *b, const json_t *orig, const char *comment)
{
	const json_t *body = json_object_get(orig, "body");
	const char *ct = json_string_value(json_object_get(body, "contentType"));
	const char *content = json_string_value(json_object_get(body, "content"));
	const json_t *from = json_object_get(json_object_get(orig, "from"), "emailAddress");
	char *html = NULL;

	buf_puts(b, "<html><body><div>", NULL);
	sim_html_escape(b, comment ? comment : "");
	buf_puts(b, "</div><hr><div><b>From:</b> ", NULL);
	sim_html_escape(b, json_string_value(json_object_get(from, "name")));
	buf_puts(b, " &lt;", NULL);
	sim_html_escape(b, json_string_value(json_object_get(from, "address")));
	buf_puts(b, "&gt;<br><b>Sent:</b> ", NULL);
	sim_html_escape(b, json_string_value(json_object_get(orig, "sentDateTime")));
	buf_puts(b, "<br><b>Subject:</b> ", NULL);
	sim_html_escape(b, json_string_value(json_object_get(orig, "subject")));
	buf_puts(b, "</div><br>", NULL);
	if (ct && strcasecmp(ct, "html") == 0)
		buf_puts(b, content ? content : "", NULL);
	else {
		html = msgcontent_text_to_html(content);
		buf_puts(b, html, NULL);
		free(html);
	}
	buf_puts(b, "</body></html>", NULL);
}

uint32_t gr_create_response(struct sim_world *w, struct sim_req *rq,
			       struct sim_resp *rs, int kind)
{
	static const char *const prefixes[] = { "RE: ", "RE: ", "FW: " };
	uint32_t orig_num = gr_message_arg(w, rq, rs, rq->caps[0]);
	json_t *orig, *f, *to, *cc, *refs, *b = NULL, *atts = NULL, *msg;
	const char *subject, *imid;
	bool empty = false;
	uint16_t flags = MSG_DRAFT | MSG_READ;
	struct buf body;
	char *subj;

	if (orig_num == SIM_NONE)
		return SIM_NONE;
	if (rq->body_len && !(b = rq_json_body(rq, rs, &empty)) && !empty)
		return SIM_NONE;
	orig = msgcontent_fields(w, rq->mb, orig_num, WANT_ALL);
	f = json_object();
	subject = json_string_value(json_object_get(orig, "subject"));
	if (!subject)
		subject = "";
	subj = sim_istarts(subject, prefixes[kind]) ? xstrdup(subject)
						    : xasprintf("%s%s", prefixes[kind], subject);
	json_object_set_new(f, "subject", json_string(subj));
	free(subj);
	to = json_array();
	cc = json_array();
	if (kind < 2) {
		const json_t *from = json_object_get(orig, "from");
		const json_t *reply_to = json_object_get(orig, "replyTo");

		if (is_me(from, rq->user))
			append_others(to, json_object_get(orig, "toRecipients"), rq->user);
		else if (json_array_size(reply_to))
			json_array_extend(to, (json_t *)reply_to);
		else if (from)
			json_array_append(to, (json_t *)from);
		if (kind == 1) {
			if (!is_me(from, rq->user))
				append_others(to, json_object_get(orig, "toRecipients"), rq->user);
			append_others(cc, json_object_get(orig, "ccRecipients"), rq->user);
		}
	}
	json_object_set_new(f, "toRecipients", to);
	json_object_set_new(f, "ccRecipients", cc);
	json_object_set_new(f, "from", me_recipient(rq->user));
	json_object_set_new(f, "sender", me_recipient(rq->user));
	buf_init(&body, 0);
	quoted_body(&body, orig, json_string_value(json_object_get(b, "comment")));
	json_object_set_new(f, "body", json_pack("{s:s, s:s}", "contentType", "html",
						 "content", buf_str(&body)));
	buf_free(&body);
	imid = json_string_value(json_object_get(orig, "internetMessageId"));
	refs = json_deep_copy(json_object_get(orig, "_references"));
	if (!refs)
		refs = json_array();
	if (imid) {
		json_array_append_new(refs, json_string(imid));
		if (kind < 2)
			json_object_set_new(f, "_inReplyTo", json_string(imid));
	}
	json_object_set_new(f, "_references", refs);
	msgcontent_thread(f, simtime_now());
	if (json_object_get(orig, "conversationId"))
		json_object_set(f, "conversationId", json_object_get(orig, "conversationId"));
	if (kind == 2) {
		size_t i;
		json_t *a;

		atts = msgcontent_attachments(w, rq->mb, orig_num, true);
		json_array_foreach(atts, i, a)
			json_object_del(a, "_index");
	}
	msg = json_object_get(b, "message");
	if ((msg && gr_apply_message_json(rq, rs, f, &flags, msg, true, false) < 0) ||
	    (json_object_get(b, "toRecipients") &&
	     set_prop(rq, rs, f, &flags, "toRecipients", P_RECIPS,
		      json_object_get(b, "toRecipients")) < 0)) {
		json_decref(f);
		json_decref(orig);
		json_decref(atts);
		json_decref(b);
		return SIM_NONE;
	}
	json_decref(orig);
	json_decref(b);
	return msgstore_put(w, rq->mb, mbx_wk(rq->mb, WK_DRAFTS), simtime_now(),
			     (uint16_t)(flags | MSG_DRAFT), f, atts, NULL, 0);
}

static void create_and_render(struct sim_world *w, struct sim_req *rq,
			      struct sim_resp *rs, int kind)
{
	uint32_t num = gr_create_response(w, rq, rs, kind);
	struct render_opts o = { 0 };

	if (num == SIM_NONE)
		return;
	o.immutable = rq->prefer.immutable;
	o.body_type = rq->prefer.body_type;
	gr_preference_applied(rq, rs, 0);
	rs_json(rs, 201, msgjson_render(w, rq->mb, num, &o));
}

void gr_create_reply(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	create_and_render(w, rq, rs, 0);
}

void gr_create_reply_all(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	create_and_render(w, rq, rs, 1);
}

void gr_create_forward(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	create_and_render(w, rq, rs, 2);
}
