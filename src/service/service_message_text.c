/*
 * service_message_text.c — MESSAGE (without its body) and the API's page
 * of messages written straight as JSON text, the same bytes json_dumps
 * gives for service_message_json's tree (tests/unit/test_message_text.c
 * holds it to that). Every value is encoded by jansson (the strings made
 * by the same text rule as the tree's, so validation, the invalid UTF-8
 * fallback and escaping stay jansson's); names, true, false and null are
 * encoded by jansson once; only the punctuation between them is written
 * here. A page costs no tree: no object hashtables, no loop checks, one
 * allocation per string value instead of a dozen per message.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "inboxsync/service.h"
#include "service/text_cache.h"

/* The names a page writes, each as jansson encodes it followed by ':'. */
enum {
	K_ID, K_FOLDER, K_IMID, K_CONVERSATION, K_SUBJECT, K_FROM, K_TO, K_CC,
	K_RECEIVED, K_SENT, K_IS_READ, K_IS_FLAGGED, K_HAS_ATTACHMENTS, K_PREVIEW,
	K_BODY_FETCHED, K_PENDING, K_CATEGORIES, K_NAME, K_ADDRESS, K_MESSAGES,
	K_NEXT_CURSOR, K__COUNT
};

static const char *const key_names[K__COUNT] = {
	[K_ID] = "id", [K_FOLDER] = "folder", [K_IMID] = "internet_message_id",
	[K_CONVERSATION] = "conversation_id", [K_SUBJECT] = "subject", [K_FROM] = "from",
	[K_TO] = "to", [K_CC] = "cc", [K_RECEIVED] = "received_at", [K_SENT] = "sent_at",
	[K_IS_READ] = "is_read", [K_IS_FLAGGED] = "is_flagged",
	[K_HAS_ATTACHMENTS] = "has_attachments", [K_PREVIEW] = "preview",
	[K_BODY_FETCHED] = "body_fetched", [K_PENDING] = "pending",
	[K_CATEGORIES] = "categories", [K_NAME] = "name", [K_ADDRESS] = "address",
	[K_MESSAGES] = "messages", [K_NEXT_CURSOR] = "next_cursor",
};

#define FRAGMENT_MAX 32

struct fragment {
	char text[FRAGMENT_MAX];
	size_t len;
};

static struct fragment keys[K__COUNT];
static struct fragment lit_true, lit_false, lit_null;
static bool fragments_ok;
static pthread_once_t fragments_once = PTHREAD_ONCE_INIT;

/* jansson's encoding of `v` (consumed) into `f`, plus `tail`. */
static bool encode_fragment(json_t *v, const char *tail, struct fragment *f)
{
	size_t n = json_dumpb(v, f->text, sizeof(f->text), JSON_COMPACT | JSON_ENCODE_ANY);
	size_t t = strlen(tail);

	json_decref(v);
	if (n == 0 || n + t > sizeof(f->text))
		return false;
	memcpy(f->text + n, tail, t);
	f->len = n + t;
	return true;
}

static void make_fragments(void)
{
	bool ok = encode_fragment(json_true(), "", &lit_true) &&
		  encode_fragment(json_false(), "", &lit_false) &&
		  encode_fragment(json_null(), "", &lit_null);

	for (int i = 0; ok && i < K__COUNT; i++)
		ok = encode_fragment(json_string(key_names[i]), ":", &keys[i]);
	fragments_ok = ok;
}

static int put(struct buf *out, const char *s, size_t n)
{
	return buf_append(out, s, n, NULL);
}

static int put_fragment(struct buf *out, const struct fragment *f)
{
	return put(out, f->text, f->len);
}

/* ',' unless first, then the encoded name k. */
static int put_key(struct buf *out, int k, bool first)
{
	if (!first && put(out, ",", 1) < 0)
		return -1;
	return put_fragment(out, &keys[k]);
}

static int to_buf(const char *s, size_t n, void *data)
{
	return put(data, s, n);
}

/* jansson's encoding of `v` (consumed); NULL v (a failed constructor)
 * fails as json_pack would have. */
