/*
 * test_sim_delta.c — per-folder messages/delta over real HTTP: paging to a
 * deltaLink (newest first, page sizes from Prefer on every request),
 * changes made by another client seen in the next round (create, update,
 * move as @removed + add, delete), no loss while the mailbox changes in
 * the middle of a round (the client's copy equals the dump), 410 on expired
 * or forgotten tokens, the $filter cap, ImmutableId vs REST ids on move,
 * and folder delta.
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

#define IMM "IdType=\"ImmutableId\""


static int setup(void **state)
{
	*state = sim_session_start((const char *[]){ "--quiet", "--messages", "600", "--seed", "11", NULL });
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	assert_int_equal(sim_session_stop(*state), 0);
	return 0;
}

static json_t *admin_json(struct sim_harness *h, const char *method, const char *path,
			  const char *body)
{
	struct sim_http r;
	json_t *j;

	assert_int_equal(sim_admin(h, method, path, body, &r), 0);
	if (r.status >= 300)
		fprintf(stderr, "admin %s %s -> %ld %s\n", method, path, r.status, r.body);
	assert_true(r.status < 300);
	j = json_incref(r.json);
	sim_http_free(&r);
	return j;
}

/* Ids the dump says are in `folder`. */
static json_t *dump_ids(struct sim_harness *h, const char *folder)
{
	char path[200];
	json_t *d, *set = json_object(), *m;
	size_t i;

	snprintf(path, sizeof(path), "/_sim/mailboxes/adele@contoso.com/messages?folder=%s", folder);
	d = admin_json(h, "GET", path, NULL);
	json_array_foreach(json_object_get(d, "messages"), i, m)
		json_object_set_new(set, json_string_value(json_object_get(m, "id")), json_true());
	json_decref(d);
	return set;
}

/* Apply one delta page to the client's set; returns the next link and
 * sets *is_delta when it is the deltaLink. */
static char *apply_page(const struct sim_http *r, json_t *set, bool *is_delta, long max_page)
{
	json_t *v;
	size_t i;
	const char *next = json_string_value(json_object_get(r->json, "@odata.nextLink"));
	const char *delta = json_string_value(json_object_get(r->json, "@odata.deltaLink"));

	assert_int_equal(r->status, 200);
	assert_true(json_array_size(json_object_get(r->json, "value")) <= (size_t)max_page);
	json_array_foreach(json_object_get(r->json, "value"), i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));

		assert_non_null(id);
		if (json_object_get(v, "@removed"))
			json_object_del(set, id);
		else
			json_object_set_new(set, id, json_true());
	}
	assert_true((next != NULL) != (delta != NULL));
	*is_delta = delta != NULL;
	return strdup(next ? next : delta);
}

typedef void between_fn(struct sim_session *c, int page);

/* Follow links from `start` to the end of the round. */
static char *round_trip(struct sim_session *c, const char *start, json_t *set, long pagesize,
			between_fn *between, int *pages)
{
	char prefer[100], *link = strdup(start);
	bool done = false;
	int n = 0;

	snprintf(prefer, sizeof(prefer), "odata.maxpagesize=%ld, " IMM, pagesize);
	while (!done) {
		struct sim_http r;
		char *next;

		assert_int_equal(sim_get(&c->h, c->at, link, prefer, &r), 0);
		if (r.status != 200)
			fprintf(stderr, "GET %s -> %ld %s\n", link, r.status, r.body);
		next = apply_page(&r, set, &done, pagesize);
		sim_http_free(&r);
		free(link);
		link = next;
		if (!done && between)
			between(c, n);
		n++;
	}
	if (pages)
		*pages = n;
	return link;
}

static void assert_same_set(json_t *a, json_t *b)
{
	const char *k;
	json_t *v;

	json_object_foreach(a, k, v)
		if (!json_object_get(b, k))
			fail_msg("client has %s, the server does not", k);
	json_object_foreach(b, k, v)
		if (!json_object_get(a, k))
			fail_msg("server has %s, the client lost it", k);
}

