/*
 * test_sim_faults.c — m365sim's fault switches and admin API: 429 / 503 /
 * 500 for K requests or T seconds, dropped connections mid-body, slow
 * bodies, malformed and oversized bodies, mailbox-scoped faults, faults on
 * the token endpoint, counters, the state dump, admin mail actions, and
 * garbage requests that must get error bodies, never a crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include "sim_harness.h"


static int setup(void **state)
{
	*state = sim_session_start((const char *[]){ "--quiet", "--messages", "200", NULL });
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	assert_int_equal(sim_session_stop(*state), 0);
	return 0;
}

static void fault(struct sim_session *c, const char *json)
{
	struct sim_http r;

	assert_int_equal(sim_admin(&c->h, "POST", "/_sim/faults", json, &r), 0);
	if (r.status != 201)
		fprintf(stderr, "fault %s -> %ld %s\n", json, r.status, r.body);
	assert_int_equal(r.status, 201);
	sim_http_free(&r);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void test_status_faults(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	char *ra;

	fault(c, "{\"kind\":\"429\",\"path\":\"/mailFolders\",\"count\":2,\"retry_after\":7}");
	for (int i = 0; i < 2; i++) {
		sim_get(&c->h, c->at, "/v1.0/me/mailFolders", NULL, &r);
		assert_int_equal(r.status, 429);
		ra = sim_http_header(&r, "Retry-After");
		assert_string_equal(ra, "7");
		free(ra);
		assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
				    "ApplicationThrottled");
		sim_http_free(&r);
	}
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders", NULL, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);    /* other paths untouched */
	assert_int_equal(r.status, 200);
	sim_http_free(&r);

	fault(c, "{\"kind\":\"503\",\"seconds\":2,\"retry_after\":1}");
	sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 503);
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 503);
	sim_http_free(&r);
	sim_admin(&c->h, "GET", "/_sim/faults", NULL, &r);        /* admin is never faulted */
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "faults")), 1);
	sim_http_free(&r);
	sleep(3);
	sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);

	fault(c, "{\"kind\":500}");
	sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 500);
	assert_non_null(json_object_get(json_object_get(r.json, "error"), "innerError"));
	sim_http_free(&r);

	/* mailbox-scoped: bob's requests only */
	fault(c, "{\"kind\":\"503\",\"mailbox\":\"bob@contoso.com\",\"count\":5}");
	sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	sim_admin(&c->h, "DELETE", "/_sim/faults", NULL, &r);
	sim_http_free(&r);

	/* the token endpoint answers faults in the identity platform's shape */
	fault(c, "{\"kind\":\"503\",\"path\":\"/oauth2/v2.0/token\",\"count\":1}");
	sim_post_form(&c->h, "/common/oauth2/v2.0/token", "grant_type=refresh_token", &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(json_string_value(json_object_get(r.json, "error")), "temporarily_unavailable");
	sim_http_free(&r);

	/* bad fault specs */
	sim_admin(&c->h, "POST", "/_sim/faults", "{\"kind\":\"explode\"}", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	sim_admin(&c->h, "POST", "/_sim/faults", "{\"kind\":\"429\",\"count\":-1}", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
}

static void test_body_faults(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	long t0;

	fault(c, "{\"kind\":\"drop\",\"path\":\"/messages\",\"count\":1,\"bytes\":100}");
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages?$top=20", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.curl_code, CURLE_PARTIAL_FILE);
	assert_int_equal(r.len, 100);
	assert_null(r.json);
	sim_http_free(&r);

	fault(c, "{\"kind\":\"slow\",\"path\":\"/mailFolders\",\"count\":1,\"delay_ms\":250,\"bytes\":200}");
	t0 = now_ms();
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders", NULL, &r);
	assert_true(now_ms() - t0 >= 750);
	assert_int_equal(r.status, 200);
	assert_non_null(r.json);
	sim_http_free(&r);

	fault(c, "{\"kind\":\"malformed\",\"count\":1}");
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(r.len > 0);
	assert_null(r.json);
	sim_http_free(&r);

	fault(c, "{\"kind\":\"oversized\",\"count\":1,\"bytes\":5000000}");
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 5000000);
	assert_non_null(r.json);
	sim_http_free(&r);

	sim_admin(&c->h, "GET", "/_sim/counters", NULL, &r);
	assert_true(json_integer_value(json_object_get(json_object_get(r.json, "events"), "faults")) >= 4);
	assert_true(json_integer_value(json_object_get(r.json, "bytes_out")) >= 5000000);
	sim_http_free(&r);
}

static void test_admin_mail_and_dump(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	json_t *f, *m;
	size_t i;
	long inbox_total = -1, inbox_unread = -1, counted = 0;
	char path[300], fpath[300], *id;

	sim_admin(&c->h, "GET", "/_sim/mailboxes/adele@contoso.com/dump", NULL, &r);
	assert_int_equal(r.status, 200);
	json_array_foreach(json_object_get(r.json, "folders"), i, f) {
		assert_non_null(json_object_get(f, "id"));
		assert_non_null(json_object_get(f, "path"));
		if (strcmp(json_string_value(json_object_get(f, "path")), "Inbox") == 0) {
			inbox_total = (long)json_integer_value(json_object_get(f, "total"));
			inbox_unread = (long)json_integer_value(json_object_get(f, "unread"));
			assert_string_equal(json_string_value(json_object_get(f, "wellKnownName")), "inbox");
		}
		if (strcmp(json_string_value(json_object_get(f, "path")), "Inbox/Projects") == 0)
			assert_true(json_integer_value(json_object_get(f, "total")) > 0);
	}
	json_array_foreach(json_object_get(r.json, "messages"), i, m) {
		for (const char *const *k = (const char *const[]){ "id", "folderId", "folderPath", "internetMessageId",
			"conversationId", "subject", "isRead", "flag", "receivedDateTime", NULL }; *k; k++)
			if (!json_object_get(m, *k))
				fail_msg("dump record lacks %s", *k);
		if (strcmp(json_string_value(json_object_get(m, "folderPath")), "Inbox") == 0)
			counted++;
	}
	assert_int_equal(counted, inbox_total);
	assert_int_equal(json_array_size(json_object_get(r.json, "messages")), 200);
	assert_true(inbox_unread >= 0);
	sim_http_free(&r);

	/* seeding more is deterministic and visible */
	sim_admin(&c->h, "POST", "/_sim/mailboxes/bob@contoso.com/seed", "{\"folder\":\"inbox\",\"count\":25,\"seed\":9}", &r);
	assert_int_equal(r.status, 201);
	sim_http_free(&r);
	sim_admin(&c->h, "GET", "/_sim/mailboxes/bob@contoso.com/messages?folder=inbox", NULL, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "messages")), 25);
	sim_http_free(&r);

	/* folders by path; new mail into it; rename; delete */
	sim_admin(&c->h, "POST", "/_sim/mailboxes/adele@contoso.com/folders",
		  "{\"displayName\":\"Clients\",\"parent\":\"Inbox/Projects\"}", &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(json_string_value(json_object_get(r.json, "path")), "Inbox/Projects/Clients");
	snprintf(fpath, sizeof(fpath), "/_sim/mailboxes/adele@contoso.com/folders/%s",
		 json_string_value(json_object_get(r.json, "id")));
	sim_http_free(&r);
	sim_admin(&c->h, "POST", "/_sim/mailboxes/adele@contoso.com/messages",
		  "{\"folder\":\"Inbox/Projects/Clients\",\"subject\":\"Kickoff\",\"from\":{\"name\":\"Lee\",\"address\":\"leeg@adatum.com\"},"
		  "\"receivedDateTime\":\"2024-03-01T09:00:00Z\",\"isRead\":true}", &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(json_string_value(json_object_get(r.json, "receivedDateTime")), "2024-03-01T09:00:00Z");
	assert_string_equal(json_string_value(json_object_get(r.json, "folderPath")), "Inbox/Projects/Clients");
	id = strdup(json_string_value(json_object_get(r.json, "id")));
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/_sim/mailboxes/adele@contoso.com/messages/%s/move", id);
	sim_admin(&c->h, "POST", path, "{\"folder\":\"junkemail\"}", &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/_sim/mailboxes/adele@contoso.com/messages/%s", id);
	sim_admin(&c->h, "DELETE", path, NULL, &r);
	assert_int_equal(r.status, 204);
	sim_http_free(&r);
	sim_admin(&c->h, "PATCH", fpath, "{\"displayName\":\"Customers\"}", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "path")), "Inbox/Projects/Customers");
	sim_http_free(&r);
	sim_admin(&c->h, "DELETE", fpath, NULL, &r);
	assert_int_equal(r.status, 204);
	sim_http_free(&r);
	free(id);

	/* admin errors */
	sim_admin(&c->h, "GET", "/_sim/mailboxes/nobody@contoso.com/dump", NULL, &r);
	assert_int_equal(r.status, 404);
	sim_http_free(&r);
	sim_admin(&c->h, "POST", "/_sim/config", "{\"no_such_setting\":1}", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	sim_admin(&c->h, "POST", "/_sim/config", "{broken", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	sim_admin(&c->h, "GET", "/_sim/nothing", NULL, &r);
	assert_int_equal(r.status, 404);
	sim_http_free(&r);
	sim_admin(&c->h, "POST", "/_sim/counters/reset", NULL, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	sim_admin(&c->h, "GET", "/_sim/counters", NULL, &r);
	assert_true(json_integer_value(json_object_get(r.json, "requests_total")) <= 1); /* the reset itself */
	sim_http_free(&r);
}

static void test_garbage_requests(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	static const char *const paths[] = {
		"/v1.0/me/messages/%00%ff", "/v1.0/me/mailFolders/%27%27/messages",
		"/v1.0/me/messages?$filter=", "/v1.0/me/messages?$filter=receivedDateTime",
		"/v1.0/me/messages?$filter=receivedDateTime%20ge%20'", "/v1.0/me/messages?$top=-1",
		"/v1.0/me/messages?$skip=x", "/v1.0/me/mailFolders/inbox/messages/delta?$skiptoken=%%%",
		"/v1.0/me/messages/AAMkAAAAAADnAwAAAAAAAFiGmS6Gw31arfGZyTc=/attachments/zzz",
		"/v1.0/me/mailFolders('')", "/v1.0/", "/v1.0/me/messages//////x", "/common/oauth2/v2.0/",
		"/common/oauth2/v2.0/authorize", "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
		NULL,
	};
	static const char *const bodies[] = {
		"", "{", "[]", "null", "{\"message\":[]}", "{\"requests\":{}}",
		"{\"requests\":[{\"id\":1,\"method\":\"GET\",\"url\":\"/me\"}]}",
		"{\"displayName\":123}", "{\"destinationId\":null}", "\x01\x02\x03", NULL,
	};
	static const char *const posts[] = {
		"/v1.0/me/sendMail", "/v1.0/$batch", "/v1.0/me/mailFolders", "/v1.0/me/messages",
		"/_sim/faults", "/_sim/users", "/_sim/apps", "/_sim/mailboxes/adele@contoso.com/seed",
		"/_sim/mailboxes/adele@contoso.com/messages", NULL,
	};

	for (size_t i = 0; paths[i]; i++) {
		sim_get(&c->h, c->at, paths[i], NULL, &r);
		assert_true(r.status >= 200 && r.status < 600);
		if (r.status >= 400 && r.status != 404 && strncmp(paths[i], "/common", 7) != 0)
			assert_non_null(json_object_get(r.json, "error"));
		sim_http_free(&r);
	}
	for (size_t p = 0; posts[p]; p++)
		for (size_t b = 0; bodies[b]; b++) {
			sim_graph(&c->h, "POST", c->at, posts[p], bodies[b], &r);
			if (r.status < 400) {
				sim_http_free(&r);
				continue;   /* some are legitimately accepted */
			}
			if (!json_object_get(r.json, "error"))
				fail_msg("POST %s with '%s' gave %ld without an error body", posts[p], bodies[b], r.status);
			sim_http_free(&r);
		}
	/* still alive */
	sim_get(&c->h, c->at, "/v1.0/me", NULL, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_mail_and_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_requests, setup, teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
