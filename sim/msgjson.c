/*
 * msgjson.c — Graph JSON for messages (see msgjson.h). One table lists
 * every message property m365sim knows, in the order Graph prints them;
 * $select masks index this table. A single message becomes a jansson tree
 * (msgjson_render); a page of them is written straight to text, split
 * across threads, from jansson-encoded fragments and the mailbox's cache
 * of rendered messages (msgjson_render_items) — the same bytes the trees
 * would dump to, which tests/unit/test_sim_render.c holds it to.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "ids.h"
#include "msgcache.h"
#include "msgcontent.h"
#include "msgjson.h"
#include "seedgen.h"

enum {
	F_ID, F_CREATED, F_MODIFIED, F_CHANGEKEY, F_CATEGORIES, F_RECEIVED,
	F_SENT, F_HASATT, F_IMID, F_SUBJECT, F_PREVIEW, F_IMPORTANCE, F_PARENT,
	F_CONVID, F_CONVIDX, F_DELIVERYRR, F_READRR, F_ISREAD, F_ISDRAFT,
	F_WEBLINK, F_INFERENCE, F_BODY, F_SENDER, F_FROM, F_TO, F_CC, F_BCC,
	F_REPLYTO, F_FLAG, F_HEADERS, F_UNIQUEBODY, F__COUNT
};

static const struct {
	const char *name;
	bool dflt;
} fields[F__COUNT] = {
	[F_ID] = { "id", true },
	[F_CREATED] = { "createdDateTime", true },
	[F_MODIFIED] = { "lastModifiedDateTime", true },
	[F_CHANGEKEY] = { "changeKey", true },
	[F_CATEGORIES] = { "categories", true },
	[F_RECEIVED] = { "receivedDateTime", true },
	[F_SENT] = { "sentDateTime", true },
	[F_HASATT] = { "hasAttachments", true },
	[F_IMID] = { "internetMessageId", true },
	[F_SUBJECT] = { "subject", true },
	[F_PREVIEW] = { "bodyPreview", true },
	[F_IMPORTANCE] = { "importance", true },
	[F_PARENT] = { "parentFolderId", true },
	[F_CONVID] = { "conversationId", true },
	[F_CONVIDX] = { "conversationIndex", true },
	[F_DELIVERYRR] = { "isDeliveryReceiptRequested", true },
	[F_READRR] = { "isReadReceiptRequested", true },
	[F_ISREAD] = { "isRead", true },
	[F_ISDRAFT] = { "isDraft", true },
	[F_WEBLINK] = { "webLink", true },
	[F_INFERENCE] = { "inferenceClassification", true },
	[F_BODY] = { "body", true },
	[F_SENDER] = { "sender", true },
	[F_FROM] = { "from", true },
	[F_TO] = { "toRecipients", true },
	[F_CC] = { "ccRecipients", true },
	[F_BCC] = { "bccRecipients", true },
	[F_REPLYTO] = { "replyTo", true },
	[F_FLAG] = { "flag", true },
	[F_HEADERS] = { "internetMessageHeaders", false },
	[F_UNIQUEBODY] = { "uniqueBody", false },
};

#define BIT(f) (1ULL << (f))

int msgjson_field_bit(const char *name)
{
	for (int i = 0; i < F__COUNT; i++)
		if (strcasecmp(fields[i].name, name) == 0)
			return i;
	return -1;
}

uint64_t msgjson_default_mask(void)
{
	uint64_t m = 0;

	for (int i = 0; i < F__COUNT; i++)
		if (fields[i].dflt)
			m |= BIT(i);
	return m;
}

char *msgjson_mask_names(uint64_t mask)
{
	struct buf b;

	buf_init(&b, 0);
	for (int i = 0; i < F__COUNT; i++)
		if (mask & BIT(i))
			buf_printf(&b, NULL, "%s%s", b.len ? "," : "", fields[i].name);
	return buf_detach(&b, NULL);
}

char *msgjson_change_key(struct sim_world *w, struct sim_mailbox *mb,
			 uint32_t num)
{
	static const unsigned char prefix[8] = { 0x09, 0, 0, 0, 0x16, 0, 0, 0 };
	uint32_t in[3] = { mb->num, num, mb->msgs[num].version };
	unsigned char h[16], raw[28];

	crypto_generichash(h, sizeof(h), (unsigned char *)in, sizeof(in), w->id_key,
			   sizeof(w->id_key));
	memcpy(raw, prefix, sizeof(prefix));
	memcpy(raw + 8, h, 16);
	memcpy(raw + 24, &in[2], 4);
	return sim_b64(raw, sizeof(raw));
}

static const char *importance_name(uint16_t flags)
{
	static const char *const names[] = { "normal", "low", "high", "normal" };

	return names[(flags & MSG_IMP_MASK) >> MSG_IMP_SHIFT];
}

static const char *flag_name(uint16_t flags)
{
	static const char *const names[] = { "notFlagged", "flagged", "complete", "notFlagged" };

	return names[(flags & MSG_FLAG_MASK) >> MSG_FLAG_SHIFT];
}

static json_t *body_as(json_t *body, int body_type)
{
	const char *ct = json_string_value(json_object_get(body, "contentType"));
	const char *content = json_string_value(json_object_get(body, "content"));
	bool is_html = ct && strcasecmp(ct, "html") == 0;
	char *conv;
	json_t *out;

	if (!body)
		return json_pack("{s:s, s:s}", "contentType", "text", "content", "");
	if (body_type == 0 || (body_type == 1 && !is_html) || (body_type == 2 && is_html))
		return json_pack("{s:s, s:s}", "contentType", is_html ? "html" : "text",
				 "content", content ? content : "");
	conv = body_type == 1 ? msgcontent_html_to_text(content)
			      : msgcontent_text_to_html(content);
	out = json_pack("{s:s, s:s}", "contentType", body_type == 1 ? "text" : "html",
			"content", conv);
	free(conv);
	return out;
}

/* Where content comes from: stored fields, or generated seeded content. */
struct source {
	json_t *f;              /* stored fields (borrowed), or NULL */
	bool seeded;
	struct seed_content c;
};

