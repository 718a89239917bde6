/*
 * service_send.c — sending and the outbox as people use them: accepting a
 * message (subject limit, idempotency keys that refuse another request
 * under the same key), delivering it now with a bounded retry, and
 * listing, retrying and removing outbox entries. Exactly-once delivery
 * itself is outbox.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/account.h"
#include "inboxsync/provider.h"
#include "inboxsync/service.h"
#include "inboxsync/timeutil.h"

/* Characters (not bytes) of a UTF-8 string, at most `stop`. */
static size_t utf8_chars(const char *s, size_t stop)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && n <= stop; p++)
		if ((*p & 0xC0) != 0x80)
			n++;
	return n;
}

int service_send(const struct auth_env *env, const struct store_account *a,
		 const struct outbox_request *r, struct store_outbox *out,
		 bool *sent_entry, struct err *e)
{
	char hash[65];
	int rc;

	memset(out, 0, sizeof(*out));
	if (sent_entry)
		*sent_entry = false;
	if (!r->subject)
		return err_set(e, ERR_PERMANENT, "usage", "the message needs a subject");
	if (utf8_chars(r->subject, SERVICE_SUBJECT_MAX) > SERVICE_SUBJECT_MAX) {
		err_set(e, ERR_PERMANENT, "usage", "the subject has more than %d "
			"characters; Exchange keeps only %d, so nothing was sent",
			SERVICE_SUBJECT_MAX, SERVICE_SUBJECT_MAX);
		return err_set_fix(e, FIX_CHECK_INPUT, "shorten the subject");
	}
	if (r->idempotency_key && (!*r->idempotency_key || strlen(r->idempotency_key) > 72)) {
		err_set(e, ERR_PERMANENT, "usage", "an idempotency key is 1 to 72 characters");
		return err_set_fix(e, FIX_CHECK_INPUT, "use a shorter idempotency key");
	}
	if (provider_require(env->store, a->transport, NULL, e) < 0)
		return -1;
	rc = outbox_accept(env->store, a, r, out, sent_entry, e);
	if (rc == 0 || !err_is(e, "duplicate"))
		return rc;
	/* The key was used before: the same request answers as the first
	 * did; another request under it is refused, as payment APIs do. */
	outbox_request_hash(r, hash);
	if (out->request_hash[0] && strcmp(out->request_hash, hash) != 0) {
		err_set(e, ERR_PERMANENT, "conflict", "the idempotency key '%.80s' was "
			"already used for a different message (state %s); this one was "
			"not sent", r->idempotency_key, store_outbox_state_name(out->state));
		store_outbox_clear(out);
		return err_set_fix(e, FIX_CHECK_INPUT, "use a new idempotency key for a new message");
	}
	{
		int64_t id = out->id;

		store_outbox_clear(out);
		if (store_outbox_get(env->store, id, out, e) != 1)
			return -1;
	}
	err_set(e, ERR_PERMANENT, "duplicate", "the message with idempotency key "
		"'%.80s' was accepted before (state %s); it is not sent again",
		out->idem_key, store_outbox_state_name(out->state));
	return -1;
}

int service_send_now(const struct auth_env *env, const struct store_account *a,
		     struct store_outbox *o, int tries, int max_wait_s,
		     void (*on_wait)(void *ctx, int seconds, const struct err *why),
		     void *ctx, struct err *e)
{
	struct account_conn c;
	int rc = -1;

	if (account_connect(env, a, &c, e) < 0)
		return -1;
	for (int i = 0; i < tries; i++) {
		int wait;

		rc = outbox_deliver(env->store, c.driver, o, e);
		if (rc == 0 || (e->class != ERR_TRANSIENT && e->class != ERR_THROTTLED))
			break;
		if (i + 1 >= tries)
			break;
		wait = e->class == ERR_THROTTLED && e->retry_after_s > 0 ? e->retry_after_s
									  : 2 << i;
		if (wait > max_wait_s)
			break;
		if (on_wait)
			on_wait(ctx, wait, e);
		time_sleep_ms((int64_t)wait * 1000);
	}
	account_disconnect(&c);
	if (rc < 0 && (e->class == ERR_TRANSIENT || e->class == ERR_THROTTLED))
		err_set_fix(e, FIX_RETRY, NULL);
	return rc;
}

int service_outbox_list(const struct auth_env *env, const struct store_account *a,
			struct store_outbox **out, size_t *n, struct err *e)
{
	return store_outbox_list_all(env->store, a->id, out, n, e);
}

static int find_entry(const struct auth_env *env, const struct store_account *a,
		      const char *key, struct store_outbox *o, struct err *e)
{
	int rc = store_outbox_find(env->store, a->id, key ? key : "", o, e);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		err_set(e, ERR_PERMANENT, "not_found", "no outbox entry with key "
			"'%.80s' in '%s'", key ? key : "", a->name);
		return err_set_fix(e, FIX_SHOW_OUTBOX, a->name);
	}
	return 0;
}

int service_outbox_retry(const struct auth_env *env, const struct store_account *a,
			 const char *key, struct store_outbox *out, struct err *e)
{
	if (find_entry(env, a, key, out, e) < 0)
		return -1;
	if (out->state != STORE_OUTBOX_FAILED) {
		err_set(e, ERR_PERMANENT, "conflict", "the message is %s, not failed; only "
			"failed messages can be retried", store_outbox_state_name(out->state));
		store_outbox_clear(out);
		return -1;
	}
	/* Back to the queue. attempts stays >= 1, so delivery first asks the
	 * server whether an earlier attempt got through. */
	out->state = STORE_OUTBOX_QUEUED;
	out->attempts = 1;
	out->next_attempt_at = 0;
	out->last_error[0] = '\0';
	if (store_outbox_update(env->store, out, e) < 0) {
		store_outbox_clear(out);
		return -1;
	}
	return 0;
}

int service_outbox_remove(const struct auth_env *env, const struct store_account *a,
			  const char *key, struct err *e)
{
	struct store_outbox o;
	char local_id[128];
	int rc;

	if (find_entry(env, a, key, &o, e) < 0)
		return -1;
	if (o.state != STORE_OUTBOX_FAILED && o.state != STORE_OUTBOX_SUBMITTED &&
	    o.state != STORE_OUTBOX_CONFIRMED) {
		err_set(e, ERR_PERMANENT, "conflict", "the message is %s: it may be on its "
			"way, so it cannot be removed now", store_outbox_state_name(o.state));
		store_outbox_clear(&o);
		return err_set_fix(e, FIX_RETRY, NULL);
	}
	snprintf(local_id, sizeof(local_id), "local:%s", o.idem_key);
	rc = store_begin(env->store, e);
	/* A failed message's local Sent entry went when it failed; a sent
	 * one's is replaced by the server's copy. */
	if (rc == 0 && (store_outbox_delete(env->store, &o, e) < 0 ||
			(o.state == STORE_OUTBOX_FAILED &&
			 store_delete_message(env->store, a->id, local_id, e) < 0))) {
		store_rollback(env->store);
		rc = -1;
	} else if (rc == 0) {
		rc = store_commit(env->store, e);
	}
	store_outbox_clear(&o);
	return rc;
}
