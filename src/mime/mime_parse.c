/*
 * mime_parse.c — reading received messages with GMime: the header fields
 * a mailbox listing shows (Message-ID, subject, From/To/Cc, Date), a
 * preview of the text, whether parts are attachments, the conversation a
 * message belongs to (from References / In-Reply-To), the body to show
 * (HTML preferred, else text, decoded to UTF-8), and the envelope of a
 * message to submit (recipients; the copy without Bcc). It works on a
 * whole message or on a header with the first bytes of the text, which
 * is what a metadata fetch brings. It never builds messages (see
 * mime_compose.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/mime.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
	g_mime_init();
}

static GMimeMessage *parse_message(const char *raw, size_t len)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	pthread_once(&gmime_once, gmime_start);
	stream = g_mime_stream_mem_new_with_buffer(raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}

static int not_mime(struct err *e)
{
	return err_set(e, ERR_PERMANENT, "bad_message", "the message could not be "
		       "read as MIME (no header)");
}

/* ---- addresses ------------------------------------------------------------------ */

/* Mailboxes of `list` (groups flattened), as heap strings. */
static void take_addresses(InternetAddressList *list, struct mail_address **out,
			   size_t *n)
{
	int count = list ? internet_address_list_length(list) : 0;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (int i = 0; i < count; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			struct mail_address *sub;
			size_t nsub;

			take_addresses(internet_address_group_get_members(
					       INTERNET_ADDRESS_GROUP(ia)), &sub, &nsub);
			if (*n + nsub > cap) {
				cap = *n + nsub + 4;
				*out = xrealloc(*out, cap * sizeof(**out));
			}
			memcpy(*out + *n, sub, nsub * sizeof(*sub));
			*n += nsub;
			free(sub);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[*n].name = xstrdup(internet_address_get_name(ia) ?
					  internet_address_get_name(ia) : "");
		(*out)[*n].address = xstrdup(internet_address_mailbox_get_addr(
						     INTERNET_ADDRESS_MAILBOX(ia)) ?: "");
		(*n)++;
	}
}

static void free_addresses(struct mail_address *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)a[i].name);
		free((char *)a[i].address);
	}
	free(a);
}

/* ---- text -------------------------------------------------------------------------- */

/* The decoded content of a leaf part as UTF-8 (heap, NUL-terminated). */
static char *part_text(GMimePart *part, size_t *len)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	const char *charset = g_mime_object_get_content_type_parameter(
		GMIME_OBJECT(part), "charset");
	GMimeStream *mem, *filtered;
	GByteArray *bytes;
	char *out;

	if (!content) {
		*len = 0;
		return xstrdup("");
	}
	mem = g_mime_stream_mem_new();
	filtered = g_mime_stream_filter_new(mem);
	if (charset && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "us-ascii") != 0) {
		GMimeFilter *f = g_mime_filter_charset_new(charset, "utf-8");

		if (f) {
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
			g_object_unref(f);
		}
	}
	g_mime_data_wrapper_write_to_stream(content, filtered);
	g_mime_stream_flush(filtered);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	out = bytes->len ? xstrndup((const char *)bytes->data, bytes->len) : xstrdup("");
	*len = bytes->len;
	g_object_unref(filtered);
	g_object_unref(mem);
	return out;
}

static bool is_attachment(GMimeObject *part)
{
	GMimeContentDisposition *d = g_mime_object_get_content_disposition(part);
	GMimeContentType *t = g_mime_object_get_content_type(part);

	if (d && g_mime_content_disposition_is_attachment(d))
		return true;
	if (GMIME_IS_PART(part) && g_mime_part_get_filename(GMIME_PART(part)) &&
	    !g_mime_content_type_is_type(t, "text", "*"))
		return true;
	return false;
}

struct walk {
	GMimePart *text;         /* first text/plain that is not an attachment */
	GMimePart *html;         /* first text/html that is not an attachment */
	bool attachments;
};

static void visit(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct walk *w = data;
	GMimeContentType *t = g_mime_object_get_content_type(part);

	(void)parent;
	if (!GMIME_IS_PART(part))
		return;
	if (is_attachment(part)) {
		w->attachments = true;
		return;
	}
	if (!w->text && g_mime_content_type_is_type(t, "text", "plain"))
		w->text = GMIME_PART(part);
	else if (!w->html && g_mime_content_type_is_type(t, "text", "html"))
		w->html = GMIME_PART(part);
}