static void test_initial_round_newest_first(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	json_t *set = json_object(), *truth = dump_ids(&c->h, "inbox");
	char *delta;
	int pages = 0;
	const char *prev = NULL;
	char prevbuf[40] = "";
	char *next;
	bool done = false;

	/* newest first across pages */
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages/delta?$select=subject,receivedDateTime&$orderby=receivedDateTime%20desc",
		"odata.maxpagesize=37, " IMM, &r);
	next = NULL;
	while (1) {
		json_t *v;
		size_t i;

		json_array_foreach(json_object_get(r.json, "value"), i, v) {
			const char *t = json_string_value(json_object_get(v, "receivedDateTime"));

			assert_non_null(json_object_get(v, "subject"));
			assert_null(json_object_get(v, "body"));
			if (prevbuf[0])
				assert_true(strcmp(t, prevbuf) <= 0);
			snprintf(prevbuf, sizeof(prevbuf), "%s", t);
		}
		free(next);
		next = apply_page(&r, set, &done, 37);
		sim_http_free(&r);
		pages++;
		if (done)
			break;
		/* page size can be changed on every follow-up */
		sim_get(&c->h, c->at, next, "odata.maxpagesize=37, " IMM, &r);
	}
	(void)prev;
	assert_true(pages > 3);
	assert_same_set(set, truth);
	free(next);
	json_decref(set);
	json_decref(truth);

	/* and with ImmutableId, page size 100, default order */
	set = json_object();
	truth = dump_ids(&c->h, "inbox");
	delta = round_trip(c, "/v1.0/me/mailFolders/inbox/messages/delta?$select=id", set, 100, NULL, &pages);
	assert_same_set(set, truth);
	assert_non_null(strstr(delta, "%24deltatoken="));
	free(delta);
	json_decref(set);
	json_decref(truth);
}

static void test_changes_in_next_round(void **state)
{
	struct sim_session *c = *state;
	json_t *set = json_object(), *truth, *m, *msgs, *moved_out, *resp;
	char *delta, *delta2, path[400], body[300];
	const char *new_id, *read_id, *move_id, *del_id;
	struct sim_http r;
	size_t i;
	bool saw_new = false, saw_read = false, saw_move = false, saw_del = false;

	delta = round_trip(c, "/v1.0/me/mailFolders/inbox/messages/delta?$select=subject,isRead", set,
			   200, NULL, NULL);
	msgs = admin_json(&c->h, "GET", "/_sim/mailboxes/adele@contoso.com/messages?folder=inbox", NULL);
	read_id = json_string_value(json_object_get(json_array_get(json_object_get(msgs, "messages"), 5), "id"));
	move_id = json_string_value(json_object_get(json_array_get(json_object_get(msgs, "messages"), 6), "id"));
	del_id = json_string_value(json_object_get(json_array_get(json_object_get(msgs, "messages"), 7), "id"));
	/* another client: new mail, mark read, move to Archive; Graph delete */
	resp = admin_json(&c->h, "POST", "/_sim/mailboxes/adele@contoso.com/messages",
			  "{\"subject\":\"Fresh mail\",\"from\":\"alexw@fabrikam.com\",\"body\":\"hi\"}");
	new_id = json_string_value(json_object_get(resp, "id"));
	snprintf(path, sizeof(path), "/_sim/mailboxes/adele@contoso.com/messages/%s", read_id);
	json_decref(admin_json(&c->h, "PATCH", path, "{\"isRead\":true,\"flag\":\"flagged\"}"));
	snprintf(path, sizeof(path), "/_sim/mailboxes/adele@contoso.com/messages/%s/move", move_id);
	json_decref(admin_json(&c->h, "POST", path, "{\"folder\":\"archive\"}"));
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s", del_id);
	sim_graph(&c->h, "DELETE", c->at, path, NULL, &r);
	assert_int_equal(r.status, 204);
	sim_http_free(&r);

	sim_get(&c->h, c->at, delta, "odata.maxpagesize=100, " IMM, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(json_object_get(r.json, "@odata.deltaLink"));
	json_array_foreach(json_object_get(r.json, "value"), i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));
		bool removed = json_object_get(m, "@removed") != NULL;

		if (strcmp(id, new_id) == 0 && !removed) {
			saw_new = true;
			assert_string_equal(json_string_value(json_object_get(m, "subject")), "Fresh mail");
		}
		if (strcmp(id, read_id) == 0 && !removed) {
			saw_read = true;
			assert_true(json_is_true(json_object_get(m, "isRead")));
		}
		if (strcmp(id, move_id) == 0 && removed)
			saw_move = true;
		if (strcmp(id, del_id) == 0 && removed)
			saw_del = true;
	}
	assert_true(saw_new && saw_read && saw_move && saw_del);
	free(delta);
	{
		bool is_delta = false;

		delta = apply_page(&r, set, &is_delta, 100);
		assert_true(is_delta);
	}
	sim_http_free(&r);

	/* the move shows as an add in Archive's next round, same immutable id */
	moved_out = json_object();
	delta2 = round_trip(c, "/v1.0/me/mailFolders/archive/messages/delta?$select=id", moved_out, 500,
			    NULL, NULL);
	assert_non_null(json_object_get(moved_out, move_id));
	json_decref(moved_out);
	snprintf(path, sizeof(path), "/_sim/mailboxes/adele@contoso.com/messages/%s/move", move_id);
	json_decref(admin_json(&c->h, "POST", path, "{\"folder\":\"inbox\"}"));
	moved_out = json_object();
	json_object_set_new(moved_out, move_id, json_true());
	free(round_trip(c, delta2, moved_out, 500, NULL, NULL));
	assert_null(json_object_get(moved_out, move_id));
	json_decref(moved_out);
	free(delta2);

	/* the client's copy equals the truth after applying rounds */
	free(round_trip(c, delta, set, 100, NULL, NULL));
	truth = dump_ids(&c->h, "inbox");
	assert_same_set(set, truth);
	json_decref(truth);
	free(delta);
	json_decref(set);
	json_decref(msgs);
	json_decref(resp);
	(void)body;
}

