/*
 * test_sim_oauth.c — m365sim's identity platform over real HTTP: the
 * authorization-code + PKCE walk, refresh-token rotation with its grace
 * rule, Microsoft's error shape, resources and audiences, expiry, the
 * interactive HTML sign-in (picker, password, consent, cancel, silent
 * reuse of the remembered account) and auto-approve.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include "sim_harness.h"
#include "simutil.h"

#define VERIFIER "test-verifier-0123456789abcdefghijklmnopqrstuvwxyz-ABC"
#define REDIRECT "http%%3A%%2F%%2F127.0.0.1%%3A4321%%2Fcallback" /* in printf formats */

static int setup(void **state)
{
	static struct sim_harness h;

	if (sim_start(&h, (const char *[]){ "--quiet", NULL }) < 0)
		return -1;
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(sim_stop(*state), 0);
	return 0;
}

static void challenge_of(const char *verifier, char out[64])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)verifier, strlen(verifier));
	sodium_bin2base64(out, 64, d, sizeof(d), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static char *location_code(const struct sim_http *r, const char *key)
{
	char *loc = sim_http_header(r, "Location"), *p, *out = NULL;
	char pat[32];

	if (!loc)
		return NULL;
	snprintf(pat, sizeof(pat), "?%s=", key);
	p = strstr(loc, pat);
	if (!p) {
		pat[0] = '&';
		p = strstr(loc, pat);
	}
	if (p) {
		p += strlen(pat);
		out = strndup(p, strcspn(p, "&#"));
	}
	free(loc);
	return out;
}

/* GET /authorize with the default app; extra is appended to the query. */
static void authorize(struct sim_harness *h, const char *scope, const char *extra,
		      const char *cookie, struct sim_http *r)
{
	char ch[64], *target, cookie_hdr[300], *esc = sim_urlencode(scope);
	const char *hdrs[2] = { NULL, NULL };

	challenge_of(VERIFIER, ch);
	assert_true(asprintf(&target, "/common/oauth2/v2.0/authorize?client_id=%s&response_type=code"
				      "&redirect_uri=" REDIRECT "&scope=%s&state=st4te&code_challenge=%s"
				      "&code_challenge_method=S256%s",
			     h->client_id, esc, ch, extra ? extra : "") > 0);
	if (cookie) {
		snprintf(cookie_hdr, sizeof(cookie_hdr), "Cookie: %s", cookie);
		hdrs[0] = cookie_hdr;
	}
	assert_int_equal(sim_request(h, "GET", target, hdrs, NULL, 0, r), 0);
	free(target);
	free(esc);
}

static void redeem(struct sim_harness *h, const char *code, const char *verifier,
		   const char *extra, struct sim_http *r)
{
	char *form;

	assert_true(asprintf(&form, "grant_type=authorization_code&client_id=%s&client_secret=%s"
				    "&code=%s&redirect_uri=" REDIRECT "&code_verifier=%s%s",
			     h->client_id, h->client_secret, code, verifier, extra ? extra : "") > 0);
	assert_int_equal(sim_post_form(h, "/common/oauth2/v2.0/token", form, r), 0);
	free(form);
}

static void refresh(struct sim_harness *h, const char *rt, const char *extra,
		    struct sim_http *r)
{
	char *form, *esc = sim_urlencode(rt);

	assert_true(asprintf(&form, "grant_type=refresh_token&client_id=%s&client_secret=%s"
				    "&refresh_token=%s%s", h->client_id, h->client_secret, esc,
			     extra ? extra : "") > 0);
	assert_int_equal(sim_post_form(h, "/common/oauth2/v2.0/token", form, r), 0);
	free(form);
	free(esc);
}

static void admin_ok(struct sim_harness *h, const char *method, const char *path,
		     const char *body)
{
	struct sim_http r;

	assert_int_equal(sim_admin(h, method, path, body, &r), 0);
	if (r.status >= 300)
		fprintf(stderr, "admin %s %s -> %ld %s\n", method, path, r.status, r.body);
	assert_true(r.status < 300);
	sim_http_free(&r);
}

/* Error in Microsoft's shape with the given error and AADSTS code. */
static void assert_aad_error(const struct sim_http *r, long status, const char *error,
			     long code)
{
	const char *desc = json_string_value(json_object_get(r->json, "error_description"));
	char prefix[32];

	assert_int_equal(r->status, status);
	assert_non_null(r->json);
	assert_string_equal(json_string_value(json_object_get(r->json, "error")), error);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(r->json, "error_codes"), 0)), code);
	snprintf(prefix, sizeof(prefix), "AADSTS%ld:", code);
	assert_non_null(desc);
	assert_memory_equal(desc, prefix, strlen(prefix));
	assert_non_null(strstr(desc, "Trace ID: "));
	assert_non_null(strstr(desc, "Correlation ID: "));
	assert_non_null(strstr(desc, "Timestamp: "));
	assert_non_null(json_string_value(json_object_get(r->json, "trace_id")));
	assert_non_null(json_string_value(json_object_get(r->json, "correlation_id")));
	assert_non_null(json_string_value(json_object_get(r->json, "timestamp")));
	assert_non_null(json_string_value(json_object_get(r->json, "error_uri")));
}