/* Content field `key` as a new reference, else dflt (which is consumed). */
static json_t *content(struct source *src, const char *key, json_t *dflt)
{
	json_t *v;

	if (src->seeded) {
		v = msgcontent_seeded_value(&src->c, key);
		if (v) {
			json_decref(dflt);
			return v;
		}
		return dflt;
	}
	v = json_object_get(src->f, key);
	if (v) {
		json_decref(dflt);
		return json_incref(v);
	}
	return dflt;
}

static json_t *time_value(int64_t t, bool fraction)
{
	char buf[SIMTIME_LEN];

	simtime_format(t, fraction, buf);
	return json_string_nocheck(buf);
}

/* A stored or generated date string `v` (consumed), rewritten with a
 * fraction when the date_fractions setting is on. */
static json_t *date_value(json_t *v, bool fraction)
{
	int64_t t;

	if (!fraction || !json_is_string(v) || simtime_parse(json_string_value(v), &t, NULL) < 0)
		return v;
	json_decref(v);
	return time_value(t, true);
}

static json_t *id_value(char *s)
{
	json_t *v = json_string_nocheck(s);

	free(s);
	return v;
}

/* Properties besides the table's: written before the selected ones. */
enum { P_TYPE = F__COUNT, P_ETAG, P__COUNT };

/* Everything rendering one message needs, worked out once. */
struct render_ctx {
	struct sim_world *w;
	struct sim_mailbox *mb;
	uint32_t num;
	const struct sim_msg *m;
	const struct render_opts *o;
	struct source src;
	char *ck;                /* changeKey */
	int props[P__COUNT];     /* what to write, in order */
	int nprops;
};

static void ctx_init(struct render_ctx *c, struct sim_world *w,
		     struct sim_mailbox *mb, uint32_t num,
		     const struct render_opts *o)
{
	uint64_t mask = (o->mask ? o->mask : msgjson_default_mask()) | BIT(F_ID);

	memset(c, 0, sizeof(*c));
	c->w = w;
	c->mb = mb;
	c->num = num;
	c->m = &mb->msgs[num];
	c->o = o;
	if (c->m->ext)
		c->src.f = c->m->ext->fields;
	else
		c->src.seeded = msgcontent_seeded(mb, num, &c->src.c);
	c->ck = msgjson_change_key(w, mb, num);
	if (o->odata_type)
		c->props[c->nprops++] = P_TYPE;
	c->props[c->nprops++] = P_ETAG;
	for (int i = 0; i < F__COUNT; i++)
		if (mask & BIT(i))
			c->props[c->nprops++] = i;
}

