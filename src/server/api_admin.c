/*
 * api_admin.c — the administrator's provider routes: the Microsoft app
 * registration as `provider show --json` writes it (never the secret),
 * changing it, and the provider check with this server's redirect URI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "server/server_internal.h"

int api_provider_get(struct request *rq);
int api_provider_put(struct request *rq);
int api_provider_check(struct request *rq);

int api_provider_get(struct request *rq)
{
	json_t *doc;

	if (service_provider_get(rq->env, &rq->actor, &doc, &rq->err) < 0)
		return -1;
	json_object_set_new(doc, "redirect_uri", json_string(rq->srv->redirect_uri));
	return rq_reply(rq, 200, doc);
}

/* transports[] as "graph,imap". */
static int transports_text(struct request *rq, char *out, size_t n, bool *given)
{
	json_t *arr, *v;
	size_t i, at = 0;

	*given = false;
	out[0] = '\0';
	if (rq_body_array(rq, "transports", false, &arr) < 0)
		return -1;
	if (!arr)
		return 0;
	*given = true;
	json_array_foreach(arr, i, v) {
		const char *t = json_string_value(v);

		if (!t || strlen(t) > 16 || at + strlen(t) + 2 > n)
			return rq_bad(rq, "'transports' must be a list of \"graph\" and \"imap\"");
		at += (size_t)snprintf(out + at, n - at, "%s%s", at ? "," : "", t);
	}
	if (!at)
		return rq_bad(rq, "'transports' must name at least one transport");
	return 0;
}

int api_provider_put(struct request *rq)
{
	struct service_provider_change c = { .enabled = -1, .secret_expires_at = -1 };
	const char *expires = NULL;
	char transports[64];
	bool have_transports;
	int enabled;

	if (rq_body_string(rq, "client_id", false, &c.client_id) < 0 ||
	    rq_body_string(rq, "client_secret", false, &c.client_secret) < 0 ||
	    rq_body_string(rq, "tenant", false, &c.tenant) < 0 ||
	    rq_body_string(rq, "login_url", false, &c.login_url) < 0 ||
	    rq_body_string(rq, "graph_url", false, &c.graph_url) < 0 ||
	    rq_body_string(rq, "imap", false, &c.imap) < 0 ||
	    rq_body_string(rq, "smtp", false, &c.smtp) < 0 ||
	    rq_body_string(rq, "client_secret_expires_at", false, &expires) < 0 ||
	    rq_body_bool(rq, "enabled", &enabled) < 0 ||
	    transports_text(rq, transports, sizeof(transports), &have_transports) < 0)
		return -1;
	c.enabled = enabled;
	if (have_transports)
		c.transports = transports;
	if (expires) {
		int64_t t;

		if (!*expires)
			c.secret_expires_at = 0;
		else if (time_parse_rfc3339(expires, &t) == 0)
			c.secret_expires_at = t;
		else
			return rq_bad(rq, "'client_secret_expires_at' must be an RFC 3339 time");
	}
	if (service_provider_set(rq->env, &rq->actor, &c, &rq->err) < 0)
		return -1;
	server_poke_sync(rq->srv);
	return api_provider_get(rq);
}

int api_provider_check(struct request *rq)
{
	json_t *doc;

	if (service_provider_check(rq->env, &rq->actor, rq->srv->redirect_uri, &doc,
				   &rq->err) < 0)
		return -1;
	return rq_reply(rq, 200, doc);
}