/* Mutations made between pages of a round. */
static void churn(struct sim_session *c, int page)
{
	json_t *msgs = admin_json(&c->h, "GET", "/_sim/mailboxes/adele@contoso.com/messages?folder=inbox", NULL);
	json_t *list = json_object_get(msgs, "messages");
	size_t n = json_array_size(list);
	char path[300];
	const char *id;

	if (n < 20) {
		json_decref(msgs);
		return;
	}
	/* newest message moves away, an old one is deleted, mail arrives,
	 * something comes back from Archive */
	id = json_string_value(json_object_get(json_array_get(list, n - 1 - (size_t)page % 5), "id"));
	snprintf(path, sizeof(path), "/_sim/mailboxes/adele@contoso.com/messages/%s/move", id);
	json_decref(admin_json(&c->h, "POST", path, "{\"folder\":\"archive\"}"));
	id = json_string_value(json_object_get(json_array_get(list, (size_t)page * 3 % n), "id"));
	snprintf(path, sizeof(path), "/_sim/mailboxes/adele@contoso.com/messages/%s?permanent=true", id);
	{
		struct sim_http r;

		sim_admin(&c->h, "DELETE", path, NULL, &r);
		sim_http_free(&r);
	}
	json_decref(admin_json(&c->h, "POST", "/_sim/mailboxes/adele@contoso.com/messages",
			       "{\"subject\":\"during the round\",\"receivedDateTime\":\"2024-06-01T10:00:00Z\"}"));
	id = json_string_value(json_object_get(json_array_get(list, ((size_t)page * 3 + 1) % n), "id"));
	snprintf(path, sizeof(path), "/_sim/mailboxes/adele@contoso.com/messages/%s", id);
	json_decref(admin_json(&c->h, "PATCH", path, "{\"isRead\":false}"));
	json_decref(msgs);
}

static void test_no_loss_while_changing(void **state)
{
	struct sim_session *c = *state;
	json_t *set = json_object(), *truth;
	char *delta;

	delta = round_trip(c, "/v1.0/me/mailFolders/inbox/messages/delta?$orderby=receivedDateTime%20desc&$select=id",
			   set, 25, churn, NULL);
	for (int i = 0; i < 3; i++) {
		char *next = round_trip(c, delta, set, 7, i < 2 ? churn : NULL, NULL);

		free(delta);
		delta = next;
	}
	truth = dump_ids(&c->h, "inbox");
	assert_same_set(set, truth);
	json_decref(truth);
	json_decref(set);
	free(delta);
}

