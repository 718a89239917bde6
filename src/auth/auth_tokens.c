/*
 * auth_tokens.c — the token source drivers call (auth_get_token): cached
 * access tokens, refresh ahead of expiry, refresh-token rotation stored
 * before the new access token is used, single-flight refresh (striped
 * in-process mutexes + a lease in the store for other processes), and the
 * auth_invalid rule. See auth.h.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "inboxsync/alloc.h"
#include "inboxsync/auth.h"
#include "inboxsync/crashpoint.h"
#include "inboxsync/holder.h"
#include "inboxsync/log.h"
#include "inboxsync/metrics.h"
#include "inboxsync/provider.h"
#include "inboxsync/timeutil.h"

#define LOCK_STRIPES 64
#define LEASE_TTL_S 90
#define LEASE_WAIT_MS 60000
#define LEASE_POLL_MS 200

static pthread_mutex_t stripes[LOCK_STRIPES];
static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;

static void stripes_init(void)
{
	for (size_t i = 0; i < LOCK_STRIPES; i++)
		pthread_mutex_init(&stripes[i], NULL);
}

static pthread_mutex_t *account_lock(int64_t account_id)
{
	pthread_once(&stripes_once, stripes_init);
	return &stripes[(uint64_t)account_id % LOCK_STRIPES];
}

/* The cached token when it is still good for AUTH_REFRESH_SKEW_S. Returns
 * 1 with *token, 0 when none is usable, -1 on error. *expires_at gets the
 * cached expiry (0 when none). */
static int cached_token(const struct auth_token_source *s, const char *resource,
			char **token, int64_t *expires_at, struct err *e)
{
	char *sealed = NULL;
	int rc = store_get_access_token(s->env.store, s->account_id, resource,
					&sealed, expires_at, e);

	if (rc <= 0)
		return rc;
	rc = 0;
	if (*expires_at - AUTH_REFRESH_SKEW_S > time_now()) {
		*token = vault_unseal(s->env.vault, sealed, e);
		rc = *token ? 1 : -1;
		if (*token)
			log_add_secret(*token);
	}
	free(sealed);
	return rc;
}

/* Refuse early when the account cannot have a working grant. */
static int check_account(const struct auth_token_source *s,
			 struct store_account *a, struct err *e)
{
	int rc = store_get_account(s->env.store, s->account_id, a, e);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_AUTH, "auth_required", "the account no longer exists");
	if (a->state == STORE_STATE_AUTH_INVALID) {
		err_set(e, ERR_AUTH, "auth_invalid",
			"account '%s' is auth_invalid: background sync is "
			"suspended after repeated authorization failures (%s)",
			a->name, a->state_reason);
		return err_set_fix(e, FIX_REAUTHORIZE, a->name);
	}
	if (a->state == STORE_STATE_STOPPED || !a->authorized_at) {
		err_set(e, ERR_AUTH, "auth_required", "account '%s' is not authorized",
			a->name);
		return err_set_fix(e, FIX_AUTHORIZE, a->name);
	}
	return 0;
}

/* Our lease name: host, process and thread (holder.h), so a lease left
 * behind by a process that died on this host can be recognised. */
static void lease_owner(char out[64])
{
	char tag[24];

	snprintf(tag, sizeof(tag), "%lx", (unsigned long)pthread_self());
	holder_name(out, 64, NULL, tag);
}

/* Take the store lease, waiting while another process refreshes; a lease
 * left by a dead process on this host is taken over at once. Returns 1
 * when taken, 0 when the wait timed out, -1 on error. */
static int take_lease(const struct auth_token_source *s, const char *owner,
		      struct err *e)
{
	int64_t deadline = time_mono_ms() + LEASE_WAIT_MS;
	char holder[64];
	int rc;

	while ((rc = store_lock_refresh(s->env.store, s->account_id, owner,
					LEASE_TTL_S, NULL, holder, e)) == 0) {
		if (holder[0] && holder_is_dead(holder)) {
			log_info("auth", "taking over the refresh lease of a process "
				 "that ended (%s)", holder);
			rc = store_lock_refresh(s->env.store, s->account_id, owner,
						LEASE_TTL_S, holder, NULL, e);
			if (rc != 0)
				return rc;
		}
		if (time_mono_ms() > deadline)
			return 0;
		time_sleep_ms(LEASE_POLL_MS);
	}
	return rc;
}

/* Save the result of a refresh: rotated refresh token and the access
 * token, in one transaction, before anyone uses the access token. */
static int save_refresh(const struct auth_token_source *s, int64_t generation,
			const char *resource, const struct oauth_tokens *t,
			struct err *e)
{
	struct store *st = s->env.store;
	char *rt = NULL, *at;
	int rc = -1;

	at = vault_seal(s->env.vault, t->access_token, strlen(t->access_token), e);
	if (!at)
		return -1;
	if (t->refresh_token &&
	    !(rt = vault_seal(s->env.vault, t->refresh_token, strlen(t->refresh_token), e)))
		goto out;
	if (store_begin(st, e) < 0)
		goto out;
	if ((rt && store_rotate_refresh_token(st, s->account_id, generation, rt, e) < 0) ||
	    store_put_access_token(st, s->account_id, resource, at, t->expires_at, e) < 0 ||
	    store_clear_auth_failures(st, s->account_id, e) < 0) {
		store_rollback(st);
		goto out;
	}
	rc = store_commit(st, e);
out:
	free(rt);
	free(at);
	return rc;
}

/* The app registration's health as the last token request showed it: a
 * provider problem is recorded for the administrator (it is not the
 * mailbox's), a success clears it. Best effort. */
