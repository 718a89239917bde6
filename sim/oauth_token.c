/*
 * oauth_token.c — POST /{tenant}/oauth2/v2.0/token (authorization_code,
 * refresh_token with rotation, device_code) and /devicecode, with the
 * AADSTS errors Entra gives for each failure. Refresh-token rotation rule:
 * an RT stays redeemable until a newer RT of the same chain has itself been
 * redeemed (so a client that crashed before storing its new RT can retry
 * with the old one); after that the old RT fails with AADSTS70008.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "counters.h"
#include "oauth_internal.h"

void idp_form(const struct sim_req *rq, struct sim_kvlist *out)
{
	sim_form_parse(rq->body ? rq->body : "", rq->body_len, out);
}

void oa_issue_tokens(struct sim_world *w, struct sim_req *rq,
		     struct sim_resp *rs, const struct sim_kvlist *form,
		     const struct oa_issue *is)
{
	json_t *res_scopes = idp_scope_filter(is->granted, is->res);
	char *scope = idp_scope_response_string(res_scopes, is->res, is->oidc, is->full_uris);
	char *idt = NULL, base[SIM_URL_MAX];
	struct oa_access *a;
	json_t *out;

	if (idp_scope_has(is->oidc, "openid")) {
		rq_base_url(rq, base, sizeof(base));
		idt = oa_id_token(w, base, is->user, is->app->client_id,
				  idp_scope_has(is->oidc, "email"), is->nonce);
		if (!idt) {
			rs_oauth_error(rq, rs, 500, "server_error", 50000,
					 "The id_token could not be signed (m365sim).");
			json_decref(res_scopes);
			free(scope);
			return;
		}
	}
	a = oa_access_new(w, is->user, is->app->client_id, is->res, res_scopes,
			  is->app->secret == NULL);
	out = json_pack("{s:s, s:s, s:I, s:I, s:s}", "token_type", "Bearer",
			"scope", scope, "expires_in",
			(json_int_t)w->cfg.access_token_lifetime, "ext_expires_in",
			(json_int_t)w->cfg.access_token_lifetime, "access_token",
			a->token);
	if (idp_scope_has(is->oidc, "offline_access")) {
		struct oa_refresh *rt = oa_refresh_new(w, is->user, is->app->client_id, is->chain,
						       is->res, is->oidc, is->nonce);

		if (!is->chain) {
			rt->chain->public_flow = is->public_flow;
			rt->chain->full_uris = is->full_uris;
		}
		json_object_set_new(out, "refresh_token", json_string(rt->token));
	}
	if (idt)
		json_object_set_new(out, "id_token", json_string(idt));
	if (sim_ieq(skv_get(form, "client_info"), "1")) {
		char *ci = oa_client_info(is->user);

		json_object_set_new(out, "client_info", json_string(ci));
		free(ci);
	}
	free(idt);
	free(scope);
	rs_json(rs, 200, out);
	rs->content_type = "application/json; charset=utf-8";
	rs_header(rs, "Cache-Control", "no-store, no-cache");
	rs_header(rs, "Pragma", "no-cache");
}

/* Grants a confidential app that allows public client flows may use
 * without its secret (then as a public client, as Entra does). */
static bool public_flow_grant(const char *grant)
{
	return sim_istarts(grant, "urn:ietf:params:oauth:grant-type:device_code") ||
	       sim_ieq(grant, "device_code") || sim_ieq(grant, "refresh_token");
}

/* Client authentication shared by every grant. Returns the app, or NULL
 * with the error response written; *public_flow says the request came
 * without client credentials (a public client, or a confidential app's
 * public flow). */
