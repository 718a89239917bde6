/*
 * graph_messages.c — a page of Graph messages (a delta page or a listing)
 * turned into mail.h's messages. The parsed JSON document stays alive as
 * the page's owner and the items point into it; the address and category
 * lists of every item share two arrays made once per page. A page is all
 * or nothing: anything unusable makes it a "bad_response" and no item is
 * returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/json.h"
#include "inboxsync/quote.h"
#include "inboxsync/timeutil.h"
#include "graph_internal.h"

/* Owns what a page's items point to. `release` must stay first. The
 * address and string arrays are sized by a first pass over the page and
 * handed out in slices. */
struct page_owner {
	void (*release)(void *);
	json_t *doc;
	struct mail_address *addrs;
	size_t naddrs, capaddrs;
	const char **strs;
	size_t nstrs, capstrs;
};

static void page_owner_release(void *p)
{
	struct page_owner *o = p;

	json_decref(o->doc);
	free(o->addrs);
	free(o->strs);
	free(o);
}

/* Entries of the array `key` of every message (sizes the arrays). */
static size_t count_entries(const json_t *value, const char *const *keys,
			    size_t nkeys)
{
	size_t n = 0, i;
	json_t *m;

	json_array_foreach(value, i, m)
		for (size_t k = 0; k < nkeys; k++)
			n += json_array_size(json_object_get(m, keys[k]));
	return n;
}

/* ---- fields ---------------------------------------------------------------- */

static int opt_bool(const json_t *m, const char *key, int *out, struct err *e)
{
	bool v;

	*out = DRIVER_UNKNOWN;
	if (json_opt_bool(m, key, false, &v, e) < 0)
		return -1;
	if (json_object_get(m, key) && !json_is_null(json_object_get(m, key)))
		*out = v ? 1 : 0;
	return 0;
}

static int opt_time(const json_t *m, const char *key, int64_t *out,
		    struct err *e)
{
	const char *s;
	char shown[48];

	*out = 0;
	if (json_opt_string(m, key, &s, e) < 0)
		return -1;
	if (s && time_parse_rfc3339(s, out) < 0)
		return err_set(e, ERR_PERMANENT, "bad_json",
			       "field \"%s\" is not a timestamp: '%s'", key,
			       quote_str(shown, sizeof(shown), s));
	return 0;
}

/* {"emailAddress":{"name","address"}} → name/address (borrowed). */
static int recipient_read(const json_t *r, const char *key, const char **name,
			  const char **addr, struct err *e)
{
	json_t *ea;

	*name = *addr = NULL;
	if (!json_is_object(r))
		return err_set(e, ERR_PERMANENT, "bad_json",
			       "an entry of \"%s\" is not an object", key);
	if (json_opt_object(r, "emailAddress", &ea, e) < 0 ||
	    json_opt_string(ea, "name", name, e) < 0 ||
	    json_opt_string(ea, "address", addr, e) < 0)
		return -1;
	return 0;
}

/* A recipient array as a slice of the page's addresses; unknown when the
 * field is absent. */
static int recipients_read(struct page_owner *o, const json_t *m,
			   const char *key, struct mail_address_list *out,
			   struct err *e)
{
	json_t *arr, *r;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (json_opt_array(m, key, &arr, e) < 0)
		return -1;
	if (!arr)
		return 0;
	if (o->naddrs + json_array_size(arr) > o->capaddrs)
		return err_set(e, ERR_BUG, "bad_json", "address count changed");
	out->items = o->addrs + o->naddrs;
	out->known = true;
	json_array_foreach(arr, i, r) {
		struct mail_address *a = &o->addrs[o->naddrs];

		if (recipient_read(r, key, &a->name, &a->address, e) < 0)
			return -1;
		if (!a->name)
			a->name = "";
		if (!a->address)
			a->address = "";
		o->naddrs++;
		out->n++;
	}
	return 0;
}

static int categories_read(struct page_owner *o, const json_t *m,
			   struct mail_string_list *out, struct err *e)
{
	json_t *arr, *c;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (json_opt_array(m, "categories", &arr, e) < 0)
		return -1;
	if (!arr)
		return 0;
	if (o->nstrs + json_array_size(arr) > o->capstrs)
		return err_set(e, ERR_BUG, "bad_json", "category count changed");
	out->items = o->strs + o->nstrs;
	out->known = true;
	json_array_foreach(arr, i, c) {
		if (!json_is_string(c))
			return err_set(e, ERR_PERMANENT, "bad_json",
				       "an entry of \"categories\" is not a string");
		o->strs[o->nstrs++] = json_string_value(c);
		out->n++;
	}
	return 0;
}

