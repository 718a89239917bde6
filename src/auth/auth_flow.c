/*
 * auth_flow.c — authorizing an account: the provider's client, the
 * authorization request (state + PKCE, stored), finishing it with the
 * code or the device flow, the wrong-account guard, and storing the grant
 * with the server settings (see auth.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "inboxsync/auth.h"
#include "inboxsync/log.h"
#include "inboxsync/provider.h"
#include "inboxsync/quote.h"
#include "inboxsync/timeutil.h"

int auth_client_load(const struct auth_env *env, const char *transport,
		     struct auth_client *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (provider_require(env->store, transport, &out->provider, e) < 0)
		return -1;
	if (out->provider.client_secret_sealed) {
		out->secret = vault_unseal(env->vault, out->provider.client_secret_sealed, e);
		if (!out->secret) {
			err_prefix(e, "cannot read the client secret: ");
			store_provider_clear(&out->provider);
			return -1;
		}
		log_add_secret(out->secret);
	}
	out->client.login_url = out->provider.login_url;
	out->client.tenant = out->provider.tenant;
	out->client.client_id = out->provider.client_id;
	out->client.client_secret = out->secret;
	return 0;
}

void auth_client_clear(struct auth_client *c)
{
	vault_free_plain(c->secret);
	store_provider_clear(&c->provider);
	memset(c, 0, sizeof(*c));
}

int auth_begin(const struct auth_env *env, const struct store_account *a,
	       const char *redirect_uri, char **url, struct err *e)
{
	return auth_begin_for(env, a, redirect_uri, NULL, url, e);
}

int auth_begin_for(const struct auth_env *env, const struct store_account *a,
		   const char *redirect_uri, const char *return_to, char **url,
		   struct err *e)
{
	char verifier[OAUTH_VERIFIER_LEN + 1], challenge[OAUTH_VERIFIER_LEN + 1];
	struct store_oauth_state st = { 0 };
	struct auth_client c;
	int rc = -1;

	*url = NULL;
	if (auth_client_load(env, a->transport, &c, e) < 0)
		return -1;
	oauth_pkce_new(verifier, challenge);
	oauth_new_state(st.state);
	st.account_id = a->id;
	st.expires_at = time_now() + AUTH_STATE_LIFETIME_S;
	if (str_copy(st.redirect_uri, sizeof(st.redirect_uri), redirect_uri) < 0 ||
	    str_copy(st.return_to, sizeof(st.return_to), return_to ? return_to : "") < 0) {
		err_set(e, ERR_PERMANENT, "usage", "redirect or return address too long");
		goto out;
	}
	st.verifier_sealed = vault_seal(env->vault, verifier, strlen(verifier), e);
	if (!st.verifier_sealed || store_put_oauth_state(env->store, &st, e) < 0)
		goto out;
	*url = oauth_authorize_url(&c.client, redirect_uri,
				   oauth_authorize_scopes(a->transport), st.state,
				   challenge, a->email);
	rc = 0;
out:
	free(st.verifier_sealed);
	auth_client_clear(&c);
	return rc;
}

void auth_grant_clear(struct auth_grant *g)
{
	oauth_tokens_clear(&g->tokens);
	memset(g, 0, sizeof(*g));
}

/* What an error on the redirect means for the user. */
static int redirect_error(const char *error, const char *description,
			  const struct store_account *a, struct err *e)
{
	char error_q[64], desc_q[300];

	if (strcmp(error, "access_denied") == 0) {
		err_set(e, ERR_AUTH, "access_denied",
			"sign-in or consent was cancelled at Microsoft, so nothing "
			"was stored; authorize again and accept the requested "
			"permissions");
		return err_set_fix(e, FIX_AUTHORIZE, a->name);
	}
	/* both came in the redirect's query string: anyone's text */
	err_set(e, ERR_AUTH, "authorization_refused",
		"Microsoft refused the authorization (%s: %s); nothing was "
		"stored", quote_str(error_q, sizeof(error_q), error),
		quote_str(desc_q, sizeof(desc_q), description ? description : "no details"));
	return err_set_fix(e, FIX_AUTHORIZE, a->name);
}

/* The id_token's claims into g->identity. A missing or unreadable id_token
 * is not fatal here: the Graph transport reads the identity from /me
 * instead (account.h), and auth_check_identity refuses an identity it
 * cannot establish at all. */
