/*
 * test_sim_send.c — sending through Graph on m365sim: sendMail (JSON and
 * base64 MIME) → 202 with a Sent Items copy carrying the same
 * internetMessageId and delivery to sim recipients (same conversation),
 * outside recipients in the sent log; saveToSentItems false; drafts that
 * keep their immutable id when sent; createReply / reply staying in the
 * conversation; invalid recipients, missing Mail.Send, size limits.
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
#include <sodium.h>
#include "sim_harness.h"

#define IMM "IdType=\"ImmutableId\""

struct ctx {
	struct sim_harness h;
	char *adele, *bob;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c || sim_start(&c->h, (const char *[]){ "--quiet", "--messages", "50", NULL }) < 0 ||
	    sim_login(&c->h, "adele@contoso.com", NULL, &c->adele, NULL) < 0 ||
	    sim_login(&c->h, "bob@contoso.com", NULL, &c->bob, NULL) < 0)
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(sim_stop(&c->h), 0);
	free(c->adele);
	free(c->bob);
	free(c);
	return 0;
}

/* POST with a bearer token, JSON body and the ImmutableId preference. */
static void post(struct ctx *c, const char *token, const char *path, const char *body,
		 struct sim_http *r)
{
	char auth[400];
	const char *hdrs[] = { "Content-Type: application/json", auth, "Prefer: " IMM, NULL };

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	sim_request(&c->h, "POST", path, hdrs, body, body ? strlen(body) : 0, r);
}

/* Messages of `folder` whose internetMessageId is imid (array, new ref). */
static json_t *find_imid(struct ctx *c, const char *token, const char *folder, const char *imid)
{
	char path[600], *esc = sim_urlencode(imid);
	struct sim_http r;
	json_t *v;

	snprintf(path, sizeof(path), "/v1.0/me/mailFolders/%s/messages?$filter=internetMessageId%%20eq%%20'%s'"
		 "&$select=id,subject,conversationId,internetMessageId,isRead,from,toRecipients,body,internetMessageHeaders", folder, esc);
	free(esc);
	sim_get(&c->h, token, path, IMM, &r);
	assert_int_equal(r.status, 200);
	v = json_incref(json_object_get(r.json, "value"));
	sim_http_free(&r);
	return v;
}

