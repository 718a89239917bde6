/*
 * service_accounts.c — what people do with mailbox accounts: find one they
 * may see, add one (name, address and transport rules; the same mailbox
 * only once), authorize it (begin, finish with the wrong-account guard,
 * device code), Test & Confirm, stop, remove, ask for a sync now. Every
 * failure of an action is recorded as the account's last error, so the
 * account always says what went wrong.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/account.h"
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/provider.h"
#include "inboxsync/service.h"
#include "inboxsync/timeutil.h"

static int not_found(const char *what, struct err *e)
{
	err_set(e, ERR_PERMANENT, "not_found", "no account '%.200s'", what);
	return err_set_fix(e, FIX_CHECK_INPUT, "name an existing account");
}

/* May `who` see `a`? */
static bool visible(const struct service_actor *who, const struct store_account *a)
{
	return !who || who->user_id == 0 || a->user_id == who->user_id;
}

int service_account_get(const struct auth_env *env, const struct service_actor *who,
			int64_t id, struct store_account *out, struct err *e)
{
	int rc = store_get_account(env->store, id, out, e);
	char num[24];

	if (rc < 0)
		return -1;
	snprintf(num, sizeof(num), "%lld", (long long)id);
	if (rc == 0 || !visible(who, out))
		return not_found(num, e);
	return 0;
}

/* A user id by name ("not_found" naming it). */
static int user_by_name(const struct auth_env *env, const char *name, int64_t *id,
			struct err *e)
{
	struct store_user u;
	int rc = store_get_user_by_name(env->store, name, &u, e);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		err_set(e, ERR_PERMANENT, "not_found", "no user '%.100s'", name);
		return err_set_fix(e, FIX_CHECK_INPUT, "name an existing user");
	}
	*id = u.id;
	store_user_clear(&u);
	return 0;
}

int service_account_find(const struct auth_env *env, const struct service_actor *who,
			 const char *what, const char *owner,
			 struct store_account *out, struct err *e)
{
	int64_t user = who ? who->user_id : 0;
	char *end;
	long long id;
	int rc;

	if (!what || !*what)
		return not_found("", e);
	if (owner && user == 0 && user_by_name(env, owner, &user, e) < 0)
		return -1;
	rc = store_get_account_by_name(env->store, user, what, out, e);
	if (rc < 0)
		return -1;
	if (rc == 1 && visible(who, out))
		return 0;
	/* Not a name: an id. */
	id = strtoll(what, &end, 10);
	if (*end || id <= 0)
		return not_found(what, e);
	if (service_account_get(env, who, id, out, e) < 0)
		return not_found(what, e);
	if (owner && out->user_id != user)
		return not_found(what, e);
	return 0;
}

int service_account_list(const struct auth_env *env, const struct service_actor *who,
			 struct store_account **out, size_t *n, struct err *e)
{
	return store_list_accounts(env->store, who ? who->user_id : 0, out, n, e);
}

/* Account names: letters, digits, '.', '_', '-', '@', '+'; not starting
 * with '-' (it would read as an option) nor all digits (it would read as
 * an id). */
static int validate_name(const char *name, struct err *e)
{
	size_t n = name ? strlen(name) : 0;
	bool digits = n > 0;

	if (n == 0 || n > SERVICE_NAME_MAX) {
		err_set(e, ERR_PERMANENT, "usage", "the account name must be 1 to %d "
			"characters", SERVICE_NAME_MAX);
		return err_set_fix(e, FIX_CHECK_INPUT, "choose a shorter account name");
	}
	if (name[0] == '-')
		return err_set(e, ERR_PERMANENT, "usage",
			       "the account name must not start with '-'");
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("._-@+", *p))
			return err_set(e, ERR_PERMANENT, "usage",
				       "the account name '%.100s' has a character other "
				       "than letters, digits and . _ - @ +", name);
		digits = digits && isdigit((unsigned char)*p);
	}
	if (digits)
		return err_set(e, ERR_PERMANENT, "usage", "the account name must not "
			       "be a number (numbers are account ids)");
	return 0;
}

