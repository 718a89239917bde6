/*
 * oauth.h — the simulated Microsoft identity platform: scopes and resources,
 * the token store (authorization codes, access tokens, rotating refresh
 * tokens, device codes, browser sessions, sign-in transactions) and the
 * HTTP handlers under /{tenant}/oauth2/v2.0/. Access tokens are opaque
 * random strings (never JWTs); id_tokens are HS256 JWTs. Names use the idp_
 * and oa_ prefixes (oauth_ belongs to the product's src/auth).
 */
#ifndef SIM_OAUTH_H
#define SIM_OAUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "http.h"
#include "sim.h"

/* ---- scopes (oauth_scope.c) ---- */

enum oa_resource { RES_NONE = 0, RES_GRAPH, RES_OUTLOOK };

#define GRAPH_RESOURCE "https://graph.microsoft.com"
#define OUTLOOK_RESOURCE "https://outlook.office.com"

/* Parse a space-separated scope string into canonical scope names (array):
 * OIDC scopes as is ("openid"), others as "<resource>/<Name>" with the
 * registered casing; bare names resolve to Graph. Returns the array, or NULL
 * with the offending scope in `bad` (unknown resource or permission). */
json_t *idp_scope_parse(const char *s, char *bad, size_t badlen);
/* Resource of a canonical scope (RES_NONE for OIDC scopes). */
enum oa_resource idp_scope_resource(const char *canonical);
/* Audience URI of a resource. */
const char *idp_scope_audience(enum oa_resource r);
/* The single resource named by `scopes` (RES_NONE when only OIDC scopes);
 * -1 when two resources are mixed. */
int idp_scope_single_resource(const json_t *scopes, enum oa_resource *out);
/* True when `scopes` contains `canonical` (case-insensitive). */
bool idp_scope_has(const json_t *scopes, const char *canonical);
/* Expand "<res>/.default" entries: `pool` (the consented scopes) or the
 * app's static permissions when pool is NULL. Returns a new array. */
json_t *idp_scope_expand_default(const json_t *scopes, const json_t *pool);
/* Scopes of `all` that belong to resource r (new array). */
json_t *idp_scope_filter(const json_t *all, enum oa_resource r);
/* Space-separated form for a token response: Graph scopes by short name
 * (or, with `full_uris`, as "https://graph.microsoft.com/Name", echoing a
 * request written that way), other resources by full URI, then the OIDC
 * scopes in `oidc`. */
char *idp_scope_response_string(const json_t *granted, enum oa_resource r,
			    const json_t *oidc, bool full_uris);
/* Whether a requested scope string names Graph scopes by full URI. */
bool idp_scope_full_form(const char *scope);
/* Add each scope of `add` to the user's consent for client_id. */
void idp_scope_consent_add(struct sim_user *u, const char *client_id,
		       const json_t *add);
/* The user's consented scopes for client_id (borrowed; NULL if none). */
json_t *idp_scope_consented(struct sim_user *u, const char *client_id);

/* ---- token store (oauth_store.c) ---- */

struct oa_code {
	char *code;
	struct sim_user *user;
	char *client_id;
	char *redirect_uri;
	json_t *scopes;        /* everything granted at /authorize */
	char *challenge;       /* NULL when no PKCE */
	bool plain;            /* code_challenge_method=plain */
	char *nonce;
	int64_t expires;
	bool used;
	bool full_uris;        /* scopes were requested as full URIs */
};

struct oa_access {
	char *token;
	struct sim_user *user;
	char *client_id;
	enum oa_resource res;
	json_t *scopes;        /* canonical resource scopes */
	int64_t expires;
	uint32_t token_epoch;
	bool public_client;
};

struct oa_chain {
	uint32_t issued;       /* RTs issued so far in this chain */
	uint32_t redeemed_max; /* highest RT number redeemed */
	int refs;
	bool public_flow;      /* began without a client secret: may be
				* refreshed without one */
	bool full_uris;        /* scope form of the original request */
};

struct oa_refresh {
	char *token;
	struct sim_user *user;
	char *client_id;
	struct oa_chain *chain;
	uint32_t n;            /* position in the chain (1-based) */
	uint32_t grant_epoch;
	int64_t expires;
	enum oa_resource res;  /* resource of the original grant */
	json_t *oidc;          /* OIDC scopes of the original grant */
	char *nonce;
};

enum oa_device_state { DEV_PENDING = 0, DEV_APPROVED, DEV_DECLINED, DEV_REDEEMED };

struct oa_device {
	char *device_code;
	char *user_code;
	char *client_id;
	json_t *scopes;
	int64_t expires;
	int64_t last_poll_ms;  /* 0 = never polled */
	long interval;         /* s; grows on slow_down */
	bool full_uris;        /* scope form of the request */
	enum oa_device_state state;
	struct sim_user *user;
};

#define OA_SESSION_MAX 8
struct oa_session {
	char *id;
	struct sim_user *users[OA_SESSION_MAX]; /* [0] = most recently used */
	size_t n;
};

enum oa_txn_kind { TXN_AUTHORIZE = 1, TXN_DEVICE };

