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
#include <jansson.h>
#include "inboxsync/alloc.h"
#include "inboxsync/crashpoint.h"
#include "inboxsync/http.h"
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
	if (strcmp(a->state, STORE_STATE_AUTH_INVALID) == 0)
		return err_set(e, ERR_AUTH, "auth_invalid",
			       "sending from '%s' is blocked: the account is "
			       "auth_invalid (%s); run 'inboxsync account authorize %s' "
			       "and send again", a->name, a->state_reason, a->name);
	if (!a->authorized_at)
		return err_set(e, ERR_AUTH, "auth_required",
			       "'%s' is not authorized; run 'inboxsync account "
			       "authorize %s' first", a->name, a->name);
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
		return err_set(e, ERR_PERMANENT, "usage", "--reply-to-id: no synced "
			       "message with id '%s' in '%s'", id, a->name);
	if (m.internet_message_id[0])
		*in_reply_to = xstrdup(m.internet_message_id);
	store_message_clear(&m);
	if (!*in_reply_to)
		return err_set(e, ERR_PERMANENT, "usage", "--reply-to-id: message '%s' "
			       "has no Message-ID to reply to", id);
	return 0;
}

static char *request_json(const struct outbox_request *r, const char *to,
			  const char *cc, const char *bcc)
{
	json_t *att = json_array(), *doc;
	char *out;

	for (size_t i = 0; i < r->n_attachments; i++) {
		const char *base = strrchr(r->attachments[i], '/');

		json_array_append_new(att, json_string(base ? base + 1 : r->attachments[i]));
	}
	doc = json_pack("{s:o,s:o,s:o,s:s,s:b,s:o,s:s?}",
			"to", json_loads(to, 0, NULL), "cc", json_loads(cc, 0, NULL),
			"bcc", json_loads(bcc, 0, NULL), "subject", r->subject ? r->subject : "",
			"html", r->html, "attachments", att, "reply_to_id", r->reply_to_id);
	out = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return out;
}

/* Outbox row + local Sent entry, one transaction. */
static int store_accepted(struct store *st, const struct store_account *a,
			  const struct outbox_request *r, const char *to_json,
			  const char *cc_json, struct store_outbox *o, struct err *e)
{
	struct store_folder sent;
	struct store_message_in m = { 0 };
	char local_id[128], preview[256];
	int found, rc = -1;

	found = store_find_folder_by_role(st, a->id, "sent", &sent, e);
	if (found < 0 || store_begin(st, e) < 0)
		return -1;
	store_folder_clear(&sent);
	if (store_outbox_add(st, o, e) < 0)
		goto out;
	if (found) {
		snprintf(local_id, sizeof(local_id), "local:%s", o->idem_key);
		snprintf(preview, sizeof(preview), "%.*s",
			 (int)(r->body_len < 200 ? r->body_len : 200), r->body ? r->body : "");
		m.remote_id = local_id;
		m.internet_message_id = o->internet_message_id;
		m.subject = r->subject;
		m.from_name = a->sender_name;
		m.from_addr = a->email;
		m.to_json = to_json;
		m.cc_json = cc_json;
		m.preview = preview;
		m.received_at = m.sent_at = time_now();
		m.is_read = 1;
		m.is_flagged = m.is_draft = 0;
		m.has_attachments = r->n_attachments > 0;
		if (store_put_local_message(st, a->id, sent.id, &m, e) < 0 ||
		    store_put_body(st, a->id, local_id, r->html ? "html" : "text",
				   r->body ? r->body : "", r->body_len, e) < 0)
			goto out;
	}
	rc = store_commit(st, e);
out:
	if (rc < 0)
		store_rollback(st);
	return rc;
}

int outbox_accept(struct store *st, const struct store_account *a,
		  const struct outbox_request *r, struct store_outbox *out,
		  struct err *e)
{
	char *to = NULL, *cc = NULL, *bcc = NULL, *in_reply_to = NULL;
	char key[37], msgid[160];
	struct buf mime;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&mime, OUTBOX_MAX_MESSAGE * 2);
	if (check_sendable(a, e) < 0 ||
	    !(to = mime_addresses_json(r->to, true, "To", e)) ||
	    !(cc = mime_addresses_json(r->cc, false, "Cc", e)) ||
	    !(bcc = mime_addresses_json(r->bcc, false, "Bcc", e)) ||
	    (r->reply_to_id && reply_headers(st, a, r->reply_to_id, &in_reply_to, e) < 0))
		goto out;
	if (r->idempotency_key)
		str_copy(key, sizeof(key), r->idempotency_key);
	else
		http_new_uuid(key);
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
	str_copy(out->internet_message_id, sizeof(out->internet_message_id), msgid);
	out->request_json = request_json(r, to, cc, bcc);
	out->mime_len = mime.len;
	out->mime = buf_detach(&mime, NULL);
	out->reply_to_remote_id = xstrdup(r->reply_to_id);
	if (store_accepted(st, a, r, to, cc, out, e) < 0)
		goto out;
	crashpoint("outbox:after_accept");
	log_info("outbox", "accepted %s for %s (key %s)", msgid, a->name, key);
	rc = 0;
out:
	buf_free(&mime);
	free(to);
	free(cc);
	free(bcc);
	free(in_reply_to);
	return rc;
}

/* ---- delivering ------------------------------------------------------------- */

static int save(struct store *st, struct store_outbox *o, const char *state,
		struct err *e)
{
	str_copy(o->state, sizeof(o->state), state);
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
		if (strcmp(o->state, STORE_OUTBOX_SENDING) == 0 &&
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

		if (!strcmp(o->state, STORE_OUTBOX_SUBMITTED) ||
		    !strcmp(o->state, STORE_OUTBOX_CONFIRMED))
			return 0;
		if (!strcmp(o->state, STORE_OUTBOX_FAILED))
			return err_set(e, ERR_PERMANENT, "send_failed", "%s", o->last_error);
		if (!strcmp(o->state, STORE_OUTBOX_QUEUED))
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
		} else if (!strcmp(list[i].state, STORE_OUTBOX_FAILED)) {
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