static void walk_message(GMimeMessage *msg, struct walk *w)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);

	memset(w, 0, sizeof(*w));
	if (!top)
		return;
	if (GMIME_IS_MULTIPART(top))
		g_mime_multipart_foreach(GMIME_MULTIPART(top), visit, w);
	else
		visit(NULL, top, w);
}

/* Text of HTML for a preview: tags dropped, a few entities decoded. */
static void strip_html(char *s)
{
	static const struct { const char *name; char c; } entities[] = {
		{ "&nbsp;", ' ' }, { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&#39;", '\'' },
	};
	char *out = s;
	bool in_tag = false;

	for (char *p = s; *p; p++) {
		if (in_tag) {
			in_tag = *p != '>';
			continue;
		}
		if (*p == '<') {
			in_tag = true;
			*out++ = ' ';
			continue;
		}
		if (*p == '&') {
			size_t i;

			for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++)
				if (strncasecmp(p, entities[i].name, strlen(entities[i].name)) == 0)
					break;
			if (i < sizeof(entities) / sizeof(entities[0])) {
				*out++ = entities[i].c;
				p += strlen(entities[i].name) - 1;
				continue;
			}
		}
		*out++ = *p;
	}
	*out = '\0';
}

/* Whether the UTF-8 text out[0..j) ends inside a character. */
static bool i_is_cut(const char *out, size_t j)
{
	const char *end;

	return !g_utf8_validate(out, (gssize)j, &end) && (size_t)(end - out) + 4 > j;
}

/* Whitespace runs become one space; at most `max` characters (UTF-8 is
 * cut at a character boundary). */
static char *preview_of(const char *text, size_t max)
{
	size_t n = strlen(text), j = 0, chars = 0;
	char *out = xmalloc(n + 1);
	bool space = true;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if ((c & 0xc0) != 0x80 && chars >= max)
			break; /* the next character would be one too many */
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (!space) {
				out[j++] = ' ';
				chars++;
			}
			space = true;
			continue;
		}
		space = false;
		out[j++] = (char)c;
		if ((c & 0xc0) != 0x80)
			chars++;
	}
	/* the last character may have been cut in the middle */
	while (j && ((unsigned char)out[j - 1] & 0x80) && i_is_cut(out, j))
		j--;
	while (j && out[j - 1] == ' ')
		j--;
	out[j] = '\0';
	if (!g_utf8_validate(out, (gssize)j, NULL)) {
		/* a wrong charset label: replacement characters, never bad UTF-8 */
		gchar *valid = g_utf8_make_valid(out, (gssize)j);

		free(out);
		out = xstrdup(valid);
		g_free(valid);
	}
	return out;
}

/* ---- threading ---------------------------------------------------------------------- */

/* "<id>" of a bare Message-ID from GMime, or NULL. */
static char *bracketed(const char *id)
{
	return id && *id ? xasprintf("<%s>", id) : NULL;
}

/* The thread root a message names: the first References entry, else its
 * In-Reply-To, else NULL (it starts a thread). */
static char *thread_root(GMimeMessage *msg)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	const char *refs = g_mime_object_get_header(o, "References");
	const char *irt = g_mime_object_get_header(o, "In-Reply-To");
	char *root = NULL;
	GMimeReferences *list;

	for (int pass = 0; pass < 2 && !root; pass++) {
		const char *text = pass == 0 ? refs : irt;

		if (!text || !(list = g_mime_references_parse(NULL, text)))
			continue;
		if (g_mime_references_length(list) > 0)
			root = bracketed(g_mime_references_get_message_id(list, 0));
		g_mime_references_free(list);
	}
	return root;
}

void mime_conversation_id(const char *root, char out[MIME_CONVERSATION_ID_LEN])
{
	unsigned char h[16];
	static const char hex[] = "0123456789abcdef";

	crypto_generichash(h, sizeof(h), (const unsigned char *)root, strlen(root), NULL, 0);
	out[0] = 'c';
	for (size_t i = 0; i < sizeof(h); i++) {
		out[1 + 2 * i] = hex[h[i] >> 4];
		out[2 + 2 * i] = hex[h[i] & 15];
	}
	out[1 + 2 * sizeof(h)] = '\0';
}

/* ---- the summary -------------------------------------------------------------------- */

int mime_summarize(const char *raw, size_t len, size_t preview_chars,
		   struct mime_summary *out, struct err *e)
{
	GMimeMessage *msg;
	InternetAddressList *from;
	GDateTime *date;
	struct walk w;
	char *root;