static void test_send_mail_json(void **state)
{
	struct ctx *c = *state;
	struct sim_http r;
	json_t *sent, *got, *log, *last;
	const char *imid;
	char *imid_copy;

	post(c, c->adele, "/v1.0/me/sendMail",
	     "{\"message\":{\"subject\":\"Lunch?\",\"body\":{\"contentType\":\"Text\",\"content\":\"Noon at the cafe\"},"
	     "\"toRecipients\":[{\"emailAddress\":{\"address\":\"bob@contoso.com\"}}],"
	     "\"ccRecipients\":[{\"emailAddress\":{\"address\":\"partner@fabrikam.com\",\"name\":\"Partner\"}}],"
	     "\"internetMessageHeaders\":[{\"name\":\"x-outbox-key\",\"value\":\"k1\"}]}}", &r);
	assert_int_equal(r.status, 202);
	assert_int_equal(r.len, 0);
	sim_http_free(&r);
	sim_get(&c->h, c->adele, "/v1.0/me/mailFolders/sentitems/messages?$top=1&$select=internetMessageId,subject,isRead,conversationId", IMM, &r);
	imid = json_string_value(json_object_get(json_array_get(json_object_get(r.json, "value"), 0), "internetMessageId"));
	assert_non_null(imid);
	imid_copy = strdup(imid);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "value"), 0),
							      "subject")), "Lunch?");
	sim_http_free(&r);
	sent = find_imid(c, c->adele, "sentitems", imid_copy);
	assert_int_equal(json_array_size(sent), 1);
	got = find_imid(c, c->bob, "inbox", imid_copy);
	assert_int_equal(json_array_size(got), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "conversationId")),
			    json_string_value(json_object_get(json_array_get(sent, 0), "conversationId")));
	assert_true(json_is_false(json_object_get(json_array_get(got, 0), "isRead")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(json_array_get(got, 0), "from"),
									      "emailAddress"), "address")), "adele@contoso.com");
	json_decref(sent);
	json_decref(got);
	/* the outside recipient is in the sent log */
	assert_int_equal(sim_admin(&c->h, "GET", "/_sim/sent", NULL, &r), 0);
	log = json_object_get(r.json, "value");
	last = json_array_get(log, json_array_size(log) - 1);
	assert_string_equal(json_string_value(json_object_get(last, "internetMessageId")), imid_copy);
	assert_string_equal(json_string_value(json_array_get(json_object_get(last, "external"), 0)), "partner@fabrikam.com");
	assert_string_equal(json_string_value(json_array_get(json_object_get(last, "delivered"), 0)), "bob@contoso.com");
	sim_http_free(&r);
	free(imid_copy);

	/* saveToSentItems false: delivered, no Sent Items copy */
	post(c, c->adele, "/v1.0/me/sendMail",
	     "{\"message\":{\"subject\":\"No copy\",\"internetMessageId\":\"<nocopy-1@contoso.com>\","
	     "\"toRecipients\":[{\"emailAddress\":{\"address\":\"bob@contoso.com\"}}]},\"saveToSentItems\":false}", &r);
	assert_int_equal(r.status, 202);
	sim_http_free(&r);
	sent = find_imid(c, c->adele, "sentitems", "<nocopy-1@contoso.com>");
	assert_int_equal(json_array_size(sent), 0);
	got = find_imid(c, c->bob, "inbox", "<nocopy-1@contoso.com>");
	assert_int_equal(json_array_size(got), 1);
	json_decref(sent);
	json_decref(got);
	/* Graph's own docs send "saveToSentItems": "false" as a string */
	post(c, c->adele, "/v1.0/me/sendMail",
	     "{\"message\":{\"subject\":\"No copy 2\",\"internetMessageId\":\"<nocopy-2@contoso.com>\","
	     "\"toRecipients\":[{\"emailAddress\":{\"address\":\"bob@contoso.com\"}}]},\"saveToSentItems\":\"false\"}", &r);
	assert_int_equal(r.status, 202);
	sim_http_free(&r);
	sent = find_imid(c, c->adele, "sentitems", "<nocopy-2@contoso.com>");
	assert_int_equal(json_array_size(sent), 0);
	json_decref(sent);
}

static void test_send_mail_mime(void **state)
{
	struct ctx *c = *state;
	const char *mime = "From: Adele Vance <adele@contoso.com>\r\nTo: bob@contoso.com\r\n"
			   "Subject: MIME hello\r\nMessage-ID: <mime-1@inboxsync.test>\r\n"
			   "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBody via MIME\r\n";
	char b64[1024], auth[400];
	const char *hdrs[] = { "Content-Type: text/plain", auth, NULL };
	struct sim_http r;
	json_t *got;

	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)mime, strlen(mime), sodium_base64_VARIANT_ORIGINAL);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->adele);
	sim_request(&c->h, "POST", "/v1.0/me/sendMail", hdrs, b64, strlen(b64), &r);
	assert_int_equal(r.status, 202);
	sim_http_free(&r);
	got = find_imid(c, c->adele, "sentitems", "<mime-1@inboxsync.test>");
	assert_int_equal(json_array_size(got), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "subject")), "MIME hello");
	json_decref(got);
	got = find_imid(c, c->bob, "inbox", "<mime-1@inboxsync.test>");
	assert_int_equal(json_array_size(got), 1);
	json_decref(got);
	sim_request(&c->h, "POST", "/v1.0/me/sendMail", hdrs, "!!!not base64!!!", 16, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
			    "ErrorMimeContentInvalidBase64String");
	sim_http_free(&r);
}

