/*
 * mime.c — MIME building and parsing over GMime 3 (see mime.h). Nothing
 * here hand-writes MIME syntax: headers, encodings and boundaries all go
 * through GMime; we only choose the boundary strings so that the same
 * message always serialises to the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "mime.h"
#include "msgcontent.h"
#include "simutil.h"

void simmime_init(void)
{
	g_mime_init();
}

void simmime_shutdown(void)
{
	g_mime_shutdown();
}

static const char *addr_of(const json_t *r, const char **name)
{
	const json_t *ea = json_object_get(r, "emailAddress");

	*name = json_string_value(json_object_get(ea, "name"));
	return json_string_value(json_object_get(ea, "address"));
}

static void add_people(GMimeMessage *msg, GMimeAddressType type, const json_t *arr)
{
	size_t i;
	json_t *r;

	if (json_is_object(arr)) {
		const char *name, *a = addr_of(arr, &name);

		if (a)
			g_mime_message_add_mailbox(msg, type, name && strcmp(name, a) ? name : NULL, a);
		return;
	}
	json_array_foreach(arr, i, r) {
		const char *name, *a = addr_of(r, &name);

		if (a)
			g_mime_message_add_mailbox(msg, type, name && strcmp(name, a) ? name : NULL, a);
	}
}

static char *strip_brackets(const char *id)
{
	size_t n = strlen(id);

	if (n >= 2 && id[0] == '<' && id[n - 1] == '>')
		return xstrndup(id + 1, n - 2);
	return xstrdup(id);
}

static GMimeObject *text_part(const char *subtype, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);

	g_mime_text_part_set_text(tp, text ? text : "");
	return GMIME_OBJECT(tp);
}

static GMimeObject *attachment_part(const json_t *a)
{
	const char *ct = json_string_value(json_object_get(a, "contentType"));
	const char *name = json_string_value(json_object_get(a, "name"));
	const char *b64 = json_string_value(json_object_get(a, "contentBytes"));
	GMimeContentType *type = g_mime_content_type_parse(NULL, ct ? ct : "application/octet-stream");
	GMimePart *part = g_mime_part_new_with_type(g_mime_content_type_get_media_type(type),
						    g_mime_content_type_get_media_subtype(type));
	unsigned char *bytes = NULL;
	size_t len = 0;
	GMimeStream *ms;
	GMimeDataWrapper *dw;

	g_object_unref(type);
	if (!b64 || sim_b64_decode(b64, strlen(b64), &bytes, &len) < 0) {
		bytes = (unsigned char *)xstrdup("");
		len = 0;
	}
	ms = g_mime_stream_mem_new_with_buffer((const char *)bytes, len);
	dw = g_mime_data_wrapper_new_with_stream(ms, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, dw);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	g_mime_part_set_filename(part, name ? name : "attachment");
	if (json_is_true(json_object_get(a, "isInline")))
		g_mime_object_set_disposition(GMIME_OBJECT(part), "inline");
	if (json_string_value(json_object_get(a, "contentId")))
		g_mime_part_set_content_id(part, json_string_value(json_object_get(a, "contentId")));
	g_object_unref(dw);
	g_object_unref(ms);
	free(bytes);
	return GMIME_OBJECT(part);
}

int simmime_build_fields(const json_t *fields, const json_t *atts, struct buf *out)
{
	GMimeMessage *msg = g_mime_message_new(TRUE);
	const json_t *body = json_object_get(fields, "body");
	const char *ct = json_string_value(json_object_get(body, "contentType"));
	const char *content = json_string_value(json_object_get(body, "content"));
	const char *imid = json_string_value(json_object_get(fields, "internetMessageId"));
	const char *irt = json_string_value(json_object_get(fields, "_inReplyTo"));
	const char *sent = json_string_value(json_object_get(fields, "sentDateTime"));
	const json_t *refs = json_object_get(fields, "_references");
	GMimeObject *top;
	GMimeStream *stream;
	GMimeFormatOptions *fo;
	GByteArray *ba;
	int64_t t = 0;
	uint64_t bseed = sim_hash64(imid ? imid : "", imid ? strlen(imid) : 0);
	char boundary[64];
	int rc;

	add_people(msg, GMIME_ADDRESS_TYPE_FROM, json_object_get(fields, "from"));
	add_people(msg, GMIME_ADDRESS_TYPE_TO, json_object_get(fields, "toRecipients"));
	add_people(msg, GMIME_ADDRESS_TYPE_CC, json_object_get(fields, "ccRecipients"));
	add_people(msg, GMIME_ADDRESS_TYPE_BCC, json_object_get(fields, "bccRecipients"));
	add_people(msg, GMIME_ADDRESS_TYPE_REPLY_TO, json_object_get(fields, "replyTo"));
	g_mime_message_set_subject(msg, json_string_value(json_object_get(fields, "subject"))
					? json_string_value(json_object_get(fields, "subject")) : "",
				   "utf-8");
	if (sent && simtime_parse(sent, &t, NULL) == 0) {
		GDateTime *dt = g_date_time_new_from_unix_utc(t);

		g_mime_message_set_date(msg, dt);
		g_date_time_unref(dt);
	}
	if (imid) {
		char *bare = strip_brackets(imid);

		g_mime_message_set_message_id(msg, bare);
		free(bare);
	}
	if (irt && *irt)
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", irt, NULL);
	if (json_array_size(refs)) {
		struct buf r;
		size_t i;
		json_t *v;

		buf_init(&r, 0);
		json_array_foreach(refs, i, v)
			buf_printf(&r, NULL, "%s%s", i ? " " : "", json_string_value(v));
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", buf_str(&r), NULL);
		buf_free(&r);
	}
	if (ct && strcasecmp(ct, "html") == 0) {
		GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
		char *text = msgcontent_html_to_text(content);
		GMimeObject *p1 = text_part("plain", text), *p2 = text_part("html", content);

		snprintf(boundary, sizeof(boundary), "_000_%016llx_alt_", (unsigned long long)bseed);
		g_mime_multipart_set_boundary(alt, boundary);
		g_mime_multipart_add(alt, p1);
		g_mime_multipart_add(alt, p2);
		g_object_unref(p1);
		g_object_unref(p2);
		free(text);
		top = GMIME_OBJECT(alt);
	} else {
		top = text_part("plain", content);
	}
	if (json_array_size(atts)) {
		GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
		size_t i;
		json_t *a;

		snprintf(boundary, sizeof(boundary), "_004_%016llx_mixed_", (unsigned long long)bseed);
		g_mime_multipart_set_boundary(mixed, boundary);
		g_mime_multipart_add(mixed, top);
		g_object_unref(top);
		json_array_foreach(atts, i, a) {
			GMimeObject *p = attachment_part(a);

			g_mime_multipart_add(mixed, p);
			g_object_unref(p);
		}
		top = GMIME_OBJECT(mixed);
	}
	g_mime_message_set_mime_part(msg, top);
	g_object_unref(top);
	stream = g_mime_stream_mem_new();
	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, stream);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
	rc = buf_append(out, ba->data, ba->len, NULL);
	g_mime_format_options_free(fo);
	g_object_unref(stream);
	g_object_unref(msg);
	return rc;
}

int simmime_build(struct sim_world *w, struct sim_mailbox *mb, uint32_t num,
	       struct buf *out)
{
	struct sim_msg *m = &mb->msgs[num];
	json_t *fields, *atts;
	int rc;

	if (m->ext && m->ext->mime)
		return buf_append(out, m->ext->mime, m->ext->mime_len, NULL);
	fields = msgcontent_fields(w, mb, num, WANT_BODY);
	atts = msgcontent_attachments(w, mb, num, true);
	rc = simmime_build_fields(fields, atts, out);
	json_decref(fields);
	json_decref(atts);
	return rc;
}

/* ---- parsing ---- */

