/*
 * graph_messages.c — a page of Graph messages (a delta page or a listing)
 * turned into mail.h's messages. The page's text is checked to be UTF-8
 * and parsed with cJSON into an arena of its own (graph_arena.c); the
 * items point into that tree, their address and category lists are
 * slices of the same arena, and releasing the page frees the arena whole:
 * no allocation per message. Each message's fields are read in one walk
 * over its members through a table. A page is all or nothing: anything
 * unusable makes it a "bad_response" and no item is returned.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <glib.h>
#include "inboxsync/alloc.h"
#include "inboxsync/json.h"
#include "inboxsync/quote.h"
#include "inboxsync/timeutil.h"
#include "graph_internal.h"

/* Owns what a page's items point to. `release` must stay first. */
struct page_owner {
	void (*release)(void *);
	struct graph_arena arena;
};

static void page_owner_release(void *p)
{
	struct page_owner *o = p;

	graph_arena_free(&o->arena);
	free(o);
}

/* ---- typed access ------------------------------------------------------------ */

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	return "null";
}

static int mistyped(const char *key, const cJSON *v, const char *want, struct err *e)
{
	return err_set(e, ERR_PERMANENT, "bad_json", "field \"%s\" is %s, expected %s",
		       key, type_name(v), want);
}

/* A member of `obj` (NULL when absent or null). */
static const cJSON *member(const cJSON *obj, const char *key)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	return cJSON_IsNull(v) ? NULL : v;
}

/* An optional string: NULL when absent or null, an error when mistyped. */
static int opt_string(const cJSON *v, const char *key, const char **out,
		      struct err *e)
{
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return mistyped(key, v, "a string", e);
	*out = v->valuestring;
	return 0;
}

static int opt_object(const cJSON *v, const char *key, const cJSON **out,
		      struct err *e)
{
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v))
		return mistyped(key, v, "an object", e);
	*out = v;
	return 0;
}

/* ---- fields ---------------------------------------------------------------- */

static int read_bool(const cJSON *v, const char *key, int *out, struct err *e)
{
	*out = DRIVER_UNKNOWN;
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return mistyped(key, v, "a boolean", e);
	*out = cJSON_IsTrue(v) ? 1 : 0;
	return 0;
}

static int read_time(const cJSON *v, const char *key, int64_t *out, struct err *e)
{
	const char *s;
	char shown[48];

	*out = 0;
	if (opt_string(v, key, &s, e) < 0)
		return -1;
	if (s && time_parse_rfc3339(s, out) < 0)
		return err_set(e, ERR_PERMANENT, "bad_json",
			       "field \"%s\" is not a timestamp: '%s'", key,
			       quote_str(shown, sizeof(shown), s));
	return 0;
}

/* {"name","address"} of an "emailAddress" object (borrowed). */
static int email_read(const cJSON *r, const char *key, const char **name,
		      const char **addr, struct err *e)
{
	const cJSON *ea;

	*name = *addr = NULL;
	if (!cJSON_IsObject(r))
		return err_set(e, ERR_PERMANENT, "bad_json",
			       "an entry of \"%s\" is not an object", key);
	if (opt_object(member(r, "emailAddress"), "emailAddress", &ea, e) < 0 ||
	    opt_string(member(ea, "name"), "name", name, e) < 0 ||
	    opt_string(member(ea, "address"), "address", addr, e) < 0)
		return -1;
	return 0;
}

/* A recipient array as a slice of the page's arena; unknown when null. */
static int recipients_read(struct page_owner *o, const cJSON *arr,
			   const char *key, struct mail_address_list *out,
			   struct err *e)
{
	struct mail_address *items;
	const cJSON *r;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return mistyped(key, arr, "an array", e);
	cJSON_ArrayForEach(r, arr)
		n++;
	items = graph_arena_alloc(&o->arena, (n ? n : 1) * sizeof(*items));
	out->items = items;
	out->known = true;
	cJSON_ArrayForEach(r, arr) {
		struct mail_address *a = &items[out->n];

		if (email_read(r, key, &a->name, &a->address, e) < 0)
			return -1;
		if (!a->name)
			a->name = "";
		if (!a->address)
			a->address = "";
		out->n++;
	}
	return 0;
}

