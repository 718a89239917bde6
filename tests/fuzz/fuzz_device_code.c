/*
 * fuzz_device_code.c — libFuzzer target for the device-code flow's answers
 * (src/auth/oauth.c): any bytes as the answer to /devicecode, then as a
 * pending (400) and a final (200) answer to the poll. A started flow has
 * every string, an interval of 1..59 s and an expiry ahead; a poll gives
 * tokens (0), "keep waiting" (1) or a classified error (-1).
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
	"https://login.fuzz.example", "organizations", "client-id-fuzz", NULL, NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_answer start = { 200, (const char *)data, size, -1, NULL };
	struct fake_answer pending = { 400, (const char *)data, size, -1, NULL };
	struct oauth_device d;
	struct oauth_tokens t;
	struct err e;
	int rc, interval;

	fake_http_bearer_origin(NULL);
	fake_http_script(&start, 1);
	err_clear(&e);
	if (oauth_device_start(NULL, &client, "offline_access Mail.Read", &d, &e) < 0) {
		must_be_error(&e);
		return 0;
	}
	must(d.device_code && d.user_code && d.verification_uri && d.message);
	must(d.interval_s >= 1 && d.interval_s < 60);
	must(d.expires_at > time_now());
	interval = d.interval_s;

	fake_http_script(&pending, 1);
	err_clear(&e);
	rc = oauth_device_poll(NULL, &client, &d, &t, &e);
	must(rc == 1 || rc == -1);
	if (rc < 0)
		must_be_error(&e);
	must(d.interval_s == interval || d.interval_s == interval + 5);

	fake_http_script(&start, 1);
	err_clear(&e);
	rc = oauth_device_poll(NULL, &client, &d, &t, &e);
	must(rc == 0 || rc == -1);
	if (rc == 0) {
		must(t.access_token != NULL);
		oauth_tokens_clear(&t);
	} else {
		must_be_error(&e);
	}
	oauth_device_clear(&d);
	return 0;
}