static json_t *people_of(InternetAddressList *l)
{
	json_t *arr = json_array();
	int n = l ? internet_address_list_length(l) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		const char *name = internet_address_get_name(ia);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));

			json_array_append_new(arr, json_pack("{s:{s:s, s:s}}", "emailAddress", "name",
							     name && *name ? name : a, "address", a));
		} else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			json_t *sub = people_of(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));

			json_array_extend(arr, sub);
			json_decref(sub);
		}
	}
	return arr;
}

struct walk {
	char *text;
	char *html;
	json_t *atts;
};

static void walk_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct walk *wk = data;
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	bool is_att;

	(void)parent;
	if (!GMIME_IS_PART(part))
		return;
	is_att = g_mime_part_is_attachment(GMIME_PART(part)) ||
		 g_mime_part_get_filename(GMIME_PART(part)) != NULL;
	if (!is_att && GMIME_IS_TEXT_PART(part)) {
		char **slot = g_mime_content_type_is_type(ct, "text", "html") ? &wk->html : &wk->text;

		if (!*slot) {
			char *t = g_mime_text_part_get_text(GMIME_TEXT_PART(part));

			*slot = xstrdup(t ? t : "");
			g_free(t);
		}
		return;
	}
	{
		GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(part));
		GMimeStream *ms = g_mime_stream_mem_new();
		GByteArray *ba;
		char *b64, *mt;
		const char *fn = g_mime_part_get_filename(GMIME_PART(part));
		const char *cid = g_mime_part_get_content_id(GMIME_PART(part));

		if (dw)
			g_mime_data_wrapper_write_to_stream(dw, ms);
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
		b64 = sim_b64(ba->data, ba->len);
		mt = g_mime_content_type_get_mime_type(ct);
		json_array_append_new(wk->atts, json_pack("{s:s, s:s, s:s, s:I, s:b, s:s, s:s}",
							  "@odata.type", "#microsoft.graph.fileAttachment",
							  "name", fn ? fn : "attachment",
							  "contentType", mt, "size", (json_int_t)ba->len,
							  "isInline", !g_mime_part_is_attachment(GMIME_PART(part)),
							  "contentBytes", b64, "contentId", cid ? cid : ""));
		if (!cid)
			json_object_set_new(json_array_get(wk->atts, json_array_size(wk->atts) - 1),
					    "contentId", json_null());
		g_free(mt);
		free(b64);
		g_object_unref(ms);
	}
}

