/*
 * fuzz_mime.c — libFuzzer target for the GMime path (src/mime): address
 * lists as the user types them (mime_parse_addresses) and outgoing messages
 * built from text that is partly remote (a reply's In-Reply-To and
 * References are the Message-ID a sender chose; subjects and names are
 * anyone's). Input: NUL-separated fields To, Subject, In-Reply-To, sender
 * name, body, attachment name (the body is also the attachment's bytes).
 * Address lists give addresses with an '@'; a built message has CRLF line
 * ends only and, read back with GMime's parser, exactly the headers we set
 * — no field can inject a header.
 * (inboxsync parses no received MIME itself: bodies come as JSON from
 * Graph and `messages show --raw` only passes the bytes on.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>
#include "inboxsync/buf.h"
#include "inboxsync/mime.h"
#include "fuzz_util.h"

#define FIELDS 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addresses(const char *list)
{
	struct mime_addresses l;
	struct err e;

	for (int required = 0; required < 2; required++) {
		err_clear(&e);
		if (mime_parse_addresses(list, required, "To", &l, &e) < 0) {
			must_be_error(&e);
		} else {
			must(!required || l.n > 0);
			for (size_t i = 0; i < l.n; i++)
				must(l.items[i].name && strchr(l.items[i].address, '@'));
		}
		mime_addresses_free(&l);
	}
}

/* The headers a built message has, each at most once. */
static const char *const allowed[] = {
	"From", "To", "Subject", "Date", "Message-Id", "In-Reply-To", "References",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
};

/* The headers a part has, each at most once. */
static const char *const part_allowed[] = {
	"Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
	"Content-Id", "Content-Description",
};

static void check_names(GMimeObject *o, const char *const *names, size_t n)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	int seen[16] = { 0 };

	for (int i = 0; i < g_mime_header_list_get_count(hl); i++) {
		const char *name = g_mime_header_get_name(g_mime_header_list_get_header_at(hl, i));
		size_t k = 0;

		while (k < n && strcasecmp(names[k], name) != 0)
			k++;
		must(k < n);         /* no injected header */
		must(++seen[k] == 1);
	}
}

static void check_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	(void)parent, (void)data;
	check_names(part, part_allowed, sizeof(part_allowed) / sizeof(part_allowed[0]));
}

static void check_headers(const struct buf *mime)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(mime->data, mime->len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

	must(m != NULL);
	check_names(GMIME_OBJECT(m), allowed, sizeof(allowed) / sizeof(allowed[0]));
	g_mime_message_foreach(m, check_part, NULL);
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(s);
}

static void check_build(const char *const f[FIELDS], size_t body_len)
{
	struct mime_attachment att = { f[5], NULL, f[4], body_len };
	struct mime_addresses to;
	struct mime_draft d = { 0 };
	char type[128];
	struct buf out;
	struct err e;
	int to_ok = mime_parse_addresses(f[0], true, "To", &to, &e) == 0;

	mime_addresses_free(&to);
	must(strchr(mime_type_for_name(f[5], type, sizeof(type)), '/') != NULL);
	d.from_name = f[3];
	d.from_address = "adele@contoso.com";
	d.to = to_ok ? f[0] : "bob@fabrikam.com";
	d.subject = f[1];
	d.body = f[4];
	d.body_len = body_len;
	d.message_id = "<0123abcd.inboxsync@contoso.com>";
	d.in_reply_to = f[2][0] ? f[2] : NULL;
	d.references = d.in_reply_to;
	d.date = 1736392508;
	if (f[5][0]) { /* a named attachment: its name goes into headers too */
		d.attachments = &att;
		d.n_attachments = 1;
	}
	buf_init(&out, (size_t)1 << 20);
	err_clear(&e);
	if (mime_build(&d, (size_t)1 << 20, &out, &e) < 0) {
		must_be_error(&e);
		buf_free(&out);
		return;
	}
	for (size_t i = 0; i < out.len; i++)
		must(out.data[i] != '\n' || (i > 0 && out.data[i - 1] == '\r'));
	check_headers(&out);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size), *end = text + size;
	const char *f[FIELDS];
	char *p = text;

	for (int i = 0; i < FIELDS; i++) {
		f[i] = p < end ? p : "";
		p += p < end ? strlen(p) + 1 : 0;
	}
	check_addresses(f[0]);
	check_build(f, strlen(f[4]));
	free(text);
	return 0;
}
