/*
 * oauth_signin.c — the POST steps of the sim sign-in (pick account, e-mail,
 * password, consent, cancel) shared by /authorize and the device-code page,
 * the /devicecode endpoint, the /_sim/device page and device approval.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "oauth_internal.h"

void idp_device_finish(struct sim_world *w, struct oa_device *d,
			 struct sim_user *u, bool approve)
{
	(void)w;
	if (!approve) {
		d->state = DEV_DECLINED;
		return;
	}
	{
		json_t *want = idp_scope_expand_default(d->scopes, NULL);

		idp_scope_consent_add(u, d->client_id, want);
		json_decref(want);
	}
	d->user = u;
	d->state = DEV_APPROVED;
}

static const char *action_of(const struct oa_txn *t)
{
	return t->kind == TXN_DEVICE ? "/_sim/device" : "authorize";
}

/* The account is authenticated: continue with consent or completion. */
static void after_auth(struct sim_world *w, struct sim_resp *rs,
		       struct oa_txn *t, struct sim_user *u)
{
	struct oa_device *d;

	t->user = u;
	if (t->kind == TXN_AUTHORIZE) {
		idp_authorize_complete(w, rs, t, u, false);
		return;
	}
	/* Device flow: always confirm, like Microsoft's "Are you trying to
	 * sign in to <app>?" page. */
	d = oa_device_by_user_code(w, t->user_code);
	if (!d || d->state != DEV_PENDING || d->expires <= simtime_now()) {
		idp_page_message(rs, 400, "Code expired",
			     "AADSTS70019: That code has expired or was already used. Go back to your device and start again.");
		oa_txn_drop(w, t);
		return;
	}
	idp_page_consent(rs, t, world_app(w, t->client_id), action_of(t));
}

static void cancel(struct sim_world *w, struct sim_resp *rs, struct oa_txn *t)
{
	if (t->kind == TXN_DEVICE) {
		struct oa_device *d = oa_device_by_user_code(w, t->user_code);

		if (d && d->state == DEV_PENDING)
			idp_device_finish(w, d, NULL, false);
		idp_page_message(rs, 200, "Sign-in cancelled",
			     "You declined to sign in to the application on your device. You can close this window.");
		oa_txn_drop(w, t);
		return;
	}
	{
		struct sim_kvlist f = { 0 };
		char desc[400], trace[37], ts[SIMTIME_LEN];
		struct buf b;
		char sep = strchr(t->redirect_uri, '?') ? '&' : '?';

		sim_guid_random(trace);
		simtime_format_oauth(simtime_now(), ts);
		snprintf(desc, sizeof(desc),
			 "AADSTS65004: User declined to consent to access the app. Trace ID: %s Correlation ID: %s Timestamp: %s",
			 trace, trace, ts);
		skv_add(&f, "error", "access_denied");
		skv_add(&f, "error_description", desc);
		skv_add(&f, "error_subcode", "cancel");
		if (t->state)
			skv_add(&f, "state", t->state);
		if (t->response_mode && strcmp(t->response_mode, "form_post") == 0) {
			idp_page_form_post(rs, t->redirect_uri, &f);
		} else {
			if (t->response_mode && strcmp(t->response_mode, "fragment") == 0)
				sep = '#';
			buf_init(&b, 0);
			buf_puts(&b, t->redirect_uri, NULL);
			for (size_t i = 0; i < f.n; i++) {
				char *k = sim_url_encode(f.v[i].key), *v = sim_url_encode(f.v[i].val);

				buf_printf(&b, NULL, "%c%s=%s", i ? '&' : sep, k, v);
				free(k);
				free(v);
			}
			rs_text(rs, 302, "text/html; charset=utf-8", "", 0);
			rs_header(rs, "Location", buf_str(&b));
			buf_free(&b);
		}
		skv_free(&f);
		oa_txn_drop(w, t);
	}
}

static bool password_ok(const struct sim_user *u, const char *pw)
{
	return pw && strlen(pw) == strlen(u->password) &&
	       sodium_memcmp(pw, u->password, strlen(pw)) == 0;
}

void idp_signin_post(struct sim_world *w, struct sim_req *rq,
		       struct sim_resp *rs, struct oa_txn *t,
		       const struct sim_kvlist *form)
{
	const char *step = skv_get(form, "step");
	const char *action = skv_get(form, "action");
	const char *login = skv_get(form, "loginfmt");
	struct oa_session *s = idp_browser_session(w, rq);
	struct sim_user *u;

	if (action && strcmp(action, "cancel") == 0) {
		cancel(w, rs, t);
		return;
	}
	if (!step)
		step = "";
	if (strcmp(step, "pick") == 0) {
		u = login && *login ? world_user(w, login) : NULL;
		if (u && s) {
			for (size_t i = 0; i < s->n; i++)
				if (s->users[i] == u) {
					oa_session_use(s, u);
					after_auth(w, rs, t, u);
					return;
				}
		}
		t->user = u;
		if (u) {
			idp_page_password(rs, t, action_of(t), NULL);
		} else {
			free(t->login_hint);
			t->login_hint = NULL;
			idp_page_email(rs, t, action_of(t), NULL);
		}
		return;
	}
	if (strcmp(step, "email") == 0) {
		u = world_user(w, login);
		if (!u || !strchr(login, '@')) {
			idp_page_email(rs, t, action_of(t),
				   "AADSTS50034: This username may be incorrect. We couldn't find an account with that username.");
			return;
		}
		t->user = u;
		idp_page_password(rs, t, action_of(t), NULL);
		return;
	}
	if (strcmp(step, "password") == 0 && t->user) {
		if (!password_ok(t->user, skv_get(form, "passwd"))) {
			idp_page_password(rs, t, action_of(t),
				      "AADSTS50126: Your account or password is incorrect. If you don't remember your password, reset it now.");
			return;
		}
		if (!s)
			s = oa_session_new(w);
		oa_session_use(s, t->user);
		idp_set_session_cookie(rs, s);
		u = t->user;
		after_auth(w, rs, t, u);
		/* keep the cookie even when after_auth replaced the response */
		idp_set_session_cookie(rs, s);
		return;
	}
	if (strcmp(step, "consent") == 0 && t->user && action &&
	    strcmp(action, "accept") == 0) {
		if (t->kind == TXN_AUTHORIZE) {
			idp_authorize_complete(w, rs, t, t->user, true);
			return;
		}
		{
			struct oa_device *d = oa_device_by_user_code(w, t->user_code);

			if (d && d->state == DEV_PENDING && d->expires > simtime_now()) {
				idp_device_finish(w, d, t->user, true);
				idp_page_message(rs, 200, "You're signed in",
					     "You have signed in to the application on your device. You may now close this window.");
			} else {
				idp_page_message(rs, 400, "Code expired",
					     "AADSTS70019: That code has expired or was already used.");
			}
			oa_txn_drop(w, t);
		}
		return;
	}
	idp_page_message(rs, 400, "Sorry, but we're having trouble signing you in.",
		     "AADSTS90014: The sign-in form was incomplete. Go back to the application and try again.");
}