static char *code_for(struct sim_harness *h, const char *email, const char *scope)
{
	struct sim_http r;
	char body[128], *code;

	snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
	admin_ok(h, "POST", "/_sim/auto-approve", body);
	authorize(h, scope, NULL, NULL, &r);
	assert_int_equal(r.status, 302);
	code = location_code(&r, "code");
	assert_non_null(code);
	sim_http_free(&r);
	admin_ok(h, "POST", "/_sim/auto-approve", "{\"email\":null}");
	return code;
}

static const char *FULL = "openid profile email offline_access https://graph.microsoft.com/Mail.ReadWrite Mail.Send User.Read https://outlook.office.com/IMAP.AccessAsUser.All";

static void test_code_pkce_refresh_rotation(void **state)
{
	struct sim_harness *h = *state;
	struct sim_http r, r2;
	char *code = code_for(h, "adele@contoso.com", FULL);
	char *rt1, *rt2, *rt3, *rt4, *at;
	json_t *claims;
	char auth[300];

	redeem(h, code, VERIFIER, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "token_type")), "Bearer");
	assert_int_equal(json_integer_value(json_object_get(r.json, "expires_in")), 3600);
	assert_non_null(json_object_get(r.json, "ext_expires_in"));
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "scope")), "Mail.ReadWrite"));
	at = strdup(json_string_value(json_object_get(r.json, "access_token")));
	assert_null(strchr(at, '.'));     /* opaque, never a JWT */
	rt1 = strdup(json_string_value(json_object_get(r.json, "refresh_token")));
	claims = sim_jwt_claims(json_string_value(json_object_get(r.json, "id_token")));
	assert_non_null(claims);
	assert_string_equal(json_string_value(json_object_get(claims, "preferred_username")), "adele@contoso.com");
	assert_string_equal(json_string_value(json_object_get(claims, "email")), "adele@contoso.com");
	assert_string_equal(json_string_value(json_object_get(claims, "name")), "Adele Vance");
	assert_string_equal(json_string_value(json_object_get(claims, "tid")), h->tenant);
	assert_string_equal(json_string_value(json_object_get(claims, "aud")), h->client_id);
	assert_string_equal(json_string_value(json_object_get(claims, "ver")), "2.0");
	assert_non_null(json_string_value(json_object_get(claims, "oid")));
	assert_non_null(json_string_value(json_object_get(claims, "sub")));
	assert_non_null(strstr(json_string_value(json_object_get(claims, "iss")), h->tenant));
	assert_true(json_integer_value(json_object_get(claims, "exp")) >
		    json_integer_value(json_object_get(claims, "iat")));
	json_decref(claims);
	sim_http_free(&r);

	/* the token works against Graph */
	sim_get(h, at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "userPrincipalName")), "adele@contoso.com");
	sim_http_free(&r);

	/* codes are single use */
	redeem(h, code, VERIFIER, NULL, &r);
	assert_aad_error(&r, 400, "invalid_grant", 54005);
	sim_http_free(&r);

	/* rotation: every refresh returns a new RT */
	refresh(h, rt1, NULL, &r);
	assert_int_equal(r.status, 200);
	rt2 = strdup(json_string_value(json_object_get(r.json, "refresh_token")));
	assert_string_not_equal(rt1, rt2);
	sim_http_free(&r);
	/* grace: RT1 still works while RT2 has not been redeemed (crash between
	 * receiving and storing RT2) */
	refresh(h, rt1, NULL, &r);
	assert_int_equal(r.status, 200);
	rt3 = strdup(json_string_value(json_object_get(r.json, "refresh_token")));
	sim_http_free(&r);
	refresh(h, rt3, NULL, &r);
	assert_int_equal(r.status, 200);
	rt4 = strdup(json_string_value(json_object_get(r.json, "refresh_token")));
	sim_http_free(&r);
	/* once a newer RT was redeemed, older ones are dead */
	refresh(h, rt1, NULL, &r);
	assert_aad_error(&r, 400, "invalid_grant", 70008);
	sim_http_free(&r);
	refresh(h, rt2, NULL, &r);
	assert_aad_error(&r, 400, "invalid_grant", 70008);
	sim_http_free(&r);
	refresh(h, rt4, NULL, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);

	/* one resource per token: an Outlook token from the same RT */
	refresh(h, rt4, "&scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "scope")),
			       "https://outlook.office.com/IMAP.AccessAsUser.All"));
	{
		const char *oat = json_string_value(json_object_get(r.json, "access_token"));
		char *form;

		/* Graph rejects the Outlook audience */
		sim_get(h, oat, "/v1.0/me", NULL, &r2);
		assert_int_equal(r2.status, 401);
		assert_string_equal(json_string_value(json_object_get(json_object_get(r2.json, "error"), "code")),
				    "InvalidAuthenticationToken");
		sim_http_free(&r2);
		/* introspection for Dovecot sees the Outlook audience */
		assert_true(asprintf(&form, "token=%s", oat) > 0);
		sim_post_form(h, "/_sim/introspect", form, &r2);
		free(form);
		assert_true(json_is_true(json_object_get(r2.json, "active")));
		assert_string_equal(json_string_value(json_object_get(r2.json, "aud")), "https://outlook.office.com");
		assert_string_equal(json_string_value(json_object_get(r2.json, "email")), "adele@contoso.com");
		sim_http_free(&r2);
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", oat);
		sim_request(h, "GET", "/_sim/introspect", (const char *[]){ auth, NULL }, NULL, 0, &r2);
		assert_true(json_is_true(json_object_get(r2.json, "active")));
		sim_http_free(&r2);
	}
	sim_http_free(&r);
	sim_post_form(h, "/_sim/introspect", "token=nonsense", &r);
	assert_true(json_is_false(json_object_get(r.json, "active")));
	sim_http_free(&r);

	/* mixing two resources in one token request */
	refresh(h, rt4, "&scope=https%3A%2F%2Foutlook.office.com%2FSMTP.Send%20Mail.Read", &r);
	assert_aad_error(&r, 400, "invalid_scope", 700022);
	sim_http_free(&r);
	free(code);
	free(at);
	free(rt1);
	free(rt2);
	free(rt3);
	free(rt4);
}

