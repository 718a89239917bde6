/*
 * service_provider.c — the administrator's Microsoft app registration:
 * showing it (never the secret), changing it (validated; the secret sealed
 * before it reaches the store), and the provider check, which proves the
 * app registration with a client-credentials token request before any
 * mailbox owner meets a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/provider.h"
#include "inboxsync/service.h"
#include "inboxsync/timeutil.h"



static int require_admin(const struct service_actor *who, struct err *e)
{
	if (who && who->user_id && !who->admin) {
		err_set(e, ERR_PERMANENT, "forbidden", "only an administrator can see "
			"or change the provider settings");
		return err_set_fix(e, FIX_CHECK_INPUT, "sign in as an administrator");
	}
	return 0;
}

static json_t *provider_json(const struct store_provider *p)
{
	json_t *transports = json_array();
	char imap[320], smtp[320];

	if (p->transports & STORE_TRANSPORT_GRAPH)
		json_array_append_new(transports, json_string("graph"));
	if (p->transports & STORE_TRANSPORT_IMAP)
		json_array_append_new(transports, json_string("imap"));
	snprintf(imap, sizeof(imap), "%s:%d", p->imap_host, p->imap_port);
	snprintf(smtp, sizeof(smtp), "%s:%d", p->smtp_host, p->smtp_port);
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:s,s:s,s:s,s:b,s:o,s:o,s:o,s:o}",
			 "name", p->name, "tenant", p->tenant, "client_id", p->client_id,
			 "client_secret", p->client_secret_sealed ? "set (encrypted)" : "not set",
			 "has_client_secret", p->client_secret_sealed != NULL,
			 "public_client", p->client_secret_sealed == NULL,
			 "login_url", p->login_url, "graph_url", p->graph_url,
			 "imap", imap, "smtp", smtp, "enabled", p->enabled,
			 "transports", transports,
			 "client_secret_expires_at", service_time_json(p->secret_expires_at),
			 "problem", p->problem_code[0]
				    ? json_pack("{s:s,s:s,s:o}", "code", p->problem_code,
						"message", p->problem, "at",
						service_time_json(p->problem_at))
				    : json_null(),
			 "updated_at", service_time_json(p->updated_at));
}

int service_provider_get(const struct auth_env *env, const struct service_actor *who,
			 json_t **out, struct err *e)
{
	struct store_provider p;
	int rc;

	*out = NULL;
	if (require_admin(who, e) < 0)
		return -1;
	rc = provider_get(env->store, &p, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return provider_require(env->store, NULL, NULL, e);
	*out = provider_json(&p);
	store_provider_clear(&p);
	return 0;
}

/* "host:port" into a host and port. */
static int parse_host_port(const char *arg, char *host, size_t host_len,
			   int *port, const char *what, struct err *e)
{
	const char *colon = strrchr(arg, ':');
	char *end;
	long v;

	if (!colon || colon == arg || (size_t)(colon - arg) >= host_len)
		return err_set(e, ERR_PERMANENT, "usage",
			       "bad %s server '%.100s': expected HOST:PORT", what, arg);
	v = strtol(colon + 1, &end, 10);
	if (*end || v < 1 || v > 65535)
		return err_set(e, ERR_PERMANENT, "usage",
			       "bad %s port in '%.100s': expected 1-65535", what, arg);
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = '\0';
	*port = (int)v;
	return 0;
}

static int set_text(char *dst, size_t n, const char *v, const char *what,
		    struct err *e)
{
	if (v && str_copy(dst, n, v) < 0)
		return err_set(e, ERR_PERMANENT, "usage", "the %s is too long", what);
	return 0;
}

static void strip_slashes(char *u)
{
	size_t n = strlen(u);

	while (n && u[n - 1] == '/')
		u[--n] = '\0';
}

