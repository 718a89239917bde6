/*
 * test_server_routes.c — the route table (routes.c): methods and
 * patterns match with each parameter decoded on its own (an encoded '/'
 * stays inside an id, an encoded NUL matches nothing), a known path with
 * another method is told apart from an unknown one, every route has a
 * handler and a summary; and the webhook signature (webhooks.c) is
 * HMAC-SHA256 over "t.body" as documented.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "server/server_internal.h"

static void free_params(char **values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(values[i]);
}

static void test_match_with_parameters(void **state)
{
	const char *names[SERVER_MAX_PARAMS];
	char *values[SERVER_MAX_PARAMS];
	const struct route *r;
	size_t n;
	bool known;

	(void)state;
	r = route_match("GET", "/api/v1/accounts/12/messages/AAk%2Fx%3D", names, values, &n, &known);
	assert_non_null(r);
	assert_string_equal(r->pattern, "/api/v1/accounts/{id}/messages/{message_id}");
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "id");
	assert_string_equal(values[0], "12");
	assert_string_equal(names[1], "message_id");
	assert_string_equal(values[1], "AAk/x=");
	free_params(values, n);
	r = route_match("POST", "/api/v1/accounts/12/outbox/k%201/retry", names, values, &n, &known);
	assert_non_null(r);
	assert_string_equal(values[1], "k 1");
	free_params(values, n);
	assert_null(route_match("GET", "/api/v1/accounts/12%00/messages", names, values, &n, &known));
	assert_null(route_match("GET", "/api/v1/accounts//messages", names, values, &n, &known));
	assert_null(route_match("PUT", "/api/v1/me", names, values, &n, &known));
	assert_true(known);
	assert_null(route_match("GET", "/api/v1/nothing", names, values, &n, &known));
	assert_false(known);
	r = route_match("GET", "/healthz", names, values, &n, &known);
	assert_non_null(r);
	assert_int_equal(r->who, WHO_ANYONE);
}

static void test_every_route_is_complete(void **state)
{
	(void)state;
	for (size_t i = 0; i < server_routes_count; i++) {
		const struct route *r = &server_routes[i];

		assert_non_null(r->handler);
		assert_true(r->summary && *r->summary);
		if (strstr(r->pattern, "/accounts/{id}"))
			assert_int_equal(r->who, WHO_OWNER);
		for (size_t k = 0; k < i; k++)
			if (strcmp(server_routes[k].method, r->method) == 0 &&
			    strcmp(server_routes[k].pattern, r->pattern) == 0)
				fail_msg("%s %s twice", r->method, r->pattern);
	}
}

static void test_webhook_signature(void **state)
{
	char sig[160];

	(void)state;
	webhook_signature("whsec_test", 1700000000LL, "{\"id\":\"1\"}", 10, sig, sizeof(sig));
	assert_string_equal(sig, "t=1700000000,v1="
			    "11bf4466ea17c3df3fd743af0b435368e16b7a05eb8eced85e8c4670767bdec5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_with_parameters),
		cmocka_unit_test(test_every_route_is_complete),
		cmocka_unit_test(test_webhook_signature),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