static const char *prop_name(int p)
{
	return p == P_TYPE ? "@odata.type" : p == P_ETAG ? "@odata.etag" : fields[p].name;
}

/* The folder id of a message; a page is one folder, so each thread
 * remembers the last one. */
static json_t *parent_value(struct render_ctx *c)
{
	static __thread uint32_t cached_mbox = SIM_NONE, cached_folder = SIM_NONE;
	static __thread char cached_id[64];

	if (cached_mbox != c->mb->num || cached_folder != c->m->folder) {
		char *fid = ids_folder(c->w, c->mb->num, c->m->folder);

		snprintf(cached_id, sizeof(cached_id), "%s", fid);
		free(fid);
		cached_mbox = c->mb->num;
		cached_folder = c->m->folder;
	}
	return json_string_nocheck(cached_id);
}

static json_t *weblink_value(struct render_ctx *c)
{
	char *rid = ids_message(c->w, c->mb->num, c->num, c->m->gen, false);
	char *enc = sim_url_encode(rid);
	char *link = xasprintf("https://outlook.office365.com/owa/?ItemID=%s&exvsurl=1&viewmodel=ReadMessageItem", enc);
	json_t *v = json_string_nocheck(link);

	free(link);
	free(enc);
	free(rid);
	return v;
}

/* Value of property p (new reference). */
static json_t *prop_value(struct render_ctx *c, int p)
{
	const struct sim_msg *m = c->m;
	json_t *v, *b;
	char etag[96];

	switch (p) {
	case P_TYPE:
		return json_string_nocheck("#microsoft.graph.message");
	case P_ETAG:
		snprintf(etag, sizeof(etag), "W/\"%s\"", c->ck);
		return json_string_nocheck(etag);
	case F_ID:
		return id_value(ids_message(c->w, c->mb->num, c->num, m->gen, c->o->immutable));
	case F_CHANGEKEY:
		return json_string_nocheck(c->ck);
	case F_MODIFIED:
		return time_value((int64_t)m->modified, c->w->cfg.date_fractions);
	case F_RECEIVED:
		return time_value(m->received, c->w->cfg.date_fractions);
	case F_CREATED:
	case F_SENT:
		return date_value(content(&c->src, fields[p].name, time_value(m->received, false)),
				  c->w->cfg.date_fractions);
	case F_HASATT:
		return json_boolean(m->flags & MSG_HASATT);
	case F_IMPORTANCE:
		return json_string_nocheck(importance_name(m->flags));
	case F_PARENT:
		return parent_value(c);
	case F_ISREAD:
		return json_boolean(m->flags & MSG_READ);
	case F_ISDRAFT:
		return json_boolean(m->flags & MSG_DRAFT);
	case F_FLAG:
		v = json_object();
		json_object_set_new_nocheck(v, "flagStatus", json_string_nocheck(flag_name(m->flags)));
		return v;
	case F_WEBLINK:
		return weblink_value(c);
	case F_BODY:
	case F_UNIQUEBODY:
		b = content(&c->src, "body", NULL);
		v = body_as(b, c->o->body_type);
		json_decref(b);
		return v;
	case F_PREVIEW:
		return content(&c->src, "bodyPreview", json_string(""));
	case F_CATEGORIES:
	case F_TO:
	case F_CC:
	case F_BCC:
	case F_REPLYTO:
		return content(&c->src, fields[p].name, json_array());
	case F_HEADERS:
		return (m->flags & MSG_DRAFT) ? json_null()
					      : content(&c->src, fields[p].name, json_array());
	case F_DELIVERYRR:
	case F_READRR:
		return content(&c->src, fields[p].name, json_false());
	case F_INFERENCE:
		return content(&c->src, fields[p].name, json_string("focused"));
	default:
		return content(&c->src, fields[p].name, json_null());
	}
}

json_t *msgjson_render(struct sim_world *w, struct sim_mailbox *mb,
		       uint32_t num, const struct render_opts *o)
{
	struct render_ctx c;
	json_t *out = json_object();

	ctx_init(&c, w, mb, num, o);
	for (int k = 0; k < c.nprops; k++)
		json_object_set_new_nocheck(out, prop_name(c.props[k]), prop_value(&c, c.props[k]));
	free(c.ck);
	return out;
}

