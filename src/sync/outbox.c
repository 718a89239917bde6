/*
 * outbox.c — accepting and delivering sends exactly once (see outbox.h and
 * docs/sending.md). Every transition is stored before the next request;
 * after a crash or an ambiguous failure the server is asked what happened
 * (the draft's state by its immutable id, then a search by Message-ID)
 * before anything is sent again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/crashpoint.h"
#include "inboxsync/jdoc.h"
#include "inboxsync/log.h"
#include "inboxsync/mime.h"
#include "inboxsync/outbox.h"
#include "inboxsync/sched.h"
#include "inboxsync/timeutil.h"

#define UNKNOWN_CHECKS 5          /* looks for a send whose result is unknown */
#define UNKNOWN_RECHECK_S 30

/* ---- accepting -------------------------------------------------------------- */

static int check_sendable(const struct store_account *a, struct err *e)
{
	if (a->state == STORE_STATE_AUTH_INVALID) {
		err_set(e, ERR_AUTH, "auth_invalid",
			"sending from '%s' is blocked: the account is auth_invalid "
			"(%s); authorize it again and send again", a->name,
			a->state_reason);
		return err_set_fix(e, FIX_REAUTHORIZE, a->name);
	}
	if (!a->authorized_at) {
		err_set(e, ERR_AUTH, "auth_required", "'%s' is not authorized", a->name);
		return err_set_fix(e, FIX_AUTHORIZE, a->name);
	}
	return 0;
}

/* Reply headers from the synced message `id`. */
static int reply_headers(struct store *st, const struct store_account *a,
			 const char *id, char **in_reply_to, struct err *e)
{
	struct store_message m;
	int rc = store_get_message(st, a->id, id, &m, e);

	*in_reply_to = NULL;
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_PERMANENT, "not_found", "reply: no synced message "
			       "with id '%.200s' in '%s'", id, a->name);
	if (m.m.internet_message_id[0])
		*in_reply_to = xstrdup(m.m.internet_message_id);
	store_message_clear(&m);
	if (!*in_reply_to)
		return err_set(e, ERR_PERMANENT, "conflict", "reply: message '%.200s' "
			       "has no Message-ID to reply to", id);
	return 0;
}

static json_t *addresses_doc(const struct mime_addresses *l)
{
	json_t *arr = jdoc_array();

	for (size_t i = 0; i < l->n; i++)
		jdoc_push(arr, jdoc_pack("{s:s,s:s}", "name", l->items[i].name,
					 "address", l->items[i].address));
	return arr;
}

/* What was asked, kept with the entry (for listings and resends). */
static char *request_json(const struct outbox_request *r,
			  const struct mime_addresses *to,
			  const struct mime_addresses *cc,
			  const struct mime_addresses *bcc)
{
	json_t *att = jdoc_array(), *doc;
	char *out;

	for (size_t i = 0; i < r->n_attachments; i++)
		jdoc_push(att, jdoc_string(r->attachments[i].name));
	doc = jdoc_object();
	jdoc_set(doc, "to", addresses_doc(to));
	jdoc_set(doc, "cc", addresses_doc(cc));
	jdoc_set(doc, "bcc", addresses_doc(bcc));
	jdoc_set(doc, "subject", jdoc_string(r->subject ? r->subject : ""));
	jdoc_set(doc, "html", jdoc_bool(r->html));
	jdoc_set(doc, "attachments", att);
	jdoc_set(doc, "reply_to_id", jdoc_string(r->reply_to_id));
	out = jdoc_dump(doc);
	jdoc_free(doc);
	return out ? out : xstrdup("{}");
}

/* One field into the fingerprint: its length, then its bytes, so that no
 * two different requests hash the same input. */
static void hash_field(crypto_generichash_state *h, const void *p, size_t n)
{
	unsigned char len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (8 * i));
	crypto_generichash_update(h, len, sizeof(len));
	if (n)
		crypto_generichash_update(h, p, n);
}

static void hash_str(crypto_generichash_state *h, const char *s)
{
	hash_field(h, s ? s : "", s ? strlen(s) : 0);
}