static int read_identity(struct auth_grant *g, struct err *e)
{
	struct err why;

	(void)e;
	if (oauth_parse_id_token(g->tokens.id_token, &g->identity, &why) < 0) {
		log_warn("auth", "no usable id_token (%s); the identity comes from the "
			 "mailbox instead", why.msg);
		memset(&g->identity, 0, sizeof(g->identity));
	}
	return 0;
}

int auth_finish_taken(const struct auth_env *env, const struct store_account *a,
		      const struct store_oauth_state *st, const char *code,
		      const char *error, const char *error_description,
		      struct auth_grant *out, struct err *e)
{
	struct auth_client c;
	char *verifier = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (st->account_id != a->id) {
		err_set(e, ERR_PERMANENT, "state_mismatch",
			"the sign-in response does not belong to a pending "
			"authorization of '%s' (unknown, expired or already used "
			"state); nothing was stored", a->name);
		return err_set_fix(e, FIX_AUTHORIZE, a->name);
	}
	if (error && *error)
		return redirect_error(error, error_description, a, e);
	if (!code || !*code) {
		err_set(e, ERR_AUTH, "no_code",
			"the sign-in response carried no authorization code");
		return err_set_fix(e, FIX_AUTHORIZE, a->name);
	}
	if (auth_client_load(env, a->transport, &c, e) < 0)
		return -1;
	c.client.account_name = a->name;
	verifier = vault_unseal(env->vault, st->verifier_sealed, e);
	if (verifier &&
	    oauth_redeem_code(env->http, &c.client, code, verifier, st->redirect_uri,
			      oauth_resource_scopes(oauth_transport_resource(a->transport)),
			      &out->tokens, e) == 0)
		rc = read_identity(out, e);
	vault_free_plain(verifier);
	auth_client_clear(&c);
	if (rc < 0)
		auth_grant_clear(out);
	return rc;
}

int auth_finish_code(const struct auth_env *env, const struct store_account *a,
		     const char *state, const char *code, const char *error,
		     const char *error_description, struct auth_grant *out,
		     struct err *e)
{
	struct store_oauth_state st;
	int found, rc;

	memset(out, 0, sizeof(*out));
	found = state ? store_take_oauth_state(env->store, state, &st, e) : 0;
	if (found < 0)
		return -1;
	if (!found) { /* nothing taken: an empty state that matches no account */
		memset(&st, 0, sizeof(st));
		st.account_id = -1;
	}
	rc = auth_finish_taken(env, a, &st, code, error, error_description, out, e);
	if (found)
		store_oauth_state_clear(&st);
	return rc;
}

int auth_device_flow(const struct auth_env *env, const struct store_account *a,
		     void (*show)(void *ctx, const char *message,
				  const char *uri, const char *code),
		     void *ctx, struct auth_grant *out, struct err *e)
{
	struct oauth_device d;
	struct auth_client c;
	int rc = -1, polled;

	memset(out, 0, sizeof(*out));
	if (auth_client_load(env, a->transport, &c, e) < 0)
		return -1;
	if (oauth_device_start(env->http, &c.client,
			       oauth_authorize_scopes(a->transport), &d, e) < 0)
		goto out_client;
	show(ctx, d.message, d.verification_uri, d.user_code);
	for (;;) {
		time_sleep_ms((int64_t)d.interval_s * 1000);
		polled = oauth_device_poll(env->http, &c.client, &d, &out->tokens, e);
		if (polled == 1)
			continue;
		if (polled == 0)
			rc = read_identity(out, e);
		break;
	}
	oauth_device_clear(&d);
out_client:
	auth_client_clear(&c);
	if (rc < 0)
		auth_grant_clear(out);
	return rc;
}

int auth_check_identity(const struct store_account *a,
			const struct oauth_identity *id, const char *also,
			struct err *e)
{
	const char *signed_in = id->preferred_username[0] ? id->preferred_username
				: id->email[0] ? id->email : also ? also : "";

