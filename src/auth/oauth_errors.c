/*
 * oauth_errors.c — what a token-endpoint failure means and what to do
 * about it: a table from AADSTS code (then OAuth `error`) to an error class,
 * a machine code and the fix. Failures of the app registration (secret,
 * app, tenant, redirect URI, admin consent) are the provider's: they never
 * count toward a mailbox's auth_invalid and read as "OAuth not configured"
 * with what the administrator must fix. Definitive failures of a mailbox's
 * grant count toward auth_invalid; temporary ones never do. The server's
 * own words are quoted (quote.h); its error_description only where no rule
 * explains the failure.
 */
#include <stdio.h>
#include <string.h>
#include "inboxsync/json.h"
#include "inboxsync/oauth.h"
#include "inboxsync/quote.h"

#define ERROR_SHOWN 64        /* bytes of the server's `error` quoted */
#define DESCRIPTION_SHOWN 160 /* bytes of its error_description quoted */

enum advice {
	ADVICE_REAUTHORIZE,   /* the owner signs in again */
	ADVICE_ADMIN_SECRET,  /* the administrator fixes the client secret */
	ADVICE_ADMIN_APP,     /* the administrator fixes the app registration */
	ADVICE_ADMIN_REDIRECT, /* the administrator registers the redirect URI */
	ADVICE_ADMIN_TENANT,  /* the administrator fixes the tenant setting */
	ADVICE_ADMIN_CONSENT, /* a tenant administrator grants consent */
	ADVICE_RETRY,         /* try again later */
	ADVICE_BUG,           /* a request inboxsync built was wrong */
};

/* What each advice makes of the error: the fix, its argument, and whether
 * the failure is the provider's (the app registration's) rather than the
 * mailbox's. */
static const struct {
	enum err_fix fix;
	const char *arg;           /* NULL = the account name */
	bool provider;
} advice_fix[] = {
	[ADVICE_REAUTHORIZE] = { FIX_REAUTHORIZE, NULL, false },
	[ADVICE_ADMIN_SECRET] = { FIX_CONFIGURE_PROVIDER, "enter the app's current client secret (Microsoft Entra: App registrations, Certificates & secrets)", true },
	[ADVICE_ADMIN_APP] = { FIX_CONFIGURE_PROVIDER, "check the app registration in Microsoft Entra (application id, enabled, tenant)", true },
	[ADVICE_ADMIN_REDIRECT] = { FIX_CONFIGURE_PROVIDER, "register inboxsync's redirect URI on the app registration in Microsoft Entra", true },
	[ADVICE_ADMIN_TENANT] = { FIX_CONFIGURE_PROVIDER, "set the tenant to the directory the app is registered in", true },
	[ADVICE_ADMIN_CONSENT] = { FIX_ADMIN_CONSENT, "", true },
	[ADVICE_RETRY] = { FIX_RETRY, "", false },
	[ADVICE_BUG] = { FIX_NONE, "", false },
};

struct aadsts_rule {
	long code;
	enum err_class class;
	const char *machine;
	const char *meaning;
	enum advice advice;
};

