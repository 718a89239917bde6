/*
 * mime_compose.c — outgoing messages with GMime 3 (see mime.h). GMime does
 * the header encoding, address parsing, base64 and line endings; this file
 * only assembles the parts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <gmime/gmime.h>
#include <jansson.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/mime.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
	g_mime_init();
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

long long mime_files_size(const char *const *paths, size_t n, struct err *e)
{
	long long total = 0;

	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (stat(paths[i], &st) < 0 || !S_ISREG(st.st_mode))
			return err_set(e, ERR_PERMANENT, "usage", "cannot attach %s: %s",
				       paths[i], errno ? strerror(errno) : "not a regular file");
		total += st.st_size;
	}
	return total;
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

	pthread_once(&gmime_once, gmime_start);
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

char *mime_addresses_json(const char *list, bool required, const char *what,
			  struct err *e)
{
	InternetAddressList *l;
	json_t *arr = json_array();
	char *out;

	if (!list || !*list) {
		json_decref(arr);
		if (required) {
			err_set(e, ERR_PERMANENT, "usage", "no %s address given", what);
			return NULL;
		}
		return xstrdup("[]");
	}
	if (!(l = parse_list(list, what, e))) {
		json_decref(arr);
		return NULL;
	}
	if (required && internet_address_list_length(l) == 0) {
		g_object_unref(l);
		json_decref(arr);
		err_set(e, ERR_PERMANENT, "usage", "no %s address given", what);
		return NULL;
	}
	for (int i = 0; i < internet_address_list_length(l); i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		const char *name = internet_address_get_name(ia);

		json_array_append_new(arr, json_pack("{s:s,s:s}", "name", name ? name : "",
			"address", internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))));
	}
	g_object_unref(l);
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out;
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

static GMimeObject *attachment_part(const char *path, struct err *e)
{
	const struct mime_type *t = type_for(path);
	const char *base = strrchr(path, '/');
	GError *gerr = NULL;
	GMimeStream *stream;
	GMimeDataWrapper *content;
	GMimePart *part;

	stream = g_mime_stream_fs_open(path, O_RDONLY, 0, &gerr);
	if (!stream) {
		err_set(e, ERR_PERMANENT, "usage", "cannot attach %s: %s", path,
			gerr ? gerr->message : "unreadable");
		if (gerr)
			g_error_free(gerr);
		return NULL;
	}
	part = g_mime_part_new_with_type(t->type, t->subtype);
	g_mime_part_set_filename(part, base ? base + 1 : path);
	content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, content);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	g_object_unref(content);
	g_object_unref(stream);
	return GMIME_OBJECT(part);
}

/* The body part, alone or in multipart/mixed with the attachments. */
static GMimeObject *body_tree(const struct mime_draft *d, struct err *e)
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
		GMimeObject *part = attachment_part(d->attachments[i], e);

		if (!part) {
			g_object_unref(mixed);
			return NULL;
		}
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
	long long files = mime_files_size(d->attachments, d->n_attachments, e);
	GMimeMessage *m;
	GMimeObject *tree;
	GDateTime *date;
	char *bare_id;
	int rc = -1;

	if (files < 0)
		return -1;
	if ((unsigned long long)files + d->body_len > max_size)
		return err_set(e, ERR_PERMANENT, "too_large",
			       "the message is too large to send: attachments and body "
			       "come to %.1f MB, more than the %.1f MB a message may have; "
			       "nothing was sent", (double)((unsigned long long)files + d->body_len) / 1048576.0,
			       (double)max_size / 1048576.0);
	pthread_once(&gmime_once, gmime_start);
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
		g_mime_object_set_header(GMIME_OBJECT(m), "In-Reply-To", d->in_reply_to, NULL);
	if (d->references && *d->references)
		g_mime_object_set_header(GMIME_OBJECT(m), "References", d->references, NULL);
	if (!(tree = body_tree(d, e)))
		goto out;
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
