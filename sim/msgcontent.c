/*
 * msgcontent.c — message content from either source (see msgcontent.h).
 * Seeded content is rebuilt from seedgen on every call; nothing about it
 * is cached, which keeps a million-message mailbox small.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "msgcontent.h"
#include "seedgen.h"
#include "simutil.h"

static json_t *recipient(const char *name, const char *addr)
{
	return json_pack("{s:{s:s, s:s}}", "emailAddress", "name", name ? name : addr,
			 "address", addr);
}

char *msgcontent_conversation_id(const char *root)
{
	unsigned char h[28];
	unsigned char raw[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)root, strlen(root),
			   NULL, 0);
	raw[0] = 0x00; raw[1] = 0x04; raw[2] = 0x24; raw[3] = 0x00;
	memcpy(raw + 4, h, sizeof(h));
	return sim_b64url(raw, sizeof(raw), true);
}

char *msgcontent_conversation_index(const char *root, int depth, int64_t t)
{
	unsigned char raw[22 + 5 * 8];
	unsigned char h[16];
	uint64_t ft = (uint64_t)(t + 11644473600LL) * 10000000ULL;
	size_t n = 22;

	if (depth < 0)
		depth = 0;
	if (depth > 8)
		depth = 8;
	crypto_generichash(h, sizeof(h), (const unsigned char *)root, strlen(root),
			   NULL, 0);
	raw[0] = 0x01;
	for (int i = 0; i < 5; i++)
		raw[1 + i] = (unsigned char)(ft >> (56 - 8 * i));
	memcpy(raw + 6, h, 16);
	for (int d = 0; d < depth; d++) {
		raw[n++] = (unsigned char)(d + 1);
		raw[n++] = h[d % 16];
		raw[n++] = h[(d + 3) % 16];
		raw[n++] = h[(d + 7) % 16];
		raw[n++] = (unsigned char)(0x80 | d);
	}
	return sim_b64(raw, n);
}

void msgcontent_thread(json_t *fields, int64_t t)
{
	json_t *refs = json_object_get(fields, "_references");
	const char *irt = json_string_value(json_object_get(fields, "_inReplyTo"));
	const char *own = json_string_value(json_object_get(fields, "internetMessageId"));
	const char *root = own ? own : "";
	int depth = (int)json_array_size(refs);
	char *cid, *cix;

	if (json_array_size(refs))
		root = json_string_value(json_array_get(refs, 0));
	else if (irt && *irt) {
		root = irt;
		depth = 1;
	}
	cid = msgcontent_conversation_id(root);
	cix = msgcontent_conversation_index(root, depth, t);
	json_object_set_new(fields, "conversationId", json_string(cid));
	json_object_set_new(fields, "conversationIndex", json_string(cix));
	free(cid);
	free(cix);
}

char *msgcontent_text_to_html(const char *text)
{
	struct buf b;
	const char *p = text ? text : "";

	buf_init(&b, 0);
	buf_puts(&b, "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n"
		     "</head>\r\n<body>\r\n<div>", NULL);
	while (*p) {
		if (p[0] == '\r' && p[1] == '\n') {
			buf_puts(&b, "<br>\r\n", NULL);
			p += 2;
			continue;
		}
		if (*p == '\n') {
			buf_puts(&b, "<br>\r\n", NULL);
			p++;
			continue;
		}
		{
			char one[2] = { *p, 0 };

			sim_html_escape(&b, one);
		}
		p++;
	}
	buf_puts(&b, "</div>\r\n</body>\r\n</html>\r\n", NULL);
	return buf_detach(&b, NULL);
}

char *msgcontent_html_to_text(const char *html)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&#39;", '\'' }, { "&nbsp;", ' ' },
	};
	struct buf b;
	const char *p = html ? html : "";
	bool in_tag = false, in_head = false;

	buf_init(&b, 0);
	while (*p) {
		if (!in_tag && *p == '<') {
			in_tag = true;
			if (strncasecmp(p, "<br", 3) == 0 || strncasecmp(p, "</p", 3) == 0 ||
			    strncasecmp(p, "</div", 5) == 0)
				buf_puts(&b, "\r\n", NULL);
			if (strncasecmp(p, "<head", 5) == 0)
				in_head = true;
			if (strncasecmp(p, "</head", 6) == 0)
				in_head = false;
			p++;
			continue;
		}
		if (in_tag) {
			if (*p == '>')
				in_tag = false;
			p++;
			continue;
		}
		if (in_head || (*p == '\r' || *p == '\n')) {
			p++;
			continue;
		}
		if (*p == '&') {
			bool done = false;

			for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
				size_t n = strlen(ents[i].ent);

				if (strncmp(p, ents[i].ent, n) == 0) {
					buf_append(&b, &ents[i].c, 1, NULL);
					p += n;
					done = true;
					break;
				}
			}
			if (done)
				continue;
		}
		buf_append(&b, p, 1, NULL);
		p++;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	return buf_detach(&b, NULL);
}

char *msgcontent_preview(const char *text)
{
	struct buf b;
	bool space = false;
	size_t chars = 0;

	buf_init(&b, 0);
	for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p && chars < 255; p++) {
		if (isspace(*p)) {
			space = b.len > 0;
			continue;
		}
		if (space) {
			buf_append(&b, " ", 1, NULL);
			chars++;
			space = false;
		}
		buf_append(&b, p, 1, NULL);
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	/* never cut a UTF-8 sequence in half */
	while (b.len && ((unsigned char)b.data[b.len - 1] & 0xc0) == 0xc0)
		b.data[--b.len] = '\0';
	return buf_detach(&b, NULL);
}