/* Apply a change over `p` (existing settings or defaults). */
static int apply_change(const struct auth_env *env, const struct service_provider_change *c,
			struct store_provider *p, struct err *e)
{
	if (set_text(p->client_id, sizeof(p->client_id), c->client_id, "client id", e) < 0 ||
	    set_text(p->tenant, sizeof(p->tenant), c->tenant, "tenant", e) < 0 ||
	    set_text(p->login_url, sizeof(p->login_url), c->login_url, "login URL", e) < 0 ||
	    set_text(p->graph_url, sizeof(p->graph_url), c->graph_url, "Graph URL", e) < 0 ||
	    (c->imap && parse_host_port(c->imap, p->imap_host, sizeof(p->imap_host),
					&p->imap_port, "IMAP", e) < 0) ||
	    (c->smtp && parse_host_port(c->smtp, p->smtp_host, sizeof(p->smtp_host),
					&p->smtp_port, "SMTP", e) < 0) ||
	    (c->transports && provider_parse_transports(c->transports, &p->transports, e) < 0))
		return -1;
	if (c->enabled >= 0)
		p->enabled = c->enabled != 0;
	if (c->secret_expires_at >= 0)
		p->secret_expires_at = c->secret_expires_at;
	strip_slashes(p->login_url);
	strip_slashes(p->graph_url);
	if (provider_validate(p, e) < 0)
		return -1;
	if (!c->client_secret)
		return 0;
	if (!*c->client_secret) {
		store_provider_clear(p); /* a public client from now on */
		return 0;
	}
	{
		char *sealed;

		log_add_secret(c->client_secret);
		sealed = vault_seal(env->vault, c->client_secret, strlen(c->client_secret), e);
		if (!sealed)
			return -1;
		store_provider_clear(p);
		p->client_secret_sealed = sealed;
	}
	return 0;
}

int service_provider_set(const struct auth_env *env, const struct service_actor *who,
			 const struct service_provider_change *c, struct err *e)
{
	struct store_provider p;
	int exists, rc;

	if (require_admin(who, e) < 0)
		return -1;
	exists = store_get_provider(env->store, PROVIDER_MICROSOFT, &p, e);
	if (exists < 0)
		return -1;
	if (!exists) {
		provider_defaults(&p);
		if (!c->client_id) {
			err_set(e, ERR_PERMANENT, "usage", "the client id is required the "
				"first time: the Application (client) ID of the app "
				"registered in Microsoft Entra");
			return err_set_fix(e, FIX_CHECK_INPUT, "give the client id");
		}
	}
	rc = apply_change(env, c, &p, e);
	if (rc == 0)
		rc = store_put_provider(env->store, &p, e);
	store_provider_clear(&p);
	if (rc == 0)
		log_info("provider", "Microsoft provider settings changed");
	return rc;
}

/* ---- the check -------------------------------------------------------------- */

static void add_check(json_t *checks, bool *all_ok, const char *name, bool ok,
		      const char *message, const struct err *why)
{
	char fix[768] = "";

	if (why)
		err_fix_text(why->fix, why->fix_arg, fix, sizeof(fix));
	json_array_append_new(checks, json_pack("{s:s,s:b,s:s,s:s}", "name", name,
						"ok", ok, "message", message, "fix", fix));
	if (!ok)
		*all_ok = false;
}

