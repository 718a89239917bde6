/*
 * test_sim_device.c — m365sim's device authorization grant: devicecode
 * response, authorization_pending, slow_down when polled faster than the
 * interval, admin approval and decline, approval through the HTML page at
 * /_sim/device, expired_token, and single redemption.
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
#include "sim_harness.h"

static int setup(void **state)
{
	static struct sim_harness h;
	struct sim_http r;

	if (sim_start(&h, (const char *[]){ "--quiet", NULL }) < 0)
		return -1;
	/* fast polling for tests: interval 1 s, slow_down adds 1 s */
	sim_admin(&h, "POST", "/_sim/config", "{\"device_code_interval\":1,\"device_slow_down_step\":1}", &r);
	sim_http_free(&r);
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(sim_stop(*state), 0);
	return 0;
}

struct device {
	char *device_code;
	char *user_code;
};

static void start_device(struct sim_harness *h, struct device *d)
{
	struct sim_http r;
	char *form;

	assert_true(asprintf(&form, "client_id=%s&scope=openid%%20profile%%20offline_access%%20Mail.ReadWrite",
			     h->client_id) > 0);
	sim_post_form(h, "/organizations/oauth2/v2.0/devicecode", form, &r);
	free(form);
	assert_int_equal(r.status, 200);
	d->device_code = strdup(json_string_value(json_object_get(r.json, "device_code")));
	d->user_code = strdup(json_string_value(json_object_get(r.json, "user_code")));
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "verification_uri")), "/_sim/device"));
	assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")), d->user_code));
	assert_int_equal(json_integer_value(json_object_get(r.json, "interval")), 1);
	assert_true(json_integer_value(json_object_get(r.json, "expires_in")) > 0);
	assert_null(json_object_get(r.json, "verification_uri_complete"));
	sim_http_free(&r);
}

static void poll_once(struct sim_harness *h, const struct device *d, struct sim_http *r)
{
	char *form;

	assert_true(asprintf(&form, "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=%s"
				    "&client_secret=%s&device_code=%s", h->client_id, h->client_secret,
			     d->device_code) > 0);
	sim_post_form(h, "/organizations/oauth2/v2.0/token", form, r);
	free(form);
}

static void assert_error(const struct sim_http *r, const char *error)
{
	assert_int_equal(r->status, 400);
	assert_string_equal(json_string_value(json_object_get(r->json, "error")), error);
	assert_non_null(strstr(json_string_value(json_object_get(r->json, "error_description")), "AADSTS"));
}

static void free_device(struct device *d)
{
	free(d->device_code);
	free(d->user_code);
}

static void test_pending_slow_down_approve(void **state)
{
	struct sim_harness *h = *state;
	struct device d;
	struct sim_http r;
	char body[200];

	start_device(h, &d);
	poll_once(h, &d, &r);
	assert_error(&r, "authorization_pending");
	sim_http_free(&r);
	poll_once(h, &d, &r);               /* immediately again: too fast */
	assert_error(&r, "slow_down");
	sim_http_free(&r);
	sleep(3);                           /* interval grew to 2 s */
	poll_once(h, &d, &r);
	assert_error(&r, "authorization_pending");
	sim_http_free(&r);
	snprintf(body, sizeof(body), "{\"user_code\":\"%s\",\"email\":\"bob@contoso.com\"}", d.user_code);
	sim_admin(h, "POST", "/_sim/device/approve", body, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	sleep(3);
	poll_once(h, &d, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(json_object_get(r.json, "access_token"));
	assert_non_null(json_object_get(r.json, "refresh_token"));
	{
		json_t *claims = sim_jwt_claims(json_string_value(json_object_get(r.json, "id_token")));

		assert_string_equal(json_string_value(json_object_get(claims, "preferred_username")), "bob@contoso.com");
		json_decref(claims);
	}
	sim_http_free(&r);
	sleep(3);
	poll_once(h, &d, &r);               /* used once only */
	assert_error(&r, "invalid_grant");
	sim_http_free(&r);
	free_device(&d);
}

static void test_decline_and_expiry(void **state)
{
	struct sim_harness *h = *state;
	struct device d;
	struct sim_http r;
	char body[200];

	start_device(h, &d);
	snprintf(body, sizeof(body), "{\"user_code\":\"%s\"}", d.user_code);
	sim_admin(h, "POST", "/_sim/device/decline", body, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	poll_once(h, &d, &r);
	assert_error(&r, "authorization_declined");
	sim_http_free(&r);
	free_device(&d);

	sim_admin(h, "POST", "/_sim/config", "{\"device_code_lifetime\":1}", &r);
	sim_http_free(&r);
	start_device(h, &d);
	sleep(2);
	poll_once(h, &d, &r);
	assert_error(&r, "expired_token");
	sim_http_free(&r);
	free_device(&d);
	sim_post_form(h, "/organizations/oauth2/v2.0/token",
		      "grant_type=device_code&client_id=11111111-2222-3333-4444-555555555555&client_secret=sim-secret&device_code=bogus", &r);
	assert_error(&r, "bad_verification_code");
	sim_http_free(&r);
}

static void post_device(struct sim_harness *h, const char *form, struct sim_http *r)
{
	sim_post_form(h, "/_sim/device", form, r);
}

static void test_html_device_page(void **state)
{
	struct sim_harness *h = *state;
	struct device d;
	struct sim_http r, r2;
	char *form, *txn;

	sim_request(h, "GET", "/_sim/device", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "name=\"otc\""));
	sim_http_free(&r);
	start_device(h, &d);
	post_device(h, "otc=WRONG0000", &r);
	assert_non_null(strstr(r.body, "AADSTS70018"));
	sim_http_free(&r);
	assert_true(asprintf(&form, "otc=%s", d.user_code) > 0);
	post_device(h, form, &r);
	free(form);
	assert_non_null(strstr(r.body, "i0116"));     /* e-mail page */
	txn = sim_html_input(r.body, "txn");
	assert_true(asprintf(&form, "txn=%s&step=email&loginfmt=adele%%40contoso.com", txn) > 0);
	post_device(h, form, &r2);
	free(form);
	assert_non_null(strstr(r2.body, "i0118"));    /* password page */
	sim_http_free(&r);
	assert_true(asprintf(&form, "txn=%s&step=password&passwd=pass", txn) > 0);
	post_device(h, form, &r);
	free(form);
	sim_http_free(&r2);
	assert_non_null(strstr(r.body, "Permissions requested"));
	assert_true(asprintf(&form, "txn=%s&step=consent&action=accept", txn) > 0);
	post_device(h, form, &r2);
	free(form);
	assert_non_null(strstr(r2.body, "You have signed in"));
	sim_http_free(&r);
	sim_http_free(&r2);
	free(txn);
	sleep(2);
	/* public client flows: the device grant needs no secret */
	assert_true(asprintf(&form, "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=%s"
				    "&device_code=%s", h->client_id, d.device_code) > 0);
	sim_post_form(h, "/organizations/oauth2/v2.0/token", form, &r);
	free(form);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	free_device(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pending_slow_down_approve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decline_and_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_device_page, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