static void note_provider(const struct auth_token_source *s, int rc,
			  const struct err *e)
{
	struct err se;

	if (rc == 0)
		store_set_provider_problem(s->env.store, PROVIDER_MICROSOFT, NULL, NULL, &se);
	else if (oauth_is_provider_problem(e))
		store_set_provider_problem(s->env.store, PROVIDER_MICROSOFT, e->code, e->msg, &se);
}

/* One refresh with the stored refresh token. Returns 0 with *token, or -1.
 * *generation gets the generation that was used. */
static int refresh_once(const struct auth_token_source *s,
			const struct store_account *a, const char *resource,
			int64_t *generation, char **token, struct err *e)
{
	struct store_credentials cred;
	struct oauth_tokens t = { 0 };
	struct auth_client c;
	char *rt;
	int found, rc = -1;

	found = store_get_credentials(s->env.store, s->account_id, &cred, e);
	if (found <= 0) {
		if (found < 0)
			return -1;
		err_set(e, ERR_AUTH, "auth_required", "account '%s' has no stored grant",
			a->name);
		return err_set_fix(e, FIX_AUTHORIZE, a->name);
	}
	*generation = cred.generation;
	rt = vault_unseal(s->env.vault, cred.refresh_sealed, e);
	if (!rt) {
		store_credentials_clear(&cred);
		return -1;
	}
	if (auth_client_load(&s->env, a->transport, &c, e) == 0) {
		c.client.account_name = a->name;
		rc = oauth_refresh(s->env.http, &c.client, rt,
				   oauth_resource_scopes(resource), &t, e);
		auth_client_clear(&c);
	}
	note_provider(s, rc, e);
	metrics_add("inboxsync_token_refreshes_total", 1, "outcome",
		    rc == 0 ? "ok" : e->class == ERR_TRANSIENT || e->class == ERR_THROTTLED
		    ? "transient" : e->code[0] ? e->code : "failed", NULL);
	if (rc == 0)
		crashpoint("auth:before_store_refresh");
	if (rc == 0 && (rc = save_refresh(s, cred.generation, resource, &t, e)) == 0)
		*token = xstrdup(t.access_token);
	oauth_tokens_clear(&t);
	vault_free_plain(rt);
	store_credentials_clear(&cred);
	return rc;
}

/* A definitive failure: unless the refresh token changed meanwhile (then
 * the caller retries), count it; at the threshold the account becomes
 * auth_invalid. Returns 1 when the caller should retry, else -1. */
static int count_failure(const struct auth_token_source *s,
			 const struct store_account *a, int64_t generation,
			 struct err *e)
{
	struct store_credentials cred;
	int threshold = s->env.auth_invalid_threshold > 0
			? s->env.auth_invalid_threshold : AUTH_INVALID_THRESHOLD_DEFAULT;
	char reason[sizeof(e->msg)];
	struct err se;
	int count = 0;

	if (store_get_credentials(s->env.store, s->account_id, &cred, &se) == 1) {
		int changed = cred.generation != generation;

		store_credentials_clear(&cred);
		if (changed)
			return 1;
	}
	str_copy(reason, sizeof(reason), e->msg);
	if (store_record_auth_failure(s->env.store, s->account_id, threshold, reason,
				      &count, &se) < 0)
		return -1;
	log_warn("auth", "account %s: authorization failure %d of %d: %s", a->name,
		 count, threshold, reason);
	if (count >= threshold) {
		err_set(e, ERR_AUTH, "auth_invalid",
			"account '%s' is now auth_invalid after %d consecutive "
			"authorization failures; background sync is suspended. Last "
			"failure: %s", a->name, count, reason);
		err_set_fix(e, FIX_REAUTHORIZE, a->name);
	}
	return -1;
}

/* A cached token the caller may use: present, and not the one refused. */
static bool usable(int rc, const char *token, const char *rejected)
{
	return rc == 1 && (!rejected || strcmp(token, rejected) != 0);
}

int auth_get_token(void *source, const char *resource, const char *rejected,
		   char **token, struct err *e)
{
	const struct auth_token_source *s = source;
	pthread_mutex_t *lock = account_lock(s->account_id);
	struct store_account a;
	int64_t cached_expiry = 0, generation = 0;
	char owner[64];
	int rc, lease;

	*token = NULL;
	if (check_account(s, &a, e) < 0)
		return -1;
	rc = cached_token(s, resource, token, &cached_expiry, e);
	if (rc < 0 || usable(rc, *token, rejected))
		return rc < 0 ? -1 : 0;
	if (rc == 1) {
		vault_free_plain(*token);
		*token = NULL;
	}
	pthread_mutex_lock(lock);
	lease_owner(owner);
	lease = take_lease(s, owner, e);
	if (lease <= 0) {
		pthread_mutex_unlock(lock);
		if (lease < 0)
			return -1;
		err_set(e, ERR_TRANSIENT, "refresh_busy", "another process is "
			"refreshing the token of '%s'", a.name);
		return err_set_fix(e, FIX_RETRY, NULL);
	}
	/* Someone may have refreshed while we waited. */
	rc = cached_token(s, resource, token, &cached_expiry, e);
	if (usable(rc, *token, rejected)) {
		rc = 0;
		goto out;
	}
	if (rc == 1) {
		vault_free_plain(*token);
		*token = NULL;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = refresh_once(s, &a, resource, &generation, token, e);
		if (rc == 0 || !oauth_is_definitive(e))
			break;
		if (count_failure(s, &a, generation, e) != 1)
			break;
	}
out:
	store_unlock_refresh(s->env.store, s->account_id, owner, &(struct err){ 0 });
	pthread_mutex_unlock(lock);
	if (rc == 0 && *token)
		log_add_secret(*token);
	return rc;
}
