/*
 * test_sim_mail.c — reading and changing mail through Graph on m365sim:
 * folders (list with paging and hidden folders, child folders, create,
 * rename, delete, well-known names), message listing ($top, $skip,
 * $select, $orderby, $filter by date / internetMessageId, $count), single
 * get, deterministic $value MIME, attachments, PATCH (isRead, flag,
 * categories, If-Match), move, copy, DELETE to Deleted Items and gone,
 * permanentDelete.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "sim_harness.h"

#define IMM "IdType=\"ImmutableId\""


static int setup(void **state)
{
	*state = sim_session_start((const char *[]){ "--quiet", "--messages", "400", "--seed", "5", NULL });
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	assert_int_equal(sim_session_stop(*state), 0);
	return 0;
}

static const char *err_code(const struct sim_http *r)
{
	return json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
}

static void test_folders(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	char *next, path[300], *fid;
	size_t n = 0;
	json_t *f;
	size_t i;

	sim_get(&c->h, c->at, "/v1.0/me/mailFolders?$top=4", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "value")), 4);
	n += 4;
	next = strdup(json_string_value(json_object_get(r.json, "@odata.nextLink")));
	json_array_foreach(json_object_get(r.json, "value"), i, f) {
		assert_non_null(json_object_get(f, "childFolderCount"));
		assert_non_null(json_object_get(f, "totalItemCount"));
		assert_non_null(json_object_get(f, "unreadItemCount"));
		assert_non_null(json_object_get(f, "parentFolderId"));
		assert_true(json_is_false(json_object_get(f, "isHidden")));
	}
	sim_http_free(&r);
	sim_get(&c->h, c->at, next, NULL, &r);
	n += json_array_size(json_object_get(r.json, "value"));
	assert_null(json_object_get(r.json, "@odata.nextLink"));
	assert_int_equal(n, 6);
	sim_http_free(&r);
	free(next);

	/* well-known names work as ids; Inbox has the seeded child folder */
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox", NULL, &r);
	assert_string_equal(json_string_value(json_object_get(r.json, "displayName")), "Inbox");
	assert_int_equal(json_integer_value(json_object_get(r.json, "childFolderCount")), 1);
	assert_true(json_integer_value(json_object_get(r.json, "totalItemCount")) > 200);
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders('inbox')/childFolders", NULL, &r);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "value"), 0),
							      "displayName")), "Projects");
	sim_http_free(&r);

	/* create (hidden), duplicate, rename, delete */
	sim_graph(&c->h, "POST", c->at, "/v1.0/me/mailFolders/inbox/childFolders",
		  "{\"displayName\":\"Secret\",\"isHidden\":true}", &r);
	assert_int_equal(r.status, 201);
	fid = strdup(json_string_value(json_object_get(r.json, "id")));
	sim_http_free(&r);
	sim_graph(&c->h, "POST", c->at, "/v1.0/me/mailFolders/inbox/childFolders",
		  "{\"displayName\":\"secret\"}", &r);
	assert_int_equal(r.status, 409);
	assert_string_equal(err_code(&r), "ErrorFolderExists");
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/childFolders", NULL, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "value")), 1);
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/childFolders?includeHiddenFolders=true", NULL, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "value")), 2);
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/mailFolders/%s", fid);
	sim_graph(&c->h, "PATCH", c->at, path, "{\"displayName\":\"Renamed\"}", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "displayName")), "Renamed");
	sim_http_free(&r);
	sim_graph(&c->h, "DELETE", c->at, path, NULL, &r);
	assert_int_equal(r.status, 204);
	sim_http_free(&r);
	sim_get(&c->h, c->at, path, NULL, &r);
	assert_int_equal(r.status, 404);
	sim_http_free(&r);
	sim_graph(&c->h, "DELETE", c->at, "/v1.0/me/mailFolders/inbox", NULL, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(err_code(&r), "ErrorDeleteDistinguishedFolder");
	sim_http_free(&r);
	free(fid);
	/* $select on folders; unknown property */
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/sentitems?$select=displayName", NULL, &r);
	assert_null(json_object_get(r.json, "totalItemCount"));
	assert_non_null(json_object_get(r.json, "id"));
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/sentitems?$select=bogus", NULL, &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
}