/* A sign-in in progress in the sim browser (authorize or device page). */
struct oa_txn {
	char *id;
	enum oa_txn_kind kind;
	struct sim_tenant *tenant;  /* NULL for common/organizations/consumers */
	char *tenant_seg;
	char *client_id;
	char *redirect_uri;
	char *response_mode;
	char *state;
	char *nonce;
	char *challenge;
	bool plain;
	char *prompt;
	char *login_hint;
	json_t *scopes;
	bool full_uris;             /* scope form of the request */
	char *user_code;            /* TXN_DEVICE */
	struct sim_user *user;      /* chosen account */
	int64_t expires;
};

/* Creation: each returns an object owned by the world's maps. */
struct oa_code *oa_code_new(struct sim_world *w, struct sim_user *u,
			    const struct oa_txn *t);
struct oa_access *oa_access_new(struct sim_world *w, struct sim_user *u,
				const char *client_id, enum oa_resource res,
				json_t *scopes /* stolen */, bool public_client);
/* New RT in `chain` (NULL starts a chain). */
struct oa_refresh *oa_refresh_new(struct sim_world *w, struct sim_user *u,
				  const char *client_id, struct oa_chain *chain,
				  enum oa_resource res, const json_t *oidc,
				  const char *nonce);
struct oa_device *oa_device_new(struct sim_world *w, const char *client_id,
				json_t *scopes /* stolen */);
struct oa_session *oa_session_get(struct sim_world *w, const char *id);
struct oa_session *oa_session_new(struct sim_world *w);
/* Put u first in the session's account list. */
void oa_session_use(struct oa_session *s, struct sim_user *u);
struct oa_txn *oa_txn_new(struct sim_world *w, enum oa_txn_kind kind);
struct oa_txn *oa_txn_get(struct sim_world *w, const char *id);
void oa_txn_drop(struct sim_world *w, struct oa_txn *t);
struct oa_device *oa_device_by_user_code(struct sim_world *w, const char *uc);

/* Why an access token is not usable. */
enum oa_token_state { TOK_OK = 0, TOK_UNKNOWN, TOK_EXPIRED };
/* Look up an access token and check expiry and the user's token epoch. */
enum oa_token_state oa_access_check(struct sim_world *w, const char *token,
				    struct oa_access **out);

/* Drop expired codes, tokens, devices, transactions (called now and then). */
void oa_store_prune(struct sim_world *w);
void oa_store_init(struct sim_world *w);
void oa_store_free(struct sim_world *w);

/* ---- id_token (oauth_jwt.c) ---- */
/* Build an RS256 id_token for u issued to client_id (heap), signed with
 * the world's key (JWKS at /{tenant}/discovery/v2.0/keys); `iss` is
 * `base`/{tid}/v2.0. `with_email` adds the email claim; nonce may be
 * NULL. NULL when signing fails. */
char *oa_id_token(struct sim_world *w, const char *base, struct sim_user *u,
		  const char *client_id, bool with_email, const char *nonce);
/* client_info as Entra returns it: base64url of {"uid":oid,"utid":tid}
 * (heap). */
char *oa_client_info(const struct sim_user *u);

/* ---- token responses (oauth_token.c) ---- */
/* What a successful grant issues. */
struct oa_issue {
	struct sim_user *user;
	struct sim_app *app;
	enum oa_resource res;      /* access token audience */
	const json_t *granted;     /* consented scopes (canonical) */
	const json_t *oidc;        /* OIDC scopes of the grant */
	struct oa_chain *chain;    /* RT chain to continue, NULL = new */
	const char *nonce;
	bool public_flow;          /* no client secret (a new chain records it) */
	bool full_uris;            /* echo Graph scopes as full URIs */
};
/* Issue a token response: access token for is->res with the consented
 * scopes of it, an RT (with offline_access), an id_token (with openid),
 * and client_info when the request asked (client_info=1). Writes 200 JSON
 * into rs (500 server_error when the id_token cannot be signed). */
void oa_issue_tokens(struct sim_world *w, struct sim_req *rq,
		     struct sim_resp *rs, const struct sim_kvlist *form,
		     const struct oa_issue *is);

/* ---- HTTP handlers ---- */
/* Route a request under /{tenant}/... (authorize, token, devicecode,
 * logout, .well-known). segs[0] is the tenant segment. */
void idp_route(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs);
/* The sim "browser" device-code page: GET/POST /_sim/device. */
void idp_device_page(struct sim_world *w, struct sim_req *rq,
		       struct sim_resp *rs);
/* Shared sign-in step machine for TXN_* (oauth_authorize.c). */
void idp_signin_post(struct sim_world *w, struct sim_req *rq,
		       struct sim_resp *rs, struct oa_txn *t,
		       const struct sim_kvlist *form);
/* Complete a device authorization for u (approve) or decline it. */
void idp_device_finish(struct sim_world *w, struct oa_device *d,
			 struct sim_user *u, bool approve);

/* Resolve the tenant path segment: common/organizations/consumers give
 * *t = NULL and return 0; a tenant id or verified domain sets *t; unknown
 * returns -1. */
int idp_tenant(struct sim_world *w, const char *seg, struct sim_tenant **t);

#endif
