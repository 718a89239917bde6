/*
 * oauth.h — the Microsoft identity platform (v2.0) protocol pieces: PKCE,
 * authorization URLs, the token endpoint (authorization code, refresh,
 * device code), id_token claims, and the classification of token errors
 * (AADSTS codes → what to do). Stateless: storage of tokens and the
 * account state machine live in auth.h.
 */
#ifndef INBOXSYNC_OAUTH_H
#define INBOXSYNC_OAUTH_H

#include <stdbool.h>
#include <stdint.h>
#include "inboxsync/err.h"
#include "inboxsync/http.h"
#include "inboxsync/store.h"

#define OAUTH_VERIFIER_LEN 64   /* RFC 7636: 43..128 chars */
#define OAUTH_STATE_LEN 43

/* Resources a token is minted for (one per token request). */
#define OAUTH_RESOURCE_GRAPH "graph"
#define OAUTH_RESOURCE_OUTLOOK "outlook"

/* Where to talk to: the provider's login URL, tenant and client. */
struct oauth_client {
	const char *login_url;     /* "https://login.microsoftonline.com" */
	const char *tenant;        /* "common" */
	const char *client_id;
	const char *client_secret; /* plaintext in memory, or NULL (public) */
	const char *account_name;  /* for advice in error messages, or NULL */
};

struct oauth_tokens {
	char *access_token;
	char *refresh_token;       /* NULL when none was returned */
	char *id_token;
	char *scope;
	int64_t expires_at;        /* absolute, from expires_in */
};

void oauth_tokens_clear(struct oauth_tokens *t);

/* Claims of an id_token this client needs. */
struct oauth_identity {
	char preferred_username[320];
	char email[320];
	char name[256];
	char oid[64];
	char tid[64];
};

/* Make a PKCE verifier (random, URL-safe) and its S256 challenge. */
void oauth_pkce_new(char verifier[OAUTH_VERIFIER_LEN + 1],
		    char challenge[OAUTH_VERIFIER_LEN + 1]);

/* The S256 challenge of a verifier (base64url(sha256), no padding). */
void oauth_pkce_challenge(const char *verifier,
			  char challenge[OAUTH_VERIFIER_LEN + 1]);

/* A random state value (URL-safe). */
void oauth_new_state(char state[OAUTH_STATE_LEN + 1]);

/* Scopes to request at /authorize for a transport ("graph" | "imap"):
 * consent for everything the transport needs, plus openid profile email
 * offline_access. */
const char *oauth_authorize_scopes(const char *transport);

/* Scopes for a token of `resource` (one resource per token request). */
const char *oauth_resource_scopes(const char *resource);

/* Resource whose token a transport needs for mail ("graph" or "outlook"). */
const char *oauth_transport_resource(const char *transport);

/* Build the authorization URL (heap string). prompt=select_account always;
 * login_hint when given. */
char *oauth_authorize_url(const struct oauth_client *c, const char *redirect_uri,
			  const char *scopes, const char *state,
			  const char *code_challenge, const char *login_hint);

/* Redeem an authorization code. Errors classified as oauth_classify. */
int oauth_redeem_code(struct http_client *http, const struct oauth_client *c,
		      const char *code, const char *verifier,
		      const char *redirect_uri, const char *scopes,
		      struct oauth_tokens *out, struct err *e);

/* Use a refresh token for a token of `scopes`. */
int oauth_refresh(struct http_client *http, const struct oauth_client *c,
		  const char *refresh_token, const char *scopes,
		  struct oauth_tokens *out, struct err *e);

/* A token for the app itself (client credentials, `scope` such as
 * "https://graph.microsoft.com/.default"): proves that the client id,
 * secret and tenant are right, for the provider check. Errors as
 * oauth_classify. */
int oauth_client_credentials(struct http_client *http, const struct oauth_client *c,
			     const char *scope, struct oauth_tokens *out,
			     struct err *e);

/* Device code flow. */
struct oauth_device {
	char *device_code;
	char *user_code;
	char *verification_uri;
	char *message;
	int interval_s;
	int64_t expires_at;
};
void oauth_device_clear(struct oauth_device *d);

int oauth_device_start(struct http_client *http, const struct oauth_client *c,
		       const char *scopes, struct oauth_device *out,
		       struct err *e);

/* Poll once. Returns 0 with tokens, 1 while the user has not finished
 * (authorization_pending; slow_down adds 5 s to d->interval_s), -1 on
 * error (declined, expired, ...). */
int oauth_device_poll(struct http_client *http, const struct oauth_client *c,
		      struct oauth_device *d, struct oauth_tokens *out,
		      struct err *e);

/* Decode the claims of an id_token (the token came straight from the token
 * endpoint over TLS, so its signature is not checked here). */
int oauth_parse_id_token(const char *id_token, struct oauth_identity *out,
			 struct err *e);

/* Classify a token-endpoint failure from its HTTP status and JSON body
 * (error, error_codes, error_description) into `e`: ERR_AUTH with code
 * "invalid_grant" / "interaction_required" / "access_denied" for
 * definitive failures of the mailbox's grant (the owner must sign in
 * again: these count toward auth_invalid, fix FIX_REAUTHORIZE naming
 * `account`); ERR_PERMANENT "oauth_not_configured" for failures of the app
 * registration (wrong or expired secret, app not in the tenant, redirect
 * URI, missing admin consent: the administrator's, with the fix naming
 * what to correct; they never count); ERR_TRANSIENT / ERR_THROTTLED for
 * temporary ones; ERR_PERMANENT for the rest. The message names the
 * AADSTS code and what it means. Returns -1. */
int oauth_classify(long status, const char *body, size_t len,
		   const char *account, int retry_after_s, struct err *e);

/* Whether an error from oauth_* is a definitive failure of the mailbox's
 * grant that counts toward auth_invalid. */
bool oauth_is_definitive(const struct err *e);

/* Whether an error is the app registration's (oauth_classify's
 * "oauth_not_configured"): the provider's problem, not the mailbox's. */
bool oauth_is_provider_problem(const struct err *e);

#endif
