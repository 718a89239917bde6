/*
 * test_sim_batch.c — $batch and throttling on m365sim: the 20-request
 * limit, unique ids, relative urls, per-request headers and bodies,
 * dependsOn with 424, strict batch concurrency (independent items beyond
 * the 4th get 429 MailboxConcurrency) and its switch, inner 429 faults;
 * per-(app, mailbox) concurrency and request-rate throttling with
 * Retry-After, and the rate-window peak the counters report.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "sim_harness.h"


static int setup(void **state)
{
	*state = sim_session_start((const char *[]){ "--quiet", "--messages", "100", NULL });
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	assert_int_equal(sim_session_stop(*state), 0);
	return 0;
}

static void batch(struct sim_session *c, const char *body, struct sim_http *r)
{
	sim_graph(&c->h, "POST", c->at, "/v1.0/$batch", body, r);
}

static json_t *item(const struct sim_http *r, const char *id)
{
	size_t i;
	json_t *it;

	json_array_foreach(json_object_get(r->json, "responses"), i, it)
		if (strcmp(json_string_value(json_object_get(it, "id")), id) == 0)
			return it;
	fail_msg("no response for id %s", id);
	return NULL;
}

static long status_of(const struct sim_http *r, const char *id)
{
	return (long)json_integer_value(json_object_get(item(r, id), "status"));
}

static void test_batch_limits(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	char body[8192];
	size_t n = 0;

	n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"requests\":[");
	for (int i = 0; i < 21; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"id\":\"%d\",\"method\":\"GET\",\"url\":\"/me\"}",
				      i ? "," : "", i);
	snprintf(body + n, sizeof(body) - n, "]}");
	batch(c, body, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(json_object_get(r.json, "error"));
	sim_http_free(&r);
	batch(c, "{\"requests\":[{\"id\":\"a\",\"method\":\"GET\",\"url\":\"/me\"},{\"id\":\"A\",\"method\":\"GET\",\"url\":\"/me\"}]}", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	batch(c, "{\"requests\":[{\"id\":\"1\",\"method\":\"GET\",\"url\":\"https://graph.microsoft.com/v1.0/me\"}]}", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	batch(c, "{\"requests\":[{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\",\"dependsOn\":[\"9\"]}]}", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	batch(c, "not json", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
}

static void test_batch_items(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	json_t *it;
	const char *id;

	batch(c, "{\"requests\":["
		 "{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me/mailFolders/inbox/messages?$top=2&$select=id,isRead\","
		 "\"headers\":{\"Prefer\":\"IdType=\\\"ImmutableId\\\"\"}},"
		 "{\"id\":\"2\",\"method\":\"GET\",\"url\":\"me/messages/AAMkbogus\"},"
		 "{\"id\":\"3\",\"method\":\"GET\",\"url\":\"/me\",\"dependsOn\":[\"2\"]},"
		 "{\"id\":\"4\",\"method\":\"GET\",\"url\":\"/me\",\"dependsOn\":[\"1\"]},"
		 "{\"id\":\"5\",\"method\":\"POST\",\"url\":\"/me/mailFolders\",\"body\":{\"displayName\":\"NoType\"}}"
		 "]}", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(status_of(&r, "1"), 200);
	assert_int_equal(status_of(&r, "2"), 400);
	assert_int_equal(status_of(&r, "3"), 424);
	assert_int_equal(status_of(&r, "4"), 200);
	assert_int_equal(status_of(&r, "5"), 400);   /* body without Content-Type */
	it = item(&r, "1");
	id = json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(it, "body"), "value"), 0), "id"));
	assert_non_null(id);
	assert_memory_equal(id, "AAkAL", 5);        /* immutable id via per-item Prefer */
	assert_non_null(json_object_get(json_object_get(it, "headers"), "Content-Type"));
	{
		char body[1024];

		snprintf(body, sizeof(body), "{\"requests\":[{\"id\":\"p\",\"method\":\"PATCH\",\"url\":\"/me/messages/%s\","
			 "\"headers\":{\"Content-Type\":\"application/json\"},\"body\":{\"isRead\":true}}]}", id);
		sim_http_free(&r);
		batch(c, body, &r);
		assert_int_equal(status_of(&r, "p"), 200);
		assert_true(json_is_true(json_object_get(json_object_get(item(&r, "p"), "body"), "isRead")));
	}
	sim_http_free(&r);
}

