/*
 * auth.h — authorizing a mailbox account and keeping its tokens fresh.
 * Owns: the authorization-code flow around oauth.h (state bound to the
 * account, single use, expiring; PKCE verifier sealed at rest), the
 * wrong-account guard on the id_token, storing a grant (sealed tokens,
 * server settings, state "authorized"), and the token source drivers use:
 * cached access tokens, refresh ahead of expiry, rotation stored before
 * use, one refresh at a time per account (in-process lock + store lease),
 * and the auth_invalid rule (N consecutive definitive failures).
 * Talks to Microsoft's identity platform only; Graph checks (/me, Test &
 * Confirm) are done above, in sync/account.h.
 */
#ifndef INBOXSYNC_AUTH_H
#define INBOXSYNC_AUTH_H

#include <stdbool.h>
#include "inboxsync/http.h"
#include "inboxsync/oauth.h"
#include "inboxsync/store.h"
#include "inboxsync/vault.h"

#define AUTH_INVALID_THRESHOLD_DEFAULT 3
#define AUTH_REFRESH_SKEW_S 300      /* refresh this long before expiry */
#define AUTH_STATE_LIFETIME_S 600

/* What auth functions work with (all borrowed). */
struct auth_env {
	struct store *store;
	struct vault *vault;
	struct http_client *http;
	int auth_invalid_threshold;  /* 0 = AUTH_INVALID_THRESHOLD_DEFAULT */
};

/* The provider's client, with the secret unsealed in memory. */
struct auth_client {
	struct oauth_client client;
	struct store_provider provider;
	char *secret;                /* plaintext, wiped on clear */
};

/* Load the provider for `transport` ("OAuth not configured" when missing
 * or disabled) and unseal its secret. */
int auth_client_load(const struct auth_env *env, const char *transport,
		     struct auth_client *out, struct err *e);
void auth_client_clear(struct auth_client *c);

/* Start authorizing account `a`: a fresh state (stored, bound to the
 * account, expiring) and PKCE verifier; *url gets the authorization URL
 * (heap) with prompt=select_account and login_hint = the account address. */
int auth_begin(const struct auth_env *env, const struct store_account *a,
	       const char *redirect_uri, char **url, struct err *e);

/* The same, remembering `return_to` (may be NULL) with the state for the
 * front end that finishes it. */
int auth_begin_for(const struct auth_env *env, const struct store_account *a,
		   const char *redirect_uri, const char *return_to, char **url,
		   struct err *e);

/* The signed-in identity and tokens after a successful exchange. */
struct auth_grant {
	struct oauth_tokens tokens;
	struct oauth_identity identity;
};
void auth_grant_clear(struct auth_grant *g);

/* Finish with what the redirect carried. `error`/`error_description` (may
 * be NULL) report a refusal (access_denied → "consent was cancelled").
 * The state must exist, be unexpired, unused and bound to `a` (else
 * "state_mismatch"). Redeems the code and reads the id_token. Stores
 * nothing. */
int auth_finish_code(const struct auth_env *env, const struct store_account *a,
		     const char *state, const char *code, const char *error,
		     const char *error_description, struct auth_grant *out,
		     struct err *e);

/* auth_finish_code with a state already taken from the store (the caller
 * found the account by it). Errors "state_mismatch" when the state is not
 * bound to `a`. */
int auth_finish_taken(const struct auth_env *env, const struct store_account *a,
		      const struct store_oauth_state *st, const char *code,
		      const char *error, const char *error_description,
		      struct auth_grant *out, struct err *e);

/* Device code flow for machines without a browser: `show` is called once
 * with the message for the user; polls until done or expired. */
int auth_device_flow(const struct auth_env *env, const struct store_account *a,
		     void (*show)(void *ctx, const char *message,
				  const char *uri, const char *code),
		     void *ctx, struct auth_grant *out, struct err *e);

/* Wrong-account guard: the id_token's preferred_username or email must
 * equal the account's address (case-insensitive); `also` (may be NULL or
 * "") is another address the signed-in user has (Graph /me mail or UPN).
 * Errors "wrong_account" naming both addresses and how to fix it. */
int auth_check_identity(const struct store_account *a,
			const struct oauth_identity *id, const char *also,
			struct err *e);

/* Store a checked grant: refuses an identity already connected to another
 * account ("already_connected"); saves the refresh token sealed and the
 * access token in the cache, fills the server settings (identity, display
 * name, tenant, object id, endpoints), clears failures and sets state
 * "authorized". One transaction. */
int auth_store_grant(const struct auth_env *env, struct store_account *a,
		     const struct auth_grant *g, const char *display_name,
		     const char *address, struct err *e);

/* Token source for drivers (driver.h's driver_auth.get_token). */
struct auth_token_source {
	struct auth_env env;
	int64_t account_id;
};

/* Returns a valid access token for `resource` ("graph" | "outlook").
 * Uses the cache unless it holds `rejected` (a token the server refused;
 * NULL normally) — then a token another worker or process refreshed
 * meanwhile is returned, or a new one is minted. Refreshing: single-flight per
 * account; the rotated refresh token is stored before the new access
 * token is used; a definitive failure counts toward auth_invalid (the
 * account becomes auth_invalid at the threshold); temporary failures
 * never count. Errors: ERR_AUTH "auth_invalid" without contacting
 * Microsoft when the account is already auth_invalid; "auth_required"
 * when it was never authorized or was stopped. */
int auth_get_token(void *source, const char *resource, const char *rejected,
		   char **token, struct err *e);

#endif