/*
 * Pages are written as text: a message is "{" + its properties + "}",
 * each property its name, ':' and its value, names and values as jansson
 * encodes them (json_dumpb, JSON_ENCODE_ANY): m365sim only adds the
 * punctuation between fragments, never escapes or formats anything itself.
 * Names are encoded once per slice of a page; so is a value shared by many
 * messages (the @odata.type, flags, the folder id, a seeded message's
 * people and constant fields), which is where jansson would spend most
 * (every object or array it writes costs a loop check).
 */

#define FRAG_SLOTS 1024u

struct frag_cache {
	uint64_t key[FRAG_SLOTS];   /* 0 = free */
	uint32_t off[FRAG_SLOTS];   /* where its text is in `text` */
	uint32_t len[FRAG_SLOTS];
	struct buf text;
	uint32_t name_off[P__COUNT];  /* encoded names + ':' */
	uint32_t name_len[P__COUNT];  /* 0 = not encoded yet */
};

/* A slice of a page rendered by one thread into its own text. */
struct render_job {
	struct sim_world *w;
	struct sim_mailbox *mb;
	const struct msgjson_item *items;
	size_t n;
	const struct render_opts *o;
	struct buf text;
	int rc;
	struct frag_cache *frags;   /* this slice's shared fragments */
	char *scratch;              /* jansson's output before it is copied */
	size_t cap;
	size_t cache_limit;         /* bytes of mb->render_cache; 0 = unused */
};

static uint64_t people_key(const struct seed_person *p, int n)
{
	uint64_t k = (uint64_t)n;

	for (int i = 0; i < n && i < 3; i++)
		k |= (uint64_t)(uint8_t)(p[i].contact + 2) << (8 + 8 * i);
	return k;
}

/* Cache key of the value of property p of this message, or 0 when its
 * text is not shared with other messages. */
static uint64_t frag_key(const struct render_ctx *c, int p)
{
	const struct sim_msg *m = c->m;
	const struct seed_content *sc = &c->src.c;
	uint64_t variant;

	switch (p) {
	case P_TYPE:
		variant = 0;
		break;
	case F_HASATT:
		variant = (m->flags & MSG_HASATT) != 0;
		break;
	case F_ISREAD:
		variant = (m->flags & MSG_READ) != 0;
		break;
	case F_ISDRAFT:
		variant = (m->flags & MSG_DRAFT) != 0;
		break;
	case F_IMPORTANCE:
		variant = (m->flags & MSG_IMP_MASK) >> MSG_IMP_SHIFT;
		break;
	case F_FLAG:
		variant = (m->flags & MSG_FLAG_MASK) >> MSG_FLAG_SHIFT;
		break;
	case F_PARENT:
		variant = m->folder;
		break;
	case F_CATEGORIES:
	case F_BCC:
	case F_REPLYTO:
	case F_INFERENCE:
	case F_DELIVERYRR:
	case F_READRR:
		if (!c->src.seeded)
			return 0;
		variant = 0;
		break;
	case F_FROM:
	case F_SENDER:
		if (!c->src.seeded)
			return 0;
		variant = people_key(&sc->from, 1);
		break;
	case F_TO:
		if (!c->src.seeded)
			return 0;
		variant = people_key(sc->to, sc->nto);
		break;
	case F_CC:
		if (!c->src.seeded)
			return 0;
		variant = people_key(sc->cc, sc->ncc);
		break;
	default:
		return 0;
	}
	return 1ULL << 63 | (uint64_t)p << 48 | variant;
}

static size_t frag_slot(const struct frag_cache *fc, uint64_t key)
{
	size_t i = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 54) % FRAG_SLOTS;

	for (size_t probes = 0; probes < FRAG_SLOTS; probes++, i = (i + 1) % FRAG_SLOTS)
		if (fc->key[i] == key || fc->key[i] == 0)
			return i;
	return FRAG_SLOTS;
}