	if (!id->oid[0])
		return err_set(e, ERR_PERMANENT, "bad_id_token",
			       "Microsoft did not say who signed in (no usable "
			       "id_token: is the 'openid profile' permission allowed "
			       "for the app?); nothing was stored");
	if ((id->preferred_username[0] && strcasecmp(a->email, id->preferred_username) == 0) ||
	    (id->email[0] && strcasecmp(a->email, id->email) == 0) ||
	    (also && *also && strcasecmp(a->email, also) == 0))
		return 0;
	err_set(e, ERR_PERMANENT, "wrong_account",
		"you signed in to Microsoft as %s, but account '%s' is for %s; "
		"nothing was stored", signed_in[0] ? signed_in : "an unknown user",
		a->name, a->email);
	return err_set_fix(e, FIX_SIGN_IN_AS, a->email);
}

int auth_store_grant(const struct auth_env *env, struct store_account *a,
		     const struct auth_grant *g, const char *display_name,
		     const char *address, struct err *e)
{
	const char *resource = oauth_transport_resource(a->transport);
	struct store_account other;
	struct store_provider p;
	char *rt = NULL, *at = NULL;
	int found, rc = -1;

	if (!g->tokens.refresh_token)
		return err_set(e, ERR_AUTH, "no_refresh_token",
			       "Microsoft returned no refresh token (the offline_access "
			       "permission was not granted); nothing was stored");
	found = store_find_account_by_identity(env->store, g->identity.tid,
					       g->identity.oid, a->id, &other, e);
	if (found < 0)
		return -1;
	if (found) {
		err_set(e, ERR_PERMANENT, "already_connected",
			"this Microsoft mailbox (%s) is already connected as account "
			"'%s'; nothing was stored",
			address && *address ? address : a->email, other.name);
		return err_set_fix(e, FIX_REMOVE_ACCOUNT, other.name);
	}
	if (provider_require(env->store, a->transport, &p, e) < 0)
		return -1;
	rt = vault_seal(env->vault, g->tokens.refresh_token,
			strlen(g->tokens.refresh_token), e);
	at = rt ? vault_seal(env->vault, g->tokens.access_token,
			     strlen(g->tokens.access_token), e) : NULL;
	if (!at || store_begin(env->store, e) < 0)
		goto out;
	str_copy(a->identity, sizeof(a->identity),
		 address && *address ? address : g->identity.preferred_username);
	str_copy(a->display_name, sizeof(a->display_name),
		 display_name && *display_name ? display_name : g->identity.name);
	str_copy(a->tenant_id, sizeof(a->tenant_id), g->identity.tid);
	str_copy(a->object_id, sizeof(a->object_id), g->identity.oid);
	str_copy(a->graph_url, sizeof(a->graph_url), p.graph_url);
	snprintf(a->imap_server, sizeof(a->imap_server), "%s:%d", p.imap_host, p.imap_port);
	snprintf(a->smtp_server, sizeof(a->smtp_server), "%s:%d", p.smtp_host, p.smtp_port);
	a->authorized_at = time_now();
	a->auth_failures = 0;
	a->next_due_at = 0;
	a->throttled_until = 0;
	a->backoff_s = 0;
	a->last_error_code[0] = a->last_error[0] = '\0';
	a->last_error_at = 0;
	a->state = STORE_STATE_AUTHORIZED;
	snprintf(a->state_reason, sizeof(a->state_reason), "Authorized as %.300s. "
		 "Next: fetch and select folders, then sync.", a->identity);
	a->state_fix = FIX_FETCH_FOLDERS;
	str_copy(a->state_fix_arg, sizeof(a->state_fix_arg), a->name);
	if (store_put_refresh_token(env->store, a->id, rt, g->tokens.scope, e) < 0 ||
	    store_put_access_token(env->store, a->id, resource, at,
				   g->tokens.expires_at, e) < 0 ||
	    store_update_account(env->store, a, e) < 0 ||
	    store_clear_auth_failures(env->store, a->id, e) < 0 ||
	    store_set_account_schedule(env->store, a->id, 0, 0, 0, e) < 0 ||
	    store_clear_account_error(env->store, a->id, e) < 0 ||
	    store_set_account_state(env->store, a->id, a->state, a->state_reason,
				    a->state_fix, a->state_fix_arg, e) < 0) {
		store_rollback(env->store);
		goto out;
	}
	rc = store_commit(env->store, e);
	if (rc == 0)
		log_info("auth", "account %s authorized as %s (tenant %s)", a->name,
			 a->identity, a->tenant_id);
out:
	free(rt);
	free(at);
	store_provider_clear(&p);
	return rc;
}