static void test_listing(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r, r2;
	json_t *v, *m;
	size_t i;
	long total;
	char path[600], *esc, prev[40] = "";

	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages", NULL, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "value")), 10);  /* default $top */
	m = json_array_get(json_object_get(r.json, "value"), 0);
	for (const char *const *k = (const char *const[]){ "id", "@odata.etag", "changeKey", "conversationId",
		"conversationIndex", "internetMessageId", "subject", "bodyPreview", "body", "from", "sender",
		"toRecipients", "ccRecipients", "bccRecipients", "replyTo", "receivedDateTime", "sentDateTime",
		"createdDateTime", "lastModifiedDateTime", "isRead", "isDraft", "flag", "importance",
		"hasAttachments", "parentFolderId", "categories", NULL }; *k; k++)
		if (!json_object_get(m, *k))
			fail_msg("message lacks %s", *k);
	assert_null(json_object_get(m, "internetMessageHeaders"));
	assert_int_equal(strlen(json_string_value(json_object_get(m, "receivedDateTime"))), 20);
	sim_http_free(&r);

	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages?$top=50&$select=receivedDateTime,internetMessageHeaders&$count=true", NULL, &r);
	total = (long)json_integer_value(json_object_get(r.json, "@odata.count"));
	assert_true(total > 200);
	v = json_object_get(r.json, "value");
	json_array_foreach(v, i, m) {
		const char *t = json_string_value(json_object_get(m, "receivedDateTime"));

		assert_null(json_object_get(m, "subject"));
		assert_true(json_array_size(json_object_get(m, "internetMessageHeaders")) > 3);
		if (prev[0])
			assert_true(strcmp(t, prev) <= 0);   /* default: newest first */
		snprintf(prev, sizeof(prev), "%s", t);
	}
	sim_get(&c->h, c->at, json_string_value(json_object_get(r.json, "@odata.nextLink")), NULL, &r2);
	assert_int_equal(json_array_size(json_object_get(r2.json, "value")), 50);
	assert_true(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(r2.json, "value"), 0),
							     "receivedDateTime")), prev) <= 0);
	sim_http_free(&r2);
	sim_http_free(&r);

	/* ascending with a date window */
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages?$orderby=receivedDateTime%20asc&$top=1000"
		"&$filter=receivedDateTime%20ge%202024-01-01T00:00:00Z%20and%20receivedDateTime%20lt%202024-07-01T00:00:00Z&$select=receivedDateTime",
		NULL, &r);
	assert_int_equal(r.status, 200);
	prev[0] = '\0';
	json_array_foreach(json_object_get(r.json, "value"), i, m) {
		const char *t = json_string_value(json_object_get(m, "receivedDateTime"));

		assert_true(strcmp(t, "2024-01-01T00:00:00Z") >= 0 && strcmp(t, "2024-07-01T00:00:00Z") < 0);
		assert_true(strcmp(t, prev) >= 0);
		snprintf(prev, sizeof(prev), "%s", t);
	}
	assert_true(json_array_size(json_object_get(r.json, "value")) > 10);
	sim_http_free(&r);

	/* lookup by internetMessageId over the whole mailbox */
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/sentitems/messages?$top=1&$select=internetMessageId", NULL, &r);
	esc = sim_urlencode(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "value"), 0),
							      "internetMessageId")));
	snprintf(path, sizeof(path), "/v1.0/me/messages?$filter=internetMessageId%%20eq%%20'%s'&$select=id,parentFolderId", esc);
	free(esc);
	sim_http_free(&r);
	sim_get(&c->h, c->at, path, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "value")), 1);
	sim_http_free(&r);

	/* bad options are 400 with Graph's shape */
	for (const char *const *q = (const char *const[]){
		     "/v1.0/me/messages?$top=abc", "/v1.0/me/messages?$filter=subject%20eq%20'x'",
		     "/v1.0/me/messages?$orderby=subject", "/v1.0/me/messages?$select=nope",
		     "/v1.0/me/messages?$bogus=1", "/v1.0/me/messages?$filter=receivedDateTime%20ge%20yesterday",
		     NULL }; *q; q++) {
		sim_get(&c->h, c->at, *q, NULL, &r);
		if (r.status != 400)
			fail_msg("%s gave %ld", *q, r.status);
		assert_non_null(err_code(&r));
		assert_non_null(json_object_get(json_object_get(json_object_get(r.json, "error"), "innerError"),
						"request-id"));
		sim_http_free(&r);
	}
}