static void test_token_errors(void **state)
{
	struct sim_harness *h = *state;
	struct sim_http r;
	char *code = code_for(h, "adele@contoso.com", "openid offline_access Mail.Read"), *form;

	redeem(h, code, "wrong-verifier-0123456789abcdefghijklmnopqrstuvwxyz", NULL, &r);
	assert_aad_error(&r, 400, "invalid_grant", 501481);
	sim_http_free(&r);
	assert_true(asprintf(&form, "grant_type=authorization_code&client_id=%s&client_secret=nope"
				    "&code=%s&redirect_uri=" REDIRECT "&code_verifier=" VERIFIER,
			     h->client_id, code) > 0);
	sim_post_form(h, "/common/oauth2/v2.0/token", form, &r);
	assert_aad_error(&r, 401, "invalid_client", 7000215);
	sim_http_free(&r);
	free(form);
	assert_true(asprintf(&form, "grant_type=authorization_code&client_id=%s&code=%s"
				    "&redirect_uri=" REDIRECT "&code_verifier=" VERIFIER,
			     h->client_id, code) > 0);
	sim_post_form(h, "/common/oauth2/v2.0/token", form, &r);
	assert_aad_error(&r, 401, "invalid_client", 7000218);
	sim_http_free(&r);
	free(form);
	redeem(h, code, VERIFIER, "&x=1", &r);   /* still valid: failures did not consume it */
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	sim_post_form(h, "/common/oauth2/v2.0/token", "grant_type=refresh_token&client_id=nobody", &r);
	assert_aad_error(&r, 400, "unauthorized_client", 700016);
	sim_http_free(&r);
	assert_true(asprintf(&form, "client_id=%s&client_secret=%s", h->client_id, h->client_secret) > 0);
	sim_post_form(h, "/common/oauth2/v2.0/token", form, &r);
	assert_aad_error(&r, 400, "invalid_request", 900144);
	sim_http_free(&r);
	free(form);
	assert_true(asprintf(&form, "grant_type=password&client_id=%s&client_secret=%s", h->client_id,
			     h->client_secret) > 0);
	sim_post_form(h, "/common/oauth2/v2.0/token", form, &r);
	assert_aad_error(&r, 400, "unsupported_grant_type", 70003);
	sim_http_free(&r);
	free(form);
	sim_post_form(h, "/nosuchtenant.example/oauth2/v2.0/token", "grant_type=refresh_token", &r);
	assert_aad_error(&r, 400, "invalid_request", 90002);
	sim_http_free(&r);
	refresh(h, "garbage-token", NULL, &r);
	assert_aad_error(&r, 400, "invalid_grant", 9002313);
	sim_http_free(&r);

	/* a public app must not send a secret */
	admin_ok(h, "POST", "/_sim/apps", "{\"client_id\":\"pub-app\",\"public\":true}");
	sim_post_form(h, "/common/oauth2/v2.0/token",
		      "grant_type=refresh_token&client_id=pub-app&client_secret=x&refresh_token=y", &r);
	assert_aad_error(&r, 401, "invalid_client", 700025);
	sim_http_free(&r);
	free(code);
}

