/*
 * msgjson.c — Graph JSON for messages (see msgjson.h). One table lists
 * every message property m365sim knows, in the order Graph prints them;
 * $select masks index this table.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "ids.h"
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
	uint32_t in[3] = { mb->num, num, mb->msgs[num].version };
	unsigned char h[16], raw[28];

	crypto_generichash(h, sizeof(h), (unsigned char *)in, sizeof(in), w->id_key,
			   sizeof(w->id_key));
	memcpy(raw, "\x09\x00\x00\x00\x16\x00\x00\x00", 8);
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

static json_t *time_value(int64_t t)
{
	char buf[TIME_RFC3339_LEN];

	time_format_rfc3339(t, buf);
	return json_string_nocheck(buf);
}

static json_t *id_value(char *s)
{
	json_t *v = json_string_nocheck(s);

	free(s);
	return v;
}

json_t *msgjson_render(struct sim_world *w, struct sim_mailbox *mb,
		       uint32_t num, const struct render_opts *o)
{
	struct sim_msg *m = &mb->msgs[num];
	uint64_t mask = (o->mask ? o->mask : msgjson_default_mask()) | BIT(F_ID);
	struct source src;
	json_t *out = json_object();
	char *ck = msgjson_change_key(w, mb, num), etag[96];

	memset(&src, 0, sizeof(src));
	if (m->ext)
		src.f = m->ext->fields;
	else
		src.seeded = msgcontent_seeded(mb, num, &src.c);
	if (o->odata_type)
		json_object_set_new_nocheck(out, "@odata.type", json_string_nocheck("#microsoft.graph.message"));
	snprintf(etag, sizeof(etag), "W/\"%s\"", ck);
	json_object_set_new_nocheck(out, "@odata.etag", json_string_nocheck(etag));
	for (int i = 0; i < F__COUNT; i++) {
		json_t *v = NULL;

		if (!(mask & BIT(i)))
			continue;
		switch (i) {
		case F_ID:
			v = id_value(ids_message(w, mb->num, num, m->gen, o->immutable));
			break;
		case F_CHANGEKEY:
			v = json_string_nocheck(ck);
			break;
		case F_MODIFIED:
			v = time_value((int64_t)m->modified);
			break;
		case F_RECEIVED:
			v = time_value(m->received);
			break;
		case F_CREATED:
		case F_SENT:
			v = content(&src, fields[i].name, time_value(m->received));
			break;
		case F_HASATT:
			v = json_boolean(m->flags & MSG_HASATT);
			break;
		case F_IMPORTANCE:
			v = json_string_nocheck(importance_name(m->flags));
			break;
		case F_PARENT: {
			/* a page is one folder: remember its id per thread */
			static __thread uint32_t cached_mbox = SIM_NONE, cached_folder = SIM_NONE;
			static __thread char cached_id[64];

			if (cached_mbox != mb->num || cached_folder != m->folder) {
				char *fid = ids_folder(w, mb->num, m->folder);

				snprintf(cached_id, sizeof(cached_id), "%s", fid);
				free(fid);
				cached_mbox = mb->num;
				cached_folder = m->folder;
			}
			v = json_string_nocheck(cached_id);
			break;
		}
		case F_ISREAD:
			v = json_boolean(m->flags & MSG_READ);
			break;
		case F_ISDRAFT:
			v = json_boolean(m->flags & MSG_DRAFT);
			break;
		case F_FLAG:
			v = json_object();
			json_object_set_new_nocheck(v, "flagStatus", json_string_nocheck(flag_name(m->flags)));
			break;
		case F_WEBLINK: {
			char *rid = ids_message(w, mb->num, num, m->gen, false);
			char *enc = sim_url_encode(rid);
			char *link = xasprintf("https://outlook.office365.com/owa/?ItemID=%s&exvsurl=1&viewmodel=ReadMessageItem", enc);

			v = json_string_nocheck(link);
			free(link);
			free(enc);
			free(rid);
			break;
		}
		case F_BODY:
		case F_UNIQUEBODY: {
			json_t *b = content(&src, "body", NULL);

			v = body_as(b, o->body_type);
			json_decref(b);
			break;
		}
		case F_PREVIEW:
			v = content(&src, "bodyPreview", json_string(""));
			break;
		case F_CATEGORIES:
		case F_TO:
		case F_CC:
		case F_BCC:
		case F_REPLYTO:
			v = content(&src, fields[i].name, json_array());
			break;
		case F_HEADERS:
			v = (m->flags & MSG_DRAFT) ? json_null()
						   : content(&src, fields[i].name, json_array());
			break;
		case F_DELIVERYRR:
		case F_READRR:
			v = content(&src, fields[i].name, json_false());
			break;
		case F_INFERENCE:
			v = content(&src, fields[i].name, json_string("focused"));
			break;
		default:
			v = content(&src, fields[i].name, json_null());
			break;
		}
		json_object_set_new_nocheck(out, fields[i].name, v);
	}
	free(ck);
	return out;
}

struct render_job {
	struct sim_world *w;
	struct sim_mailbox *mb;
	const uint32_t *nums;
	size_t n;
	const struct render_opts *o;
	json_t **out;
};

static void *render_job(void *arg)
{
	struct render_job *j = arg;

	for (size_t i = 0; i < j->n; i++)
		j->out[i] = msgjson_render(j->w, j->mb, j->nums[i], j->o);
	return NULL;
}

void msgjson_render_many(struct sim_world *w, struct sim_mailbox *mb,
			 const uint32_t *nums, size_t n,
			 const struct render_opts *o, json_t **out)
{
	static long cores;
	struct render_job a = { w, mb, nums, n, o, out }, b;
	pthread_t t;

	if (!__atomic_load_n(&cores, __ATOMIC_RELAXED))
		__atomic_store_n(&cores, sysconf(_SC_NPROCESSORS_ONLN), __ATOMIC_RELAXED);
	if (n < 64 || __atomic_load_n(&cores, __ATOMIC_RELAXED) < 2) {
		render_job(&a);
		return;
	}
	a.n = n / 2;
	b = a;
	b.nums = nums + a.n;
	b.out = out + a.n;
	b.n = n - a.n;
	if (pthread_create(&t, NULL, render_job, &b) != 0) {
		render_job(&b);
		render_job(&a);
		return;
	}
	render_job(&a);
	pthread_join(t, NULL);
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
