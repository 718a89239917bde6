/*
 * admin.c — /_sim routes: the world (tenants, apps, users), identity events
 * (revoke, password, consent, app disable, secret rotation, token expiry),
 * auto-approve, device approval, token introspection, faults, config,
 * counters and the sent log. Mailbox routes are in admin_mail.c. Every
 * route is listed in sim/README.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "admin.h"
#include "counters.h"
#include "dispatch.h"
#include "faults.h"
#include "mailbox.h"
#include "msgcache.h"
#include "oauth.h"
#include "throttle.h"

void admin_error(struct sim_req *rq, struct sim_resp *rs, int status,
		 const char *code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rs_graph_error(rq, rs, status, code, "%s", msg);
}

json_t *admin_body(struct sim_req *rq, struct sim_resp *rs)
{
	bool empty = false;
	json_t *v = rq_json_body(rq, rs, &empty);

	if (!v && empty)
		return json_object();
	return v;
}

static void ok(struct sim_resp *rs, json_t *v)
{
	rs_json(rs, 200, v ? v : json_pack("{s:b}", "ok", 1));
	rs->content_type = "application/json";
}

static json_t *user_json(const struct sim_user *u)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "email", u->email, "name", u->name,
			 "password", u->password, "id", u->oid, "tenant", u->tenant->id);
}

static json_t *app_json(const struct sim_app *a)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:O, s:b}", "client_id", a->client_id,
			      "name", a->name, "public", a->secret == NULL,
			      "redirect_uris", a->redirect_uris, "disabled", a->disabled);

	json_object_set_new(o, "secret", a->secret ? json_string(a->secret) : json_null());
	json_object_set_new(o, "allow_public_client_flows", json_boolean(a->public_flows));
	return o;
}

static void get_world(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *t = json_array(), *a = json_array(), *u = json_array();

	(void)rq;
	for (size_t i = 0; i < w->ntenants; i++)
		json_array_append_new(t, json_pack("{s:s, s:s, s:s, s:O}", "id", w->tenants[i]->id,
						   "domain", w->tenants[i]->domain, "name",
						   w->tenants[i]->name, "domains", w->tenants[i]->domains));
	for (size_t i = 0; i < w->napps; i++)
		json_array_append_new(a, app_json(w->apps[i]));
	for (size_t i = 0; i < w->nusers; i++)
		json_array_append_new(u, user_json(w->users[i]));
	ok(rs, json_pack("{s:s, s:o, s:o, s:o, s:O}", "url", w->base_url, "tenants", t,
			 "apps", a, "users", u, "auto_approve",
			 w->auto_approve ? json_string(w->auto_approve->email) : json_null()));
}

static void post_tenant(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *b = admin_body(rq, rs);
	struct sim_tenant *t;
	char why[200];

	if (!b)
		return;
	t = world_add_tenant(w, json_string_value(json_object_get(b, "domain")),
			     json_string_value(json_object_get(b, "id")),
			     json_string_value(json_object_get(b, "name")), why, sizeof(why));
	if (!t)
		admin_error(rq, rs, 400, "invalidRequest", "%s", why);
	else
		rs_json(rs, 201, json_pack("{s:s, s:s, s:s}", "id", t->id, "domain", t->domain,
					     "name", t->name));
	json_decref(b);
}

static struct sim_tenant *tenant_arg(struct sim_world *w, const json_t *b)
{
	const char *t = json_string_value(json_object_get(b, "tenant"));

	return t ? world_tenant(w, t) : w->tenants[0];
}

static void post_app(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *b = admin_body(rq, rs), *uris, *dflt;
	struct sim_app *a;
	const char *secret;
	char why[200];

	if (!b)
		return;
	dflt = json_pack("[s,s]", "http://localhost", "http://127.0.0.1");
	uris = json_object_get(b, "redirect_uris");
	secret = json_string_value(json_object_get(b, "secret"));
	if (json_is_true(json_object_get(b, "public")))
		secret = NULL;
	else if (!json_object_get(b, "secret"))
		secret = SIM_DEFAULT_SECRET;
	if ((uris && !json_is_array(uris)) || !tenant_arg(w, b) ||
	    (json_object_get(b, "allow_public_client_flows") &&
	     !json_is_boolean(json_object_get(b, "allow_public_client_flows")))) {
		admin_error(rq, rs, 400, "invalidRequest",
			    "'redirect_uris' must be an array of strings, 'tenant' an existing tenant and 'allow_public_client_flows' a boolean");
	} else if (!(a = world_add_app(w, json_string_value(json_object_get(b, "client_id")),
				       json_string_value(json_object_get(b, "name")), secret,
				       uris ? uris : dflt, tenant_arg(w, b), why, sizeof(why)))) {
		admin_error(rq, rs, 400, "invalidRequest", "%s", why);
	} else {
		if (json_is_false(json_object_get(b, "allow_public_client_flows")))
			a->public_flows = false;
		rs_json(rs, 201, app_json(a));
	}
	json_decref(dflt);
	json_decref(b);
}

static struct sim_app *app_cap(struct sim_world *w, struct sim_req *rq,
			       struct sim_resp *rs)
{
	struct sim_app *a = world_app(w, rq->caps[0]);

	if (!a)
		admin_error(rq, rs, 404, "itemNotFound", "no app with client_id %s", rq->caps[0]);
	return a;
}

static void app_disable(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_app *a = app_cap(w, rq, rs);

	if (a) {
		a->disabled = true;
		ok(rs, app_json(a));
	}
}

static void app_enable(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_app *a = app_cap(w, rq, rs);

	if (a) {
		a->disabled = false;
		ok(rs, app_json(a));
	}
}

static void app_secret(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_app *a = app_cap(w, rq, rs);
	json_t *b;
	const char *s;

	if (!a || !(b = admin_body(rq, rs)))
		return;
	s = json_string_value(json_object_get(b, "secret"));
	if (!s || !*s) {
		admin_error(rq, rs, 400, "invalidRequest", "'secret' must be a non-empty string");
	} else {
		free(a->secret);
		a->secret = xstrdup(s);
		ok(rs, app_json(a));
	}
	json_decref(b);
}

static void post_user(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *b = admin_body(rq, rs);
	struct sim_user *u;
	char why[200];

	if (!b)
		return;
	if (!tenant_arg(w, b)) {
		admin_error(rq, rs, 400, "invalidRequest", "'tenant' is not an existing tenant");
	} else if (!(u = world_add_user(w, tenant_arg(w, b),
					json_string_value(json_object_get(b, "email")),
					json_string_value(json_object_get(b, "name")),
					json_string_value(json_object_get(b, "password")),
					why, sizeof(why)))) {
		admin_error(rq, rs, 400, "invalidRequest", "%s", why);
	} else {
		rs_json(rs, 201, user_json(u));
	}
	json_decref(b);
}

static struct sim_user *user_cap(struct sim_world *w, struct sim_req *rq,
				 struct sim_resp *rs)
{
	struct sim_user *u = world_user(w, rq->caps[0]);

	if (!u)
		admin_error(rq, rs, 404, "itemNotFound", "no user %s", rq->caps[0]);
	return u;
}

static void user_revoke(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_user *u = user_cap(w, rq, rs);

	if (u) {
		u->grant_epoch++;
		ok(rs, NULL);
	}
}

static void user_password(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_user *u = user_cap(w, rq, rs);
	json_t *b;
	const char *p;

	if (!u || !(b = admin_body(rq, rs)))
		return;
	p = json_string_value(json_object_get(b, "password"));
	if (!p || !*p) {
		admin_error(rq, rs, 400, "invalidRequest", "'password' must be a non-empty string");
	} else {
		free(u->password);
		u->password = xstrdup(p);
		u->grant_epoch++;
		ok(rs, NULL);
	}
	json_decref(b);
}

static void user_withdraw(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_user *u = user_cap(w, rq, rs);
	json_t *b;
	const char *cid;
	struct sim_app *a;

	if (!u || !(b = admin_body(rq, rs)))
		return;
	cid = json_string_value(json_object_get(b, "client_id"));
	a = world_app(w, cid ? cid : SIM_DEFAULT_CLIENT_ID);
	if (!a) {
		admin_error(rq, rs, 404, "itemNotFound", "no app with client_id %s", cid);
	} else {
		json_object_del(u->consents, a->client_id);
		ok(rs, NULL);
	}
	json_decref(b);
}

static void user_expire(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_user *u = user_cap(w, rq, rs);

	if (u) {
		u->token_epoch++;
		ok(rs, NULL);
	}
}

static void auto_approve(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *b = admin_body(rq, rs);
	json_t *e;

	if (!b)
		return;
	e = json_object_get(b, "email");
	if (!e || json_is_null(e)) {
		w->auto_approve = NULL;
		ok(rs, json_pack("{s:n}", "auto_approve"));
	} else if (!json_is_string(e) || !world_user(w, json_string_value(e))) {
		admin_error(rq, rs, 404, "itemNotFound", "'email' must name an existing user (or be null)");
	} else {
		w->auto_approve = world_user(w, json_string_value(e));
		ok(rs, json_pack("{s:s}", "auto_approve", w->auto_approve->email));
	}
	json_decref(b);
}

static void device_decide(struct sim_world *w, struct sim_req *rq,
			  struct sim_resp *rs, bool approve)
{
	json_t *b = admin_body(rq, rs);
	struct oa_device *d;
	struct sim_user *u = NULL;

	if (!b)
		return;
	d = oa_device_by_user_code(w, json_string_value(json_object_get(b, "user_code")));
	if (approve)
		u = world_user(w, json_string_value(json_object_get(b, "email")));
	if (!d || d->expires <= simtime_now()) {
		admin_error(rq, rs, 404, "itemNotFound", "no pending device code with that user_code");
	} else if (d->state != DEV_PENDING) {
		admin_error(rq, rs, 409, "conflict", "that device code was already approved or declined");
	} else if (approve && !u) {
		admin_error(rq, rs, 404, "itemNotFound", "'email' must name an existing user");
	} else {
		idp_device_finish(w, d, u, approve);
		ok(rs, NULL);
	}
	json_decref(b);
}

static void device_approve(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	device_decide(w, rq, rs, true);
}

static void device_decline(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	device_decide(w, rq, rs, false);
}

static void introspect(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_kvlist form = { 0 };
	const char *tok = NULL, *authz = rq_header(rq, "Authorization");
	struct oa_access *a = NULL;

	sim_form_parse(rq->body ? rq->body : "", rq->body_len, &form);
	tok = skv_get(&form, "token");
	if (!tok)
		tok = rq_query(rq, "token");
	if (!tok && authz && sim_istarts(authz, "Bearer "))
		tok = authz + 7;
	if (tok && oa_access_check(w, tok, &a) == TOK_OK) {
		struct buf sc;
		size_t i;
		json_t *v;

		buf_init(&sc, 0);
		json_array_foreach(a->scopes, i, v)
			buf_printf(&sc, NULL, "%s%s", i ? " " : "", json_string_value(v));
		ok(rs, json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s}",
				 "active", 1, "email", a->user->email, "preferred_username",
				 a->user->email, "username", a->user->email, "scope", buf_str(&sc),
				 "aud", idp_scope_audience(a->res), "exp", (json_int_t)a->expires,
				 "client_id", a->client_id, "token_type", "Bearer", "oid",
				 a->user->oid));
		buf_free(&sc);
	} else {
		ok(rs, json_pack("{s:b}", "active", 0));
	}
	skv_free(&form);
}

static void faults_get(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	(void)rq;
	ok(rs, json_pack("{s:o}", "faults", flt_to_json(w->faults)));
}

static void faults_post(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *b = admin_body(rq, rs);
	char why[200];
	int rc = 0;

	if (!b)
		return;
	if (json_is_array(json_object_get(b, "faults"))) {
		size_t i;
		json_t *f;

		json_array_foreach(json_object_get(b, "faults"), i, f)
			if ((rc = flt_add(w->faults, f, why, sizeof(why))) < 0)
				break;
	} else {
		rc = flt_add(w->faults, b, why, sizeof(why));
	}
	if (rc < 0)
		admin_error(rq, rs, 400, "invalidRequest", "%s", why);
	else
		rs_json(rs, 201, json_pack("{s:o}", "faults", flt_to_json(w->faults)));
	json_decref(b);
}

static void faults_delete(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	(void)rq;
	flt_clear(w->faults);
	ok(rs, NULL);
}

static void config_get(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	(void)rq;
	ok(rs, simcfg_to_json(&w->cfg));
}

static void config_post(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *b = admin_body(rq, rs);
	char why[200];

	if (!b)
		return;
	if (simcfg_apply(&w->cfg, b, why, sizeof(why)) < 0)
		admin_error(rq, rs, 400, "invalidRequest", "%s", why);
	else {
		if (json_object_get(b, "rate_limit"))
			thr_reset(w->throttle);
		if (json_object_get(b, "render_cache_mb") || json_object_get(b, "date_fractions"))
			for (size_t i = 0; i < w->nusers; i++)
				if (w->users[i]->mbox)
					msgcache_clear(w->users[i]->mbox->render_cache);
		ok(rs, simcfg_to_json(&w->cfg));
	}
	json_decref(b);
}

static void counters_get(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *out = ctr_to_json(w->counters), *peaks = json_object();
	json_t *windows = json_object();

	(void)rq;
	for (size_t i = 0; i < w->nusers; i++) {
		const struct sim_user *u = w->users[i];
		long peak = u->mbox ? thr_peak(w->throttle, u->num) : 0;
		long window = u->mbox ? thr_window_peak(w->throttle, u->num) : 0;

		if (peak > 0)
			json_object_set_new(peaks, u->email, json_integer(peak));
		if (window > 0)
			json_object_set_new(windows, u->email, json_integer(window));
	}
	json_object_set_new(out, "in_flight_peak", peaks);
	json_object_set_new(out, "rate_window_peak", windows);
	ok(rs, out);
}

static void counters_post_reset(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	(void)rq;
	ctr_reset(w->counters);
	thr_reset(w->throttle);
	ok(rs, NULL);
}

static void sent_get(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	(void)rq;
	ok(rs, json_pack("{s:O}", "value", w->sent_log));
}

static void sent_delete(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	(void)rq;
	json_array_clear(w->sent_log);
	ok(rs, NULL);
}

static void device_page(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	idp_device_page(w, rq, rs);
}

static const struct {
	const char *method;
	const char *pattern;
	admin_fn *fn;
	const char *name;
} routes[] = {
	{ "GET", "world", get_world, "/_sim/world" },
	{ "POST", "tenants", post_tenant, "/_sim/tenants" },
	{ "POST", "apps", post_app, "/_sim/apps" },
	{ "POST", "apps/*/disable", app_disable, "/_sim/apps/{id}/disable" },
	{ "POST", "apps/*/enable", app_enable, "/_sim/apps/{id}/enable" },
	{ "POST", "apps/*/secret", app_secret, "/_sim/apps/{id}/secret" },
	{ "POST", "users", post_user, "/_sim/users" },
	{ "POST", "users/*/revoke", user_revoke, "/_sim/users/{email}/revoke" },
	{ "POST", "users/*/password", user_password, "/_sim/users/{email}/password" },
	{ "POST", "users/*/withdraw-consent", user_withdraw, "/_sim/users/{email}/withdraw-consent" },
	{ "POST", "users/*/expire-tokens", user_expire, "/_sim/users/{email}/expire-tokens" },
	{ "POST", "auto-approve", auto_approve, "/_sim/auto-approve" },
	{ "GET", "device", device_page, "/_sim/device" },
	{ "POST", "device", device_page, "/_sim/device" },
	{ "POST", "device/approve", device_approve, "/_sim/device/approve" },
	{ "POST", "device/decline", device_decline, "/_sim/device/decline" },
	{ "POST", "introspect", introspect, "/_sim/introspect" },
	{ "GET", "introspect", introspect, "/_sim/introspect" },
	{ "GET", "faults", faults_get, "/_sim/faults" },
	{ "POST", "faults", faults_post, "/_sim/faults" },
	{ "DELETE", "faults", faults_delete, "/_sim/faults" },
	{ "GET", "config", config_get, "/_sim/config" },
	{ "POST", "config", config_post, "/_sim/config" },
	{ "GET", "counters", counters_get, "/_sim/counters" },
	{ "POST", "counters/reset", counters_post_reset, "/_sim/counters/reset" },
	{ "GET", "sent", sent_get, "/_sim/sent" },
	{ "DELETE", "sent", sent_delete, "/_sim/sent" },
	{ "POST", "mailboxes/*/seed", admin_seed, "/_sim/mailboxes/{email}/seed" },
	{ "GET", "mailboxes/*/messages", admin_list_messages, "/_sim/mailboxes/{email}/messages" },
	{ "POST", "mailboxes/*/messages", admin_new_message, "/_sim/mailboxes/{email}/messages" },
	{ "PATCH", "mailboxes/*/messages/*", admin_patch_message, "/_sim/mailboxes/{email}/messages/{id}" },
	{ "DELETE", "mailboxes/*/messages/*", admin_delete_message, "/_sim/mailboxes/{email}/messages/{id}" },
	{ "POST", "mailboxes/*/messages/*/move", admin_move_message, "/_sim/mailboxes/{email}/messages/{id}/move" },
	{ "POST", "mailboxes/*/folders", admin_create_folder, "/_sim/mailboxes/{email}/folders" },
	{ "PATCH", "mailboxes/*/folders/*", admin_patch_folder, "/_sim/mailboxes/{email}/folders/{id}" },
	{ "DELETE", "mailboxes/*/folders/*", admin_delete_folder, "/_sim/mailboxes/{email}/folders/{id}" },
	{ "POST", "mailboxes/*/expire-delta", admin_expire_delta, "/_sim/mailboxes/{email}/expire-delta" },
	{ "GET", "mailboxes/*/dump", admin_dump, "/_sim/mailboxes/{email}/dump" },
};

void admin_handle(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	bool path_known = false;

	rq->route = "/_sim/(unknown)";
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!rq_match(rq, 1, routes[i].pattern))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, rq->method) != 0)
			continue;
		rq->route = routes[i].name;
		routes[i].fn(w, rq, rs);
		return;
	}
	if (path_known)
		admin_error(rq, rs, 405, "methodNotAllowed", "%s is not allowed on %s", rq->method, rq->path);
	else
		admin_error(rq, rs, 404, "notFound", "no admin route %s %s (see sim/README.md)", rq->method, rq->path);
}
