/*
 * mime_parts.c — the attachments of a received message (see mime.h):
 * GMime parses the RFC 822 document and decodes each part's transfer
 * encoding; this file only decides which parts are attachments, numbers
 * them in tree order and copies one out under the caller's size cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>
#include "inboxsync/alloc.h"
#include "inboxsync/mime.h"
#include "mime/mime_internal.h"

/* What a walk over the message collects. */
struct walk {
	size_t want;                /* the attachment to copy (0 = list only) */
	size_t seen;                /* attachments met so far */
	struct mime_part_info *list;
	size_t cap;
	GMimeObject *found;         /* borrowed from the message */
};

/* A part that is a file rather than the message's text. */
static bool is_attachment(GMimeObject *obj)
{
	GMimePart *part;

	if (GMIME_IS_MESSAGE_PART(obj))
		return true;
	if (!GMIME_IS_PART(obj))
		return false;
	part = GMIME_PART(obj);
	return g_mime_part_is_attachment(part) || g_mime_part_get_filename(part) != NULL;
}

/* Bytes of the part as the recipient gets them: decoded content, or the
 * whole attached message (a part without content has none). */
static int write_content(GMimeObject *obj, GMimeStream *to)
{
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

		return !m || g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, to) >= 0
		       ? 0 : -1;
	}
	{
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));

		return !w || g_mime_data_wrapper_write_to_stream(w, to) >= 0 ? 0 : -1;
	}
}

static void describe(GMimeObject *obj, struct mime_part_info *info)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
	char *type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	const char *name = GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj)) : NULL;
	GMimeStream *counter = g_mime_stream_null_new();

	memset(info, 0, sizeof(*info));
	if (!name && GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		const char *subject = m ? g_mime_message_get_subject(m) : NULL;

		snprintf(info->name, sizeof(info->name), "%s.eml",
			 subject && *subject ? subject : "message");
	} else {
		str_copy(info->name, sizeof(info->name), name ? name : "");
	}
	str_copy(info->content_type, sizeof(info->content_type),
		 type ? type : "application/octet-stream");
	info->is_inline = cd && !g_mime_content_disposition_is_attachment(cd);
	if (write_content(obj, counter) == 0)
		info->size = (size_t)GMIME_STREAM_NULL(counter)->written;
	g_object_unref(counter);
	g_free(type);
}

static void visit(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	struct walk *w = data;

	(void)parent;
	if (!is_attachment(obj))
		return;
	w->seen++;
	if (w->want) {
		if (w->seen == w->want)
			w->found = obj;
		return;
	}
	if (w->seen > w->cap) {
		w->cap = w->cap ? w->cap * 2 : 8;
		w->list = xrealloc(w->list, w->cap * sizeof(*w->list));
	}
	describe(obj, &w->list[w->seen - 1]);
}

/* Parse `mime` (the caller unrefs the message). */
static GMimeMessage *parse(const char *mime, size_t len, struct err *e)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	mime_gmime_init();
	stream = g_mime_stream_mem_new_with_buffer(mime ? mime : "", len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (!msg)
		err_set(e, ERR_PERMANENT, "mime", "the message is not a readable RFC 822 "
			"document (%zu bytes)", len);
	return msg;
}

int mime_list_attachments(const char *mime, size_t len,
			  struct mime_part_info **out, size_t *n, struct err *e)
{
	struct walk w = { 0 };
	GMimeMessage *msg = parse(mime, len, e);

	*out = NULL;
	*n = 0;
	if (!msg)
		return -1;
	g_mime_message_foreach(msg, visit, &w);
	g_object_unref(msg);
	*out = w.list;
	*n = w.seen;
	return 0;
}

int mime_extract_attachment(const char *mime, size_t len, size_t index,
			    struct buf *out, struct mime_part_info *info,
			    struct err *e)
{
	struct walk w = { .want = index };
	GMimeMessage *msg;
	GMimeStream *mem;
	GByteArray *bytes;
	int rc = -1;

	buf_reset(out);
	if (index == 0)
		return err_set(e, ERR_PERMANENT, "not_found", "attachments are numbered "
			       "from 1");
	if (!(msg = parse(mime, len, e)))
		return -1;
	g_mime_message_foreach(msg, visit, &w);
	if (!w.found) {
		err_set(e, ERR_PERMANENT, "not_found", "there is no attachment %zu: the "
			"message has %zu", index, w.seen);
		goto out;
	}
	if (info)
		describe(w.found, info);
	mem = g_mime_stream_mem_new();
	if (write_content(w.found, mem) < 0) {
		err_set(e, ERR_PERMANENT, "mime", "attachment %zu cannot be decoded", index);
	} else {
		bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		rc = buf_append(out, bytes->data, bytes->len, e);
	}
	g_object_unref(mem);
out:
	g_object_unref(msg);
	return rc;
}