/* Append jansson's encoding of `v` (consumed) to `out`. */
static int encode(struct render_job *j, json_t *v, struct buf *out)
{
	size_t n = json_dumpb(v, j->scratch, j->cap, JSON_COMPACT | JSON_ENCODE_ANY);

	if (n > j->cap) {
		j->cap = n + 4096;
		j->scratch = xrealloc(j->scratch, j->cap);
		n = json_dumpb(v, j->scratch, j->cap, JSON_COMPACT | JSON_ENCODE_ANY);
	}
	json_decref(v);
	if (n == 0)
		return -1;
	return buf_append(out, j->scratch, n, NULL);
}

/* Append property p's encoded name and ':'. */
static int put_name(struct render_job *j, int p)
{
	struct frag_cache *fc = j->frags;

	if (!fc->name_len[p]) {
		size_t start = fc->text.len;

		if (encode(j, json_string_nocheck(prop_name(p)), &fc->text) < 0 ||
		    buf_append(&fc->text, ":", 1, NULL) < 0)
			return -1;
		fc->name_off[p] = (uint32_t)start;
		fc->name_len[p] = (uint32_t)(fc->text.len - start);
	}
	return buf_append(&j->text, fc->text.data + fc->name_off[p], fc->name_len[p], NULL);
}

/* Append property p (after a comma unless it is the first one): its value
 * from the slice's fragments when it is shared and was encoded before,
 * else encoded now (and remembered if shared). A value jansson could not
 * build is left out, as json_object_set_new leaves it out of a tree. */
static int put_prop(struct render_job *j, struct render_ctx *c, int p, bool *first)
{
	struct frag_cache *fc = j->frags;
	uint64_t key = frag_key(c, p);
	size_t slot = key ? frag_slot(fc, key) : FRAG_SLOTS;
	bool cached = slot < FRAG_SLOTS && fc->key[slot] == key;
	json_t *v = cached ? NULL : prop_value(c, p);
	size_t start;

	if (!cached && !v)
		return 0;
	if ((!*first && buf_append(&j->text, ",", 1, NULL) < 0) || put_name(j, p) < 0) {
		json_decref(v);
		return -1;
	}
	*first = false;
	if (cached)
		return buf_append(&j->text, fc->text.data + fc->off[slot], fc->len[slot], NULL);
	start = j->text.len;
	if (encode(j, v, &j->text) < 0)
		return -1;
	if (slot < FRAG_SLOTS && fc->text.len < UINT32_MAX / 2 &&
	    buf_append(&fc->text, j->text.data + start, j->text.len - start, NULL) == 0) {
		fc->key[slot] = key;
		fc->off[slot] = (uint32_t)(fc->text.len - (j->text.len - start));
		fc->len[slot] = (uint32_t)(j->text.len - start);
	}
	return 0;
}

static int render_text(struct render_job *j, uint32_t num)
{
	struct render_ctx c;
	bool first = true;
	int rc;

	ctx_init(&c, j->w, j->mb, num, j->o);
	rc = buf_append(&j->text, "{", 1, NULL);
	for (int k = 0; k < c.nprops && rc == 0; k++)
		rc = put_prop(j, &c, c.props[k], &first);
	if (rc == 0)
		rc = buf_append(&j->text, "}", 1, NULL);
	free(c.ck);
	return rc;
}

/* The state a seeded message's text depends on (see msgcache.h); false
 * for a message whose content is stored, which is never cached. */
static bool cache_stamp(const struct render_job *j, uint32_t num,
			struct msgcache_stamp *st)
{
	const struct sim_msg *m = &j->mb->msgs[num];
	const struct render_opts *o = j->o;

	if (m->ext || !m->batch)
		return false;
	memset(st, 0, sizeof(*st));
	st->opts = ((o->mask ? o->mask : msgjson_default_mask()) | BIT(F_ID)) |
		   (uint64_t)o->immutable << 60 | (uint64_t)(o->body_type & 3) << 61 |
		   (uint64_t)o->odata_type << 63;
	st->received = m->received;
	st->modified = m->modified;
	st->folder = m->folder;
	st->gen = m->gen;
	st->version = m->version;
	st->flags = m->flags;
	return true;
}