static void test_draft_send_keeps_immutable_id(void **state)
{
	struct ctx *c = *state;
	struct sim_http r;
	char *id, path[300];
	json_t *got;

	post(c, c->adele, "/v1.0/me/messages",
	     "{\"subject\":\"Draft one\",\"internetMessageId\":\"<draft-1@inboxsync.test>\","
	     "\"body\":{\"contentType\":\"HTML\",\"content\":\"<p>hello</p>\"},"
	     "\"toRecipients\":[{\"emailAddress\":{\"address\":\"bob@contoso.com\"}}]}", &r);
	assert_int_equal(r.status, 201);
	assert_true(json_is_true(json_object_get(r.json, "isDraft")));
	assert_string_equal(json_string_value(json_object_get(r.json, "internetMessageId")), "<draft-1@inboxsync.test>");
	id = strdup(json_string_value(json_object_get(r.json, "id")));
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s", id);
	sim_graph(&c->h, "PATCH", c->adele, path, "{\"subject\":\"Draft one (edited)\"}", &r);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/send", id);
	post(c, c->adele, path, NULL, &r);
	assert_int_equal(r.status, 202);
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s?$select=id,isDraft,parentFolderId,subject", id);
	sim_get(&c->h, c->adele, path, IMM, &r);
	assert_int_equal(r.status, 200);
	assert_true(json_is_false(json_object_get(r.json, "isDraft")));
	assert_string_equal(json_string_value(json_object_get(r.json, "subject")), "Draft one (edited)");
	sim_http_free(&r);
	got = find_imid(c, c->adele, "sentitems", "<draft-1@inboxsync.test>");
	assert_int_equal(json_array_size(got), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "id")), id);
	json_decref(got);
	got = find_imid(c, c->adele, "drafts", "<draft-1@inboxsync.test>");
	assert_int_equal(json_array_size(got), 0);
	json_decref(got);
	got = find_imid(c, c->bob, "inbox", "<draft-1@inboxsync.test>");
	assert_int_equal(json_array_size(got), 1);
	json_decref(got);
	/* sending it again is refused */
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/send", id);
	post(c, c->adele, path, NULL, &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	free(id);
}

static void test_reply_stays_in_conversation(void **state)
{
	struct ctx *c = *state;
	struct sim_http r;
	json_t *got, *reply;
	char *bob_id, *conv, path[300], *draft;
	size_t i;
	json_t *h;
	bool irt = false;

	post(c, c->adele, "/v1.0/me/sendMail",
	     "{\"message\":{\"subject\":\"Thread start\",\"internetMessageId\":\"<thread-1@inboxsync.test>\","
	     "\"toRecipients\":[{\"emailAddress\":{\"address\":\"bob@contoso.com\"}}]}}", &r);
	sim_http_free(&r);
	got = find_imid(c, c->bob, "inbox", "<thread-1@inboxsync.test>");
	bob_id = strdup(json_string_value(json_object_get(json_array_get(got, 0), "id")));
	conv = strdup(json_string_value(json_object_get(json_array_get(got, 0), "conversationId")));
	json_decref(got);
	/* bob: createReply → draft in the same conversation, then send */
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/createReply", bob_id);
	post(c, c->bob, path, "{\"comment\":\"Sounds good\"}", &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(json_string_value(json_object_get(r.json, "subject")), "RE: Thread start");
	assert_string_equal(json_string_value(json_object_get(r.json, "conversationId")), conv);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(r.json, "toRecipients"), 0),
									      "emailAddress"), "address")), "adele@contoso.com");
	draft = strdup(json_string_value(json_object_get(r.json, "id")));
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/send", draft);
	post(c, c->bob, path, NULL, &r);
	assert_int_equal(r.status, 202);
	sim_http_free(&r);
	/* adele sees it in the same conversation, In-Reply-To set */
	snprintf(path, sizeof(path), "/v1.0/me/mailFolders/inbox/messages?$top=5&$select=subject,conversationId,internetMessageHeaders");
	sim_get(&c->h, c->adele, path, IMM, &r);
	reply = json_array_get(json_object_get(r.json, "value"), 0);
	assert_string_equal(json_string_value(json_object_get(reply, "subject")), "RE: Thread start");
	assert_string_equal(json_string_value(json_object_get(reply, "conversationId")), conv);
	sim_http_free(&r);
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/$value", draft);
	sim_get(&c->h, c->bob, path, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "In-Reply-To: <thread-1@inboxsync.test>"));
	assert_non_null(strstr(r.body, "References: <thread-1@inboxsync.test>"));
	sim_http_free(&r);
	(void)i;
	(void)h;
	(void)irt;
	/* reply (one call) also works and keeps the conversation */
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/reply", bob_id);
	post(c, c->bob, path, "{\"comment\":\"And another thing\"}", &r);
	assert_int_equal(r.status, 202);
	sim_http_free(&r);
	/* forward needs recipients */
	snprintf(path, sizeof(path), "/v1.0/me/messages/%s/forward", bob_id);
	post(c, c->bob, path, "{\"comment\":\"fyi\"}", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	post(c, c->bob, path, "{\"comment\":\"fyi\",\"toRecipients\":[{\"emailAddress\":{\"address\":\"x@fabrikam.com\"}}]}", &r);
	assert_int_equal(r.status, 202);
	sim_http_free(&r);
	free(bob_id);
	free(conv);
	free(draft);
}