int simmime_parse(const char *data, size_t len, json_t **fields, json_t **atts,
	       char *why, size_t whylen)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);
	struct walk wk = { NULL, NULL, json_array() };
	json_t *f, *hdrs;
	const char *v;
	GDateTime *dt;
	GMimeHeaderList *hl;

	g_object_unref(p);
	g_object_unref(st);
	if (!msg || !g_mime_message_get_mime_part(msg)) {
		snprintf(why, whylen, "the MIME content could not be parsed as a message");
		if (msg)
			g_object_unref(msg);
		json_decref(wk.atts);
		return -1;
	}
	g_mime_message_foreach(msg, walk_part, &wk);
	f = json_object();
	v = g_mime_message_get_subject(msg);
	json_object_set_new(f, "subject", json_string(v ? v : ""));
	{
		json_t *from = people_of(g_mime_message_get_from(msg));

		if (json_array_size(from)) {
			json_object_set(f, "from", json_array_get(from, 0));
			json_object_set(f, "sender", json_array_get(from, 0));
		}
		json_decref(from);
	}
	json_object_set_new(f, "toRecipients", people_of(g_mime_message_get_to(msg)));
	json_object_set_new(f, "ccRecipients", people_of(g_mime_message_get_cc(msg)));
	json_object_set_new(f, "bccRecipients", people_of(g_mime_message_get_bcc(msg)));
	json_object_set_new(f, "replyTo", people_of(g_mime_message_get_reply_to(msg)));
	v = g_mime_message_get_message_id(msg);
	if (v && *v) {
		char *id = xasprintf("<%s>", v);

		json_object_set_new(f, "internetMessageId", json_string(id));
		free(id);
	}
	v = g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To");
	if (v) {
		GMimeReferences *r = g_mime_references_parse(NULL, v);

		if (r && g_mime_references_length(r) > 0) {
			char *id = xasprintf("<%s>", g_mime_references_get_message_id(r, 0));

			json_object_set_new(f, "_inReplyTo", json_string(id));
			free(id);
		}
		if (r)
			g_mime_references_free(r);
	}
	v = g_mime_object_get_header(GMIME_OBJECT(msg), "References");
	{
		json_t *refs = json_array();
		GMimeReferences *r = v ? g_mime_references_parse(NULL, v) : NULL;

		for (int i = 0; r && i < g_mime_references_length(r); i++) {
			char *id = xasprintf("<%s>", g_mime_references_get_message_id(r, i));

			json_array_append_new(refs, json_string(id));
			free(id);
		}
		if (r)
			g_mime_references_free(r);
		json_object_set_new(f, "_references", refs);
	}
	dt = g_mime_message_get_date(msg);
	if (dt) {
		char t[SIMTIME_LEN];

		simtime_format((int64_t)g_date_time_to_unix(dt), false, t);
		json_object_set_new(f, "sentDateTime", json_string(t));
	}
	if (wk.html)
		json_object_set_new(f, "body", json_pack("{s:s, s:s}", "contentType", "html",
							 "content", wk.html));
	else
		json_object_set_new(f, "body", json_pack("{s:s, s:s}", "contentType", "text",
							 "content", wk.text ? wk.text : ""));
	hdrs = json_array();
	hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	for (int i = 0; hl && i < g_mime_header_list_get_count(hl); i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *hv = g_mime_header_get_value(h);

		json_array_append_new(hdrs, json_pack("{s:s, s:s}", "name", g_mime_header_get_name(h),
						      "value", hv ? hv : ""));
	}
	json_object_set_new(f, "internetMessageHeaders", hdrs);
	json_object_set_new(f, "categories", json_array());
	free(wk.text);
	free(wk.html);
	g_object_unref(msg);
	*fields = f;
	*atts = wk.atts;
	return 0;
}
