/*
 * fuzz_mime.c — libFuzzer target for the GMime path (src/mime): address
 * lists as the user types them (mime_addresses_json) and outgoing messages
 * built from text that is partly remote (a reply's In-Reply-To and
 * References are the Message-ID a sender chose; subjects and names are
 * anyone's). Input: NUL-separated fields To, Subject, In-Reply-To, sender
 * name, body. Address lists give JSON arrays of addresses with an '@';
 * a built message has CRLF line ends only and, read back with GMime's
 * parser, exactly the headers we set — no field can inject a header.
 * (inboxsync parses no received MIME itself: bodies come as JSON from
 * Graph and `messages show --raw` only passes the bytes on.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>
#include <jansson.h>
#include "inboxsync/buf.h"
#include "inboxsync/mime.h"
#include "fuzz_util.h"

#define FIELDS 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addresses(const char *list)
{
	struct err e;
	char *out;
	json_t *arr, *v;
	size_t i;

	for (int required = 0; required < 2; required++) {
		err_clear(&e);
		out = mime_addresses_json(list, required, "To", &e);
		if (!out) {
			must_be_error(&e);
			continue;
		}
		arr = json_loads(out, 0, NULL);
		must(json_is_array(arr));
		must(!required || json_array_size(arr) > 0);
		json_array_foreach(arr, i, v)
			must(strchr(json_string_value(json_object_get(v, "address")), '@') != NULL);
		json_decref(arr);
		free(out);
	}
}

/* The headers a built message has, each at most once. */
static const char *const allowed[] = {
	"From", "To", "Subject", "Date", "Message-Id", "In-Reply-To", "References",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
};

static void check_headers(const struct buf *mime)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(mime->data, mime->len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	GMimeHeaderList *hl;
	int seen[sizeof(allowed) / sizeof(allowed[0])] = { 0 };

	must(m != NULL);
	hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	for (int i = 0; i < g_mime_header_list_get_count(hl); i++) {
		const char *name = g_mime_header_get_name(g_mime_header_list_get_header_at(hl, i));
		size_t k = 0;

		while (k < sizeof(allowed) / sizeof(allowed[0]) &&
		       strcasecmp(allowed[k], name) != 0)
			k++;
		must(k < sizeof(allowed) / sizeof(allowed[0])); /* no injected header */
		must(++seen[k] == 1);
	}
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(s);
}

static void check_build(const char *const f[FIELDS], size_t body_len)
{
	struct mime_draft d = { 0 };
	struct buf out;
	struct err e;
	char *to = mime_addresses_json(f[0], true, "To", &e);

	d.from_name = f[3];
	d.from_address = "adele@contoso.com";
	d.to = to ? f[0] : "bob@fabrikam.com";
	d.subject = f[1];
	d.body = f[4];
	d.body_len = body_len;
	d.message_id = "<0123abcd.inboxsync@contoso.com>";
	d.in_reply_to = f[2][0] ? f[2] : NULL;
	d.references = d.in_reply_to;
	d.date = 1736392508;
	free(to);
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