static void test_send_errors(void **state)
{
	struct ctx *c = *state;
	struct sim_http r;
	char *ro = NULL, *big;
	size_t n = 4u << 20, b64len;
	unsigned char *raw;

	post(c, c->adele, "/v1.0/me/sendMail",
	     "{\"message\":{\"subject\":\"x\",\"toRecipients\":[{\"emailAddress\":{\"address\":\"not an address\"}}]}}", &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")), "ErrorInvalidRecipients");
	sim_http_free(&r);
	post(c, c->adele, "/v1.0/me/sendMail", "{\"message\":{\"subject\":\"nobody\"}}", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	post(c, c->adele, "/v1.0/me/sendMail", "{}", &r);
	assert_int_equal(r.status, 400);
	sim_http_free(&r);
	/* a token without Mail.Send */
	assert_int_equal(sim_login(&c->h, "adele@contoso.com", "openid Mail.Read", &ro, NULL), 0);
	{
		struct sim_http a;

		/* adele consented to Mail.Send before; withdraw, then sign in narrow */
		sim_admin(&c->h, "POST", "/_sim/users/adele@contoso.com/withdraw-consent", "{}", &a);
		sim_http_free(&a);
		free(ro);
		ro = NULL;
		assert_int_equal(sim_login(&c->h, "adele@contoso.com", "openid Mail.Read", &ro, NULL), 0);
	}
	post(c, ro, "/v1.0/me/sendMail",
	     "{\"message\":{\"subject\":\"x\",\"toRecipients\":[{\"emailAddress\":{\"address\":\"bob@contoso.com\"}}]}}", &r);
	assert_int_equal(r.status, 403);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")), "ErrorAccessDenied");
	sim_http_free(&r);
	free(ro);
	/* attachment over the inline limit → 413 */
	raw = calloc(1, n);
	b64len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	big = malloc(b64len + 200);
	{
		int off = snprintf(big, 200, "{\"@odata.type\":\"#microsoft.graph.fileAttachment\","
					     "\"name\":\"big.bin\",\"contentBytes\":\"");

		sodium_bin2base64(big + off, b64len, raw, n, sodium_base64_VARIANT_ORIGINAL);
		snprintf(big + strlen(big), 3, "\"}");
	}
	post(c, c->adele, "/v1.0/me/messages", "{\"subject\":\"with attachment\"}", &r);
	{
		char path[300];

		snprintf(path, sizeof(path), "/v1.0/me/messages/%s/attachments",
			 json_string_value(json_object_get(r.json, "id")));
		sim_http_free(&r);
		post(c, c->adele, path, big, &r);
		assert_int_equal(r.status, 413);
		assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
				    "ErrorMessageSizeExceeded");
		sim_http_free(&r);
		post(c, c->adele, path, "{\"@odata.type\":\"#microsoft.graph.fileAttachment\",\"name\":\"a.txt\",\"contentType\":\"text/plain\",\"contentBytes\":\"aGVsbG8=\"}", &r);
		assert_int_equal(r.status, 201);
		assert_int_equal(json_integer_value(json_object_get(r.json, "size")), 5);
		sim_http_free(&r);
	}
	free(raw);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send_mail_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_mail_mime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_draft_send_keeps_immutable_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_stays_in_conversation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
