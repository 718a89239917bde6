/*
 * test_sim_latency.c — m365sim's Microsoft-like latency (sim/latency.c and
 * the server's timed waits): the $batch schedule Outlook follows (four
 * items at a time, each after its dependencies), jitter within its range,
 * every Graph and identity answer held back by the setting from the
 * command line or the admin API while admin calls are not, held answers
 * overlapping (they keep their MailboxConcurrency slots, so a fifth
 * concurrent request of the same mailbox is throttled while another
 * mailbox's request and admin calls are answered), and a batch held for
 * exactly its schedule's makespan. No timed upper bounds: durations are
 * checked from below (a wait cannot be shorter than asked) and the
 * applied delays through GET /_sim/counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <curl/curl.h>
#include "latency.h"
#include "sim_harness.h"

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void test_batch_schedule_is_outlooks(void **state)
{
	struct sim_config c;
	struct latency_batch b;
	long a, bb;

	(void)state;
	simcfg_defaults(&c);
	/* 20 independent items, 4 at a time: 5 latencies */
	latency_batch_init(&b, &c);
	for (size_t i = 0; i < 20; i++)
		latency_batch_add(&b, i, 0, 100);
	assert_int_equal(b.makespan, 500);
	/* a chain of 20 (each dependsOn the previous): 20 latencies */
	latency_batch_init(&b, &c);
	for (size_t i = 0; i < 20; i++)
		latency_batch_add(&b, i, i ? latency_batch_finish(&b, i - 1) : 0, 100);
	assert_int_equal(b.makespan, 2000);
	/* a chain a <- b next to four independent items */
	latency_batch_init(&b, &c);
	a = latency_batch_add(&b, 0, 0, 100);
	for (size_t i = 2; i < 6; i++)
		latency_batch_add(&b, i, 0, 100);
	bb = latency_batch_add(&b, 1, a, 100);
	assert_int_equal(a, 100);
	assert_int_equal(bb, 200);
	assert_int_equal(b.makespan, 200);
	/* concurrency_limit 1: everything in a row */
	c.concurrency_limit = 1;
	latency_batch_init(&b, &c);
	for (size_t i = 0; i < 3; i++)
		latency_batch_add(&b, i, 0, 50);
	assert_int_equal(b.makespan, 150);
}