static void test_batch_concurrency(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	char body[4096];
	size_t n = 0;
	int ok = 0, throttled = 0;

	n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"requests\":[");
	for (int i = 0; i < 6; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"id\":\"r%d\",\"method\":\"GET\",\"url\":\"/me/mailFolders\"}",
				      i ? "," : "", i);
	snprintf(body + n, sizeof(body) - n, "]}");
	batch(c, body, &r);
	for (int i = 0; i < 6; i++) {
		char id[8];
		json_t *it;

		snprintf(id, sizeof(id), "r%d", i);
		it = item(&r, id);
		if (json_integer_value(json_object_get(it, "status")) == 200) {
			ok++;
		} else {
			assert_int_equal(json_integer_value(json_object_get(it, "status")), 429);
			assert_non_null(json_object_get(json_object_get(it, "headers"), "Retry-After"));
			assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(it, "body"),
											      "error"), "code")), "ApplicationThrottled");
			throttled++;
		}
	}
	assert_int_equal(ok, 4);
	assert_int_equal(throttled, 2);
	sim_http_free(&r);
	/* a chain with dependsOn is fine: sequential */
	sim_admin(&c->h, "POST", "/_sim/config", "{\"batch_concurrency_strict\":false}", &r);
	sim_http_free(&r);
	batch(c, body, &r);
	for (int i = 0; i < 6; i++) {
		char id[8];

		snprintf(id, sizeof(id), "r%d", i);
		assert_int_equal(status_of(&r, id), 200);
	}
	sim_http_free(&r);
	/* inner 429 fault with Retry-After */
	sim_admin(&c->h, "POST", "/_sim/faults", "{\"kind\":\"429\",\"path\":\"/mailFolders/inbox\",\"count\":1,\"retry_after\":9}", &r);
	sim_http_free(&r);
	batch(c, "{\"requests\":[{\"id\":\"x\",\"method\":\"GET\",\"url\":\"/me/mailFolders/inbox\"},"
		 "{\"id\":\"y\",\"method\":\"GET\",\"url\":\"/me/mailFolders/sentitems\"}]}", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(status_of(&r, "x"), 429);
	assert_string_equal(json_string_value(json_object_get(json_object_get(item(&r, "x"), "headers"), "Retry-After")), "9");
	assert_int_equal(status_of(&r, "y"), 200);
	sim_http_free(&r);
}

struct slow_arg {
	struct sim_session *c;
	long status;
};

static void *slow_get(void *p)
{
	struct slow_arg *a = p;
	struct sim_http r;

	sim_get(&a->c->h, a->c->at, "/v1.0/me/mailFolders", NULL, &r);
	a->status = r.status;
	sim_http_free(&r);
	return NULL;
}

static void test_mailbox_concurrency(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	pthread_t t[4];
	struct slow_arg args[4];
	char *ra;

	sim_admin(&c->h, "POST", "/_sim/faults",
		  "{\"kind\":\"slow\",\"path\":\"/v1.0/me/mailFolders\",\"count\":4,\"delay_ms\":700,\"bytes\":300}", &r);
	sim_http_free(&r);
	for (int i = 0; i < 4; i++) {
		args[i].c = c;
		args[i].status = 0;
		pthread_create(&t[i], NULL, slow_get, &args[i]);
	}
	usleep(800000);
	sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 429);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")), "ApplicationThrottled");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r.json, "error"), "message")),
			       "MailboxConcurrency"));
	ra = sim_http_header(&r, "Retry-After");
	assert_non_null(ra);
	free(ra);
	sim_http_free(&r);
	/* another mailbox is not affected */
	{
		char *bob = NULL;

		assert_int_equal(sim_login(&c->h, "bob@contoso.com", NULL, &bob, NULL), 0);
		sim_get(&c->h, bob, "/v1.0/me", NULL, &r);
		assert_int_equal(r.status, 200);
		sim_http_free(&r);
		free(bob);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(args[i].status, 200);
	}
	sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
}

static void test_rate_window(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	char *ra;
	long secs;

	sim_admin(&c->h, "POST", "/_sim/config", "{\"rate_limit\":{\"requests\":5,\"window\":60}}", &r);
	sim_http_free(&r);
	for (int i = 0; i < 5; i++) {
		sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);
		assert_int_equal(r.status, 200);
		sim_http_free(&r);
	}
	sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 429);
	ra = sim_http_header(&r, "Retry-After");
	assert_non_null(ra);
	secs = strtol(ra, NULL, 10);
	assert_true(secs >= 1 && secs <= 60);
	free(ra);
	sim_http_free(&r);
	sim_admin(&c->h, "GET", "/_sim/counters", NULL, &r);
	assert_true(json_integer_value(json_object_get(json_object_get(r.json, "events"), "throttled")) >= 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(r.json, "requests"),
									    "GET /v1.0/me"), "429")), 1);
	/* what the client asked of the window, the throttled request too */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "rate_window_peak"),
							    "adele@contoso.com")), 6);
	sim_http_free(&r);
	/* the window is per app + mailbox: a reset config clears it */
	sim_admin(&c->h, "POST", "/_sim/config", "{\"rate_limit\":{\"requests\":10000,\"window\":600}}", &r);
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	sim_admin(&c->h, "GET", "/_sim/counters", NULL, &r);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "rate_window_peak"),
							    "adele@contoso.com")), 1);
	sim_http_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_items, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailbox_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_window, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
