/*
 * oauth_authorize.c — GET /{tenant}/oauth2/v2.0/authorize: validates the
 * request the way Entra does (errors about the client or redirect URI are
 * shown as a page; everything else is redirected back with error=...),
 * then decides what the sim browser sees: auto-approve (redirect at once
 * with a code for the configured account), silent reuse of the remembered
 * account, the account picker, the e-mail or password page, or consent.
 * Also the tenant segment, redirects back to the app, and idp_route.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "oauth_internal.h"

#define SESSION_COOKIE "m365sim_session"

int idp_tenant(struct sim_world *w, const char *seg, struct sim_tenant **t)
{
	static const char *const multi[] = { "common", "organizations", "consumers" };

	*t = NULL;
	for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++)
		if (sim_ieq(seg, multi[i]))
			return 0;
	*t = world_tenant(w, seg);
	return *t ? 0 : -1;
}

/* Redirect to the app with `fields` per the transaction's response_mode. */
static void redirect_back(struct sim_resp *rs, const struct oa_txn *t,
			  struct sim_kvlist *fields)
{
	struct buf b;
	char sep;

	if (t->state)
		skv_add(fields, "state", t->state);
	if (t->response_mode && strcmp(t->response_mode, "form_post") == 0) {
		idp_page_form_post(rs, t->redirect_uri, fields);
		return;
	}
	buf_init(&b, 0);
	buf_puts(&b, t->redirect_uri, NULL);
	if (t->response_mode && strcmp(t->response_mode, "fragment") == 0)
		sep = '#';
	else
		sep = strchr(t->redirect_uri, '?') ? '&' : '?';
	for (size_t i = 0; i < fields->n; i++) {
		char *k = sim_url_encode(fields->v[i].key);
		char *v = sim_url_encode(fields->v[i].val);

		buf_printf(&b, NULL, "%c%s=%s", i ? '&' : sep, k, v);
		free(k);
		free(v);
	}
	rs_text(rs, 302, "text/html; charset=utf-8", "", 0);
	rs_header(rs, "Location", buf_str(&b));
	buf_free(&b);
}

static void redirect_error(struct sim_resp *rs, const struct oa_txn *t,
			   const char *error, long aadsts, const char *text)
{
	struct sim_kvlist f = { 0 };
	char desc[700], trace[37], ts[SIMTIME_LEN];

	sim_guid_random(trace);
	simtime_format_oauth(simtime_now(), ts);
	snprintf(desc, sizeof(desc), "AADSTS%ld: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
		 aadsts, text, trace, trace, ts);
	skv_add(&f, "error", error);
	skv_add(&f, "error_description", desc);
	{
		char uri[96];

		snprintf(uri, sizeof(uri), "https://login.microsoftonline.com/error?code=%ld", aadsts);
		skv_add(&f, "error_uri", uri);
	}
	redirect_back(rs, t, &f);
	skv_free(&f);
}

static bool needs_consent(struct sim_user *u, const struct oa_txn *t)
{
	json_t *want = idp_scope_expand_default(t->scopes, NULL);
	json_t *have = idp_scope_consented(u, t->client_id);
	bool need = false;
	size_t i;
	json_t *v;

	json_array_foreach(want, i, v) {
		const char *s = json_string_value(v);

		if (idp_scope_resource(s) != RES_NONE && !(have && idp_scope_has(have, s)))
			need = true;
	}
	json_decref(want);
	return need;
}

void idp_grant_consent(struct sim_user *u, const struct oa_txn *t)
{
	json_t *want = idp_scope_expand_default(t->scopes, NULL);

	idp_scope_consent_add(u, t->client_id, want);
	json_decref(want);
}