/* The app registration proven by a token for the app itself. */
static void check_registration(const struct auth_env *env, const struct store_provider *p,
			       json_t *checks, bool *ok)
{
	struct auth_client c;
	struct oauth_tokens t;
	struct err e;
	char msg[700];

	err_clear(&e);
	if (!p->client_secret_sealed) {
		add_check(checks, ok, "app_registration", true, "public client (no "
			  "secret): the registration is proven at the first "
			  "authorization", NULL);
		return;
	}
	if (auth_client_load(env, NULL, &c, &e) < 0) {
		add_check(checks, ok, "app_registration", false, e.msg, &e);
		return;
	}
	if (oauth_client_credentials(env->http, &c.client,
				     "https://graph.microsoft.com/.default", &t, &e) == 0) {
		snprintf(msg, sizeof(msg), "Microsoft accepted the client id and secret "
			 "for tenant %.200s", p->tenant);
		add_check(checks, ok, "app_registration", true, msg, NULL);
		oauth_tokens_clear(&t);
		store_set_provider_problem(env->store, PROVIDER_MICROSOFT, NULL, NULL, &e);
	} else if (err_is(&e, "unsupported_grant_type")) {
		/* The identity platform checks the app's credentials before the
		 * grant type: one that issues no app-only tokens still proved
		 * the client id and secret by getting this far. */
		snprintf(msg, sizeof(msg), "the identity platform accepted the client "
			 "id and secret for tenant %.200s (it issues no app-only tokens, "
			 "so the check stopped there)", p->tenant);
		add_check(checks, ok, "app_registration", true, msg, NULL);
		store_set_provider_problem(env->store, PROVIDER_MICROSOFT, NULL, NULL, &e);
	} else {
		add_check(checks, ok, "app_registration", false, e.msg, &e);
		if (oauth_is_provider_problem(&e))
			store_set_provider_problem(env->store, PROVIDER_MICROSOFT, e.code,
						   e.msg, &(struct err){ 0 });
	}
	auth_client_clear(&c);
}

static void check_secret_expiry(const struct store_provider *p, json_t *checks, bool *ok)
{
	char msg[256], when[TIME_RFC3339_LEN];
	int64_t left;

	if (!p->client_secret_sealed || !p->secret_expires_at)
		return;
	time_format_rfc3339(p->secret_expires_at, when);
	left = p->secret_expires_at - time_now();
	if (left <= 0)
		snprintf(msg, sizeof(msg), "the client secret expired on %s", when);
	else if (left < (int64_t)SERVICE_SECRET_WARN_DAYS * 86400)
		snprintf(msg, sizeof(msg), "the client secret expires on %s, in %lld "
			 "days: create a new one in Microsoft Entra and enter it",
			 when, (long long)(left / 86400));
	else
		snprintf(msg, sizeof(msg), "the client secret is valid until %s", when);
	{
		struct err why;

		err_set(&why, ERR_PERMANENT, "secret_expiry", "%s", msg);
		err_set_fix(&why, FIX_CONFIGURE_PROVIDER, "enter a new client secret "
			    "before the current one expires");
		add_check(checks, ok, "client_secret_expiry",
			  left >= (int64_t)SERVICE_SECRET_WARN_DAYS * 86400, msg, &why);
	}
}

int service_provider_check(const struct auth_env *env, const struct service_actor *who,
			   const char *redirect_uri, json_t **out, struct err *e)
{
	struct store_provider p;
	json_t *checks;
	char msg[900];
	bool ok = true;
	int rc;

	*out = NULL;
	if (require_admin(who, e) < 0)
		return -1;
	checks = json_array();
	rc = provider_get(env->store, &p, e);
	if (rc < 0) {
		json_decref(checks);
		return -1;
	}
	if (rc == 0) {
		struct err why;

		provider_require(env->store, NULL, NULL, &why);
		add_check(checks, &ok, "configured", false, why.msg, &why);
	} else {
		struct err why;

		if (provider_validate(&p, &why) < 0)
			add_check(checks, &ok, "settings", false, why.msg, &why);
		else if (provider_require(env->store, NULL, NULL, &why) < 0)
			add_check(checks, &ok, "enabled", false, why.msg, &why);
		else
			add_check(checks, &ok, "settings", true, "the settings are complete "
				  "and the provider is enabled", NULL);
		snprintf(msg, sizeof(msg), "register this redirect URI on the app in "
			 "Microsoft Entra (Authentication, Web): %.600s",
			 redirect_uri ? redirect_uri : "http://localhost");
		add_check(checks, &ok, "redirect_uri", true, msg, NULL);
		check_registration(env, &p, checks, &ok);
		check_secret_expiry(&p, checks, &ok);
		store_provider_clear(&p);
	}
	*out = json_pack("{s:b,s:o,s:s}", "ok", ok, "checks", checks, "redirect_uri",
			 redirect_uri ? redirect_uri : "http://localhost");
	return 0;
}