static int put_value(struct buf *out, json_t *v)
{
	int rc;

	if (!v)
		return -1;
	rc = json_dump_callback(v, to_buf, out, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	return rc;
}

static int put_bool(struct buf *out, bool v)
{
	return put_fragment(out, v ? &lit_true : &lit_false);
}

static int put_address(struct buf *out, const struct mail_address *a)
{
	if (put(out, "{", 1) < 0 || put_key(out, K_NAME, true) < 0 ||
	    put_value(out, service_text_json(a->name ? a->name : "")) < 0 ||
	    put_key(out, K_ADDRESS, false) < 0 ||
	    put_value(out, service_text_json(a->address ? a->address : "")) < 0)
		return -1;
	return put(out, "}", 1);
}

static int put_addresses(struct buf *out, const struct mail_address_list *l)
{
	if (put(out, "[", 1) < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if ((i && put(out, ",", 1) < 0) || put_address(out, &l->items[i]) < 0)
			return -1;
	return put(out, "]", 1);
}

static int put_strings(struct buf *out, const struct mail_string_list *l)
{
	if (put(out, "[", 1) < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if ((i && put(out, ",", 1) < 0) ||
		    put_value(out, service_text_json(l->items[i])) < 0)
			return -1;
	return put(out, "]", 1);
}

/* The fields in service_message_json's order. */
static int put_message(struct buf *out, const struct store_message *sm)
{
	const struct mail_message *m = &sm->m;

	return put(out, "{", 1) < 0 ||
	       put_key(out, K_ID, true) < 0 || put_value(out, service_text_json(m->remote_id)) < 0 ||
	       put_key(out, K_FOLDER, false) < 0 ||
	       put_value(out, service_text_json(sm->folder_path)) < 0 ||
	       put_key(out, K_IMID, false) < 0 ||
	       put_value(out, service_text_json(m->internet_message_id)) < 0 ||
	       put_key(out, K_CONVERSATION, false) < 0 ||
	       put_value(out, service_text_json(m->conversation_id)) < 0 ||
	       put_key(out, K_SUBJECT, false) < 0 ||
	       put_value(out, service_text_json(m->subject)) < 0 ||
	       put_key(out, K_FROM, false) < 0 || put_address(out, &m->from) < 0 ||
	       put_key(out, K_TO, false) < 0 || put_addresses(out, &m->to) < 0 ||
	       put_key(out, K_CC, false) < 0 || put_addresses(out, &m->cc) < 0 ||
	       put_key(out, K_RECEIVED, false) < 0 ||
	       put_value(out, service_time_json(m->received_at)) < 0 ||
	       put_key(out, K_SENT, false) < 0 ||
	       put_value(out, service_time_json(m->sent_at)) < 0 ||
	       put_key(out, K_IS_READ, false) < 0 || put_bool(out, m->is_read == 1) < 0 ||
	       put_key(out, K_IS_FLAGGED, false) < 0 || put_bool(out, m->is_flagged == 1) < 0 ||
	       put_key(out, K_HAS_ATTACHMENTS, false) < 0 ||
	       put_bool(out, m->has_attachments == 1) < 0 ||
	       put_key(out, K_PREVIEW, false) < 0 ||
	       put_value(out, service_text_json(m->preview)) < 0 ||
	       put_key(out, K_BODY_FETCHED, false) < 0 || put_bool(out, sm->body_fetched) < 0 ||
	       put_key(out, K_PENDING, false) < 0 || put_bool(out, sm->pending) < 0 ||
	       put_key(out, K_CATEGORIES, false) < 0 || put_strings(out, &m->categories) < 0 ||
	       put(out, "}", 1) < 0 ? -1 : 0;
}

static int too_large(const struct buf *out, struct err *e)
{
	return err_set(e, ERR_PERMANENT, "too_large", "the page is larger than %zu bytes",
		       out->limit);
}

static int not_ready(struct err *e)
{
	return err_set(e, ERR_BUG, "internal", "the JSON library could not encode a name");
}

int service_message_text(const struct store_message *m, struct service_text_cache *cache,
			 struct buf *out, struct err *e)
{
	size_t start = out->len;

	pthread_once(&fragments_once, make_fragments);
	if (!fragments_ok)
		return not_ready(e);
	if (cache && service_text_cache_get(cache, m, out) == 1)
		return 0;
	if (put_message(out, m) < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return too_large(out, e);
	}
	if (cache)
		service_text_cache_put(cache, m, out->data + start, out->len - start);
	return 0;
}

/* ---- the API's page ----------------------------------------------------------- */

struct page_writer {
	struct service_text_cache *cache;
	struct buf *out;
	bool first;
	struct err *e;
};

static int add_message(void *ctx, const struct store_message *m)
{
	struct page_writer *w = ctx;

	if (!w->first && put(w->out, ",", 1) < 0) {
		too_large(w->out, w->e);
		return -1;
	}
	w->first = false;
	return service_message_text(m, w->cache, w->out, w->e) < 0 ? -1 : 0;
}

int service_message_page_text(const struct auth_env *env, const struct store_account *a,
			      const struct service_message_query *q,
			      struct service_text_cache *cache, struct buf *out,
			      struct err *e)
{
	struct page_writer w = { cache, out, true, e };
	char *next = NULL;
	int rc;

	pthread_once(&fragments_once, make_fragments);
	if (!fragments_ok)
		return not_ready(e);
	if (put(out, "{", 1) < 0 || put_key(out, K_MESSAGES, true) < 0 || put(out, "[", 1) < 0)
		return too_large(out, e);
	err_clear(e);
	rc = service_messages_list(env, a, q, add_message, &w, &next, e);
	if (rc != 0) {
		free(next);
		if (e->class == ERR_NONE)
			err_set(e, ERR_BUG, "internal", "listing messages stopped early");
		return -1;
	}
	rc = put(out, "]", 1) < 0 || put_key(out, K_NEXT_CURSOR, false) < 0 ||
	     (next ? put_value(out, json_string(next)) : put_fragment(out, &lit_null)) < 0 ||
	     put(out, "}", 1) < 0 ? too_large(out, e) : 0;
	free(next);
	return rc;
}