/* Message num's text from the mailbox's cache, or rendered and kept. */
static int cached_text(struct render_job *j, uint32_t num)
{
	struct msgcache_stamp st;
	size_t start = j->text.len;
	int rc;

	if (!j->cache_limit || !cache_stamp(j, num, &st))
		return render_text(j, num);
	if (msgcache_get(j->mb->render_cache, num, &st, &j->text))
		return 0;
	rc = render_text(j, num);
	if (rc == 0)
		msgcache_put(j->mb->render_cache, num, &st, j->text.data + start,
			     j->text.len - start, j->cache_limit);
	return rc;
}

static void *render_job(void *arg)
{
	struct render_job *j = arg;

	j->cap = 16384;
	j->scratch = xmalloc(j->cap);
	j->frags = xcalloc(1, sizeof(*j->frags));
	buf_init(&j->frags->text, 0);
	for (size_t i = 0; i < j->n && j->rc == 0; i++) {
		const struct msgjson_item *it = &j->items[i];

		if (i > 0 && buf_append(&j->text, ",", 1, NULL) < 0) {
			j->rc = -1;
			break;
		}
		if (it->removed)
			j->rc = encode(j, msgjson_removed(j->w, j->mb, it->num, it->gen,
							  j->o->immutable, "deleted"), &j->text);
		else
			j->rc = cached_text(j, it->num);
	}
	buf_free(&j->frags->text);
	free(j->frags);
	free(j->scratch);
	return NULL;
}

#define RENDER_MAX_THREADS 4
#define RENDER_MIN_SLICE 32

int msgjson_render_items(struct sim_world *w, struct sim_mailbox *mb,
			 const struct msgjson_item *items, size_t n,
			 const struct render_opts *o, struct buf *out)
{
	static long cores;
	struct render_job jobs[RENDER_MAX_THREADS];
	pthread_t tids[RENDER_MAX_THREADS];
	bool started[RENDER_MAX_THREADS] = { false };
	size_t nthreads, done = 0, len0 = out->len;
	int rc = 0;

	if (!__atomic_load_n(&cores, __ATOMIC_RELAXED))
		__atomic_store_n(&cores, sysconf(_SC_NPROCESSORS_ONLN), __ATOMIC_RELAXED);
	nthreads = (size_t)__atomic_load_n(&cores, __ATOMIC_RELAXED);
	if (nthreads > RENDER_MAX_THREADS)
		nthreads = RENDER_MAX_THREADS;
	if (nthreads > n / RENDER_MIN_SLICE)
		nthreads = n / RENDER_MIN_SLICE;
	if (nthreads < 1)
		nthreads = 1;
	memset(jobs, 0, sizeof(jobs));
	for (size_t t = 0; t < nthreads; t++) {
		size_t share = (n - done) / (nthreads - t);

		jobs[t].w = w;
		jobs[t].mb = mb;
		jobs[t].items = items + done;
		jobs[t].n = share;
		jobs[t].o = o;
		jobs[t].cache_limit = mb->render_cache ? (size_t)w->cfg.render_cache_mb << 20 : 0;
		buf_init(&jobs[t].text, out->limit);
		done += share;
	}
	/* slice 0 runs here, the others on their own threads */
	for (size_t t = 1; t < nthreads; t++)
		started[t] = pthread_create(&tids[t], NULL, render_job, &jobs[t]) == 0;
	render_job(&jobs[0]);
	for (size_t t = 0; t < nthreads; t++) {
		if (t > 0 && started[t])
			pthread_join(tids[t], NULL);
		else if (t > 0)
			render_job(&jobs[t]);
		if (jobs[t].rc) {
			rc = -1;
		} else if (rc == 0 && jobs[t].text.len) {
			if ((out->len > len0 && buf_append(out, ",", 1, NULL) < 0) ||
			    buf_append(out, jobs[t].text.data, jobs[t].text.len, NULL) < 0)
				rc = -1;
		}
		buf_free(&jobs[t].text);
	}
	if (rc < 0) {
		out->len = len0;
		if (out->data)
			out->data[len0] = '\0';
	}
	return rc;
}

json_t *msgjson_removed(struct sim_world *w, struct sim_mailbox *mb,
			uint32_t num, uint32_t gen, bool immutable,
			const char *reason)
{
	char *id = ids_message(w, mb->num, num, gen, immutable);
	json_t *o = json_pack("{s:s, s:s, s:{s:s}}", "@odata.type",
			      "#microsoft.graph.message", "id", id, "@removed",
			      "reason", reason);

	free(id);
	return o;
}