void outbox_request_hash(const struct outbox_request *r, char out[65])
{
	crypto_generichash_state h;
	unsigned char sum[32];

	if (sodium_init() < 0)
		abort();
	crypto_generichash_init(&h, NULL, 0, sizeof(sum));
	hash_str(&h, r->to);
	hash_str(&h, r->cc);
	hash_str(&h, r->bcc);
	hash_str(&h, r->subject);
	hash_field(&h, r->body ? r->body : "", r->body ? r->body_len : 0);
	hash_field(&h, r->html ? "h" : "t", 1);
	hash_str(&h, r->reply_to_id);
	for (size_t i = 0; i < r->n_attachments; i++) {
		hash_str(&h, r->attachments[i].name);
		hash_str(&h, r->attachments[i].content_type);
		hash_field(&h, r->attachments[i].data, r->attachments[i].len);
	}
	crypto_generichash_final(&h, sum, sizeof(sum));
	sodium_bin2hex(out, 65, sum, sizeof(sum));
}

/* A random idempotency key shaped like a UUID (version 4). */
static void new_key(char out[37])
{
	unsigned char b[16];

	if (sodium_init() < 0)
		abort();
	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
		 b[11], b[12], b[13], b[14], b[15]);
}

/* Outbox row + local Sent entry, one transaction. */
static int store_accepted(struct store *st, const struct store_account *a,
			  const struct outbox_request *r,
			  const struct mime_addresses *to,
			  const struct mime_addresses *cc, struct store_outbox *o,
			  bool *sent_entry, struct err *e)
{
	struct store_folder sent;
	struct mail_message m;
	char local_id[128], preview[256];
	int found, rc = -1;

	*sent_entry = false;
	found = store_find_folder_by_role(st, a->id, MAIL_ROLE_SENT, &sent, e);
	if (found < 0 || store_begin(st, e) < 0)
		return -1;
	if (store_outbox_add(st, o, e) < 0)
		goto out;
	/* The local entry shows only in a Sent folder that is synced: one
	 * that is not would never replace it with the server's copy. */
	if (found && sent.selected) {
		snprintf(local_id, sizeof(local_id), "local:%s", o->idem_key);
		snprintf(preview, sizeof(preview), "%.*s",
			 (int)(r->body_len < 200 ? r->body_len : 200), r->body ? r->body : "");
		mail_message_init(&m);
		m.remote_id = local_id;
		m.internet_message_id = o->internet_message_id;
		m.subject = r->subject;
		m.from.name = a->sender_name;
		m.from.address = a->email;
		m.to = (struct mail_address_list){ to->items, to->n, true };
		m.cc = (struct mail_address_list){ cc->items, cc->n, true };
		m.categories.known = true;
		m.preview = preview;
		m.received_at = m.sent_at = time_now();
		m.is_read = 1;
		m.is_flagged = m.is_draft = 0;
		m.has_attachments = r->n_attachments > 0;
		if (store_put_local_message(st, a->id, sent.id, &m, e) < 0 ||
		    store_put_body(st, a->id, local_id, r->html ? "html" : "text",
				   r->body ? r->body : "", r->body_len, e) < 0)
			goto out;
		*sent_entry = true;
	}
	rc = store_commit(st, e);
out:
	if (found)
		store_folder_clear(&sent);
	if (rc < 0)
		store_rollback(st);
	return rc;
}

int outbox_accept(struct store *st, const struct store_account *a,
		  const struct outbox_request *r, struct store_outbox *out,
		  bool *sent_entry, struct err *e)
{
	struct mime_addresses to = { 0 }, cc = { 0 }, bcc = { 0 };
	char key[81], msgid[160], *in_reply_to = NULL;
	bool made_entry = false;
	struct buf mime;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&mime, OUTBOX_MAX_MESSAGE * 2);
	if (check_sendable(a, e) < 0 ||
	    mime_parse_addresses(r->to, true, "To", &to, e) < 0 ||
	    mime_parse_addresses(r->cc, false, "Cc", &cc, e) < 0 ||
	    mime_parse_addresses(r->bcc, false, "Bcc", &bcc, e) < 0 ||
	    (r->reply_to_id && reply_headers(st, a, r->reply_to_id, &in_reply_to, e) < 0))
		goto out;
	if (r->idempotency_key)
		str_copy(key, sizeof(key), r->idempotency_key);
	else
		new_key(key);
	mime_new_message_id(a->email, msgid);
	{
		struct mime_draft d = {
			.from_name = a->sender_name, .from_address = a->email,
			.to = r->to, .cc = r->cc, .bcc = r->bcc, .subject = r->subject,
			.body = r->body, .body_len = r->body_len, .html = r->html,
			.attachments = r->attachments, .n_attachments = r->n_attachments,
			.message_id = msgid, .in_reply_to = in_reply_to,
			.references = in_reply_to, .date = time_now(),
		};

		if (mime_build(&d, OUTBOX_MAX_MESSAGE, &mime, e) < 0)
			goto out;
	}
	out->account_id = a->id;
	str_copy(out->idem_key, sizeof(out->idem_key), key);
	outbox_request_hash(r, out->request_hash);
	str_copy(out->internet_message_id, sizeof(out->internet_message_id), msgid);
	out->request_json = request_json(r, &to, &cc, &bcc);
	out->mime_len = mime.len;
	out->mime = buf_detach(&mime, NULL);
	out->reply_to_remote_id = xstrdup(r->reply_to_id);
	if (store_accepted(st, a, r, &to, &cc, out, &made_entry, e) < 0)
		goto out;
	crashpoint("outbox:after_accept");
	log_info("outbox", "accepted %s for %s (key %s)", msgid, a->name, key);
	rc = 0;
