/*
 * oauth_scope.c — scope strings, resources and consent (see oauth.h).
 * One table of known delegated permissions per resource; anything else is
 * AADSTS70011 (invalid scope) or AADSTS500011 (unknown resource).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"
#include "oauth.h"

static const char *const oidc_scopes[] = { "openid", "profile", "email",
					   "offline_access" };

static const char *const graph_perms[] = {
	"Mail.Read", "Mail.ReadBasic", "Mail.ReadWrite", "Mail.Send",
	"Mail.Read.Shared", "Mail.ReadWrite.Shared", "Mail.Send.Shared",
	"User.Read", "User.ReadBasic.All", "User.ReadWrite",
	"MailboxSettings.Read", "MailboxSettings.ReadWrite",
	"IMAP.AccessAsUser.All", "SMTP.Send", "POP.AccessAsUser.All",
	".default",
};

static const char *const outlook_perms[] = {
	"IMAP.AccessAsUser.All", "SMTP.Send", "POP.AccessAsUser.All",
	"EWS.AccessAsUser.All", "Mail.ReadWrite", "Mail.Send", ".default",
};

/* What ".default" means at /authorize: the app's static permissions. */
static const char *const graph_static[] = { "User.Read", "Mail.ReadWrite",
					    "Mail.Send" };
static const char *const outlook_static[] = { "IMAP.AccessAsUser.All",
					      "SMTP.Send" };

static const struct {
	const char *prefix;         /* lower-case, with trailing slash */
	enum oa_resource res;
} hosts[] = {
	{ "https://graph.microsoft.com/", RES_GRAPH },
	{ "https://outlook.office.com/", RES_OUTLOOK },
	{ "https://outlook.office365.com/", RES_OUTLOOK },
};

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *idp_scope_audience(enum oa_resource r)
{
	return r == RES_OUTLOOK ? OUTLOOK_RESOURCE : GRAPH_RESOURCE;
}

static const char *known_perm(enum oa_resource r, const char *name)
{
	const char *const *t = r == RES_OUTLOOK ? outlook_perms : graph_perms;
	size_t n = r == RES_OUTLOOK ? LEN(outlook_perms) : LEN(graph_perms);

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(t[i], name) == 0)
			return t[i];
	return NULL;
}

static char *canonical(enum oa_resource r, const char *perm)
{
	return xasprintf("%s/%s", idp_scope_audience(r), perm);
}

json_t *idp_scope_parse(const char *s, char *bad, size_t badlen)
{
	json_t *out = json_array();
	const char *p = s ? s : "";

	while (*p) {
		const char *end;
		char *tok;
		enum oa_resource r = RES_GRAPH;
		const char *name, *perm;
		bool oidc = false;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		end = strchr(p, ' ');
		tok = end ? xstrndup(p, (size_t)(end - p)) : xstrdup(p);
		p = end ? end : p + strlen(p);
		name = tok;
		for (size_t i = 0; i < LEN(oidc_scopes); i++)
			if (strcasecmp(tok, oidc_scopes[i]) == 0) {
				if (!idp_scope_has(out, oidc_scopes[i]))
					json_array_append_new(out, json_string(oidc_scopes[i]));
				oidc = true;
			}
		if (oidc) {
			free(tok);
			continue;
		}
		if (sim_istarts(tok, "https://") || sim_istarts(tok, "http://")) {
			r = RES_NONE;
			for (size_t i = 0; i < LEN(hosts); i++)
				if (sim_istarts(tok, hosts[i].prefix)) {
					r = hosts[i].res;
					name = tok + strlen(hosts[i].prefix);
				}
		}
		perm = r == RES_NONE ? NULL : known_perm(r, name);
		if (!perm) {
			snprintf(bad, badlen, "%s", tok);
			free(tok);
			json_decref(out);
			return NULL;
		}
		{
			char *c = canonical(r, perm);

			if (!idp_scope_has(out, c))
				json_array_append_new(out, json_string(c));
			free(c);
		}
		free(tok);
	}
	return out;
}