static struct sim_app *client_auth(struct sim_world *w, struct sim_req *rq,
				   struct sim_resp *rs,
				   const struct sim_kvlist *form, bool *public_flow)
{
	const char *cid = skv_get(form, "client_id");
	const char *secret = skv_get(form, "client_secret");
	const char *authz = rq_header(rq, "Authorization");
	char *basic_id = NULL, *basic_secret = NULL;
	struct sim_app *app = NULL;

	if (authz && sim_istarts(authz, "Basic ")) {
		unsigned char *dec = NULL;
		size_t n = 0;

		if (sim_b64_decode(authz + 6, strlen(authz + 6), &dec, &n) == 0) {
			char *colon = strchr((char *)dec, ':');

			if (colon) {
				basic_id = sim_url_decode((char *)dec, (size_t)(colon - (char *)dec), true);
				basic_secret = sim_url_decode(colon + 1, strlen(colon + 1), true);
			}
			free(dec);
		}
		if (!cid)
			cid = basic_id;
		if (!secret)
			secret = basic_secret;
	}
	if (!cid || !*cid) {
		rs_oauth_error(rq, rs, 400, "invalid_request", 900144,
				 "The request body must contain the following parameter: 'client_id'.");
		goto out;
	}
	app = world_app(w, cid);
	if (!app) {
		rs_oauth_error(rq, rs, 400, "unauthorized_client", 700016,
				 "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
				 cid, rq->segs[0]);
		goto out;
	}
	if (app->disabled) {
		rs_oauth_error(rq, rs, 400, "unauthorized_client", 7000112,
				 "Application '%s'(%s) is disabled.", app->client_id, app->name);
		app = NULL;
		goto out;
	}
	if (!app->secret && (secret || skv_get(form, "client_assertion"))) {
		rs_oauth_error(rq, rs, 401, "invalid_client", 700025,
				 "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.");
		app = NULL;
	} else if (app->secret && !secret &&
		   !(app->public_flows && public_flow_grant(skv_get(form, "grant_type")))) {
		/* with "allow public client flows" on, the device code grant
		 * and its refreshes may come without a secret (a wrong one
		 * still fails); without it, neither may */
		rs_oauth_error(rq, rs, 401, "invalid_client", 7000218,
				 "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
		app = NULL;
	} else if (app->secret && secret && (strlen(secret) != strlen(app->secret) ||
					     sodium_memcmp(secret, app->secret, strlen(secret)) != 0)) {
		rs_oauth_error(rq, rs, 401, "invalid_client", 7000215,
				 "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.",
				 app->client_id);
		app = NULL;
	}
out:
	*public_flow = app && !secret;
	free(basic_id);
	free(basic_secret);
	return app;
}

static const char *need(struct sim_req *rq, struct sim_resp *rs,
			const struct sim_kvlist *form, const char *name)
{
	const char *v = skv_get(form, name);

	if (!v || !*v) {
		rs_oauth_error(rq, rs, 400, "invalid_request", 900144,
				 "The request body must contain the following parameter: '%s'.",
				 name);
		return NULL;
	}
	return v;
}

/* Resolve the optional `scope` parameter of a token request against the
 * user's consent. On success *res is the resource to mint for (unchanged
 * when the parameter names none). Returns 0 or -1 (response written). */
static int requested_resource(struct sim_req *rq, struct sim_resp *rs,
			      const char *scope, struct sim_user *u,
			      struct sim_app *app, enum oa_resource *res)
{
	char bad[256];
	json_t *req, *exp, *consented, *empty;
	enum oa_resource r;
	size_t i;
	json_t *v;
	int rc = -1;

	if (!scope || !*scope)
		return 0;
	req = idp_scope_parse(scope, bad, sizeof(bad));
	if (!req) {
		rs_oauth_error(rq, rs, 400, "invalid_scope", 70011,
				 "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.",
				 bad);
		return -1;
	}
	if (idp_scope_single_resource(req, &r) < 0) {
		rs_oauth_error(rq, rs, 400, "invalid_scope", 700022,
				 "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.",
				 scope);
		json_decref(req);
		return -1;
	}
	empty = json_array();
	consented = idp_scope_consented(u, app->client_id);
	if (!consented)
		consented = empty;
	exp = idp_scope_expand_default(req, consented);
	rc = 0;
	json_array_foreach(exp, i, v) {
		const char *s = json_string_value(v);

		if (idp_scope_resource(s) != RES_NONE && !idp_scope_has(consented, s)) {
			rs_oauth_error(rq, rs, 400, "invalid_grant", 65001,
					 "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.",
					 app->client_id, app->name);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && r != RES_NONE)
		*res = r;
	json_decref(exp);
	json_decref(empty);
	json_decref(req);
	return rc;
}

/* The scope form to echo: the token request's own scope, else the one
 * the grant was asked with. */
static bool echo_full_uris(const struct sim_kvlist *form, bool stored)
{
	const char *scope = skv_get(form, "scope");

	return scope && *scope ? idp_scope_full_form(scope) : stored;
}

static void grant_code(struct sim_world *w, struct sim_req *rq,
		       struct sim_resp *rs, struct sim_app *app,
		       const struct sim_kvlist *form, bool public_flow)
{
	const char *code = need(rq, rs, form, "code");
	const char *redirect, *verifier;
	struct oa_code *c;
	enum oa_resource res = RES_NONE;
	json_t *oidc, *consented;

	if (!code || !(redirect = need(rq, rs, form, "redirect_uri")))
		return;
	verifier = skv_get(form, "code_verifier");
	c = smap_get(&w->codes, code);
	if (!c) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 9002313,
				 "Invalid request. Request is malformed or invalid.");
		return;
	}
	if (strcmp(c->client_id, app->client_id) != 0) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 70000,
				 "The provided value for the 'code' parameter is not valid. The code was issued to a different client.");
		return;
	}
	if (c->used) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 54005,
				 "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.");
		return;
	}
	if (c->expires <= simtime_now()) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 70008,
				 "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.");
		return;
	}
	if (strcmp(c->redirect_uri, redirect) != 0) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 50011,
				 "The redirect URI '%s' specified in the request does not match the redirect URI used in the authorization request for this code.",
				 redirect);
		return;
	}
	if (c->challenge) {
		bool ok = false;

		if (verifier && c->plain) {
			ok = strcmp(verifier, c->challenge) == 0;
		} else if (verifier) {
			unsigned char h[crypto_hash_sha256_BYTES];
			char *b;

			crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
			b = sim_b64url(h, sizeof(h), false);
			ok = strcmp(b, c->challenge) == 0;
			free(b);
		}
		if (!ok) {
			rs_oauth_error(rq, rs, 400, "invalid_grant", 501481,
					 "The Code_Verifier does not match the code_challenge supplied in the authorization request.");
			return;
		}
	}
	if (requested_resource(rq, rs, skv_get(form, "scope"), c->user, app, &res) < 0)
		return;
	if (res == RES_NONE) {
		size_t i;
		json_t *v;

		json_array_foreach(c->scopes, i, v)
			if ((res = idp_scope_resource(json_string_value(v))) != RES_NONE)
				break;
	}
	if (res == RES_NONE)
		res = RES_GRAPH;
	c->used = true;
	oidc = json_array();
	{
		size_t i;
		json_t *v;

		json_array_foreach(c->scopes, i, v)
			if (idp_scope_resource(json_string_value(v)) == RES_NONE)
				json_array_append(oidc, v);
	}
	consented = idp_scope_consented(c->user, app->client_id);
	oa_issue_tokens(w, rq, rs, form, &(struct oa_issue){
		.user = c->user, .app = app, .res = res,
		.granted = consented ? consented : oidc, .oidc = oidc, .nonce = c->nonce,
		.public_flow = public_flow, .full_uris = echo_full_uris(form, c->full_uris) });
	json_decref(oidc);
}