/* By AADSTS number (PROTOCOL.md §1.6). First match wins. */
static const struct aadsts_rule aadsts_rules[] = {
	{ 50173, ERR_AUTH, "invalid_grant", "the grant was revoked (sessions revoked or password reset)", ADVICE_REAUTHORIZE },
	{ 70008, ERR_AUTH, "invalid_grant", "the refresh token expired or was revoked", ADVICE_REAUTHORIZE },
	{ 700082, ERR_AUTH, "invalid_grant", "the refresh token expired after inactivity", ADVICE_REAUTHORIZE },
	{ 700084, ERR_AUTH, "invalid_grant", "the refresh token reached its maximum lifetime", ADVICE_REAUTHORIZE },
	{ 70043, ERR_AUTH, "invalid_grant", "a Conditional Access sign-in frequency policy requires signing in again", ADVICE_REAUTHORIZE },
	{ 50132, ERR_AUTH, "invalid_grant", "the session ended because the password changed", ADVICE_REAUTHORIZE },
	{ 50133, ERR_AUTH, "invalid_grant", "the session ended because the password expired", ADVICE_REAUTHORIZE },
	{ 50055, ERR_AUTH, "invalid_grant", "the password expired", ADVICE_REAUTHORIZE },
	{ 50144, ERR_AUTH, "invalid_grant", "the password expired", ADVICE_REAUTHORIZE },
	{ 50076, ERR_AUTH, "interaction_required", "multi-factor authentication is required", ADVICE_REAUTHORIZE },
	{ 50079, ERR_AUTH, "interaction_required", "multi-factor authentication enrollment is required", ADVICE_REAUTHORIZE },
	{ 50057, ERR_AUTH, "invalid_grant", "the user account is disabled", ADVICE_REAUTHORIZE },
	{ 50053, ERR_AUTH, "invalid_grant", "the account is locked", ADVICE_REAUTHORIZE },
	{ 65001, ERR_AUTH, "invalid_grant", "consent for the app was withdrawn or never given", ADVICE_REAUTHORIZE },
	{ 65004, ERR_AUTH, "access_denied", "the user declined consent", ADVICE_REAUTHORIZE },
	{ 54005, ERR_AUTH, "invalid_grant", "the authorization code was already redeemed", ADVICE_REAUTHORIZE },
	{ 70000, ERR_AUTH, "invalid_grant", "the grant is invalid", ADVICE_REAUTHORIZE },
	{ 9002313, ERR_AUTH, "invalid_grant", "the stored refresh token is malformed", ADVICE_REAUTHORIZE },
	{ 501481, ERR_AUTH, "invalid_grant", "the PKCE code verifier does not match", ADVICE_REAUTHORIZE },
	{ 7000215, ERR_PERMANENT, "invalid_client", "the client secret is wrong", ADVICE_ADMIN_SECRET },
	{ 70002, ERR_PERMANENT, "invalid_client", "the client credentials are wrong", ADVICE_ADMIN_SECRET },
	{ 7000222, ERR_PERMANENT, "invalid_client", "the client secret has expired", ADVICE_ADMIN_SECRET },
	{ 700025, ERR_PERMANENT, "invalid_client", "the app is a public client but a client secret was sent", ADVICE_ADMIN_SECRET },
	{ 7000218, ERR_PERMANENT, "invalid_client", "the app is not allowed to use public client flows without a secret", ADVICE_ADMIN_SECRET },
	{ 7000112, ERR_PERMANENT, "unauthorized_client", "the application is disabled", ADVICE_ADMIN_APP },
	{ 700016, ERR_PERMANENT, "unauthorized_client", "the application id was not found in the tenant", ADVICE_ADMIN_APP },
	{ 50011, ERR_PERMANENT, "invalid_request", "the redirect URI is not registered for the app", ADVICE_ADMIN_REDIRECT },
	{ 50194, ERR_PERMANENT, "invalid_request", "a single-tenant app cannot use /common", ADVICE_ADMIN_TENANT },
	{ 90002, ERR_PERMANENT, "invalid_request", "the tenant was not found", ADVICE_ADMIN_TENANT },
	{ 70011, ERR_PERMANENT, "invalid_scope", "a requested scope is invalid", ADVICE_BUG },
	{ 700022, ERR_PERMANENT, "invalid_scope", "scopes of more than one resource were requested", ADVICE_BUG },
	{ 90094, ERR_PERMANENT, "consent_required", "an administrator must consent to the app", ADVICE_ADMIN_CONSENT },
	{ 50196, ERR_TRANSIENT, "temporarily_unavailable", "too many identical requests (loop detected)", ADVICE_RETRY },
	{ 90055, ERR_TRANSIENT, "temporarily_unavailable", "the tenant is throttled", ADVICE_RETRY },
	{ 90033, ERR_TRANSIENT, "temporarily_unavailable", "the service is temporarily unavailable", ADVICE_RETRY },
};

/* By the OAuth `error` string when no AADSTS rule matched. */
static const struct aadsts_rule error_rules[] = {
	{ 0, ERR_AUTH, "invalid_grant", "the grant is no longer valid", ADVICE_REAUTHORIZE },
	{ 0, ERR_AUTH, "interaction_required", "Microsoft requires the user to sign in interactively", ADVICE_REAUTHORIZE },
	{ 0, ERR_PERMANENT, "consent_required", "consent is required", ADVICE_ADMIN_CONSENT },
	{ 0, ERR_PERMANENT, "invalid_client", "the client credentials were rejected", ADVICE_ADMIN_SECRET },
	{ 0, ERR_PERMANENT, "unauthorized_client", "the application is not allowed to use this flow", ADVICE_ADMIN_APP },
	{ 0, ERR_AUTH, "access_denied", "access was denied", ADVICE_REAUTHORIZE },
	{ 0, ERR_TRANSIENT, "temporarily_unavailable", "the service is temporarily unavailable", ADVICE_RETRY },
	{ 0, ERR_TRANSIENT, "server_error", "the service had an internal error", ADVICE_RETRY },
	{ 0, ERR_PERMANENT, "invalid_scope", "a requested scope is invalid", ADVICE_BUG },
	{ 0, ERR_PERMANENT, "invalid_request", "the request was rejected as invalid", ADVICE_BUG },
	{ 0, ERR_PERMANENT, "unsupported_grant_type", "the grant type is not supported", ADVICE_BUG },
};