enum oa_resource idp_scope_resource(const char *c)
{
	for (size_t i = 0; i < LEN(hosts); i++)
		if (sim_istarts(c, hosts[i].prefix))
			return hosts[i].res;
	return RES_NONE;
}

int idp_scope_single_resource(const json_t *scopes, enum oa_resource *out)
{
	size_t i;
	json_t *v;

	*out = RES_NONE;
	json_array_foreach(scopes, i, v) {
		enum oa_resource r = idp_scope_resource(json_string_value(v));

		if (r == RES_NONE)
			continue;
		if (*out != RES_NONE && *out != r)
			return -1;
		*out = r;
	}
	return 0;
}

bool idp_scope_has(const json_t *scopes, const char *c)
{
	size_t i;
	json_t *v;

	json_array_foreach(scopes, i, v)
		if (strcasecmp(json_string_value(v), c) == 0)
			return true;
	return false;
}

static void append_unique(json_t *arr, const char *s)
{
	if (!idp_scope_has(arr, s))
		json_array_append_new(arr, json_string(s));
}

json_t *idp_scope_expand_default(const json_t *scopes, const json_t *pool)
{
	json_t *out = json_array();
	size_t i;
	json_t *v;

	json_array_foreach(scopes, i, v) {
		const char *s = json_string_value(v);
		enum oa_resource r = idp_scope_resource(s);
		const char *slash = strrchr(s, '/');

		if (r == RES_NONE || !slash || strcmp(slash + 1, ".default") != 0) {
			append_unique(out, s);
			continue;
		}
		if (pool) {
			size_t k;
			json_t *p;

			json_array_foreach(pool, k, p)
				if (idp_scope_resource(json_string_value(p)) == r)
					append_unique(out, json_string_value(p));
		} else {
			const char *const *t = r == RES_OUTLOOK ? outlook_static : graph_static;
			size_t n = r == RES_OUTLOOK ? LEN(outlook_static) : LEN(graph_static);

			for (size_t k = 0; k < n; k++) {
				char *c = canonical(r, t[k]);

				append_unique(out, c);
				free(c);
			}
		}
	}
	return out;
}

json_t *idp_scope_filter(const json_t *all, enum oa_resource r)
{
	json_t *out = json_array();
	size_t i;
	json_t *v;

	json_array_foreach(all, i, v)
		if (idp_scope_resource(json_string_value(v)) == r)
			append_unique(out, json_string_value(v));
	return out;
}

bool idp_scope_full_form(const char *scope)
{
	return scope && strcasestr(scope, GRAPH_RESOURCE "/") != NULL;
}

char *idp_scope_response_string(const json_t *granted, enum oa_resource r,
			    const json_t *oidc, bool full_uris)
{
	struct buf b;
	size_t i;
	json_t *v;

	buf_init(&b, 0);
	json_array_foreach(granted, i, v) {
		const char *s = json_string_value(v);

		if (idp_scope_resource(s) != r)
			continue;
		if (b.len)
			buf_puts(&b, " ", NULL);
		if (r == RES_GRAPH && !full_uris)
			buf_puts(&b, strrchr(s, '/') + 1, NULL);
		else
			buf_puts(&b, s, NULL);
	}
	json_array_foreach(oidc, i, v) {
		const char *s = json_string_value(v);

		if (strcmp(s, "offline_access") == 0)
			continue;
		if (b.len)
			buf_puts(&b, " ", NULL);
		buf_puts(&b, s, NULL);
	}
	return buf_detach(&b, NULL);
}

void idp_scope_consent_add(struct sim_user *u, const char *client_id,
		       const json_t *add)
{
	json_t *cur = json_object_get(u->consents, client_id);
	size_t i;
	json_t *v;

	if (!cur) {
		cur = json_array();
		json_object_set_new(u->consents, client_id, cur);
	}
	json_array_foreach(add, i, v)
		if (idp_scope_resource(json_string_value(v)) != RES_NONE)
			append_unique(cur, json_string_value(v));
}

json_t *idp_scope_consented(struct sim_user *u, const char *client_id)
{
	return json_object_get(u->consents, client_id);
}