static char *first_id(struct sim_session *c, const char *folder, const char *extra, const char *prefer)
{
	struct sim_http r;
	char path[300];
	char *id;

	snprintf(path, sizeof(path), "/v1.0/me/mailFolders/%s/messages?$top=1&$select=id%s", folder,
		 extra ? extra : "");
	sim_get(&c->h, c->at, path, prefer, &r);
	assert_int_equal(r.status, 200);
	id = strdup(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "value"), 0), "id")));
	sim_http_free(&r);
	return id;
}

static void test_value_and_attachments(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r, r2;
	char path[600], *id = NULL;
	json_t *a;

	/* deterministic MIME */
	id = first_id(c, "inbox", NULL, IMM);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/$value", id);
	sim_get(&c->h, c->at, path, NULL, &r);
	sim_get(&c->h, c->at, path, NULL, &r2);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Message-Id: <"));
	assert_non_null(strstr(r.body, "MIME-Version: 1.0"));
	assert_int_equal(r.len, r2.len);
	assert_memory_equal(r.body, r2.body, r.len);
	sim_http_free(&r);
	sim_http_free(&r2);
	free(id);
	id = NULL;

	/* find a message with attachments */
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox/messages?$top=200&$select=hasAttachments", IMM, &r);
	{
		size_t i;
		json_t *m;

		json_array_foreach(json_object_get(r.json, "value"), i, m)
			if (json_is_true(json_object_get(m, "hasAttachments")) && !id)
				id = strdup(json_string_value(json_object_get(m, "id")));
	}
	sim_http_free(&r);
	assert_non_null(id);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/attachments?$select=id,name,contentType,size,isInline", id);
	sim_get(&c->h, c->at, path, IMM, &r);
	assert_int_equal(r.status, 200);
	a = json_array_get(json_object_get(r.json, "value"), 0);
	assert_non_null(a);
	assert_null(json_object_get(a, "contentBytes"));
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/attachments/%s/$value", id,
		 json_string_value(json_object_get(a, "id")));
	sim_get(&c->h, c->at, path, NULL, &r2);
	assert_int_equal(r2.status, 200);
	assert_int_equal(r2.len, json_integer_value(json_object_get(a, "size")));
	sim_http_free(&r2);
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s?$expand=attachments&$select=id,hasAttachments", id);
	sim_get(&c->h, c->at, path, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(json_array_size(json_object_get(r.json, "attachments")) > 0);
	assert_non_null(json_object_get(json_array_get(json_object_get(r.json, "attachments"), 0), "contentBytes"));
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/$value", id);
	sim_get(&c->h, c->at, path, NULL, &r);
	assert_non_null(strstr(r.body, "multipart/mixed"));
	assert_non_null(strstr(r.body, "Content-Disposition: attachment"));
	sim_http_free(&r);
	free(id);
}

