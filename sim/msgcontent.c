/*
 * msgcontent.c — message content from either source (see msgcontent.h).
 * Seeded content is rebuilt from seedgen on every call; nothing about it
 * is kept here, which keeps a million-message mailbox small (pages of
 * rendered messages may be kept, within a budget: msgcache.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "msgcontent.h"
#include "seedgen.h"
#include "simutil.h"

static json_t *str(const char *s)
{
	return json_string_nocheck(s ? s : "");
}

static json_t *recipient(const char *name, const char *addr)
{
	json_t *ea = json_object(), *r = json_object();

	json_object_set_new_nocheck(ea, "name", str(name ? name : addr));
	json_object_set_new_nocheck(ea, "address", str(addr));
	json_object_set_new_nocheck(r, "emailAddress", ea);
	return r;
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
		size_t n = strcspn(p, "\r\n");
		char *line = xstrndup(p, n);

		sim_html_escape(&b, line);
		free(line);
		p += n;
		if (*p == '\r' && p[1] == '\n')
			p += 2;
		else if (*p)
			p++;
		else
			break;
		buf_puts(&b, "<br>\r\n", NULL);
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

/* isspace() of the C locale m365sim runs in, without a call per byte. */
static bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

char *msgcontent_preview(const char *text)
{
	const unsigned char *p = (const unsigned char *)(text ? text : "");
	char *out = xmalloc(strlen((const char *)p) + 2);
	size_t len = 0, chars = 0;
	bool space = false;

	for (; *p && chars < 255; p++) {
		if (is_space(*p)) {
			space = len > 0;
			continue;
		}
		if (space) {
			out[len++] = ' ';
			chars++;
			space = false;
		}
		out[len++] = (char)*p;
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	/* never cut a UTF-8 sequence in half */
	while (len && ((unsigned char)out[len - 1] & 0xc0) == 0xc0)
		len--;
	out[len] = '\0';
	return out;
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

bool msgcontent_seeded(struct sim_mailbox *mb, uint32_t num, struct seed_content *c)
{
	struct sim_msg *m = &mb->msgs[num];

	if (m->ext || !batch_of(mb, m))
		return false;
	seeded_content(mb, m, c);
	return true;
}

static json_t *people(const struct seed_person *p, int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, recipient(p[i].name, p[i].addr));
	return a;
}

static void header(json_t *h, const char *name, const char *value)
{
	json_t *o = json_object();

	json_object_set_new_nocheck(o, "name", str(name));
	json_object_set_new_nocheck(o, "value", str(value));
	json_array_append_new(h, o);
}

static json_t *seeded_headers(const struct seed_content *c)
{
	json_t *h = json_array();
	char date[200], t[SIMTIME_LEN];

	simtime_format(c->received, false, t);
	snprintf(date, sizeof(date), "from mail.%s by outlook.office365.com; %s",
		 strchr(c->from.addr, '@') + 1, t);
	header(h, "Received", date);
	header(h, "From", c->from.addr);
	header(h, "To", c->to[0].addr);
	header(h, "Subject", c->subject);
	header(h, "Message-ID", c->imid);
	if (c->in_reply_to[0])
		header(h, "In-Reply-To", c->in_reply_to);
	header(h, "MIME-Version", "1.0");
	header(h, "Content-Type", c->natt ? "multipart/mixed" : "text/plain; charset=\"utf-8\"");
	return h;
}

static json_t *v_subject(const struct seed_content *c) { return str(c->subject); }
static json_t *v_from(const struct seed_content *c) { return recipient(c->from.name, c->from.addr); }
static json_t *v_to(const struct seed_content *c) { return people(c->to, c->nto); }
static json_t *v_cc(const struct seed_content *c) { return people(c->cc, c->ncc); }
static json_t *v_empty(const struct seed_content *c) { (void)c; return json_array(); }
static json_t *v_imid(const struct seed_content *c) { return str(c->imid); }
static json_t *v_focused(const struct seed_content *c) { (void)c; return str("focused"); }
static json_t *v_false(const struct seed_content *c) { (void)c; return json_false(); }
static json_t *v_irt(const struct seed_content *c) { return str(c->in_reply_to); }
static json_t *v_headers(const struct seed_content *c) { return seeded_headers(c); }

static json_t *v_time(int64_t t)
{
	char buf[SIMTIME_LEN];

	simtime_format(t, false, buf);
	return str(buf);
}

static json_t *v_sent(const struct seed_content *c) { return v_time(c->sent); }
static json_t *v_created(const struct seed_content *c) { return v_time(c->received); }

static json_t *v_conv_id(const struct seed_content *c)
{
	char *id = msgcontent_conversation_id(c->root_imid);
	json_t *v = str(id);

	free(id);
	return v;
}

static json_t *v_conv_index(const struct seed_content *c)
{
	char *ix = msgcontent_conversation_index(c->root_imid, c->depth, c->sent);
	json_t *v = str(ix);

	free(ix);
	return v;
}

static json_t *v_refs(const struct seed_content *c)
{
	json_t *refs = json_array();

	for (int i = 0; i < c->nrefs; i++)
		json_array_append_new(refs, str(c->references[i]));
	return refs;
}

static json_t *v_preview(const struct seed_content *c)
{
	struct buf b;
	char *prev;
	json_t *v;

	buf_init(&b, 0);
	seedgen_body_text(c, &b, 400);
	prev = msgcontent_preview(buf_str(&b));
	v = str(prev);
	free(prev);
	buf_free(&b);
	return v;
}

static json_t *v_body(const struct seed_content *c)
{
	struct buf b;
	char *html;
	json_t *v = json_object();

	buf_init(&b, 0);
	seedgen_body_text(c, &b, 0);
	html = msgcontent_text_to_html(buf_str(&b));
	json_object_set_new_nocheck(v, "contentType", str("html"));
	json_object_set_new_nocheck(v, "content", str(html));
	free(html);
	buf_free(&b);
	return v;
}

/* Content fields of seeded messages: name, generator, and which WANT_*
 * flag (0 = always) makes msgcontent_fields include it. */
static const struct {
	const char *name;
	json_t *(*fn)(const struct seed_content *c);
	int want;
} seeded_fields[] = {
	{ "subject", v_subject, 0 },
	{ "from", v_from, 0 },
	{ "sender", v_from, 0 },
	{ "toRecipients", v_to, 0 },
	{ "ccRecipients", v_cc, 0 },
	{ "bccRecipients", v_empty, 0 },
	{ "replyTo", v_empty, 0 },
	{ "internetMessageId", v_imid, 0 },
	{ "conversationId", v_conv_id, 0 },
	{ "conversationIndex", v_conv_index, 0 },
	{ "categories", v_empty, 0 },
	{ "inferenceClassification", v_focused, 0 },
	{ "isDeliveryReceiptRequested", v_false, 0 },
	{ "isReadReceiptRequested", v_false, 0 },
	{ "sentDateTime", v_sent, 0 },
	{ "createdDateTime", v_created, 0 },
	{ "_references", v_refs, 0 },
	{ "_inReplyTo", v_irt, 0 },
	{ "internetMessageHeaders", v_headers, WANT_HEADERS },
	{ "bodyPreview", v_preview, WANT_PREVIEW | WANT_BODY },
	{ "body", v_body, WANT_BODY },
};

json_t *msgcontent_seeded_value(const struct seed_content *c, const char *name)
{
	for (size_t i = 0; i < sizeof(seeded_fields) / sizeof(seeded_fields[0]); i++)
		if (strcmp(seeded_fields[i].name, name) == 0)
			return seeded_fields[i].fn(c);
	return NULL;
}

json_t *msgcontent_fields(struct sim_world *w, struct sim_mailbox *mb,
			  uint32_t num, int want)
{
	struct seed_content c;
	json_t *f;

	(void)w;
	if (mb->msgs[num].ext)
		return json_incref(mb->msgs[num].ext->fields);
	f = json_object();
	if (!msgcontent_seeded(mb, num, &c))
		return f;
	for (size_t i = 0; i < sizeof(seeded_fields) / sizeof(seeded_fields[0]); i++)
		if (!seeded_fields[i].want || (seeded_fields[i].want & want))
			json_object_set_new_nocheck(f, seeded_fields[i].name, seeded_fields[i].fn(&c));
	return f;
}

json_t *msgcontent_attachments(struct sim_world *w, struct sim_mailbox *mb,
			       uint32_t num, bool with_bytes)
{
	struct sim_msg *m = &mb->msgs[num];
	struct seed_content c;
	json_t *out = json_array();
	char t[SIMTIME_LEN];

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
	simtime_format(c.received, w->cfg.date_fractions, t);
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
	ext->fields = msgcontent_fields(w, mb, num, WANT_ALL);
	atts = msgcontent_attachments(w, mb, num, true);
	json_array_foreach(atts, i, a)
		json_object_del(a, "_index");
	ext->attachments = atts;
	m->ext = ext;
	return ext;
}