static int categories_read(struct page_owner *o, const cJSON *arr,
			   struct mail_string_list *out, struct err *e)
{
	const char **items;
	const cJSON *c;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return mistyped("categories", arr, "an array", e);
	cJSON_ArrayForEach(c, arr)
		n++;
	items = graph_arena_alloc(&o->arena, (n ? n : 1) * sizeof(*items));
	out->items = items;
	out->known = true;
	cJSON_ArrayForEach(c, arr) {
		if (!cJSON_IsString(c))
			return err_set(e, ERR_PERMANENT, "bad_json",
				       "an entry of \"categories\" is not a string");
		items[out->n++] = c->valuestring;
	}
	return 0;
}

static int from_read(const cJSON *v, struct mail_message *m, struct err *e)
{
	const cJSON *from;

	if (opt_object(v, "from", &from, e) < 0)
		return -1;
	if (!from)
		return 0;
	return email_read(from, "from", &m->from.name, &m->from.address, e);
}

static int flag_read(const cJSON *v, int *out, struct err *e)
{
	const cJSON *flag;
	const char *status;

	*out = DRIVER_UNKNOWN;
	if (opt_object(v, "flag", &flag, e) < 0 ||
	    opt_string(member(flag, "flagStatus"), "flagStatus", &status, e) < 0)
		return -1;
	if (status)
		*out = strcmp(status, "flagged") == 0;
	return 0;
}

/* The members of a message the driver reads, each once. */
enum field {
	F_ID, F_REMOVED, F_PARENT, F_IMID, F_CONV, F_SUBJECT, F_PREVIEW, F_CKEY,
	F_FROM, F_TO, F_CC, F_CATEGORIES, F_RECEIVED, F_SENT, F_READ, F_DRAFT,
	F_ATTACH, F_FLAG, F_COUNT
};

static const char *const field_names[F_COUNT] = {
	[F_ID] = "id", [F_REMOVED] = "@removed", [F_PARENT] = "parentFolderId",
	[F_IMID] = "internetMessageId", [F_CONV] = "conversationId",
	[F_SUBJECT] = "subject", [F_PREVIEW] = "bodyPreview",
	[F_CKEY] = "changeKey", [F_FROM] = "from", [F_TO] = "toRecipients",
	[F_CC] = "ccRecipients", [F_CATEGORIES] = "categories",
	[F_RECEIVED] = "receivedDateTime", [F_SENT] = "sentDateTime",
	[F_READ] = "isRead", [F_DRAFT] = "isDraft",
	[F_ATTACH] = "hasAttachments", [F_FLAG] = "flag",
};

static int field_of(const char *key)
{
	for (int f = 0; f < F_COUNT; f++)
		if (key[0] == field_names[f][0] && strcmp(key, field_names[f]) == 0)
			return f;
	return -1;
}

/* One walk over the members: each known one lands in its slot; a
 * duplicate is refused (as jansson's JSON_REJECT_DUPLICATES did). */
static int members_collect(const cJSON *m, const cJSON *slot[F_COUNT], struct err *e)
{
	const cJSON *v;

	memset(slot, 0, F_COUNT * sizeof(*slot));
	cJSON_ArrayForEach(v, m) {
		int f = v->string ? field_of(v->string) : -1;

		if (f < 0)
			continue;
		if (slot[f])
			return err_set(e, ERR_PERMANENT, "bad_json",
				       "field \"%s\" appears twice", field_names[f]);
		slot[f] = v;
	}
	return 0;
}

static int message_parse(struct page_owner *o, const cJSON *m,
			 struct mail_message *out, struct err *e)
{
	const cJSON *f[F_COUNT];

