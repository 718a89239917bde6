/*
 * oauth_discovery.c — what MSAL reads before it signs anyone in, written
 * as Entra writes it but pointing at the simulator's public base URL:
 * GET /{tenant}/v2.0/.well-known/openid-configuration (endpoints, jwks_uri,
 * issuer — the "{tenantid}" template for common/organizations/consumers),
 * GET /{tenant}/discovery/v2.0/keys (the RS256 key of the id_tokens) and
 * GET /common/discovery/instance (instance discovery, answering for the
 * simulator's own host only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "oauth_internal.h"
#include "tls.h"

/* "HOST[:PORT]" of a base URL "scheme://HOST[:PORT][/path]" into out. */
static void host_of(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	size_t len;

	p = p ? p + 3 : url;
	len = strcspn(p, "/?#");
	snprintf(out, n, "%.*s", (int)len, p);
}

static void discovery(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	static const struct { const char *name, *path; } endpoints[] = {
		{ "authorization_endpoint", "oauth2/v2.0/authorize" },
		{ "token_endpoint", "oauth2/v2.0/token" },
		{ "device_authorization_endpoint", "oauth2/v2.0/devicecode" },
		{ "end_session_endpoint", "oauth2/v2.0/logout" },
		{ "jwks_uri", "discovery/v2.0/keys" },
	};
	char base[SIM_URL_MAX], iss[SIM_URL_MAX + 64];
	struct sim_tenant *t;
	const char *seg = rq->segs[0];
	json_t *doc;

	if (idp_tenant(w, seg, &t) < 0) {
		rs_oauth_error(rq, rs, 400, "invalid_tenant", 90002,
				 "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
				 seg);
		return;
	}
	rq_base_url(rq, base, sizeof(base));
	/* a named tenant (id or domain) is written as its id, as Entra does */
	if (t)
		seg = t->id;
	snprintf(iss, sizeof(iss), "%s/%s/v2.0", base, t ? t->id : "{tenantid}");
	doc = json_pack("{s:[s,s,s], s:[s,s,s], s:[s], s:[s], s:[s,s,s,s], s:[s,s,s,s], s:s,"
			" s:b, s:b, s:b, s:[s,s], s:s, s:s, s:s}",
			"token_endpoint_auth_methods_supported", "client_secret_post",
			"private_key_jwt", "client_secret_basic",
			"response_modes_supported", "query", "fragment", "form_post",
			"subject_types_supported", "pairwise",
			"id_token_signing_alg_values_supported", "RS256",
			"response_types_supported", "code", "id_token", "code id_token", "id_token token",
			"scopes_supported", "openid", "profile", "email", "offline_access",
			"issuer", iss,
			"request_uri_parameter_supported", 0,
			"http_logout_supported", 1, "frontchannel_logout_supported", 1,
			"code_challenge_methods_supported", "S256", "plain",
			"cloud_instance_name", "microsoftonline.com",
			"cloud_graph_host_name", "graph.windows.net",
			"msgraph_host", "graph.microsoft.com");
	json_object_set_new(doc, "claims_supported",
			    json_pack("[s,s,s,s,s,s,s,s,s,s,s,s,s,s]", "sub", "iss", "aud", "exp",
				      "iat", "nbf", "nonce", "preferred_username", "name", "tid",
				      "ver", "oid", "email", "cloud_instance_name"));
	json_object_set_new(doc, "tenant_region_scope", t ? json_string("EU") : json_null());
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		char *u = xasprintf("%s/%s/%s", base, seg, endpoints[i].path);

		json_object_set_new(doc, endpoints[i].name, json_string(u));
		free(u);
	}
	rs_json(rs, 200, doc);
	rs->content_type = "application/json; charset=utf-8";
}

static void jwks(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct simtls_signer *s = world_signer(w);

	if (!s) {
		rs_oauth_error(rq, rs, 500, "server_error", 50000,
				 "The signing keys are not available (m365sim).");
		return;
	}
	rs_json(rs, 200, json_pack("{s:[o]}", "keys", simtls_signer_jwk(s)));
	rs->content_type = "application/json; charset=utf-8";
}

/* GET /common/discovery/instance?api-version=1.1&authorization_endpoint=…:
 * the simulator's host is its own (only) cloud. */
static void instance(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	const char *ae = rq_query(rq, "authorization_endpoint");
	char base[SIM_URL_MAX], ours[SIM_URL_MAX], theirs[SIM_URL_MAX], *tde;
	const char *tenant;
	size_t tlen;

	(void)w;
	rq_base_url(rq, base, sizeof(base));
	host_of(base, ours, sizeof(ours));
	if (!ae || !*ae) {
		rs_oauth_error(rq, rs, 400, "invalid_request", 900144,
				 "The request body must contain the following parameter: 'authorization_endpoint'.");
		return;
	}
	host_of(ae, theirs, sizeof(theirs));
	if (!sim_ieq(ours, theirs)) {
		rs_oauth_error(rq, rs, 400, "invalid_instance", 50049,
				 "Unknown or invalid instance.");
		return;
	}
	/* the tenant segment of the authorization endpoint, else common */
	tenant = strstr(ae, "://");
	tenant = tenant ? strchr(tenant + 3, '/') : NULL;
	tenant = tenant ? tenant + 1 : "common";
	tlen = strcspn(tenant, "/?#");
	if (!tlen) {
		tenant = "common";
		tlen = 6;
	}
	tde = xasprintf("%s/%.*s/v2.0/.well-known/openid-configuration", base, (int)tlen, tenant);
	rs_json(rs, 200, json_pack("{s:s, s:s, s:[{s:s, s:s, s:[s]}]}",
				     "tenant_discovery_endpoint", tde, "api-version", "1.1",
				     "metadata", "preferred_network", ours, "preferred_cache", ours,
				     "aliases", ours));
	rs->content_type = "application/json; charset=utf-8";
	free(tde);
}

bool idp_discovery_route(struct sim_world *w, struct sim_req *rq,
			   struct sim_resp *rs)
{
	static const struct {
		const char *pattern;
		const char *route;
		void (*fn)(struct sim_world *, struct sim_req *, struct sim_resp *);
	} table[] = {
		{ "v2.0/.well-known/openid-configuration",
		  "/{tenant}/v2.0/.well-known/openid-configuration", discovery },
		{ "discovery/v2.0/keys", "/{tenant}/discovery/v2.0/keys", jwks },
		{ "discovery/keys", "/{tenant}/discovery/keys", jwks },
		{ "discovery/instance", "/{tenant}/discovery/instance", instance },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (rq_match(rq, 1, table[i].pattern)) {
			rq->route = table[i].route;
			if (strcmp(rq->method, "GET") != 0) {
				rs_oauth_error(rq, rs, 405, "invalid_request", 900561,
						 "The endpoint only accepts GET requests. Received a %s request.",
						 rq->method);
				return true;
			}
			table[i].fn(w, rq, rs);
			return true;
		}
	return false;
}