char *msgcontent_new_imid(const char *sender_addr)
{
	unsigned char r[10];
	char hex[21];
	const char *at = sender_addr ? strchr(sender_addr, '@') : NULL;

	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
	for (char *c = hex; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	(void)at;
	return xasprintf("<SN6PR01MB%s@SN6PR01MB%.4s.namprd01.prod.outlook.com>", hex, hex + 16);
}

static const struct sim_batch *batch_of(struct sim_mailbox *mb,
					const struct sim_msg *m)
{
	return m->batch && m->batch <= mb->nbatches ? &mb->batches[m->batch - 1] : NULL;
}

static void seeded_content(struct sim_mailbox *mb, const struct sim_msg *m,
			   struct seed_content *c)
{
	seedgen_content(batch_of(mb, m), m->batch, m->seed_index, mb->owner->name,
			mb->owner->email, c);
}

static json_t *people(const struct seed_person *p, int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, recipient(p[i].name, p[i].addr));
	return a;
}

static json_t *seeded_headers(const struct seed_content *c)
{
	json_t *h = json_array();
	char date[200], t[TIME_RFC3339_LEN];

#define HDR(n, v) json_array_append_new(h, json_pack("{s:s, s:s}", "name", n, "value", v))
	time_format_rfc3339(c->received, t);
	snprintf(date, sizeof(date), "from mail.%s by outlook.office365.com; %s",
		 strchr(c->from.addr, '@') + 1, t);
	HDR("Received", date);
	HDR("From", c->from.addr);
	HDR("To", c->to[0].addr);
	HDR("Subject", c->subject);
	HDR("Message-ID", c->imid);
	if (c->in_reply_to[0])
		HDR("In-Reply-To", c->in_reply_to);
	HDR("MIME-Version", "1.0");
	HDR("Content-Type", c->natt ? "multipart/mixed" : "text/plain; charset=\"utf-8\"");
#undef HDR
	return h;
}

