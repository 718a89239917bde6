/*
 * store_rows.c — row encodings shared by the store backends (see
 * store_rows.h): lists as JSON arrays with jansson, the event data
 * documents, and unpacking a message's column texts into one heap block
 * filled by two passes over the same data (measure, then copy), the
 * stored lists parsed once per distinct text.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "inboxsync/alloc.h"
#include "store/store_rows.h"

/* ---- lists --------------------------------------------------------------- */

json_t *store_addresses_value(const struct mail_address_list *l)
{
	json_t *arr;

	if (!l->known)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < l->n; i++) {
		json_t *a = json_object();

		json_object_set_new(a, "name", json_string(l->items[i].name ? l->items[i].name : ""));
		json_object_set_new(a, "address",
				    json_string(l->items[i].address ? l->items[i].address : ""));
		json_array_append_new(arr, a);
	}
	return arr;
}

json_t *store_strings_value(const struct mail_string_list *l)
{
	json_t *arr;

	if (!l->known)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(arr, json_string(l->items[i] ? l->items[i] : ""));
	return arr;
}

static char *dump_array(json_t *arr)
{
	char *out;

	if (!arr)
		return NULL;
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out ? out : xstrdup("[]");
}

char *store_addresses_json(const struct mail_address_list *l)
{
	return dump_array(store_addresses_value(l));
}

char *store_strings_json(const struct mail_string_list *l)
{
	return dump_array(store_strings_value(l));
}

/* ---- event data ------------------------------------------------------------ */

static char *dump_object(json_t *obj)
{
	char *out = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	return out;
}

char *store_state_event_data(enum store_state state, const char *reason,
			     enum err_fix fix, const char *fix_arg)
{
	char fixtext[640];

	err_fix_text(fix, fix_arg, fixtext, sizeof(fixtext));
	return dump_object(json_pack("{s:s,s:s,s:s,s:s}", "state", store_state_name(state),
				     "state_reason", reason ? reason : "", "fix", fixtext,
				     "fix_code", err_fix_name(fix)));
}

char *store_send_event_data(const struct store_outbox *o,
			    enum store_event_type type)
{
	return dump_object(json_pack("{s:s,s:s,s:s}", "key", o->idem_key,
				     "internet_message_id", o->internet_message_id,
				     "reason", type == STORE_EVENT_SEND_FAILED
				     ? o->last_error : ""));
}

/* ---- reading a message back ------------------------------------------------------ */

/* The text columns of a message row. Empty strings for SQL NULL. */
struct store_message_text {
	const char *remote_id;
	const char *internet_message_id;
	const char *conversation_id;
	const char *subject;
	const char *from_name;
	const char *from_addr;
	const char *to_json;
	const char *cc_json;
	const char *categories_json;
	const char *preview;
	const char *change_key;
	const char *folder_path;
	bool with_body;            /* body_type and body are read */
	const char *body_type;
	const char *body;          /* NULL when none is cached */
	size_t body_len;
};


struct packer {
	char *base;                /* NULL while measuring */
	size_t used;
};

static void *pack_raw(struct packer *p, const void *src, size_t n, size_t align)
{
	void *at;

	p->used = (p->used + align - 1) / align * align;
	at = p->base ? p->base + p->used : NULL;
	if (at && src)
		memcpy(at, src, n);
	p->used += n;
	return at;
}

static const char *pack_str(struct packer *p, const char *s, size_t n)
{
	char *at = pack_raw(p, s, n + 1, 1);

	if (at)
		at[n] = '\0';
	return at;
}

static const char *pack_text(struct packer *p, const char *s)
{
	return pack_str(p, s ? s : "", s ? strlen(s) : 0);
}

static void pack_addresses(struct packer *p, const json_t *arr,
			   struct mail_address_list *out)
{
	size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
	struct mail_address *items = pack_raw(p, NULL, n * sizeof(*items),
					      _Alignof(struct mail_address));

	out->known = true;
	out->n = n;
	out->items = items;
	for (size_t i = 0; i < n; i++) {
		const json_t *a = json_array_get(arr, i);
		const char *pn = pack_text(p, json_string_value(json_object_get(a, "name")));
		const char *pa = pack_text(p, json_string_value(json_object_get(a, "address")));

		if (items) {
			items[i].name = pn;
			items[i].address = pa;
		}
	}
}

static void pack_strings(struct packer *p, const json_t *arr,
			 struct mail_string_list *out)
{
	size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
	const char **items = pack_raw(p, NULL, n * sizeof(*items), _Alignof(char *));

	out->known = true;
	out->n = n;
	out->items = items;
	for (size_t i = 0; i < n; i++) {
		const char *pv = pack_text(p, json_string_value(json_array_get(arr, i)));

		if (items)
			items[i] = pv;
	}
}