	mail_message_init(out);
	if (!cJSON_IsObject(m))
		return err_set(e, ERR_PERMANENT, "bad_json", "not an object");
	if (members_collect(m, f, e) < 0)
		return -1;
	if (!f[F_ID])
		return err_set(e, ERR_PERMANENT, "bad_json", "field \"id\" is missing");
	if (!cJSON_IsString(f[F_ID]))
		return mistyped("id", f[F_ID], "a string", e);
	out->remote_id = f[F_ID]->valuestring;
	if (!*out->remote_id)
		return err_set(e, ERR_PERMANENT, "bad_json", "empty \"id\"");
	if (f[F_REMOVED]) {
		out->removed = true;
		return 0;
	}
	if (opt_string(f[F_PARENT], "parentFolderId", &out->folder_remote_id, e) < 0 ||
	    opt_string(f[F_IMID], "internetMessageId", &out->internet_message_id, e) < 0 ||
	    opt_string(f[F_CONV], "conversationId", &out->conversation_id, e) < 0 ||
	    opt_string(f[F_SUBJECT], "subject", &out->subject, e) < 0 ||
	    opt_string(f[F_PREVIEW], "bodyPreview", &out->preview, e) < 0 ||
	    opt_string(f[F_CKEY], "changeKey", &out->change_key, e) < 0 ||
	    from_read(f[F_FROM], out, e) < 0 ||
	    (f[F_TO] && recipients_read(o, f[F_TO], "toRecipients", &out->to, e) < 0) ||
	    (f[F_CC] && recipients_read(o, f[F_CC], "ccRecipients", &out->cc, e) < 0) ||
	    (f[F_CATEGORIES] && categories_read(o, f[F_CATEGORIES], &out->categories, e) < 0) ||
	    read_time(f[F_RECEIVED], "receivedDateTime", &out->received_at, e) < 0 ||
	    read_time(f[F_SENT], "sentDateTime", &out->sent_at, e) < 0 ||
	    (f[F_READ] && read_bool(f[F_READ], "isRead", &out->is_read, e) < 0) ||
	    (f[F_DRAFT] && read_bool(f[F_DRAFT], "isDraft", &out->is_draft, e) < 0) ||
	    (f[F_ATTACH] && read_bool(f[F_ATTACH], "hasAttachments",
				      &out->has_attachments, e) < 0) ||
	    flag_read(f[F_FLAG], &out->is_flagged, e) < 0)
		return -1;
	if (out->from.address && !out->from.name)
		out->from.name = "";
	return 0;
}

/* ---- the page --------------------------------------------------------------- */

/* A link from the server is checked where it enters: one that points
 * anywhere but Graph's origin would take our token elsewhere, and a round
 * "ended" by it would sweep every message it did not list. */
static int link_check(const struct graph_driver *g, const char *name,
		      const char *link, struct err *e)
{
	if (!link || !*link || graph_url_is_ours(g, link))
		return 0;
	err_set(e, ERR_TRANSIENT, "foreign_link", "the server sent a link to another "
		"host in %s ('%.120s', not under %.200s); it was refused and nothing "
		"of this page was kept", name, link, g->base_url);
	return err_set_fix(e, FIX_RETRY, NULL);
}

static int links_read(const struct graph_driver *g, const cJSON *doc,
		      enum graph_page_kind kind, struct driver_page *page,
		      struct err *e)
{
	const char *next, *delta;

	if (opt_string(member(doc, "@odata.nextLink"), "@odata.nextLink", &next, e) < 0 ||
	    opt_string(member(doc, "@odata.deltaLink"), "@odata.deltaLink", &delta, e) < 0)
		return -1;
	if (kind == GRAPH_PAGE_LIST)
		return 0;
	if (link_check(g, "@odata.nextLink", next, e) < 0 ||
	    link_check(g, "@odata.deltaLink", delta, e) < 0)
		return -1;
	if (next && *next)
		page->next_cursor = xstrdup(next);
	else if (delta && *delta)
		page->done_cursor = xstrdup(delta);
	else
		return err_set(e, ERR_PERMANENT, "bad_json",
			       "a delta page without @odata.nextLink or "
			       "@odata.deltaLink");
	return 0;
}

/* Whether `text` is UTF-8 without NUL bytes (GLib's rules), with *bad at
 * the first offending byte otherwise. Runs of ASCII, most of a page, are
 * passed eight bytes at a time; GLib checks everything else. */