/* name@domain.tld with the characters RFC 5321 allows in practice. */
static int validate_email(const char *addr, struct err *e)
{
	const char *at = addr ? strchr(addr, '@') : NULL;
	const char *domain, *dot;
	size_t local_len;

	if (!at || strchr(at + 1, '@'))
		goto bad;
	local_len = (size_t)(at - addr);
	domain = at + 1;
	if (local_len == 0 || local_len > 64 || strlen(domain) > 253 ||
	    strlen(addr) > 254)
		goto bad;
	for (const char *p = addr; p < at; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+/=?^_`{|}~.-", *p))
			goto bad;
	if (addr[0] == '.' || at[-1] == '.' || strstr(addr, ".."))
		goto bad;
	dot = strrchr(domain, '.');
	if (!dot || dot == domain || !dot[1] || strlen(dot + 1) < 2)
		goto bad;
	for (const char *p = domain; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			goto bad;
		if (*p == '.' && (p == domain || p[-1] == '.' || p[-1] == '-' ||
				  p[1] == '-' || !p[1]))
			goto bad;
	}
	return 0;
bad:
	err_set(e, ERR_PERMANENT, "usage", "'%.200s' is not a valid e-mail address "
		"(expected name@domain.tld)", addr ? addr : "");
	return err_set_fix(e, FIX_CHECK_INPUT, "enter the mailbox's e-mail address");
}

int service_account_add(const struct auth_env *env, const struct service_actor *who,
			const struct service_account_new *in,
			struct store_account *out, char *notice, struct err *e)
{
	const char *transport = in->transport && *in->transport ? in->transport : "graph";
	const struct driver_transport *t = driver_transport_find(transport);
	struct store_account other;
	int64_t owner = who && who->user_id ? who->user_id : STORE_LOCAL_USER_ID;
	int rc;

	memset(out, 0, sizeof(*out));
	if (notice)
		notice[0] = '\0';
	if (validate_name(in->name, e) < 0 || validate_email(in->email, e) < 0)
		return -1;
	if (!t) {
		err_set(e, ERR_PERMANENT, "usage", "unknown transport '%.40s': choose "
			"graph (Microsoft Graph, the default) or imap (IMAP OAuth2)",
			transport);
		return err_set_fix(e, FIX_CHECK_INPUT, "choose graph or imap");
	}
	if (in->sender_name && strlen(in->sender_name) >= sizeof(out->sender_name))
		return err_set(e, ERR_PERMANENT, "usage", "the sender name is too long "
			       "(at most %zu bytes)", sizeof(out->sender_name) - 1);
	if (in->owner) {
		if (who && who->user_id && !who->admin) {
			err_set(e, ERR_PERMANENT, "forbidden", "only an administrator "
				"can create accounts for other users");
			return err_set_fix(e, FIX_CHECK_INPUT, "leave out the owner");
		}
		if (user_by_name(env, in->owner, &owner, e) < 0)
			return -1;
	}
	if (provider_require(env->store, transport, NULL, e) < 0)
		return -1;
	rc = store_find_account_by_email(env->store, in->email, 0, &other, e);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		err_set(e, ERR_PERMANENT, "conflict", "the mailbox %.200s is already "
			"connected%s%s%s", in->email, visible(who, &other) ? " as account '" : "",
			visible(who, &other) ? other.name : "", visible(who, &other) ? "'" : "");
		return err_set_fix(e, FIX_REMOVE_ACCOUNT, visible(who, &other) ? other.name : "");
	}
	out->user_id = owner;
	str_copy(out->name, sizeof(out->name), in->name);
	str_copy(out->email, sizeof(out->email), in->email);
	str_copy(out->sender_name, sizeof(out->sender_name),
		 in->sender_name ? in->sender_name : "");
	str_copy(out->transport, sizeof(out->transport), t->name);
	if (store_add_account(env->store, out, e) < 0) {
		if (err_is(e, "duplicate")) {
			err_set(e, ERR_PERMANENT, "conflict", "an account named '%.100s' "
				"already exists", in->name);
			err_set_fix(e, FIX_CHECK_INPUT, "choose another account name");
		}
		return -1;
	}
	store_set_account_state(env->store, out->id, STORE_STATE_NEW, "Not connected "
				"to Microsoft yet: the owner signs in and consents next.",
				FIX_AUTHORIZE, out->name, &(struct err){ 0 });
	if (store_get_account(env->store, out->id, out, e) != 1)
		return -1;
	if (notice && !t->can_sync)
		snprintf(notice, 256, "the %s transport can authorize and run Test & "
			 "Confirm, but cannot sync mail in this version; use Microsoft "
			 "Graph to sync", t->label);
	log_info("account", "account %s added (%s)", out->name, t->name);
	return 0;
}

int service_account_update(const struct auth_env *env, struct store_account *a,
			   const char *sender_name, struct err *e)
{
	if (sender_name) {
		if (strlen(sender_name) >= sizeof(a->sender_name))
			return err_set(e, ERR_PERMANENT, "usage", "the sender name is too "
				       "long (at most %zu bytes)", sizeof(a->sender_name) - 1);
		str_copy(a->sender_name, sizeof(a->sender_name), sender_name);
	}
	if (store_update_account(env->store, a, e) < 0)
		return -1;
	return store_get_account(env->store, a->id, a, e) == 1 ? 0 : -1;
}

/* Keep `failure` as the account's last error (best effort). */
static void note_failure(const struct auth_env *env, int64_t id, const struct err *failure)
{
	struct err se;

	store_note_account_error(env->store, id, failure, NULL, &se);
}

int service_authorize_begin(const struct auth_env *env, const struct store_account *a,
			    const char *redirect_uri, const char *return_to,
			    char **url, struct err *e)
{
	if (auth_begin_for(env, a, redirect_uri, return_to, url, e) < 0) {
		note_failure(env, a->id, e);
		return -1;
	}
	return 0;
}

/* After a grant was stored and tested: a mailbox that already has
 * selected folders just goes on syncing. */
static int finish_grant(const struct auth_env *env, struct store_account *a,
			const struct auth_grant *g, struct err *e)
{
	if (account_complete_authorization(env, a, g, e) < 0) {
		note_failure(env, a->id, e);
		return -1;
	}
	return store_get_account(env->store, a->id, a, e) == 1 ? 0 : -1;
}

int service_authorize_finish(const struct auth_env *env, const struct service_actor *who,
			     const char *state, const char *code, const char *error,
			     const char *error_description, struct store_account *out,
			     char *return_to, struct err *e)
{
	struct store_oauth_state st;
	struct store_account a;
	struct auth_grant g;
	int found, rc = -1;

	if (return_to)
		return_to[0] = '\0';
	found = state && *state ? store_take_oauth_state(env->store, state, &st, e) : 0;
	if (found < 0)
		return -1;
	if (!found) {
		err_set(e, ERR_PERMANENT, "state_mismatch", "this sign-in response does "
			"not belong to an authorization in progress (it expired, was "
			"already used, or was never started here); nothing was stored");
		return err_set_fix(e, FIX_AUTHORIZE, "");
	}
	if (return_to)
		str_copy(return_to, 512, st.return_to);
	if (service_account_get(env, who, st.account_id, &a, e) < 0)
		goto out;
	if (auth_finish_taken(env, &a, &st, code, error, error_description, &g, e) < 0) {
		note_failure(env, a.id, e);
	} else {
		rc = finish_grant(env, &a, &g, e);
		auth_grant_clear(&g);
	}
	if (out)
		store_get_account(env->store, a.id, out, &(struct err){ 0 });
out:
	store_oauth_state_clear(&st);
	return rc;
}

int service_authorize_device(const struct auth_env *env, struct store_account *a,
			     void (*show)(void *ctx, const char *message,
					  const char *uri, const char *code),
			     void *ctx, struct err *e)
{
	struct auth_grant g;
	int rc;

	if (auth_device_flow(env, a, show, ctx, &g, e) < 0) {
		note_failure(env, a->id, e);
		return -1;
	}
	rc = finish_grant(env, a, &g, e);
	auth_grant_clear(&g);
	return rc;
}

/* The grant must be there (Test & Confirm, sync, send). */
static int require_grant(const struct store_account *a, struct err *e)
{
	if (a->state == STORE_STATE_AUTH_INVALID) {
		err_set(e, ERR_AUTH, "auth_invalid", "'%s' is auth_invalid: %.300s",
			a->name, a->state_reason);
		return err_set_fix(e, FIX_REAUTHORIZE, a->name);
	}
	if (!a->authorized_at) {
		err_set(e, ERR_AUTH, "auth_required", "'%s' is not authorized", a->name);
		return err_set_fix(e, FIX_AUTHORIZE, a->name);
	}
	return 0;
}

int service_account_test(const struct auth_env *env, struct store_account *a,
			 bool incoming, bool outgoing, struct err *e)
{
	struct err in_err, out_err;
	int rc = 0;

	if (require_grant(a, e) < 0)
		return -1;
	err_clear(&in_err);
	err_clear(&out_err);
	if (incoming && account_test_incoming(env, a, &in_err) < 0)
		rc = -1;
	if (outgoing && account_test_outgoing(env, a, &out_err) < 0)
		rc = -1;
	if (store_get_account(env->store, a->id, a, e) != 1)
		return -1;
	if (rc < 0) {
		*e = in_err.class != ERR_NONE ? in_err : out_err;
		note_failure(env, a->id, e);
	}
	return rc;
}

int service_account_stop(const struct auth_env *env, struct store_account *a,
			 bool purge, struct err *e)
{
	if (account_stop(env, a, purge, e) < 0)
		return -1;
	return store_get_account(env->store, a->id, a, e) == 1 ? 0 : -1;
}

int service_account_remove(const struct auth_env *env, const struct store_account *a,
			   struct err *e)
{
	if (store_delete_account(env->store, a->id, e) < 0)
		return -1;
	log_info("account", "account %s removed", a->name);
	return 0;
}

int service_account_sync_now(const struct auth_env *env, const struct store_account *a,
			     struct err *e)
{
	if (service_sync_allowed(env, a, e) < 0)
		return -1;
	return store_set_account_schedule(env->store, a->id, 0, a->throttled_until,
					  a->backoff_s, e);
}