static void test_expiry_and_bad_tokens(void **state)
{
	struct sim_harness *h = *state;
	struct sim_http r;
	char *at = NULL, *code, *www;

	sim_get(h, "not-a-token", "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 401);
	www = sim_http_header(&r, "WWW-Authenticate");
	assert_non_null(www);
	assert_non_null(strstr(www, "Bearer"));
	free(www);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
			    "InvalidAuthenticationToken");
	assert_non_null(json_object_get(json_object_get(json_object_get(r.json, "error"), "innerError"),
					"request-id"));
	sim_http_free(&r);
	sim_get(h, NULL, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 401);
	sim_http_free(&r);

	admin_ok(h, "POST", "/_sim/config", "{\"access_token_lifetime\":1,\"code_lifetime\":1}");
	assert_int_equal(sim_login(h, "adele@contoso.com", NULL, &at, NULL), 0);
	code = code_for(h, "adele@contoso.com", "openid Mail.Read");
	sleep(2);
	sim_get(h, at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r.json, "error"), "message")),
			       "expired"));
	sim_http_free(&r);
	redeem(h, code, VERIFIER, NULL, &r);
	assert_aad_error(&r, 400, "invalid_grant", 70008);
	sim_http_free(&r);
	free(code);
	free(at);
	admin_ok(h, "POST", "/_sim/config", "{\"access_token_lifetime\":3600,\"code_lifetime\":600}");

	/* expire-tokens kills issued access tokens before their time */
	assert_int_equal(sim_login(h, "bob@contoso.com", NULL, &at, NULL), 0);
	sim_get(h, at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	admin_ok(h, "POST", "/_sim/users/bob@contoso.com/expire-tokens", NULL);
	sim_get(h, at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 401);
	sim_http_free(&r);
	free(at);

	/* a token without User.Read cannot read /me (a fresh user: tokens carry
	 * every scope the user consented to, as at Entra) */
	admin_ok(h, "POST", "/_sim/users", "{\"email\":\"carol@contoso.com\",\"name\":\"Carol\"}");
	assert_int_equal(sim_login(h, "carol@contoso.com", "openid Mail.Read", &at, NULL), 0);
	sim_get(h, at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 403);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
			    "ErrorAccessDenied");
	sim_http_free(&r);
	free(at);
}