static void assert_410(struct sim_session *c, const char *link)
{
	struct sim_http r;
	const char *msg;

	sim_get(&c->h, c->at, link, NULL, &r);
	assert_int_equal(r.status, 410);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
			    "SyncStateNotFound");
	msg = json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
	assert_non_null(strstr(msg, "generation="));
	sim_http_free(&r);
}

static void test_expired_tokens_410(void **state)
{
	struct sim_session *c = *state;
	json_t *set = json_object();
	struct sim_http r;
	char *delta, *skip;

	delta = round_trip(c, "/v1.0/me/mailFolders/inbox/messages/delta", set, 200, NULL, NULL);
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages/delta", "odata.maxpagesize=5", &r);
	skip = strdup(json_string_value(json_object_get(r.json, "@odata.nextLink")));
	sim_http_free(&r);
	json_decref(admin_json(&c->h, "POST", "/_sim/mailboxes/adele@contoso.com/expire-delta",
			       "{\"folder\":\"inbox\"}"));
	assert_410(c, delta);
	assert_410(c, skip);
	free(delta);
	free(skip);
	/* other folders are untouched; a new round works */
	json_decref(set);
	set = json_object();
	delta = round_trip(c, "/v1.0/me/mailFolders/inbox/messages/delta", set, 200, NULL, NULL);

	/* forgotten history: older than the retained change log */
	json_decref(admin_json(&c->h, "POST", "/_sim/config", "{\"delta_history_seconds\":1}"));
	json_decref(admin_json(&c->h, "POST", "/_sim/mailboxes/adele@contoso.com/messages",
			       "{\"subject\":\"one\"}"));
	sleep(2);
	json_decref(admin_json(&c->h, "POST", "/_sim/mailboxes/adele@contoso.com/messages",
			       "{\"subject\":\"two\"}"));
	assert_410(c, delta);
	json_decref(admin_json(&c->h, "POST", "/_sim/config", "{\"delta_history_seconds\":2592000}"));
	free(delta);

	/* garbage tokens are 400, not a crash */
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages/delta?$deltatoken=AAAA", NULL, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
			    "ErrorInvalidSyncStateData");
	sim_http_free(&r);
	json_decref(set);
}

static void test_filter_cap_and_bad_options(void **state)
{
	struct sim_session *c = *state;
	json_t *set = json_object();
	struct sim_http r;
	char *delta;
	int pages;

	json_decref(admin_json(&c->h, "POST", "/_sim/config", "{\"delta_filter_cap\":30}"));
	delta = round_trip(c, "/v1.0/me/mailFolders/inbox/messages/delta?$filter=receivedDateTime%20ge%202000-01-01T00:00:00Z",
			   set, 8, NULL, &pages);
	assert_int_equal(json_object_size(set), 30);
	free(delta);
	json_decref(set);
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages/delta?$filter=isRead%20eq%20true", NULL, &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages/delta?$orderby=subject", NULL, &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages/delta?$select=nonsense", NULL, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(json_object_get(json_object_get(r.json, "error"), "innerError"));
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/nosuchfolder/messages/delta", NULL, &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
}