static void test_jitter_stays_in_range(void **state)
{
	struct sim_config c;
	long lo = 1 << 30, hi = 0;

	(void)state;
	simcfg_defaults(&c);
	assert_int_equal(latency_draw(&c), 0);
	c.latency_ms = 150;
	c.latency_jitter_ms = 30;
	for (int i = 0; i < 2000; i++) {
		long d = latency_draw(&c);

		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(lo >= 150 && hi <= 180);
	assert_true(hi > lo);
}

/* ---- over HTTP ---- */

static json_t *counters_latency(struct sim_harness *h)
{
	struct sim_http r;
	json_t *v;

	sim_admin(h, "GET", "/_sim/counters", NULL, &r);
	assert_int_equal(r.status, 200);
	v = json_incref(json_object_get(r.json, "latency"));
	sim_http_free(&r);
	return v;
}

static long latency_ms_total(struct sim_harness *h)
{
	json_t *l = counters_latency(h);
	long ms = (long)json_integer_value(json_object_get(l, "ms"));

	json_decref(l);
	return ms;
}

static void test_requests_wait_admin_does_not(void **state)
{
	struct sim_session *s = sim_session_start((const char *[]){ "--quiet", "--latency-ms", "300", NULL });
	struct sim_http r;
	long t0, before;

	(void)state;
	assert_non_null(s);
	before = latency_ms_total(&s->h);
	assert_true(before >= 300);   /* the sign-in itself was delayed */
	t0 = mono_ms();
	sim_get(&s->h, s->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(mono_ms() - t0 >= 300);
	sim_http_free(&r);
	/* the admin API answers at once and counts no latency */
	assert_int_equal(latency_ms_total(&s->h), before + 300);
	/* the identity platform waits too */
	t0 = mono_ms();
	sim_request(&s->h, "GET", "/common/v2.0/.well-known/openid-configuration", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_true(mono_ms() - t0 >= 300);
	sim_http_free(&r);
	/* off through the admin API */
	sim_admin(&s->h, "POST", "/_sim/config", "{\"latency_ms\":0}", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "latency_ms")), 0);
	sim_http_free(&r);
	before = latency_ms_total(&s->h);
	sim_get(&s->h, s->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	assert_int_equal(latency_ms_total(&s->h), before);
	assert_int_equal(sim_session_stop(s), 0);
}

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

static CURL *easy_get(const char *url, const char *token, struct curl_slist **hdrs)
{
	CURL *e = curl_easy_init();
	char auth[4200];

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token ? token : "");
	*hdrs = token ? curl_slist_append(NULL, auth) : NULL;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	return e;
}

static void test_held_answers_overlap(void **state)
{
	struct sim_session *s = sim_session_start((const char *[]){ "--quiet", NULL });
	enum { ADELE = 5, N = ADELE + 1 };
	CURL *e[N];
	struct curl_slist *hdrs[N];
	CURLM *m = curl_multi_init();
	char url[128], *bob_at = NULL;
	int running = 0, done = 0, ok = 0, throttled = 0, admin_calls = 0;
	long bob_status = 0;
	struct sim_http r;

	(void)state;
	assert_non_null(s);
	assert_int_equal(sim_login(&s->h, "bob@contoso.com", NULL, &bob_at, NULL), 0);
	sim_admin(&s->h, "POST", "/_sim/config", "{\"latency_ms\":2500}", &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	snprintf(url, sizeof(url), "%s/v1.0/me", s->h.url);
	for (int i = 0; i < ADELE; i++) {
		e[i] = easy_get(url, s->at, &hdrs[i]);
		curl_multi_add_handle(m, e[i]);
	}
	e[ADELE] = easy_get(url, bob_at, &hdrs[ADELE]);
	curl_multi_add_handle(m, e[ADELE]);
	do {
		CURLMsg *msg;
		int left;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			long status = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			assert_int_equal(msg->data.result, CURLE_OK);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			done++;
			if (msg->easy_handle == e[ADELE]) {
				bob_status = status;
				continue;
			}
			ok += status == 200;
			throttled += status == 429;
		}
		if (running)
			curl_multi_poll(m, NULL, 0, 200, NULL);
		if (running && done == 0) {
			/* while the six answers are held, other connections
			 * are served: the admin API answers at once */
			sim_admin(&s->h, "GET", "/_sim/world", NULL, &r);
			assert_int_equal(r.status, 200);
			sim_http_free(&r);
			admin_calls++;
		}
	} while (running);
	assert_true(admin_calls >= 2);
	/* four held answers of adele's mailbox kept its four slots: the fifth
	 * was throttled; bob's mailbox has its own */
	assert_int_equal(ok, 4);
	assert_int_equal(throttled, 1);
	assert_int_equal(bob_status, 200);
	for (int i = 0; i < N; i++) {
		curl_multi_remove_handle(m, e[i]);
		curl_easy_cleanup(e[i]);
		curl_slist_free_all(hdrs[i]);
	}
	curl_multi_cleanup(m);
	free(bob_at);
	assert_int_equal(sim_session_stop(s), 0);
}

static void test_batch_waits_for_its_schedule(void **state)
{
	struct sim_session *s = sim_session_start((const char *[]){ "--quiet", NULL });
	struct sim_http r;
	char body[4096];
	size_t k = 0;
	long before, t0;

	(void)state;
	assert_non_null(s);
	sim_admin(&s->h, "POST", "/_sim/config",
		  "{\"latency_ms\":100,\"batch_concurrency_strict\":false}", &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	/* 20 independent items: 5 rounds of 4 */
	k += (size_t)snprintf(body + k, sizeof(body) - k, "{\"requests\":[");
	for (int i = 0; i < 20; i++)
		k += (size_t)snprintf(body + k, sizeof(body) - k, "%s{\"id\":\"%d\",\"method\":\"GET\",\"url\":\"/me\"}",
				      i ? "," : "", i);
	snprintf(body + k, sizeof(body) - k, "]}");
	before = latency_ms_total(&s->h);
	t0 = mono_ms();
	sim_graph(&s->h, "POST", s->at, "/v1.0/$batch", body, &r);
	assert_int_equal(r.status, 200);
	assert_true(mono_ms() - t0 >= 500);
	assert_int_equal(json_array_size(json_object_get(r.json, "responses")), 20);
	sim_http_free(&r);
	assert_int_equal(latency_ms_total(&s->h) - before, 500);
	/* a -> b -> c chained, four independent beside them: 3 rounds */
	before = latency_ms_total(&s->h);
	sim_graph(&s->h, "POST", s->at, "/v1.0/$batch",
		  "{\"requests\":[{\"id\":\"a\",\"method\":\"GET\",\"url\":\"/me\"},"
		  "{\"id\":\"b\",\"method\":\"GET\",\"url\":\"/me\",\"dependsOn\":[\"a\"]},"
		  "{\"id\":\"c\",\"method\":\"GET\",\"url\":\"/me\",\"dependsOn\":[\"b\"]},"
		  "{\"id\":\"d\",\"method\":\"GET\",\"url\":\"/me\"},{\"id\":\"e\",\"method\":\"GET\",\"url\":\"/me\"},"
		  "{\"id\":\"f\",\"method\":\"GET\",\"url\":\"/me\"},{\"id\":\"g\",\"method\":\"GET\",\"url\":\"/me\"}]}",
		  &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	assert_int_equal(latency_ms_total(&s->h) - before, 300);
	/* strict (the default): items beyond four are refused at once */
	sim_admin(&s->h, "POST", "/_sim/config", "{\"batch_concurrency_strict\":true}", &r);
	sim_http_free(&r);
	before = latency_ms_total(&s->h);
	sim_graph(&s->h, "POST", s->at, "/v1.0/$batch", body, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	assert_int_equal(latency_ms_total(&s->h) - before, 100);
	assert_int_equal(sim_session_stop(s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_schedule_is_outlooks),
		cmocka_unit_test(test_jitter_stays_in_range),
		cmocka_unit_test(test_requests_wait_admin_does_not),
		cmocka_unit_test(test_held_answers_overlap),
		cmocka_unit_test(test_batch_waits_for_its_schedule),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