static void test_admin_identity_events(void **state)
{
	struct sim_harness *h = *state;
	struct sim_http r;
	char *rt = NULL, *form;

	assert_int_equal(sim_login(h, "adele@contoso.com", NULL, NULL, &rt), 0);
	admin_ok(h, "POST", "/_sim/users/adele@contoso.com/revoke", NULL);
	refresh(h, rt, NULL, &r);
	assert_aad_error(&r, 400, "invalid_grant", 50173);
	sim_http_free(&r);
	free(rt);

	assert_int_equal(sim_login(h, "adele@contoso.com", NULL, NULL, &rt), 0);
	admin_ok(h, "POST", "/_sim/users/adele@contoso.com/password", "{\"password\":\"new-pass\"}");
	refresh(h, rt, NULL, &r);
	assert_aad_error(&r, 400, "invalid_grant", 50173);
	sim_http_free(&r);
	free(rt);

	assert_int_equal(sim_login(h, "adele@contoso.com", NULL, NULL, &rt), 0);
	admin_ok(h, "POST", "/_sim/users/adele@contoso.com/withdraw-consent",
		 "{\"client_id\":\"11111111-2222-3333-4444-555555555555\"}");
	refresh(h, rt, NULL, &r);
	assert_aad_error(&r, 400, "invalid_grant", 65001);
	sim_http_free(&r);
	free(rt);

	assert_int_equal(sim_login(h, "adele@contoso.com", NULL, NULL, &rt), 0);
	admin_ok(h, "POST", "/_sim/apps/11111111-2222-3333-4444-555555555555/secret",
		 "{\"secret\":\"rotated\"}");
	refresh(h, rt, NULL, &r);
	assert_aad_error(&r, 401, "invalid_client", 7000215);
	sim_http_free(&r);
	{
		char *esc = sim_urlencode(rt);

		assert_true(asprintf(&form, "grant_type=refresh_token&client_id=%s&client_secret=rotated"
					    "&refresh_token=%s", h->client_id, esc) > 0);
		free(esc);
	}
	sim_post_form(h, "/common/oauth2/v2.0/token", form, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	admin_ok(h, "POST", "/_sim/apps/11111111-2222-3333-4444-555555555555/disable", NULL);
	sim_post_form(h, "/common/oauth2/v2.0/token", form, &r);
	assert_aad_error(&r, 400, "unauthorized_client", 7000112);
	sim_http_free(&r);
	free(form);
	free(rt);

	/* counters saw token requests by grant and outcome */
	sim_admin(h, "GET", "/_sim/counters", NULL, &r);
	assert_true(json_integer_value(json_object_get(json_object_get(json_object_get(r.json, "token_requests"),
								       "by_grant"), "refresh_token")) >= 4);
	assert_true(json_integer_value(json_object_get(json_object_get(json_object_get(r.json, "token_requests"),
								       "by_outcome"), "invalid_grant")) >= 3);
	sim_http_free(&r);
}

static void test_auto_approve_ignores_login_hint(void **state)
{
	struct sim_harness *h = *state;
	struct sim_http r;
	char *code;
	json_t *claims;

	admin_ok(h, "POST", "/_sim/auto-approve", "{\"email\":\"bob@contoso.com\"}");
	authorize(h, "openid profile email Mail.Read", "&login_hint=adele%40contoso.com&prompt=select_account",
		  NULL, &r);
	assert_int_equal(r.status, 302);
	code = location_code(&r, "code");
	sim_http_free(&r);
	redeem(h, code, VERIFIER, NULL, &r);
	assert_int_equal(r.status, 200);
	claims = sim_jwt_claims(json_string_value(json_object_get(r.json, "id_token")));
	assert_string_equal(json_string_value(json_object_get(claims, "preferred_username")), "bob@contoso.com");
	json_decref(claims);
	sim_http_free(&r);
	free(code);
	/* bad redirect_uri is still refused (a page, no redirect) */
	{
		char *target;

		assert_true(asprintf(&target, "/common/oauth2/v2.0/authorize?client_id=%s&response_type=code"
					      "&redirect_uri=https%%3A%%2F%%2Fevil.example%%2F&scope=openid",
				     h->client_id) > 0);
		sim_request(h, "GET", target, NULL, NULL, 0, &r);
		assert_int_equal(r.status, 400);
		assert_non_null(strstr(r.body, "AADSTS50011"));
		sim_http_free(&r);
		free(target);
	}
	/* wrong response_type is redirected back with an error */
	{
		char *target;

		assert_true(asprintf(&target, "/common/oauth2/v2.0/authorize?client_id=%s&response_type=token"
					      "&redirect_uri=" REDIRECT "&scope=openid&state=q", h->client_id) > 0);
		sim_request(h, "GET", target, NULL, NULL, 0, &r);
		assert_int_equal(r.status, 302);
		code = location_code(&r, "error");
		assert_string_equal(code, "unsupported_response_type");
		free(code);
		sim_http_free(&r);
		free(target);
	}
	admin_ok(h, "POST", "/_sim/auto-approve", "{\"email\":null}");
}

/* POST a sign-in step with the transaction id of `page`. */
static void post_step(struct sim_harness *h, const char *page, const char *fields,
		      const char *cookie, struct sim_http *r)
{
	char *txn = sim_html_input(page, "txn"), *form, cookie_hdr[300];
	const char *hdrs[3] = { "Content-Type: application/x-www-form-urlencoded", NULL, NULL };

	assert_non_null(txn);
	assert_true(asprintf(&form, "txn=%s&%s", txn, fields) > 0);
	if (cookie) {
		snprintf(cookie_hdr, sizeof(cookie_hdr), "Cookie: %s", cookie);
		hdrs[1] = cookie_hdr;
	}
	sim_request(h, "POST", "/common/oauth2/v2.0/authorize", hdrs, form, strlen(form), r);
	free(form);
	free(txn);
}

static void test_interactive_sign_in(void **state)
{
	struct sim_harness *h = *state;
	struct sim_http r, r2;
	char *cookie, *semi, *code;

	authorize(h, "openid profile email offline_access Mail.ReadWrite", "&login_hint=adele%40contoso.com",
		  NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "id=\"i0118\""));    /* hint known: password page */
	post_step(h, r.body, "step=password&passwd=wrong", NULL, &r2);
	assert_int_equal(r2.status, 200);
	assert_non_null(strstr(r2.body, "AADSTS50126"));
	sim_http_free(&r);
	post_step(h, r2.body, "step=password&passwd=pass", NULL, &r);
	sim_http_free(&r2);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Permissions requested"));
	assert_non_null(strstr(r.body, "https://graph.microsoft.com/Mail.ReadWrite"));
	cookie = sim_http_header(&r, "Set-Cookie");
	assert_non_null(cookie);
	if ((semi = strchr(cookie, ';')))
		*semi = '\0';
	post_step(h, r.body, "step=consent&action=accept", cookie, &r2);
	sim_http_free(&r);
	assert_int_equal(r2.status, 302);
	code = location_code(&r2, "code");
	assert_non_null(code);
	free(code);
	code = location_code(&r2, "state");
	assert_string_equal(code, "st4te");
	free(code);
	sim_http_free(&r2);

	/* remembered account + consent given: silent, no page at all */
	authorize(h, "openid Mail.ReadWrite", NULL, cookie, &r);
	assert_int_equal(r.status, 302);
	sim_http_free(&r);
	/* prompt=select_account shows the picker with adele on it */
	authorize(h, "openid Mail.ReadWrite", "&prompt=select_account", cookie, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "data-test-id=\"adele@contoso.com\""));
	post_step(h, r.body, "step=pick&loginfmt=adele%40contoso.com", cookie, &r2);
	assert_int_equal(r2.status, 302);
	sim_http_free(&r2);
	sim_http_free(&r);
	/* new scope → consent page; Cancel → access_denied + AADSTS65004 */
	authorize(h, "openid Mail.Send", NULL, cookie, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "idBtn_Back"));
	post_step(h, r.body, "step=consent&action=cancel", cookie, &r2);
	assert_int_equal(r2.status, 302);
	code = location_code(&r2, "error");
	assert_string_equal(code, "access_denied");
	free(code);
	code = location_code(&r2, "error_description");
	assert_non_null(strstr(code, "AADSTS65004"));
	free(code);
	sim_http_free(&r2);
	sim_http_free(&r);
	/* typing an unknown account */
	authorize(h, "openid", NULL, NULL, &r);
	assert_non_null(strstr(r.body, "id=\"i0116\""));
	post_step(h, r.body, "step=email&loginfmt=nobody%40contoso.com", NULL, &r2);
	assert_non_null(strstr(r2.body, "AADSTS50034"));
	sim_http_free(&r2);
	sim_http_free(&r);
	free(cookie);
}