static void test_immutable_vs_rest_ids_on_move(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	char path[400], *rest_id, *imm_id, *new_rest;
	const char *pid;

	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages?$top=1&$select=id", NULL, &r);
	rest_id = strdup(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "value"), 0), "id")));
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s?$select=id", rest_id);
	sim_get(&c->h, c->at, path, IMM, &r);
	imm_id = strdup(json_string_value(json_object_get(r.json, "id")));
	sim_http_free(&r);
	assert_string_not_equal(rest_id, imm_id);
	/* move without ImmutableId: the answer carries a new REST id */
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/move", rest_id);
	sim_graph(&c->h, "POST", c->at, path, "{\"destinationId\":\"archive\"}", &r);
	assert_int_equal(r.status, 201);
	new_rest = strdup(json_string_value(json_object_get(r.json, "id")));
	assert_string_not_equal(new_rest, rest_id);
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s", rest_id);
	sim_get(&c->h, c->at, path, NULL, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
			    "ErrorItemNotFound");
	sim_http_free(&r);
	/* the immutable id survives and shows the new parent */
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s?$select=id,parentFolderId", imm_id);
	sim_get(&c->h, c->at, path, IMM, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "id")), imm_id);
	pid = json_string_value(json_object_get(r.json, "parentFolderId"));
	{
		struct sim_http f;

		sim_get(&c->h, c->at, "/v1.0/me/mailFolders/archive?$select=id", NULL, &f);
		assert_string_equal(json_string_value(json_object_get(f.json, "id")), pid ? pid : "");
		sim_http_free(&f);
	}
	sim_http_free(&r);
	/* move back with ImmutableId: same id in the answer */
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/move", new_rest);
	{
		char auth[400];
		const char *hdrs[] = { "Content-Type: application/json", auth, "Prefer: " IMM, NULL };

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->at);
		sim_request(&c->h, "POST", path, hdrs, "{\"destinationId\":\"inbox\"}", 25, &r);
	}
	assert_int_equal(r.status, 201);
	assert_string_equal(json_string_value(json_object_get(r.json, "id")), imm_id);
	sim_http_free(&r);
	/* translateExchangeIds both ways; a stale REST id is not found */
	{
		char body[400];

		snprintf(body, sizeof(body), "{\"inputIds\":[\"%s\",\"%s\"],\"sourceIdType\":\"restImmutableEntryId\",\"targetIdType\":\"restId\"}",
			 imm_id, rest_id);
		sim_graph(&c->h, "POST", c->at, "/v1.0/me/translateExchangeIds", body, &r);
		assert_int_equal(r.status, 200);
		assert_non_null(json_object_get(json_array_get(json_object_get(r.json, "value"), 0), "targetId"));
		assert_non_null(json_object_get(json_array_get(json_object_get(r.json, "value"), 1), "errorDetails"));
		sim_http_free(&r);
	}
	/* malformed id */
	sim_get(&c->h, c->at, "/v1.0/me/messages/not-an-id", NULL, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
			    "ErrorInvalidIdMalformed");
	sim_http_free(&r);
	free(rest_id);
	free(imm_id);
	free(new_rest);
}

static void test_folder_delta(void **state)
{
	struct sim_session *c = *state;
	json_t *set = json_object(), *f, *created;
	struct sim_http r;
	char *delta, path[300];
	const char *fid;
	bool saw = false;
	size_t i;

	delta = round_trip(c, "/v1.0/me/mailFolders/delta", set, 3, NULL, NULL);
	assert_true(json_object_size(set) >= 7);
	created = admin_json(&c->h, "POST", "/_sim/mailboxes/adele@contoso.com/folders",
			     "{\"displayName\":\"Receipts\",\"parent\":\"inbox\"}");
	fid = json_string_value(json_object_get(created, "id"));
	sim_get(&c->h, c->at, delta, NULL, &r);
	json_array_foreach(json_object_get(r.json, "value"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "displayName")) ?
			   json_string_value(json_object_get(f, "displayName")) : "", "Receipts") == 0)
			saw = true;
	assert_true(saw);
	free(delta);
	delta = strdup(json_string_value(json_object_get(r.json, "@odata.deltaLink")));
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/_sim/mailboxes/adele@contoso.com/folders/%s", fid);
	assert_int_equal(sim_admin(&c->h, "DELETE", path, NULL, &r), 0);
	assert_int_equal(r.status, 204);
	sim_http_free(&r);
	sim_get(&c->h, c->at, delta, NULL, &r);
	saw = false;
	json_array_foreach(json_object_get(r.json, "value"), i, f)
		if (json_object_get(f, "@removed"))
			saw = true;
	assert_true(saw);
	sim_http_free(&r);
	free(delta);
	json_decref(set);
	json_decref(created);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_round_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_in_next_round, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_loss_while_changing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_tokens_410, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_cap_and_bad_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_immutable_vs_rest_ids_on_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_delta, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