	memset(out, 0, sizeof(*out));
	if (!(msg = parse_message(raw, len)))
		return not_mime(e);
	out->message_id = bracketed(g_mime_message_get_message_id(msg));
	out->subject = xstrdup(g_mime_message_get_subject(msg) ?: "");
	from = g_mime_message_get_from(msg);
	if (from && internet_address_list_length(from) > 0) {
		struct mail_address *a;
		size_t n;

		take_addresses(from, &a, &n);
		if (n) {
			out->from = a[0];
			for (size_t i = 1; i < n; i++) {
				free((char *)a[i].name);
				free((char *)a[i].address);
			}
		}
		free(a);
	}
	take_addresses(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO),
		       &out->to, &out->n_to);
	take_addresses(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC),
		       &out->cc, &out->n_cc);
	date = g_mime_message_get_date(msg);
	out->date = date ? (int64_t)g_date_time_to_unix(date) : 0;
	root = thread_root(msg);
	mime_conversation_id(root ? root : out->message_id ? out->message_id : "",
			     out->conversation_id);
	free(root);
	walk_message(msg, &w);
	out->has_attachments = w.attachments;
	if (w.text || w.html) {
		size_t tlen;
		char *text = part_text(w.text ? w.text : w.html, &tlen);

		if (!w.text)
			strip_html(text);
		out->preview = preview_of(text, preview_chars);
		free(text);
	} else {
		out->preview = xstrdup("");
	}
	g_object_unref(msg);
	return 0;
}

void mime_summary_free(struct mime_summary *s)
{
	free(s->message_id);
	free(s->subject);
	free((char *)s->from.name);
	free((char *)s->from.address);
	free_addresses(s->to, s->n_to);
	free_addresses(s->cc, s->n_cc);
	free(s->preview);
	memset(s, 0, sizeof(*s));
}

/* ---- the body to show ------------------------------------------------------------- */

int mime_body(const char *raw, size_t len, bool *is_html, char **content,
	      size_t *content_len, struct err *e)
{
	GMimeMessage *msg = parse_message(raw, len);
	struct walk w;

	*content = NULL;
	*content_len = 0;
	*is_html = false;
	if (!msg)
		return not_mime(e);
	walk_message(msg, &w);
	if (w.html || w.text) {
		*is_html = w.html != NULL;
		*content = part_text(w.html ? w.html : w.text, content_len);
	} else {
		*content = xstrdup("");
	}
	g_object_unref(msg);
	return 0;
}

/* ---- submitting ---------------------------------------------------------------------- */

static void add_rcpts(InternetAddressList *list, char ***rcpts, size_t *n, size_t *cap)
{
	struct mail_address *a;
	size_t na;

	take_addresses(list, &a, &na);
	for (size_t i = 0; i < na; i++) {
		if (!*a[i].address)
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 8;
			*rcpts = xrealloc(*rcpts, *cap * sizeof(**rcpts));
		}
		(*rcpts)[(*n)++] = xstrdup(a[i].address);
	}
	free_addresses(a, na);
}

int mime_envelope(const char *raw, size_t len, struct mime_envelope *out,
		  struct err *e)
{
	static const GMimeAddressType kinds[] = {
		GMIME_ADDRESS_TYPE_TO, GMIME_ADDRESS_TYPE_CC, GMIME_ADDRESS_TYPE_BCC,
	};
	GMimeMessage *msg = parse_message(raw, len);
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (!msg)
		return not_mime(e);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		add_rcpts(g_mime_message_get_addresses(msg, kinds[k]), &out->rcpts,
			  &out->n_rcpts, &cap);
	out->message_id = bracketed(g_mime_message_get_message_id(msg));
	if (g_mime_object_get_header(GMIME_OBJECT(msg), "Bcc")) {
		GMimeFormatOptions *fo = g_mime_format_options_clone(NULL);
		GMimeStream *mem = g_mime_stream_mem_new();
		GByteArray *bytes;

		g_mime_object_remove_header(GMIME_OBJECT(msg), "Bcc");
		g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
		g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, mem);
		bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		out->without_bcc = xstrndup((const char *)bytes->data, bytes->len);
		out->without_bcc_len = bytes->len;
		g_object_unref(mem);
		g_mime_format_options_free(fo);
	}
	g_object_unref(msg);
	if (out->n_rcpts == 0) {
		mime_envelope_free(out);
		return err_set(e, ERR_PERMANENT, "usage", "the message has no recipient "
			       "(To, Cc or Bcc)");
	}
	return 0;
}

void mime_envelope_free(struct mime_envelope *env)
{
	for (size_t i = 0; i < env->n_rcpts; i++)
		free(env->rcpts[i]);
	free(env->rcpts);
	free(env->without_bcc);
	free(env->message_id);
	memset(env, 0, sizeof(*env));
}