json_t *msgcontent_fields(struct sim_world *w, struct sim_mailbox *mb,
			  uint32_t num, bool want_body)
{
	struct sim_msg *m = &mb->msgs[num];
	struct seed_content c;
	char t[TIME_RFC3339_LEN];
	json_t *f, *refs;
	char *cid, *cix;

	(void)w;
	if (m->ext)
		return json_incref(m->ext->fields);
	seeded_content(mb, m, &c);
	cid = msgcontent_conversation_id(c.root_imid);
	cix = msgcontent_conversation_index(c.root_imid, c.depth, c.sent);
	refs = json_array();
	for (int i = 0; i < c.nrefs; i++)
		json_array_append_new(refs, json_string(c.references[i]));
	f = json_pack("{s:s, s:o, s:o, s:o, s:o, s:[], s:[], s:s, s:s, s:s, s:[], s:s, s:b, s:b, s:o, s:s}",
		      "subject", c.subject,
		      "from", recipient(c.from.name, c.from.addr),
		      "sender", recipient(c.from.name, c.from.addr),
		      "toRecipients", people(c.to, c.nto),
		      "ccRecipients", people(c.cc, c.ncc),
		      "bccRecipients", "replyTo",
		      "internetMessageId", c.imid,
		      "conversationId", cid, "conversationIndex", cix,
		      "categories", "inferenceClassification", "focused",
		      "isDeliveryReceiptRequested", 0, "isReadReceiptRequested", 0,
		      "_references", refs, "_inReplyTo", c.in_reply_to);
	time_format_rfc3339(c.sent, t);
	json_object_set_new(f, "sentDateTime", json_string(t));
	time_format_rfc3339(c.received, t);
	json_object_set_new(f, "createdDateTime", json_string(t));
	json_object_set_new(f, "internetMessageHeaders", seeded_headers(&c));
	if (want_body) {
		struct buf b;
		char *html, *prev;

		buf_init(&b, 0);
		seedgen_body_text(&c, &b);
		html = msgcontent_text_to_html(buf_str(&b));
		prev = msgcontent_preview(buf_str(&b));
		json_object_set_new(f, "body", json_pack("{s:s, s:s}", "contentType", "html",
							 "content", html));
		json_object_set_new(f, "bodyPreview", json_string(prev));
		free(html);
		free(prev);
		buf_free(&b);
	}
	free(cid);
	free(cix);
	return f;
}

json_t *msgcontent_attachments(struct sim_world *w, struct sim_mailbox *mb,
			       uint32_t num, bool with_bytes)
{
	struct sim_msg *m = &mb->msgs[num];
	struct seed_content c;
	json_t *out = json_array();
	char t[TIME_RFC3339_LEN];

	(void)w;
	if (m->ext) {
		size_t i;
		json_t *a;

		json_array_foreach(m->ext->attachments, i, a) {
			json_t *copy = json_deep_copy(a);

			if (!with_bytes)
				json_object_del(copy, "contentBytes");
			json_object_set_new(copy, "_index", json_integer((json_int_t)i));
			json_array_append_new(out, copy);
		}
		return out;
	}
	if (!(m->flags & MSG_HASATT))
		return out;
	seeded_content(mb, m, &c);
	time_format_rfc3339(c.received, t);
	for (int k = 0; k < c.natt; k++) {
		json_t *a = json_pack("{s:s, s:s, s:s, s:I, s:b, s:n, s:n, s:s, s:I}",
				      "@odata.type", "#microsoft.graph.fileAttachment",
				      "name", c.att[k].name, "contentType", c.att[k].content_type,
				      "size", (json_int_t)c.att[k].size, "isInline", 0,
				      "contentId", "contentLocation",
				      "lastModifiedDateTime", t, "_index", (json_int_t)k);

		if (with_bytes) {
			struct buf b;
			char *b64;

			buf_init(&b, 0);
			seedgen_attachment_bytes(&c, k, &b);
			b64 = sim_b64(b.data ? b.data : "", b.len);
			json_object_set_new(a, "contentBytes", json_string(b64));
			free(b64);
			buf_free(&b);
		}
		json_array_append_new(out, a);
	}
	return out;
}

struct sim_msg_ext *msgcontent_materialize(struct sim_world *w,
					   struct sim_mailbox *mb, uint32_t num)
{
	struct sim_msg *m = &mb->msgs[num];
	struct sim_msg_ext *ext;
	json_t *atts;
	size_t i;
	json_t *a;

	if (m->ext)
		return m->ext;
	ext = xcalloc(1, sizeof(*ext));
	ext->fields = msgcontent_fields(w, mb, num, true);
	atts = msgcontent_attachments(w, mb, num, true);
	json_array_foreach(atts, i, a)
		json_object_del(a, "_index");
	ext->attachments = atts;
	m->ext = ext;
	return ext;
}