void idp_device_page(struct sim_world *w, struct sim_req *rq,
		       struct sim_resp *rs)
{
	struct sim_kvlist form = { 0 };
	struct oa_txn *t;
	struct oa_device *d;
	struct oa_session *s;
	const char *otc;

	if (strcmp(rq->method, "POST") != 0) {
		idp_page_device_code(rs, NULL);
		return;
	}
	idp_form(rq, &form);
	if (skv_get(&form, "txn")) {
		t = oa_txn_get(w, skv_get(&form, "txn"));
		if (!t || t->kind != TXN_DEVICE)
			idp_page_message(rs, 400, "Sign-in expired",
				     "AADSTS90014: This sign-in has expired. Enter the code again.");
		else
			idp_signin_post(w, rq, rs, t, &form);
		skv_free(&form);
		return;
	}
	otc = skv_get(&form, "otc");
	d = oa_device_by_user_code(w, otc);
	if (!d || d->state != DEV_PENDING || d->expires <= simtime_now()) {
		idp_page_device_code(rs, "AADSTS70018: That code didn't work. Check the code and try again.");
		skv_free(&form);
		return;
	}
	t = oa_txn_new(w, TXN_DEVICE);
	t->user_code = xstrdup(d->user_code);
	t->client_id = xstrdup(d->client_id);
	t->scopes = json_deep_copy(d->scopes);
	s = idp_browser_session(w, rq);
	if (s && s->n)
		idp_page_account_picker(rs, t, s, "/_sim/device");
	else
		idp_page_email(rs, t, "/_sim/device", NULL);
	skv_free(&form);
}

void idp_devicecode(struct sim_world *w, struct sim_req *rq,
		      struct sim_resp *rs)
{
	struct sim_kvlist form = { 0 };
	const char *cid, *scope;
	struct sim_app *app;
	struct sim_tenant *t;
	struct oa_device *d;
	json_t *scopes;
	char bad[256], base[SIM_URL_MAX], *uri, *msg;

	idp_form(rq, &form);
	cid = skv_get(&form, "client_id");
	scope = skv_get(&form, "scope");
	if (strcmp(rq->method, "POST") != 0) {
		rs_oauth_error(rq, rs, 400, "invalid_request", 900561,
				 "The endpoint only accepts POST requests. Received a %s request.", rq->method);
	} else if (idp_tenant(w, rq->segs[0], &t) < 0) {
		rs_oauth_error(rq, rs, 400, "invalid_request", 90002,
				 "Tenant '%s' not found.", rq->segs[0]);
	} else if (!cid || !*cid) {
		rs_oauth_error(rq, rs, 400, "invalid_request", 900144,
				 "The request body must contain the following parameter: 'client_id'.");
	} else if (!(app = world_app(w, cid))) {
		rs_oauth_error(rq, rs, 400, "unauthorized_client", 700016,
				 "Application with identifier '%s' was not found in the directory '%s'.", cid, rq->segs[0]);
	} else if (app->disabled) {
		rs_oauth_error(rq, rs, 400, "unauthorized_client", 7000112,
				 "Application '%s'(%s) is disabled.", app->client_id, app->name);
	} else if (!scope || !*scope) {
		rs_oauth_error(rq, rs, 400, "invalid_request", 900144,
				 "The request body must contain the following parameter: 'scope'.");
	} else if (!(scopes = idp_scope_parse(scope, bad, sizeof(bad)))) {
		rs_oauth_error(rq, rs, 400, "invalid_scope", 70011,
				 "The provided value for the input parameter 'scope' is not valid. The scope '%s' does not exist.", bad);
	} else {
		d = oa_device_new(w, app->client_id, scopes);
		d->full_uris = idp_scope_full_form(scope);
		rq_base_url(rq, base, sizeof(base));
		uri = xasprintf("%s/_sim/device", base);
		msg = xasprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.",
				uri, d->user_code);
		rs_json(rs, 200, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}",
					     "user_code", d->user_code, "device_code", d->device_code,
					     "verification_uri", uri, "expires_in",
					     (json_int_t)w->cfg.device_code_lifetime, "interval",
					     (json_int_t)d->interval, "message", msg));
		rs->content_type = "application/json; charset=utf-8";
		free(uri);
		free(msg);
	}
	skv_free(&form);
}