/* One pass over `t` with `p`. */
static void pack_message(struct packer *p, const struct store_message_text *t,
			 json_t *const lists[3], struct store_message *out)
{
	struct mail_message *m = &out->m;

	m->remote_id = pack_text(p, t->remote_id);
	m->internet_message_id = pack_text(p, t->internet_message_id);
	m->conversation_id = pack_text(p, t->conversation_id);
	m->subject = pack_text(p, t->subject);
	m->from.name = pack_text(p, t->from_name);
	m->from.address = pack_text(p, t->from_addr);
	pack_addresses(p, lists[0], &m->to);
	pack_addresses(p, lists[1], &m->cc);
	pack_strings(p, lists[2], &m->categories);
	m->preview = pack_text(p, t->preview);
	m->change_key = pack_text(p, t->change_key);
	out->folder_path = pack_text(p, t->folder_path);
	if (t->with_body) {
		out->body_type = pack_text(p, t->body_type);
		out->body = pack_str(p, t->body ? t->body : "", t->body ? t->body_len : 0);
		out->body_len = t->body ? t->body_len : 0;
	}
}

/*
 * Stored lists parsed recently, by their exact text: the recipients of a
 * mailbox's messages repeat (the owner, a team), and parsing them with
 * jansson was most of the cost of reading a message. The parsed values are
 * shared read-only between threads (jansson's reference counts are
 * atomic); an entry is the pure result of json_loads on its text, so it
 * never needs invalidating. Direct-mapped, one lock per slot.
 */
#define LIST_MEMO_SLOTS 512
#define LIST_MEMO_TEXT_MAX 1024

struct list_memo {
	pthread_mutex_t lock;
	char *text;                /* NULL = empty */
	size_t len;
	json_t *value;
};

static struct list_memo list_memo[LIST_MEMO_SLOTS];
static pthread_once_t list_memo_once = PTHREAD_ONCE_INIT;

static void list_memo_init(void)
{
	for (size_t i = 0; i < LIST_MEMO_SLOTS; i++)
		pthread_mutex_init(&list_memo[i].lock, NULL);
}

static struct list_memo *list_memo_slot(const char *text, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 16777619u;
	return &list_memo[h % LIST_MEMO_SLOTS];
}

/* A stored list, as json_loads reads it (a new reference); NULL for the
 * empty list, the common case, which reads back as the parsed "[]" would
 * (known, no items), and for text that does not parse. */
static json_t *parse_list(const char *text)
{
	struct list_memo *m;
	json_t *v, *old = NULL;
	char *copy, *old_text = NULL;
	size_t len;

	if (!text || strcmp(text, "[]") == 0)
		return NULL; /* json_loads gives NULL for "" too */
	len = strlen(text);
	if (len > LIST_MEMO_TEXT_MAX)
		return json_loads(text, JSON_DISABLE_EOF_CHECK, NULL);
	pthread_once(&list_memo_once, list_memo_init);
	m = list_memo_slot(text, len);
	pthread_mutex_lock(&m->lock);
	v = m->text && m->len == len && memcmp(m->text, text, len) == 0
	    ? json_incref(m->value) : NULL;
	pthread_mutex_unlock(&m->lock);
	if (v || !(v = json_loads(text, JSON_DISABLE_EOF_CHECK, NULL)))
		return v;
	copy = xstrndup(text, len);
	pthread_mutex_lock(&m->lock);
	old = m->value;
	old_text = m->text;
	m->value = json_incref(v);
	m->text = copy;
	m->len = len;
	pthread_mutex_unlock(&m->lock);
	json_decref(old);
	free(old_text);
	return v;
}

/* Clear `out` and fill its strings from `t`, copied into one new heap
 * block (out->owned); numbers and flags are store_message_read's. */
static void store_message_unpack(const struct store_message_text *t,
				 struct store_message *out)
{
	json_t *lists[3] = {
		parse_list(t->to_json), parse_list(t->cc_json), parse_list(t->categories_json),
	};
	struct packer p = { 0 };

	memset(out, 0, sizeof(*out));
	pack_message(&p, t, lists, out);
	p.base = xmalloc(p.used ? p.used : 1);
	p.used = 0;
	pack_message(&p, t, lists, out);
	for (int i = 0; i < 3; i++)
		json_decref(lists[i]);
	out->owned = p.base;
}

void store_message_read(const struct store_row *row, bool with_body,
			const char *body, size_t body_len, struct store_message *out)
{
#define T(col) row->text(row->row, col)
#define I(col) row->integer(row->row, col)
	struct store_message_text t = {
		.remote_id = T(3), .internet_message_id = T(4), .conversation_id = T(5),
		.subject = T(6), .from_name = T(7), .from_addr = T(8), .to_json = T(9),
		.cc_json = T(10), .categories_json = T(11), .preview = T(12),
		.change_key = T(21), .folder_path = T(2), .with_body = with_body,
		.body_type = with_body ? T(STORE_MESSAGE_COL_BODY_TYPE) : NULL,
		.body = body, .body_len = body_len,
	};
	struct mail_message *m = &out->m;

	store_message_unpack(&t, out);
	out->id = I(0);
	out->folder_id = I(1);
	m->received_at = I(13);
	m->sent_at = I(14);
	m->is_read = I(15) != 0;
	m->is_flagged = I(16) != 0;
	m->is_draft = I(17) != 0;
	m->has_attachments = I(18) != 0;
	out->pending = I(19) != 0;
	out->body_fetched = I(20) != 0;
	m->size = I(22);
	out->orphan = I(23) != 0;
#undef T
#undef I
}