out:
	if (sent_entry)
		*sent_entry = made_entry;
	buf_free(&mime);
	mime_addresses_free(&to);
	mime_addresses_free(&cc);
	mime_addresses_free(&bcc);
	free(in_reply_to);
	return rc;
}

/* ---- delivering ------------------------------------------------------------- */

static int save(struct store *st, struct store_outbox *o,
		enum store_outbox_state state, struct err *e)
{
	o->state = state;
	return store_outbox_update(st, o, e);
}

/* What the server holds under our Message-ID. */
struct found {
	bool sent;          /* a non-draft copy exists: it was sent */
	char *draft_id;     /* a draft with it, when no sent copy */
};

static int on_found(void *ctx, const char *id, const struct driver_state *s)
{
	struct found *f = ctx;

	if (!s->is_draft)
		f->sent = true;
	else if (!f->draft_id)
		f->draft_id = xstrdup(id);
	return 0;
}

static int fail_for_good(struct store *st, struct store_outbox *o, struct err *e);

/* A transient failure: the entry waits; after too many it fails for good
 * like a permanent rejection (its local Sent entry goes too). */
static int retry_later(struct store *st, struct store_outbox *o, struct err *e)
{
	struct err se;
	int wait = e->class == ERR_THROTTLED && e->retry_after_s > 0
		   ? e->retry_after_s : sched_backoff_s(o->attempts > 0 ? o->attempts : 1);

	if (o->attempts >= OUTBOX_MAX_ATTEMPTS) {
		char why[sizeof(o->last_error)];

		snprintf(why, sizeof(why), "gave up after %d attempts: %.400s",
			 o->attempts, e->msg);
		err_set(e, ERR_PERMANENT, "send_failed", "%s", why);
		return fail_for_good(st, o, e);
	}
	o->next_attempt_at = time_now() + wait;
	str_copy(o->last_error, sizeof(o->last_error), e->msg);
	store_outbox_update(st, o, &se);
	return -1;
}

/* A permanent rejection: failed with the reason; the local Sent entry goes
 * (it was not sent), the outbox entry and its MIME stay for a resend. */
static int fail_for_good(struct store *st, struct store_outbox *o, struct err *e)
{
	char local_id[128];
	struct err se;

	str_copy(o->last_error, sizeof(o->last_error), e->msg);
	save(st, o, STORE_OUTBOX_FAILED, &se);
	snprintf(local_id, sizeof(local_id), "local:%s", o->idem_key);
	store_delete_message(st, o->account_id, local_id, &se);
	log_warn("outbox", "send %s failed for good: %s", o->internet_message_id, e->msg);
	return err_prefix(e, "the message '%s' was not sent: ", o->internet_message_id);
}

static int after_error(struct store *st, struct store_outbox *o, struct err *e)
{
	if (e->class == ERR_TRANSIENT || e->class == ERR_THROTTLED)
		return retry_later(st, o, e);
	if (e->class == ERR_AUTH)
		return -1; /* the account state says what to do; retried later */
	return fail_for_good(st, o, e);
}

/* queued: find out whether an earlier attempt got further, else create the
 * draft. */
static int step_queued(struct store *st, struct driver *d, struct store_outbox *o,
		       struct err *e)
{
	if (o->attempts > 0) {
		struct found f = { false, NULL };

		if (driver_find_by_message_id(d, o->internet_message_id, on_found, &f, e) < 0)
			return after_error(st, o, e);
		if (f.sent) {
			free(f.draft_id);
			return save(st, o, STORE_OUTBOX_SUBMITTED, e);
		}
		if (f.draft_id) {
			free(o->draft_remote_id);
			o->draft_remote_id = f.draft_id;
			return save(st, o, STORE_OUTBOX_DRAFTED, e);
		}
	}
	o->attempts++;
	if (store_outbox_update(st, o, e) < 0)
		return -1;
	crashpoint("outbox:before_draft");
	free(o->draft_remote_id);
	o->draft_remote_id = NULL;
	if (driver_create_draft(d, o->mime, o->mime_len, &o->draft_remote_id, e) < 0)
		return after_error(st, o, e);
	crashpoint("outbox:after_draft");
	if (save(st, o, STORE_OUTBOX_DRAFTED, e) < 0)
		return -1;
	crashpoint("outbox:after_draft_stored");
	return 0;
}

