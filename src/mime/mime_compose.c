/*
 * mime_compose.c — outgoing messages with GMime 3 (see mime.h). GMime does
 * the header encoding, address parsing, base64 and line endings; this file
 * only assembles the parts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/mime.h"
#include "mime/mime_internal.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
	g_mime_init();
}

void mime_gmime_init(void)
{
	pthread_once(&gmime_once, gmime_start);
}

static const struct mime_type {
	const char *ext;
	const char *type, *subtype;
} mime_types[] = {
	{ "txt", "text", "plain" },   { "html", "text", "html" },
	{ "htm", "text", "html" },    { "csv", "text", "csv" },
	{ "pdf", "application", "pdf" }, { "zip", "application", "zip" },
	{ "json", "application", "json" }, { "xml", "application", "xml" },
	{ "png", "image", "png" },    { "jpg", "image", "jpeg" },
	{ "jpeg", "image", "jpeg" },  { "gif", "image", "gif" },
	{ "ics", "text", "calendar" }, { "eml", "message", "rfc822" },
	{ "docx", "application", "vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "xlsx", "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
};

static const struct mime_type *type_for(const char *path)
{
	static const struct mime_type octet = { "", "application", "octet-stream" };
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
		if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
			return &mime_types[i];
	return &octet;
}

const char *mime_type_for_name(const char *name, char *out, size_t n)
{
	const struct mime_type *t = type_for(name ? name : "");

	snprintf(out, n, "%s/%s", t->type, t->subtype);
	return out;
}

void mime_new_message_id(const char *from_address, char out[160])
{
	const char *at = from_address ? strrchr(from_address, '@') : NULL;
	unsigned char raw[16];
	char hex[33];

	if (sodium_init() < 0)
		abort();
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	snprintf(out, 160, "<%s.inboxsync@%.100s>", hex,
		 at && at[1] ? at + 1 : "inboxsync.invalid");
}

/* Parse `list` with GMime; NULL with `e` when it does not parse or holds
 * something other than plain mailboxes. */
static InternetAddressList *parse_list(const char *list, const char *what,
				       struct err *e)
{
	InternetAddressList *l;

	mime_gmime_init();
	l = internet_address_list_parse(NULL, list);
	if (!l) {
		err_set(e, ERR_PERMANENT, "usage", "cannot read the %s addresses '%s'",
			what, list);
		return NULL;
	}
	for (int i = 0; i < internet_address_list_length(l); i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		const char *addr;

		if (!INTERNET_ADDRESS_IS_MAILBOX(ia) ||
		    !(addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))) ||
		    !strchr(addr, '@') || strchr(addr, '@') == addr ||
		    !strchr(strchr(addr, '@'), '.')) {
			err_set(e, ERR_PERMANENT, "usage", "'%s' in the %s addresses is not "
				"a valid e-mail address", list, what);
			g_object_unref(l);
			return NULL;
		}
	}
	return l;
}

int mime_parse_addresses(const char *list, bool required, const char *what,
			 struct mime_addresses *out, struct err *e)
{
	InternetAddressList *l;
	size_t need = 0, at = 0;
	int n;

	memset(out, 0, sizeof(*out));
	if (!list || !*list) {
		if (required)
			return err_set(e, ERR_PERMANENT, "usage", "no %s address given", what);
		return 0;
	}
	if (!(l = parse_list(list, what, e)))
		return -1;
	n = internet_address_list_length(l);
	if (required && n == 0) {
		g_object_unref(l);
		return err_set(e, ERR_PERMANENT, "usage", "no %s address given", what);
	}
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		const char *name = internet_address_get_name(ia);
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));

		need += (name ? strlen(name) : 0) + strlen(addr) + 2;
	}
	out->items = xcalloc((size_t)n + 1, sizeof(*out->items));
	out->strings = xmalloc(need + 1);
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		const char *name = internet_address_get_name(ia);
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
		size_t ln = name ? strlen(name) : 0, la = strlen(addr);

		memcpy(out->strings + at, name ? name : "", ln + 1);
		out->items[i].name = out->strings + at;
		at += ln + 1;
		memcpy(out->strings + at, addr, la + 1);
		out->items[i].address = out->strings + at;
		at += la + 1;
	}
	out->n = (size_t)n;
	g_object_unref(l);
	return 0;
}

void mime_addresses_free(struct mime_addresses *a)
{
	free(a->items);
	free(a->strings);
	memset(a, 0, sizeof(*a));
}

static int add_list(GMimeMessage *m, GMimeAddressType type, const char *list,
		    const char *what, struct err *e)
{
	InternetAddressList *l;

	if (!list || !*list)
		return 0;
	if (!(l = parse_list(list, what, e)))
		return -1;
	internet_address_list_append(g_mime_message_get_addresses(m, type), l);
	g_object_unref(l);
	return 0;
}

/* Text for a header GMime writes as given (an attachment's file name; an
 * In-Reply-To or References it cannot read as message ids): a CR or LF in
 * it would end the header and start another of the sender's choosing (a
 * "Bcc:" — the Message-ID being replied to is anyone's), so every control
 * character becomes `with`. Heap. */
static char *header_text(const char *s, char with)
{
	char *out = xstrdup(s);

	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = with;
	return out;
}