static void test_patch_move_copy_delete(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;
	char path[600], *id = first_id(c, "inbox", "&$filter=isRead%20eq%20false", IMM), *etag, *copy_id;
	long unread_before, unread_after;

	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox?$select=unreadItemCount", NULL, &r);
	unread_before = (long)json_integer_value(json_object_get(r.json, "unreadItemCount"));
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s", id);
	sim_get(&c->h, c->at, path, IMM, &r);
	etag = strdup(json_string_value(json_object_get(r.json, "@odata.etag")));
	sim_http_free(&r);
	sim_graph(&c->h, "PATCH", c->at, path,
		  "{\"isRead\":true,\"flag\":{\"flagStatus\":\"flagged\"},\"categories\":[\"Red category\"]}", &r);
	assert_int_equal(r.status, 200);
	assert_true(json_is_true(json_object_get(r.json, "isRead")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "flag"), "flagStatus")), "flagged");
	assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "categories"), 0)), "Red category");
	assert_string_not_equal(json_string_value(json_object_get(r.json, "@odata.etag")), etag);
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me/mailFolders/inbox?$select=unreadItemCount", NULL, &r);
	unread_after = (long)json_integer_value(json_object_get(r.json, "unreadItemCount"));
	assert_int_equal(unread_after, unread_before - 1);
	sim_http_free(&r);
	/* stale If-Match */
	{
		char auth[400], im[200];
		const char *hdrs[] = { "Content-Type: application/json", auth, im, NULL };

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->at);
		snprintf(im, sizeof(im), "If-Match: %s", etag);
		sim_request(&c->h, "PATCH", path, hdrs, "{\"isRead\":false}", 16, &r);
		assert_int_equal(r.status, 412);
		sim_http_free(&r);
	}
	/* draft-only property on a received message; unknown property */
	sim_graph(&c->h, "PATCH", c->at, path, "{\"subject\":\"x\"}", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	sim_graph(&c->h, "PATCH", c->at, path, "{\"bogus\":1}", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	sim_graph(&c->h, "PATCH", c->at, path, "{not json", &r);
	assert_int_equal(r.status, 400);
	assert_non_null(err_code(&r));
	sim_http_free(&r);
	/* copy: new id, same internetMessageId */
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/copy", id);
	sim_graph(&c->h, "POST", c->at, path, "{\"destinationId\":\"archive\"}", &r);
	assert_int_equal(r.status, 201);
	copy_id = strdup(json_string_value(json_object_get(r.json, "id")));
	assert_string_not_equal(copy_id, id);
	sim_http_free(&r);
	/* DELETE moves to Deleted Items; again from there → gone */
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s", id);
	{
		char auth[400];
		const char *hdrs[] = { auth, "Prefer: " IMM, NULL };

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->at);
		sim_request(&c->h, "DELETE", path, hdrs, NULL, 0, &r);
		assert_int_equal(r.status, 204);
		sim_http_free(&r);
		sim_get(&c->h, c->at, path, IMM, &r);
		assert_int_equal(r.status, 200);
		sim_http_free(&r);
		sim_request(&c->h, "DELETE", path, hdrs, NULL, 0, &r);
		assert_int_equal(r.status, 204);
		sim_http_free(&r);
		sim_get(&c->h, c->at, path, IMM, &r);
		assert_int_equal(r.status, 404);
		sim_http_free(&r);
	}
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/permanentDelete", copy_id);
	sim_graph(&c->h, "POST", c->at, path, NULL, &r);
	assert_int_equal(r.status, 204);
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/move", copy_id);
	sim_graph(&c->h, "POST", c->at, path, "{\"destinationId\":\"inbox\"}", &r);
	assert_int_equal(r.status, 404);
	sim_http_free(&r);
	free(id);
	free(copy_id);
	free(etag);
}

static void test_users_path_and_unknown_routes(void **state)
{
	struct sim_session *c = *state;
	struct sim_http r;

	sim_get(&c->h, c->at, "/v1.0/users/adele@contoso.com/mailFolders/inbox?$select=displayName", NULL, &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/users/bob@contoso.com/mailFolders", NULL, &r);
	assert_int_equal(r.status, 403);
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/v1.0/me/calendars", NULL, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(err_code(&r));
	sim_http_free(&r);
	sim_get(&c->h, c->at, "/nothing/here", NULL, &r);
	assert_int_equal(r.status, 404);
	sim_http_free(&r);
	/* every response carries request-id and client-request-id */
	{
		char auth[400];
		const char *hdrs[] = { auth, "client-request-id: 0f0f0f0f-1111-2222-3333-444444444444", NULL };
		char *v;

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->at);
		sim_request(&c->h, "GET", "/v1.0/me", hdrs, NULL, 0, &r);
		v = sim_http_header(&r, "client-request-id");
		assert_string_equal(v, "0f0f0f0f-1111-2222-3333-444444444444");
		free(v);
		v = sim_http_header(&r, "request-id");
		assert_non_null(v);
		free(v);
		v = sim_http_header(&r, "Date");
		assert_non_null(v);
		free(v);
		sim_http_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_and_attachments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patch_move_copy_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users_path_and_unknown_routes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
