/*
 * fuzz_token_response.c — libFuzzer target for token responses
 * (src/auth/oauth.c) as a refresh and a code redemption read them: any
 * bytes as a 200 answer of the token endpoint, and as a 400 one (the
 * AADSTS classifier). Tokens come out whole or not at all (an access token,
 * an expiry within 30 days), failures are classified with a message fit
 * for a terminal, and nothing leaks. An id_token that came with the answer
 * goes through the claims parser as the sign-in does.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "inboxsync/oauth.h"
#include "inboxsync/timeutil.h"
#include "fake_http.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct oauth_client client = {
	"https://login.fuzz.example", "common", "client-id-fuzz", "secret-fuzz-0123",
	"work",
};

static void check_tokens(int rc, struct oauth_tokens *t, const struct err *e)
{
	struct oauth_identity id;
	struct err ie;

	if (rc < 0) {
		must_be_error(e);
		must(!t->access_token && !t->refresh_token && !t->id_token);
		return;
	}
	must(rc == 0 && t->access_token && t->scope);
	must(t->expires_at > time_now() && t->expires_at <= time_now() + 86400 * 30 + 5);
	if (t->id_token && oauth_parse_id_token(t->id_token, &id, &ie) < 0)
		must_be_error(&ie);
	oauth_tokens_clear(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_answer ok = { 200, (const char *)data, size, -1, "rid-token" };
	struct fake_answer refused = { 400, (const char *)data, size, 3, NULL };
	struct oauth_tokens t;
	struct err e;
	int rc;

	fake_http_bearer_origin(NULL); /* the token endpoint takes no bearer */
	fake_http_script(&ok, 1);
	err_clear(&e);
	rc = oauth_refresh(NULL, &client, "0.AAA-refresh-token-fuzz", "offline_access",
			   &t, &e);
	check_tokens(rc, &t, &e);
	must(fake_http_calls() == 1);

	err_clear(&e);
	rc = oauth_redeem_code(NULL, &client, "M.code-fuzz", "verifier-fuzz",
			       "http://127.0.0.1:1/callback", "offline_access", &t, &e);
	check_tokens(rc, &t, &e);

	fake_http_script(&refused, 1);
	err_clear(&e);
	must(oauth_refresh(NULL, &client, "0.AAA-refresh-token-fuzz", "offline_access",
			   &t, &e) == -1);
	must_be_error(&e);
	must(e.http_status == 400);
	return 0;
}