#define N_RULES(t) (sizeof(t) / sizeof((t)[0]))

int oauth_classify(long status, const char *body, size_t len,
		   const char *account, int retry_after_s, struct err *e)
{
	struct err ignored;
	json_t *doc = body && len ? json_parse_object(body, len, "error", &ignored) : NULL;
	const char *error = json_str_or_null(doc, "error");
	const char *description = json_str_or_null(doc, "error_description");
	json_t *codes = doc ? json_object_get(doc, "error_codes") : NULL;
	long aadsts = json_is_array(codes) && json_array_size(codes) > 0 &&
		      json_is_integer(json_array_get(codes, 0))
		      ? (long)json_integer_value(json_array_get(codes, 0)) : 0;
	const struct aadsts_rule *rule = NULL;
	char code_text[32] = "", error_q[ERROR_SHOWN];
	char desc_q[DESCRIPTION_SHOWN], said[DESCRIPTION_SHOWN + 8] = "";

	for (size_t i = 0; aadsts && i < N_RULES(aadsts_rules); i++)
		if (aadsts_rules[i].code == aadsts)
			rule = &aadsts_rules[i];
	for (size_t i = 0; !rule && error && i < N_RULES(error_rules); i++)
		if (strcmp(error_rules[i].machine, error) == 0)
			rule = &error_rules[i];
	if (aadsts)
		snprintf(code_text, sizeof(code_text), "AADSTS%ld: ", aadsts);
	if (status == 429 || status >= 500 || (!rule && !doc)) {
		err_set(e, status == 429 ? ERR_THROTTLED : ERR_TRANSIENT,
			"temporarily_unavailable",
			"the Microsoft sign-in service answered HTTP %ld%s; this is "
			"temporary", status,
			doc ? "" : " without a readable error");
		e->retry_after_s = retry_after_s > 0 ? retry_after_s : 0;
	} else if (!rule) {
		quote_str(error_q, sizeof(error_q), error ? error : "unknown error");
		if (description && *description)
			snprintf(said, sizeof(said), ": \"%s\"",
				 quote_str(desc_q, sizeof(desc_q), description));
		err_set(e, ERR_PERMANENT, error ? error_q : "oauth_error",
			"Microsoft rejected the token request (%s%s, HTTP %ld%s)",
			code_text, error_q, status, said);
	} else if (advice_fix[rule->advice].provider) {
		/* The app registration is wrong: the administrator's to fix,
		 * and every mailbox recovers once it is. */
		err_set(e, ERR_PERMANENT, "oauth_not_configured",
			"OAuth not configured correctly: Microsoft rejected the "
			"app's token request (%s%s: %s)", code_text,
			quote_str(error_q, sizeof(error_q), error ? error : rule->machine),
			rule->meaning);
		err_set_fix(e, advice_fix[rule->advice].fix, advice_fix[rule->advice].arg);
	} else {
		err_set(e, rule->class, rule->machine,
			"Microsoft rejected the token request (%s%s: %s)%s",
			code_text, quote_str(error_q, sizeof(error_q),
					     error ? error : rule->machine),
			rule->meaning,
			rule->advice == ADVICE_BUG ? "; the request inboxsync built "
			"was not accepted: please report this" : "");
		err_set_fix(e, advice_fix[rule->advice].fix,
			    advice_fix[rule->advice].arg ? advice_fix[rule->advice].arg
							 : account ? account : "");
	}
	if (e->fix == FIX_NONE && e->class == ERR_TRANSIENT)
		err_set_fix(e, FIX_RETRY, NULL);
	e->http_status = (int)status;
	json_decref(doc);
	return -1;
}

bool oauth_is_provider_problem(const struct err *e)
{
	return e->class == ERR_PERMANENT && strcmp(e->code, "oauth_not_configured") == 0;
}

bool oauth_is_definitive(const struct err *e)
{
	static const char *const definitive[] = {
		"invalid_grant", "interaction_required", "access_denied",
	};

	if (e->class != ERR_AUTH)
		return false;
	for (size_t i = 0; i < N_RULES(definitive); i++)
		if (strcmp(e->code, definitive[i]) == 0)
			return true;
	return false;
}
