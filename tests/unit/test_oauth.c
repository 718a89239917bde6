/*
 * test_oauth.c — identity-platform pieces that need no server: the PKCE
 * S256 challenge (RFC 7636 appendix B vector), random verifiers and
 * states, the authorization URL, id_token claims, and the classification
 * of token errors (which failures count toward auth_invalid).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
#include "inboxsync/http.h"
#include "inboxsync/oauth.h"

static void test_pkce_rfc7636_vector(void **state)
{
	char challenge[OAUTH_VERIFIER_LEN + 1];

	(void)state;
	oauth_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge);
	assert_string_equal(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void test_pkce_verifier_shape(void **state)
{
	char v1[OAUTH_VERIFIER_LEN + 1], c1[OAUTH_VERIFIER_LEN + 1];
	char v2[OAUTH_VERIFIER_LEN + 1], c2[OAUTH_VERIFIER_LEN + 1];

	(void)state;
	oauth_pkce_new(v1, c1);
	oauth_pkce_new(v2, c2);
	assert_int_equal(strlen(v1), 64);
	assert_true(strspn(v1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 64);
	assert_string_not_equal(v1, v2);
	assert_int_equal(strlen(c1), 43);
}

static void test_authorize_url_has_every_parameter(void **state)
{
	struct oauth_client c = { "https://login.example", "common", "client-1", NULL, NULL };
	char *url = oauth_authorize_url(&c, "http://127.0.0.1:5555/callback",
					oauth_authorize_scopes("graph"), "st", "ch",
					"adele@contoso.com");

	(void)state;
	assert_non_null(strstr(url, "https://login.example/common/oauth2/v2.0/authorize?"));
	assert_non_null(strstr(url, "client_id=client-1"));
	assert_non_null(strstr(url, "response_type=code"));
	assert_non_null(strstr(url, "redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback"));
	assert_non_null(strstr(url, "prompt=select_account"));
	assert_non_null(strstr(url, "code_challenge_method=S256"));
	assert_non_null(strstr(url, "login_hint=adele%40contoso.com"));
	assert_non_null(strstr(url, "offline_access"));
	assert_non_null(strstr(url, "Mail.Send"));
	free(url);
}

static void test_scopes_one_resource_per_token(void **state)
{
	(void)state;
	assert_null(strstr(oauth_resource_scopes("graph"), "outlook.office.com"));
	assert_non_null(strstr(oauth_resource_scopes("outlook"), "IMAP.AccessAsUser.All"));
	assert_null(strstr(oauth_resource_scopes("outlook"), "Mail.ReadWrite"));
	assert_string_equal(oauth_transport_resource("imap"), "outlook");
	assert_string_equal(oauth_transport_resource("graph"), "graph");
}

static char *make_jwt(const char *claims)
{
	char head[64], body[1024];

	sodium_bin2base64(head, sizeof(head), (const unsigned char *)"{\"alg\":\"none\"}", 14,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_bin2base64(body, sizeof(body), (const unsigned char *)claims, strlen(claims),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	size_t n = strlen(head) + strlen(body) + 8;
	char *jwt = malloc(n);
	snprintf(jwt, n, "%s.%s.sig", head, body);
	return jwt;
}

static void test_id_token_claims(void **state)
{
	char *jwt = make_jwt("{\"oid\":\"o-1\",\"tid\":\"t-1\",\"preferred_username\":"
			     "\"Adele@Contoso.com\",\"name\":\"Adele Vance\"}");
	struct oauth_identity id;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(oauth_parse_id_token(jwt, &id, &e), 0);
	assert_string_equal(id.oid, "o-1");
	assert_string_equal(id.tid, "t-1");
	assert_string_equal(id.preferred_username, "Adele@Contoso.com");
	free(jwt);
	assert_int_equal(oauth_parse_id_token("not-a-jwt", &id, &e), -1);
	assert_string_equal(e.code, "bad_id_token");
	jwt = make_jwt("{\"name\":\"no ids\"}");
	assert_int_equal(oauth_parse_id_token(jwt, &id, &e), -1);
	free(jwt);
}

struct classify_case {
	long status;
	const char *body;
	enum err_class class;
	const char *code;
	bool definitive;
	enum err_fix fix;
};

static void test_classify_table(void **state)
{
	static const struct classify_case cases[] = {
		{ 400, "{\"error\":\"invalid_grant\",\"error_codes\":[50173]}", ERR_AUTH, "invalid_grant", true, FIX_REAUTHORIZE },
		{ 400, "{\"error\":\"invalid_grant\",\"error_codes\":[70008]}", ERR_AUTH, "invalid_grant", true, FIX_REAUTHORIZE },
		{ 400, "{\"error\":\"invalid_grant\",\"error_codes\":[65001]}", ERR_AUTH, "invalid_grant", true, FIX_REAUTHORIZE },
		/* the app registration's failures are the provider's: they never
		 * count toward a mailbox's auth_invalid */
		{ 401, "{\"error\":\"invalid_client\",\"error_codes\":[7000215]}", ERR_PERMANENT, "oauth_not_configured", false, FIX_CONFIGURE_PROVIDER },
		{ 401, "{\"error\":\"invalid_client\",\"error_codes\":[7000222]}", ERR_PERMANENT, "oauth_not_configured", false, FIX_CONFIGURE_PROVIDER },
		{ 400, "{\"error\":\"unauthorized_client\",\"error_codes\":[700016]}", ERR_PERMANENT, "oauth_not_configured", false, FIX_CONFIGURE_PROVIDER },
		{ 400, "{\"error\":\"unauthorized_client\",\"error_codes\":[7000112]}", ERR_PERMANENT, "oauth_not_configured", false, FIX_CONFIGURE_PROVIDER },
		{ 400, "{\"error\":\"invalid_request\",\"error_codes\":[90002]}", ERR_PERMANENT, "oauth_not_configured", false, FIX_CONFIGURE_PROVIDER },
		{ 400, "{\"error\":\"invalid_grant\",\"error_codes\":[90094]}", ERR_PERMANENT, "oauth_not_configured", false, FIX_ADMIN_CONSENT },
		{ 400, "{\"error\":\"invalid_grant\"}", ERR_AUTH, "invalid_grant", true, FIX_REAUTHORIZE },
		{ 400, "{\"error\":\"temporarily_unavailable\"}", ERR_TRANSIENT, "temporarily_unavailable", false, FIX_RETRY },
		{ 503, "oops", ERR_TRANSIENT, "temporarily_unavailable", false, FIX_RETRY },
		{ 500, "{\"error\":\"server_error\"}", ERR_TRANSIENT, "temporarily_unavailable", false, FIX_RETRY },
		{ 429, "", ERR_THROTTLED, "temporarily_unavailable", false, FIX_NONE },
		{ 400, "{\"error\":\"invalid_scope\",\"error_codes\":[700022]}", ERR_PERMANENT, "invalid_scope", false, FIX_NONE },
		{ 400, "not json at all", ERR_TRANSIENT, "temporarily_unavailable", false, FIX_RETRY },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e = { 0 };

		assert_int_equal(oauth_classify(cases[i].status, cases[i].body,
						strlen(cases[i].body), "work", 7, &e), -1);
		assert_int_equal(e.class, cases[i].class);
		assert_string_equal(e.code, cases[i].code);
		assert_int_equal(oauth_is_definitive(&e), cases[i].definitive);
		assert_int_equal(e.fix, cases[i].fix);
		assert_int_equal(oauth_is_provider_problem(&e),
				 strcmp(cases[i].code, "oauth_not_configured") == 0);
	}
}

static void test_classify_message_names_code_and_fix(void **state)
{
	const char *body = "{\"error\":\"invalid_grant\",\"error_codes\":[50173],"
			   "\"error_description\":\"AADSTS50173: revoked\"}";
	struct err e = { 0 };

	(void)state;
	oauth_classify(400, body, strlen(body), "work", 0, &e);
	assert_non_null(strstr(e.msg, "AADSTS50173"));
	/* the fix travels as a value; the library names no command line */
	assert_null(strstr(e.msg, "inboxsync"));
	assert_int_equal(e.fix, FIX_REAUTHORIZE);
	assert_string_equal(e.fix_arg, "work");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkce_rfc7636_vector),
		cmocka_unit_test(test_pkce_verifier_shape),
		cmocka_unit_test(test_authorize_url_has_every_parameter),
		cmocka_unit_test(test_scopes_one_resource_per_token),
		cmocka_unit_test(test_id_token_claims),
		cmocka_unit_test(test_classify_table),
		cmocka_unit_test(test_classify_message_names_code_and_fix),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