static void grant_refresh(struct sim_world *w, struct sim_req *rq,
			  struct sim_resp *rs, struct sim_app *app,
			  const struct sim_kvlist *form, bool public_flow)
{
	const char *tok = need(rq, rs, form, "refresh_token");
	struct oa_refresh *r;
	enum oa_resource res;
	json_t *consented;

	if (!tok)
		return;
	r = smap_get(&w->refresh, tok);
	if (!r) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 9002313,
				 "Invalid request. Request is malformed or invalid.");
		return;
	}
	if (strcmp(r->client_id, app->client_id) != 0) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 70000,
				 "Provided grant is invalid or malformed. The refresh token was issued to a different client.");
		return;
	}
	if (r->expires <= simtime_now()) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 700082,
				 "The refresh token has expired due to inactivity. The token was issued on %s and was inactive for %ld days.",
				 "an earlier date", w->cfg.refresh_token_lifetime / 86400);
		return;
	}
	if (public_flow && app->secret && !r->chain->public_flow) {
		/* a confidential app's RT from a flow with its secret */
		rs_oauth_error(rq, rs, 401, "invalid_client", 7000218,
				 "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
		return;
	}
	if (r->grant_epoch != r->user->grant_epoch) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 50173,
				 "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on earlier and the TokensValidFrom date (before which tokens are not valid) for this user is later.");
		return;
	}
	if (r->n < r->chain->redeemed_max) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 70008,
				 "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource. (m365sim: a newer refresh token of this grant has already been redeemed)");
		return;
	}
	consented = idp_scope_consented(r->user, app->client_id);
	if (!consented || !json_array_size(consented)) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 65001,
				 "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.",
				 app->client_id, app->name);
		return;
	}
	res = r->res;
	if (requested_resource(rq, rs, skv_get(form, "scope"), r->user, app, &res) < 0)
		return;
	if (r->n > r->chain->redeemed_max)
		r->chain->redeemed_max = r->n;
	oa_issue_tokens(w, rq, rs, form, &(struct oa_issue){
		.user = r->user, .app = app, .res = res, .granted = consented,
		.oidc = r->oidc, .chain = r->chain, .nonce = r->nonce,
		.full_uris = echo_full_uris(form, r->chain->full_uris) });
}