/* Finish an authorize transaction for u: consent (if needed) or a code. */
void idp_authorize_complete(struct sim_world *w, struct sim_resp *rs,
			      struct oa_txn *t, struct sim_user *u,
			      bool consent_given)
{
	struct sim_kvlist f = { 0 };
	struct oa_code *c;
	char msg[400];

	t->user = u;
	if (t->tenant && u->tenant != t->tenant) {
		snprintf(msg, sizeof(msg),
			 "AADSTS50020: User account '%s' from identity provider 'https://sts.windows.net/%s/' does not exist in tenant '%s' and cannot access the application '%s' in that tenant.",
			 u->email, u->tenant->id, t->tenant->name, t->client_id);
		idp_page_message(rs, 400, "Sorry, but we're having trouble signing you in.", msg);
		oa_txn_drop(w, t);
		return;
	}
	if (!consent_given && ((t->prompt && strcmp(t->prompt, "consent") == 0) ||
			       needs_consent(u, t))) {
		if (t->prompt && strcmp(t->prompt, "none") == 0) {
			redirect_error(rs, t, "consent_required", 65001,
				       "The user or administrator has not consented to use the application.");
			oa_txn_drop(w, t);
			return;
		}
		idp_page_consent(rs, t, world_app(w, t->client_id), "authorize");
		return;
	}
	if (consent_given)
		idp_grant_consent(u, t);
	c = oa_code_new(w, u, t);
	skv_add(&f, "code", c->code);
	skv_add(&f, "session_state", u->oid);
	redirect_back(rs, t, &f);
	skv_free(&f);
	oa_txn_drop(w, t);
}

static const char *cookie_session(const struct sim_req *rq)
{
	static __thread char id[64];
	const char *c = rq_header(rq, "Cookie");
	const char *p;
	size_t n = 0;

	if (!c || !(p = strstr(c, SESSION_COOKIE "=")))
		return NULL;
	p += strlen(SESSION_COOKIE) + 1;
	while (p[n] && p[n] != ';' && p[n] != ' ' && n + 1 < sizeof(id)) {
		id[n] = p[n];
		n++;
	}
	id[n] = '\0';
	return id;
}

struct oa_session *idp_browser_session(struct sim_world *w,
					 const struct sim_req *rq)
{
	return oa_session_get(w, cookie_session(rq));
}