/* A device code for client_id, approved for adele; returns device_code. */
static char *approved_device_code(struct sim_harness *h, const char *client_id)
{
	struct sim_http r;
	char *form, body[200], *dc;

	admin_ok(h, "POST", "/_sim/config", "{\"device_code_interval\":0}");
	assert_true(asprintf(&form, "client_id=%s&scope=openid%%20offline_access%%20Mail.Read", client_id) > 0);
	sim_post_form(h, "/common/oauth2/v2.0/devicecode", form, &r);
	free(form);
	assert_int_equal(r.status, 200);
	dc = strdup(json_string_value(json_object_get(r.json, "device_code")));
	snprintf(body, sizeof(body), "{\"user_code\":\"%s\",\"email\":\"adele@contoso.com\"}",
		 json_string_value(json_object_get(r.json, "user_code")));
	sim_http_free(&r);
	admin_ok(h, "POST", "/_sim/device/approve", body);
	return dc;
}

static void device_redeem(struct sim_harness *h, const char *client_id, const char *dc,
			  struct sim_http *r)
{
	char *form;

	assert_true(asprintf(&form, "grant_type=urn:ietf:params:oauth:grant-type:device_code"
				    "&client_id=%s&device_code=%s&client_info=1", client_id, dc) > 0);
	sim_post_form(h, "/common/oauth2/v2.0/token", form, r);
	free(form);
}