static void grant_device(struct sim_world *w, struct sim_req *rq,
			 struct sim_resp *rs, struct sim_app *app,
			 const struct sim_kvlist *form, bool public_flow)
{
	const char *code = need(rq, rs, form, "device_code");
	struct oa_device *d;
	int64_t now_ms = simtime_mono_ms();
	enum oa_resource res = RES_NONE;
	json_t *oidc, *consented;
	size_t i;
	json_t *v;

	if (!code)
		return;
	d = smap_get(&w->device_codes, code);
	if (!d || strcmp(d->client_id, app->client_id) != 0) {
		rs_oauth_error(rq, rs, 400, "bad_verification_code", 70018,
				 "The provided value for the input parameter 'device_code' is not valid.");
		return;
	}
	if (d->state == DEV_REDEEMED) {
		rs_oauth_error(rq, rs, 400, "invalid_grant", 54005,
				 "The device code was already redeemed; start a new device authorization.");
		return;
	}
	if (d->expires <= simtime_now()) {
		rs_oauth_error(rq, rs, 400, "expired_token", 70019,
				 "Verification code expired.");
		return;
	}
	if (d->state == DEV_DECLINED) {
		rs_oauth_error(rq, rs, 400, "authorization_declined", 65004,
				 "User declined to consent to access the app.");
		return;
	}
	if (d->state == DEV_PENDING) {
		bool too_fast = d->last_poll_ms && now_ms - d->last_poll_ms < d->interval * 1000;

		d->last_poll_ms = now_ms;
		if (too_fast) {
			d->interval += w->cfg.device_slow_down_step;
			rs_oauth_error(rq, rs, 400, "slow_down", 70016,
					 "OAuth 2.0 device flow error. Polling too fast: wait at least %ld seconds between requests.",
					 d->interval);
			return;
		}
		rs_oauth_error(rq, rs, 400, "authorization_pending", 70016,
				 "OAuth 2.0 device flow error. Authorization is pending. Continue polling.");
		return;
	}
	d->state = DEV_REDEEMED;
	oidc = json_array();
	json_array_foreach(d->scopes, i, v) {
		enum oa_resource r = idp_scope_resource(json_string_value(v));

		if (r == RES_NONE)
			json_array_append(oidc, v);
		else if (res == RES_NONE)
			res = r;
	}
	consented = idp_scope_consented(d->user, app->client_id);
	oa_issue_tokens(w, rq, rs, form, &(struct oa_issue){
		.user = d->user, .app = app, .res = res == RES_NONE ? RES_GRAPH : res,
		.granted = consented ? consented : oidc, .oidc = oidc,
		.public_flow = public_flow, .full_uris = echo_full_uris(form, d->full_uris) });
	json_decref(oidc);
}