void idp_set_session_cookie(struct sim_resp *rs, const struct oa_session *s)
{
	char v[128];

	snprintf(v, sizeof(v), SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax", s->id);
	rs_header(rs, "Set-Cookie", v);
}

/* Validation failures that cannot be redirected: a page, like Entra. */
static bool check_client(struct sim_world *w, struct sim_req *rq,
			 struct sim_resp *rs, struct sim_tenant **tenant)
{
	const char *cid = rq_query(rq, "client_id");
	const char *ru = rq_query(rq, "redirect_uri");
	struct sim_app *app;
	char msg[600];

	if (idp_tenant(w, rq->segs[0], tenant) < 0) {
		snprintf(msg, sizeof(msg), "AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", rq->segs[0]);
	} else if (!cid || !*cid) {
		snprintf(msg, sizeof(msg), "AADSTS900144: The request body must contain the following parameter: 'client_id'.");
	} else if (!(app = world_app(w, cid))) {
		snprintf(msg, sizeof(msg), "AADSTS700016: Application with identifier '%s' was not found in the directory '%s'.", cid, rq->segs[0]);
	} else if (app->disabled) {
		snprintf(msg, sizeof(msg), "AADSTS7000112: Application '%s'(%s) is disabled.", app->client_id, app->name);
	} else if (!ru || !*ru) {
		snprintf(msg, sizeof(msg), "AADSTS900144: The request body must contain the following parameter: 'redirect_uri'.");
	} else if (!world_redirect_ok(app, ru)) {
		snprintf(msg, sizeof(msg), "AADSTS50011: The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.", ru, app->client_id);
	} else {
		return true;
	}
	idp_page_message(rs, 400, "Sorry, but we're having trouble signing you in.", msg);
	return false;
}

/* Checks whose failure is redirected back. Fills t or writes the redirect. */
static bool check_params(struct sim_req *rq, struct sim_resp *rs,
			 struct oa_txn *t)
{
	static const char *const prompts[] = { "login", "none", "consent", "select_account" };
	static const char *const modes[] = { "query", "fragment", "form_post" };
	const char *rt = rq_query(rq, "response_type");
	const char *scope = rq_query(rq, "scope");
	const char *method = rq_query(rq, "code_challenge_method");
	char bad[256], text[400];
	bool ok = false;

	if (t->response_mode) {
		for (size_t i = 0; i < 3; i++)
			ok |= strcmp(t->response_mode, modes[i]) == 0;
		if (!ok) {
			free(t->response_mode);
			t->response_mode = NULL;
			redirect_error(rs, t, "invalid_request", 900144, "The response_mode parameter is not valid.");
			return false;
		}
	}
	if (!rt || strcmp(rt, "code") != 0) {
		snprintf(text, sizeof(text), "The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: 'code'. Received value: '%s'.", rt ? rt : "");
		redirect_error(rs, t, "unsupported_response_type", 9002331, text);
		return false;
	}
	if (!scope || !*scope) {
		redirect_error(rs, t, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.");
		return false;
	}
	if (!(t->scopes = idp_scope_parse(scope, bad, sizeof(bad)))) {
		snprintf(text, sizeof(text), "The provided value for the input parameter 'scope' is not valid. The scope '%s' does not exist.", bad);
		redirect_error(rs, t, "invalid_scope", 70011, text);
		return false;
	}
	t->full_uris = idp_scope_full_form(scope);
	if (t->prompt) {
		ok = false;
		for (size_t i = 0; i < 4; i++)
			ok |= strcmp(t->prompt, prompts[i]) == 0;
		if (!ok) {
			redirect_error(rs, t, "invalid_request", 90023, "Unsupported 'prompt' value.");
			return false;
		}
	}
	if (method && strcmp(method, "S256") != 0 && strcmp(method, "plain") != 0) {
		redirect_error(rs, t, "invalid_request", 5000541, "The code_challenge_method is not supported. Supported values: 'S256', 'plain'.");
		return false;
	}
	if (t->challenge) {
		size_t n = strlen(t->challenge);

		if (n < 43 || n > 128) {
			redirect_error(rs, t, "invalid_request", 501491, "Invalid size of Code_Challenge parameter.");
			return false;
		}
		t->plain = method && strcmp(method, "plain") == 0;
	} else if (method) {
		redirect_error(rs, t, "invalid_request", 900144, "The request body must contain the following parameter: 'code_challenge'.");
		return false;
	}
	return true;
}

static struct sim_user *session_pick(struct oa_session *s, const char *hint)
{
	if (!s || !s->n)
		return NULL;
	if (!hint || !*hint)
		return s->users[0];
	for (size_t i = 0; i < s->n; i++)
		if (sim_ieq(s->users[i]->email, hint))
			return s->users[i];
	return NULL;
}

void idp_authorize(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_tenant *tenant = NULL;
	struct oa_txn *t;
	struct oa_session *s;
	struct sim_user *hinted, *u;
	const char *prompt;

	if (strcmp(rq->method, "POST") == 0) {
		struct sim_kvlist form = { 0 };

		idp_form(rq, &form);
		t = oa_txn_get(w, skv_get(&form, "txn"));
		if (!t || t->kind != TXN_AUTHORIZE)
			idp_page_message(rs, 400, "Sorry, but we're having trouble signing you in.",
				     "AADSTS90014: Your sign-in request has expired or is unknown. Go back to the application and try again.");
		else
			idp_signin_post(w, rq, rs, t, &form);
		skv_free(&form);
		return;
	}
	if (!check_client(w, rq, rs, &tenant))
		return;
	t = oa_txn_new(w, TXN_AUTHORIZE);
	t->tenant = tenant;
	t->tenant_seg = xstrdup(rq->segs[0]);
	t->client_id = xstrdup(world_app(w, rq_query(rq, "client_id"))->client_id);
	t->redirect_uri = xstrdup(rq_query(rq, "redirect_uri"));
	t->response_mode = xstrdup(rq_query(rq, "response_mode"));
	t->state = xstrdup(rq_query(rq, "state"));
	t->nonce = xstrdup(rq_query(rq, "nonce"));
	t->challenge = xstrdup(rq_query(rq, "code_challenge"));
	t->prompt = xstrdup(rq_query(rq, "prompt"));
	t->login_hint = xstrdup(rq_query(rq, "login_hint"));
	if (!check_params(rq, rs, t)) {
		oa_txn_drop(w, t);
		return;
	}
	if (w->auto_approve) {
		idp_authorize_complete(w, rs, t, w->auto_approve, true);
		return;
	}
	prompt = t->prompt ? t->prompt : "";
	s = idp_browser_session(w, rq);
	hinted = world_user(w, t->login_hint);
	if (strcmp(prompt, "none") == 0) {
		u = session_pick(s, t->login_hint);
		if (!u) {
			redirect_error(rs, t, "login_required", 50058,
				       "A silent sign-in request was sent but no user is signed in.");
			oa_txn_drop(w, t);
			return;
		}
		idp_authorize_complete(w, rs, t, u, false);
		return;
	}
	if (strcmp(prompt, "login") == 0) {
		t->user = hinted;
		if (hinted)
			idp_page_password(rs, t, "authorize", NULL);
		else
			idp_page_email(rs, t, "authorize", NULL);
		return;
	}
	if (strcmp(prompt, "select_account") == 0) {
		if (s && s->n)
			idp_page_account_picker(rs, t, s, "authorize");
		else
			idp_page_email(rs, t, "authorize", NULL);
		return;
	}
	u = session_pick(s, t->login_hint);
	if (u) {
		oa_session_use(s, u);
		idp_authorize_complete(w, rs, t, u, false);
		return;
	}
	t->user = hinted;
	if (hinted)
		idp_page_password(rs, t, "authorize", NULL);
	else
		idp_page_email(rs, t, "authorize", NULL);
}

static void logout(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	const char *post = rq_query(rq, "post_logout_redirect_uri");
	struct oa_session *s = idp_browser_session(w, rq);

	if (s)
		s->n = 0;
	if (post && *post) {
		rs_text(rs, 302, "text/html; charset=utf-8", "", 0);
		rs_header(rs, "Location", post);
		return;
	}
	idp_page_message(rs, 200, "You signed out of your account",
		     "It's a good idea to close all browser windows.");
}

void idp_route(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	static const struct {
		const char *leaf;
		const char *route;
		void (*fn)(struct sim_world *, struct sim_req *, struct sim_resp *);
	} table[] = {
		{ "authorize", "/{tenant}/oauth2/v2.0/authorize", idp_authorize },
		{ "token", "/{tenant}/oauth2/v2.0/token", idp_token },
		{ "devicecode", "/{tenant}/oauth2/v2.0/devicecode", idp_devicecode },
		{ "logout", "/{tenant}/oauth2/v2.0/logout", logout },
	};

	if (rq->nsegs == 4 && sim_ieq(rq->segs[1], "oauth2") &&
	    sim_ieq(rq->segs[2], "v2.0")) {
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
			if (sim_ieq(rq->segs[3], table[i].leaf)) {
				rq->route = table[i].route;
				table[i].fn(w, rq, rs);
				return;
			}
	}
	if (idp_discovery_route(w, rq, rs))
		return;
	rq->route = "/{tenant}/(unknown)";
	rs_oauth_error(rq, rs, 404, "invalid_request", 900561,
			 "The endpoint '%s' is not part of the identity platform.", rq->path);
}