static void refresh_without_secret(struct sim_harness *h, const char *client_id,
				   const char *rt, struct sim_http *r)
{
	char *form, *esc = sim_urlencode(rt);

	assert_true(asprintf(&form, "grant_type=refresh_token&client_id=%s&refresh_token=%s",
			     client_id, esc) > 0);
	sim_post_form(h, "/common/oauth2/v2.0/token", form, r);
	free(form);
	free(esc);
}

static void test_public_client_flows_and_client_info(void **state)
{
	struct sim_harness *h = *state;
	struct sim_http r;
	char *dc, *rt, *code, *form, want[200];
	unsigned char ci[256];
	size_t cilen = 0;
	json_t *info;

	/* the default app allows public client flows: device code and its
	 * refresh without the secret */
	dc = approved_device_code(h, h->client_id);
	device_redeem(h, h->client_id, dc, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(sim_b64url_decode(json_string_value(json_object_get(r.json, "client_info")),
					   ci, sizeof(ci) - 1, &cilen), 0);
	ci[cilen] = '\0';
	info = json_loads((const char *)ci, 0, NULL);
	assert_non_null(info);
	snprintf(want, sizeof(want), "%s", json_string_value(json_object_get(info, "utid")));
	assert_string_equal(want, h->tenant);
	assert_non_null(json_string_value(json_object_get(info, "uid")));
	json_decref(info);
	rt = strdup(json_string_value(json_object_get(r.json, "refresh_token")));
	sim_http_free(&r);
	free(dc);
	refresh_without_secret(h, h->client_id, rt, &r);
	assert_int_equal(r.status, 200);
	assert_null(json_object_get(r.json, "client_info"));   /* not asked */
	sim_http_free(&r);
	free(rt);
	/* a refresh token from a flow with the secret still needs it */
	code = code_for(h, "adele@contoso.com", "openid offline_access Mail.Read");
	redeem(h, code, VERIFIER, NULL, &r);
	assert_int_equal(r.status, 200);
	rt = strdup(json_string_value(json_object_get(r.json, "refresh_token")));
	sim_http_free(&r);
	refresh_without_secret(h, h->client_id, rt, &r);
	assert_aad_error(&r, 401, "invalid_client", 7000218);
	sim_http_free(&r);
	free(rt);
	free(code);

	/* an app without public client flows: AADSTS7000218 for both */
	admin_ok(h, "POST", "/_sim/apps",
		 "{\"client_id\":\"web-only\",\"secret\":\"s3\",\"allow_public_client_flows\":false}");
	dc = approved_device_code(h, "web-only");
	device_redeem(h, "web-only", dc, &r);
	assert_aad_error(&r, 401, "invalid_client", 7000218);
	sim_http_free(&r);
	assert_true(asprintf(&form, "grant_type=urn:ietf:params:oauth:grant-type:device_code"
				    "&client_id=web-only&client_secret=s3&device_code=%s", dc) > 0);
	sim_post_form(h, "/common/oauth2/v2.0/token", form, &r);
	free(form);
	assert_int_equal(r.status, 200);
	rt = strdup(json_string_value(json_object_get(r.json, "refresh_token")));
	sim_http_free(&r);
	refresh_without_secret(h, "web-only", rt, &r);
	assert_aad_error(&r, 401, "invalid_client", 7000218);
	sim_http_free(&r);
	free(rt);
	free(dc);
}

/* The `scope` of the token response for a code asked with `requested`
 * (heap). */
static char *granted_scope(struct sim_harness *h, const char *requested)
{
	struct sim_http r;
	char *code = code_for(h, "adele@contoso.com", requested), *scope;

	redeem(h, code, VERIFIER, NULL, &r);
	assert_int_equal(r.status, 200);
	scope = strdup(json_string_value(json_object_get(r.json, "scope")));
	sim_http_free(&r);
	free(code);
	return scope;
}

/* An app proves its registration with a client-credentials token. */
static void test_client_credentials(void **state)
{
	struct sim_harness *h = *state;
	struct sim_http r;
	char *form;

	assert_true(asprintf(&form, "grant_type=client_credentials&client_id=%s&client_secret=%s"
				    "&scope=https%%3A%%2F%%2Fgraph.microsoft.com%%2F.default",
			     h->client_id, h->client_secret) > 0);
	sim_post_form(h, "/common/oauth2/v2.0/token", form, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"access_token\""));
	assert_null(strstr(r.body, "refresh_token"));
	sim_http_free(&r);
	free(form);
	assert_true(asprintf(&form, "grant_type=client_credentials&client_id=%s&client_secret=wrong"
				    "&scope=https%%3A%%2F%%2Fgraph.microsoft.com%%2F.default",
			     h->client_id) > 0);
	sim_post_form(h, "/common/oauth2/v2.0/token", form, &r);
	assert_aad_error(&r, 401, "invalid_client", 7000215);
	sim_http_free(&r);
	free(form);
	assert_true(asprintf(&form, "grant_type=client_credentials&client_id=%s&client_secret=%s"
				    "&scope=Mail.Read", h->client_id, h->client_secret) > 0);
	sim_post_form(h, "/common/oauth2/v2.0/token", form, &r);
	assert_aad_error(&r, 400, "invalid_scope", 1002012);
	sim_http_free(&r);
	free(form);
	sim_post_form(h, "/nowhere.example/oauth2/v2.0/token",
		      "grant_type=client_credentials&client_id=x&client_secret=y", &r);
	assert_aad_error(&r, 400, "invalid_request", 90002);
	sim_http_free(&r);
}

static void test_scopes_echoed_as_requested(void **state)
{
	struct sim_harness *h = *state;
	char *scope = granted_scope(h, "openid offline_access User.Read Mail.Read");

	assert_non_null(strstr(scope, "Mail.Read"));
	assert_null(strstr(scope, "https://graph.microsoft.com/"));
	free(scope);
	scope = granted_scope(h, "openid offline_access https://graph.microsoft.com/User.Read "
				 "https://graph.microsoft.com/Mail.Read");
	assert_non_null(strstr(scope, "https://graph.microsoft.com/Mail.Read"));
	assert_non_null(strstr(scope, "https://graph.microsoft.com/User.Read"));
	free(scope);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_code_pkce_refresh_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_bad_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_identity_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_approve_ignores_login_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interactive_sign_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_public_client_flows_and_client_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scopes_echoed_as_requested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_credentials, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