/* A header from text that may be remote, on one line whatever it holds. */
static void header_set(GMimeMessage *m, const char *name, const char *value)
{
	char *v = header_text(value, ' ');

	g_mime_object_set_header(GMIME_OBJECT(m), name, v, NULL);
	free(v);
}

static GMimeObject *attachment_part(const struct mime_attachment *a)
{
	const struct mime_type *t = type_for(a->name ? a->name : "");
	char type[128], *slash, *filename;
	GMimeStream *stream;
	GMimeDataWrapper *content;
	GMimePart *part;

	if (a->content_type && (slash = strchr(a->content_type, '/')) &&
	    slash != a->content_type && slash[1] && !strpbrk(a->content_type, " ;\r\n") &&
	    (size_t)(slash - a->content_type) < sizeof(type)) {
		snprintf(type, sizeof(type), "%.*s", (int)(slash - a->content_type),
			 a->content_type);
		part = g_mime_part_new_with_type(type, slash + 1);
	} else {
		part = g_mime_part_new_with_type(t->type, t->subtype);
	}
	filename = header_text(a->name && *a->name ? a->name : "attachment", '_');
	g_mime_part_set_filename(part, filename);
	free(filename);
	stream = g_mime_stream_mem_new_with_buffer(a->data ? a->data : "", a->len);
	content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, content);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	g_object_unref(content);
	g_object_unref(stream);
	return GMIME_OBJECT(part);
}

/* The body part, alone or in multipart/mixed with the attachments. */
static GMimeObject *body_tree(const struct mime_draft *d)
{
	GMimeTextPart *text = g_mime_text_part_new_with_subtype(d->html ? "html" : "plain");
	char *body = xstrndup(d->body ? d->body : "", d->body_len);
	GMimeMultipart *mixed;

	g_mime_text_part_set_text(text, body);
	free(body);
	if (d->n_attachments == 0)
		return GMIME_OBJECT(text);
	mixed = g_mime_multipart_new_with_subtype("mixed");
	g_mime_multipart_add(mixed, GMIME_OBJECT(text));
	g_object_unref(text);
	for (size_t i = 0; i < d->n_attachments; i++) {
		GMimeObject *part = attachment_part(&d->attachments[i]);

		g_mime_multipart_add(mixed, part);
		g_object_unref(part);
	}
	return GMIME_OBJECT(mixed);
}

static int serialize(GMimeMessage *m, struct buf *out, struct err *e)
{
	GMimeFormatOptions *fo = g_mime_format_options_new();
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *bytes;
	int rc;

	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	buf_reset(out);
	rc = buf_append(out, bytes->data, bytes->len, e);
	g_object_unref(mem);
	g_mime_format_options_free(fo);
	return rc;
}

int mime_build(const struct mime_draft *d, size_t max_size, struct buf *out,
	       struct err *e)
{
	unsigned long long files = 0;
	GMimeMessage *m;
	GMimeObject *tree;
	GDateTime *date;
	char *bare_id;
	int rc = -1;

	for (size_t i = 0; i < d->n_attachments; i++)
		files += d->attachments[i].len;
	if (files + d->body_len > max_size)
		return err_set(e, ERR_PERMANENT, "too_large",
			       "the message is too large to send: attachments and body "
			       "come to %.1f MB, more than the %.1f MB a message may have; "
			       "nothing was sent", (double)(files + d->body_len) / 1048576.0,
			       (double)max_size / 1048576.0);
	mime_gmime_init();
	m = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, d->from_name, d->from_address);
	if (add_list(m, GMIME_ADDRESS_TYPE_TO, d->to, "To", e) < 0 ||
	    add_list(m, GMIME_ADDRESS_TYPE_CC, d->cc, "Cc", e) < 0 ||
	    add_list(m, GMIME_ADDRESS_TYPE_BCC, d->bcc, "Bcc", e) < 0)
		goto out;
	g_mime_message_set_subject(m, d->subject ? d->subject : "", "utf-8");
	date = g_date_time_new_from_unix_utc(d->date);
	g_mime_message_set_date(m, date);
	g_date_time_unref(date);
	bare_id = xstrdup(d->message_id + (d->message_id[0] == '<'));
	if (*bare_id && bare_id[strlen(bare_id) - 1] == '>')
		bare_id[strlen(bare_id) - 1] = '\0';
	g_mime_message_set_message_id(m, bare_id);
	free(bare_id);
	if (d->in_reply_to && *d->in_reply_to)
		header_set(m, "In-Reply-To", d->in_reply_to);
	if (d->references && *d->references)
		header_set(m, "References", d->references);
	tree = body_tree(d);
	g_mime_message_set_mime_part(m, tree);
	g_object_unref(tree);
	rc = serialize(m, out, e);
	if (rc == 0 && out->len > max_size)
		rc = err_set(e, ERR_PERMANENT, "too_large",
			     "the message is too large to send: encoded for sending it "
			     "comes to %.1f MB (attachments grow by a third in MIME), "
			     "more than the %.1f MB a message may have; nothing was sent",
			     (double)out->len / 1048576.0, (double)max_size / 1048576.0);
out:
	g_object_unref(m);
	return rc;
}