static int flag_read(const json_t *m, int *out, struct err *e)
{
	json_t *flag;
	const char *status;

	*out = DRIVER_UNKNOWN;
	if (json_opt_object(m, "flag", &flag, e) < 0 ||
	    json_opt_string(flag, "flagStatus", &status, e) < 0)
		return -1;
	if (status)
		*out = strcmp(status, "flagged") == 0;
	return 0;
}

static int message_parse(struct page_owner *o, const json_t *m,
			 struct mail_message *out, struct err *e)
{
	json_t *from, *fea = NULL;

	mail_message_init(out);
	if (!json_is_object(m))
		return err_set(e, ERR_PERMANENT, "bad_json", "not an object");
	if (json_req_string(m, "id", &out->remote_id, e) < 0)
		return -1;
	if (!*out->remote_id)
		return err_set(e, ERR_PERMANENT, "bad_json", "empty \"id\"");
	if (json_object_get(m, "@removed")) {
		out->removed = true;
		return 0;
	}
	if (json_opt_string(m, "parentFolderId", &out->folder_remote_id, e) < 0 ||
	    json_opt_string(m, "internetMessageId", &out->internet_message_id, e) < 0 ||
	    json_opt_string(m, "conversationId", &out->conversation_id, e) < 0 ||
	    json_opt_string(m, "subject", &out->subject, e) < 0 ||
	    json_opt_string(m, "bodyPreview", &out->preview, e) < 0 ||
	    json_opt_string(m, "changeKey", &out->change_key, e) < 0 ||
	    json_opt_object(m, "from", &from, e) < 0 ||
	    json_opt_object(from, "emailAddress", &fea, e) < 0 ||
	    json_opt_string(fea, "name", &out->from.name, e) < 0 ||
	    json_opt_string(fea, "address", &out->from.address, e) < 0 ||
	    recipients_read(o, m, "toRecipients", &out->to, e) < 0 ||
	    recipients_read(o, m, "ccRecipients", &out->cc, e) < 0 ||
	    categories_read(o, m, &out->categories, e) < 0 ||
	    opt_time(m, "receivedDateTime", &out->received_at, e) < 0 ||
	    opt_time(m, "sentDateTime", &out->sent_at, e) < 0 ||
	    opt_bool(m, "isRead", &out->is_read, e) < 0 ||
	    opt_bool(m, "isDraft", &out->is_draft, e) < 0 ||
	    opt_bool(m, "hasAttachments", &out->has_attachments, e) < 0 ||
	    flag_read(m, &out->is_flagged, e) < 0)
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

static int links_read(const struct graph_driver *g, const json_t *doc,
		      enum graph_page_kind kind, struct driver_page *page,
		      struct err *e)
{
	const char *next, *delta;

	if (json_opt_string(doc, "@odata.nextLink", &next, e) < 0 ||
	    json_opt_string(doc, "@odata.deltaLink", &delta, e) < 0)
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

int graph_page_parse(const struct graph_driver *g, json_t *doc,
		     enum graph_page_kind kind, const struct graph_op *op,
		     const char *request_id, struct driver_page *page, struct err *e)
{
	struct page_owner *o = xcalloc(1, sizeof(*o));
	struct err perr;
	char detail[400];
	json_t *value;
	size_t i;

	memset(page, 0, sizeof(*page));
	err_clear(&perr);
	o->release = page_owner_release;
	o->doc = doc;
	if (json_req_array(doc, "value", &value, &perr) < 0) {
		snprintf(detail, sizeof(detail), "%.300s", perr.msg);
		goto bad;
	}
	{
		static const char *const addr_keys[] = { "toRecipients", "ccRecipients" };
		static const char *const cat_keys[] = { "categories" };

		o->capaddrs = count_entries(value, addr_keys, 2);
		o->capstrs = count_entries(value, cat_keys, 1);
		o->addrs = xcalloc(o->capaddrs + 1, sizeof(*o->addrs));
		o->strs = xcalloc(o->capstrs + 1, sizeof(*o->strs));
	}
	page->items = xcalloc(json_array_size(value) + 1, sizeof(*page->items));
	for (i = 0; i < json_array_size(value); i++) {
		if (message_parse(o, json_array_get(value, i), &page->items[i],
				  &perr) < 0) {
			snprintf(detail, sizeof(detail), "message %zu of the page: %.300s",
				 i + 1, perr.msg);
			goto bad;
		}
	}
	page->n = i;
	page->priv = o;
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
	page->priv = o;
	driver_page_free(page);
	return graph_error_bad_response(e, op, request_id, detail);
}