static bool utf8_valid(const char *text, size_t len, const char **bad)
{
	const uint64_t high = 0x8080808080808080ull, low = 0x0101010101010101ull;
	size_t i = 0;

	while (i < len) {
		size_t start;

		/* a word without a high bit or a zero byte is plain ASCII */
		while (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, text + i, 8);
			if ((w & high) || ((w - low) & ~w & high))
				break;
			i += 8;
		}
		while (i < len && (unsigned char)text[i] < 0x80 && text[i] != '\0')
			i++;
		if (i == len)
			return true;
		/* a NUL, or a stretch of non-ASCII bytes: whole sequences
		 * when the text is valid, as ASCII never continues one */
		start = i;
		while (i < len && (unsigned char)text[i] >= 0x80)
			i++;
		if (text[start] == '\0' ||
		    !g_utf8_validate(text + start, (gssize)(i - start), bad)) {
			if (text[start] == '\0')
				*bad = text + start;
			return false;
		}
	}
	return true;
}

/* The document: UTF-8 text (no NUL inside) holding one JSON object. */
static cJSON *document_parse(struct page_owner *o, const char *text, size_t len,
			     char *detail, size_t n)
{
	const gchar *bad = NULL;
	bool too_big;
	size_t at;
	cJSON *doc;

	if (!text || !len) {
		snprintf(detail, n, "the answer is empty (expected JSON)");
		return NULL;
	}
	if (!utf8_valid(text, len, &bad)) {
		snprintf(detail, n, "the answer is not UTF-8 text (byte %zu)",
			 (size_t)(bad - text));
		return NULL;
	}
	doc = graph_arena_parse(&o->arena, text, len, &at, &too_big);
	if (!doc && too_big) {
		snprintf(detail, n, "the answer (%zu bytes) would take more than %zu "
			 "bytes of memory to read; refused", len, json_parse_memory_max(len));
		return NULL;
	}
	if (!doc) {
		char near[64]; /* what stands there (cJSON points past it), escaped */
		size_t from;

		if (at > len)
			at = len;
		from = at > 4 ? at - 4 : 0;
		quote_text(near, sizeof(near), text + from, len - from < 8 ? len - from : 8, 0);
		snprintf(detail, n, "the answer is not valid JSON (near '%s', byte %zu)",
			 near, at);
	}
	else if (!cJSON_IsObject(doc))
		snprintf(detail, n, "the answer is %s, expected a JSON object",
			 type_name(doc));
	return cJSON_IsObject(doc) ? doc : NULL;
}

int graph_page_parse(const struct graph_driver *g, const char *text, size_t len,
		     enum graph_page_kind kind, const struct graph_op *op,
		     const char *request_id, struct driver_page *page, struct err *e)
{
	struct page_owner *o = xcalloc(1, sizeof(*o));
	const cJSON *value, *m;
	struct err perr;
	char detail[400];
	cJSON *doc;
	size_t n = 0;

	memset(page, 0, sizeof(*page));
	err_clear(&perr);
	o->release = page_owner_release;
	graph_arena_init(&o->arena);
	page->priv = o;
	if (!(doc = document_parse(o, text, len, detail, sizeof(detail))))
		goto bad;
	value = member(doc, "value");
	if (!cJSON_IsArray(value)) {
		snprintf(detail, sizeof(detail), value ? "field \"value\" is %s, expected "
			 "an array" : "field \"value\" is missing%s", value ? type_name(value) : "");
		goto bad;
	}
	cJSON_ArrayForEach(m, value)
		n++;
	page->items = xcalloc(n + 1, sizeof(*page->items));
	cJSON_ArrayForEach(m, value) {
		if (message_parse(o, m, &page->items[page->n], &perr) < 0) {
			snprintf(detail, sizeof(detail), "message %zu of the page: %.300s",
				 page->n + 1, perr.msg);
			goto bad;
		}
		page->n++;
	}
	if (links_read(g, doc, kind, page, &perr) < 0) {
		if (err_is(&perr, "foreign_link")) {
			char target[128];

			driver_page_free(page);
			graph_op_target(op, target, sizeof(target));
			*e = perr;
			return err_prefix(e, "%s%s: ", op->what, target);
		}
		snprintf(detail, sizeof(detail), "%.300s", perr.msg);
		goto bad;
	}
	return 0;
bad:
	driver_page_free(page);
	return graph_error_bad_response(e, op, request_id, detail);
}