/* drafted / sending: is the draft still a draft? Then send it. */
static int step_send(struct store *st, struct driver *d, struct store_outbox *o,
		     struct err *e)
{
	struct driver_state s;
	struct found f = { false, NULL };

	if (driver_get_state(d, o->draft_remote_id, &s, e) < 0)
		return after_error(st, o, e);
	if (s.exists && !s.is_draft) {
		driver_state_free(&s);
		return save(st, o, STORE_OUTBOX_SUBMITTED, e);
	}
	if (!s.exists) {
		/* The draft is gone: sent (Sent copy may lag) or deleted. */
		if (driver_find_by_message_id(d, o->internet_message_id, on_found, &f, e) < 0)
			return after_error(st, o, e);
		if (f.sent || f.draft_id) {
			driver_state_free(&s);
			if (f.draft_id) {
				free(o->draft_remote_id);
				o->draft_remote_id = f.draft_id;
			}
			return save(st, o, f.sent ? STORE_OUTBOX_SUBMITTED : STORE_OUTBOX_DRAFTED, e);
		}
		if (o->state == STORE_OUTBOX_SENDING &&
		    o->attempts < OUTBOX_MAX_ATTEMPTS + UNKNOWN_CHECKS) {
			/* A send was requested: do not repeat it until we are sure it
			 * did not happen; give the server time to file its copy. */
			o->attempts++;
			o->next_attempt_at = time_now() + UNKNOWN_RECHECK_S;
			str_copy(o->last_error, sizeof(o->last_error), "waiting for the "
				 "server to show the sent copy");
			driver_state_free(&s);
			store_outbox_update(st, o, e);
			return err_set(e, ERR_TRANSIENT, "send_unconfirmed",
				       "the send of %s is not confirmed yet; checking again "
				       "later", o->internet_message_id);
		}
		driver_state_free(&s);
		return save(st, o, STORE_OUTBOX_QUEUED, e); /* recreate the draft */
	}
	driver_state_free(&s);
	o->attempts++;
	if (save(st, o, STORE_OUTBOX_SENDING, e) < 0)
		return -1;
	crashpoint("outbox:before_send");
	if (driver_send_draft(d, o->draft_remote_id, e) < 0)
		return after_error(st, o, e);
	crashpoint("outbox:after_send");
	o->last_error[0] = '\0';
	if (save(st, o, STORE_OUTBOX_SUBMITTED, e) < 0)
		return -1;
	log_info("outbox", "sent %s", o->internet_message_id);
	return 0;
}

int outbox_deliver(struct store *st, struct driver *d, struct store_outbox *o,
		   struct err *e)
{
	for (int step = 0; step < 6; step++) {
		int rc;

		if (o->state == STORE_OUTBOX_SUBMITTED || o->state == STORE_OUTBOX_CONFIRMED)
			return 0;
		if (o->state == STORE_OUTBOX_FAILED)
			return err_set(e, ERR_PERMANENT, "send_failed", "%s", o->last_error);
		if (o->state == STORE_OUTBOX_QUEUED)
			rc = step_queued(st, d, o, e);
		else
			rc = step_send(st, d, o, e);
		if (rc < 0)
			return -1;
	}
	return err_set(e, ERR_BUG, "outbox_loop", "the outbox entry %s did not settle",
		       o->idem_key);
}

int outbox_drain(struct store *st, struct driver *d, int64_t account_id,
		 struct outbox_stats *s, struct err *e)
{
	struct store_outbox *list;
	size_t n;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (store_outbox_list_open(st, account_id, time_now(), &list, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (rc < 0) {
			s->open++;
			continue;
		}
		if (outbox_deliver(st, d, &list[i], e) == 0) {
			s->submitted++;
		} else if (list[i].state == STORE_OUTBOX_FAILED) {
			s->failed++;
		} else {
			s->open++;
			if (e->class == ERR_THROTTLED || e->class == ERR_TRANSIENT ||
			    e->class == ERR_AUTH)
				rc = -1; /* the mailbox is not taking requests: stop */
		}
	}
	store_outbox_list_free(list, n);
	return rc;
}