/* Client credentials: the app itself, without a user, as an app's
 * registration check makes it. Only a confidential app with its secret;
 * the scope must be RESOURCE/.default. The token is an app-only token that
 * opens no mailbox here (the sim has no application permissions). */
static void grant_client_credentials(struct sim_world *w, struct sim_req *rq,
				     struct sim_resp *rs, struct sim_app *app,
				     const struct sim_kvlist *form, bool public_flow)
{
	static const char *const resources[] = {
		"https://graph.microsoft.com/", "https://outlook.office.com/",
		"https://outlook.office365.com/",
	};
	const char *scope = skv_get(form, "scope");
	size_t n = scope ? strlen(scope) : 0;
	bool known = false;
	char *token;

	if (public_flow || !app->secret) {
		rs_oauth_error(rq, rs, 401, "invalid_client", 7000218,
				 "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
		return;
	}
	for (size_t i = 0; scope && i < sizeof(resources) / sizeof(resources[0]); i++)
		known = known || (sim_istarts(scope, resources[i]) &&
				  strcmp(scope + strlen(resources[i]), ".default") == 0);
	if (!known || n < 9) {
		rs_oauth_error(rq, rs, 400, "invalid_scope", 1002012,
				 "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
				 scope ? scope : "");
		return;
	}
	token = sim_random_token(32);
	rs_json(rs, 200, json_pack("{s:s, s:I, s:I, s:s}", "token_type", "Bearer",
				   "expires_in", (json_int_t)w->cfg.access_token_lifetime,
				   "ext_expires_in", (json_int_t)w->cfg.access_token_lifetime,
				   "access_token", token));
	rs->content_type = "application/json; charset=utf-8";
	rs_header(rs, "Cache-Control", "no-store, no-cache");
	free(token);
}

static const struct {
	const char *name;
	void (*fn)(struct sim_world *, struct sim_req *, struct sim_resp *,
		   struct sim_app *, const struct sim_kvlist *, bool public_flow);
} grants[] = {
	{ "client_credentials", grant_client_credentials },
	{ "authorization_code", grant_code },
	{ "refresh_token", grant_refresh },
	{ "urn:ietf:params:oauth:grant-type:device_code", grant_device },
	{ "device_code", grant_device },
};

static void token_inner(struct sim_world *w, struct sim_req *rq,
			struct sim_resp *rs, const struct sim_kvlist *form,
			const char *grant)
{
	struct sim_tenant *t;
	struct sim_app *app;
	bool public_flow = false;

	if (strcmp(rq->method, "POST") != 0) {
		rs_oauth_error(rq, rs, 400, "invalid_request", 900561,
				 "The endpoint only accepts POST requests. Received a %s request.",
				 rq->method);
		return;
	}
	if (idp_tenant(w, rq->segs[0], &t) < 0) {
		rs_oauth_error(rq, rs, 400, "invalid_request", 90002,
				 "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
				 rq->segs[0]);
		return;
	}
	if (!(app = client_auth(w, rq, rs, form, &public_flow)))
		return;
	if (!grant || !*grant) {
		rs_oauth_error(rq, rs, 400, "invalid_request", 900144,
				 "The request body must contain the following parameter: 'grant_type'.");
		return;
	}
	for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++)
		if (strcmp(grant, grants[i].name) == 0) {
			grants[i].fn(w, rq, rs, app, form, public_flow);
			return;
		}
	rs_oauth_error(rq, rs, 400, "unsupported_grant_type", 70003,
			 "The app requested an unsupported grant type '%s'.", grant);
}

void idp_token(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_kvlist form = { 0 };
	const char *grant;
	const char *outcome = "ok";
	json_t *body = NULL;

	idp_form(rq, &form);
	grant = skv_get(&form, "grant_type");
	token_inner(w, rq, rs, &form, grant);
	if (rs->status != 200) {
		body = json_incref(rs->json);
		outcome = json_string_value(json_object_get(body, "error"));
	}
	ctr_token(w->counters, grant && strlen(grant) < 80 ? grant : "(none)",
		       outcome ? outcome : "error");
	json_decref(body);
	skv_free(&form);
}
