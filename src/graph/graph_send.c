/*
 * graph_send.c — the draft-based send the outbox drives: create a draft
 * from our MIME (base64 with Content-Type text/plain, so our Message-ID
 * survives), send it (202; the Sent Items copy keeps the immutable id), and
 * the send test that proves Mail.Send with a draft that has no recipient
 * (so it cannot go anywhere) and removes the draft for good. Deciding whether an ambiguous send
 * happened is the outbox's job (driver_get_state / find_by_message_id).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/json.h"
#include "graph_internal.h"

#define TEST_SUBJECT "inboxsync send test (safe to delete)"
#define TEST_BODY "This draft was created by inboxsync to check that sending " \
	"is allowed. It has no recipient and is deleted at once."

static char *messages_url(struct graph_driver *g, const char *id,
			  const char *suffix, struct err *e)
{
	struct graph_url u;

	graph_url_init(&u, g);
	graph_url_path(&u, "/me/messages");
	if (id) {
		graph_url_path(&u, "/");
		graph_url_id(&u, id);
	}
	if (suffix)
		graph_url_path(&u, suffix);
	return graph_url_finish(&u, e);
}

/* POST /me/messages with `body` of `type`; *id gets the new draft's id. */
static int draft_post(struct graph_driver *g, const struct graph_op *op,
		      const char *type, const char *body, size_t len,
		      char **id, struct err *e)
{
	struct graph_req req = { 0 };
	const char *new_id;
	struct err perr;
	char rid[80];
	json_t *doc;
	int rc = -1;

	*id = NULL;
	err_clear(&perr);
	if (!(req.url = messages_url(g, NULL, NULL, e)))
		return -1;
	req.method = "POST";
	req.content_type = type;
	req.body = body;
	req.body_len = len;
	doc = graph_call_json(g, op, &req, rid, e);
	free((char *)req.url);
	if (!doc)
		return -1;
	if (json_req_string(doc, "id", &new_id, &perr) < 0 || !*new_id) {
		graph_error_bad_response(e, op, rid, *perr.msg ? perr.msg :
					 "an empty draft id");
		graph_err_append(e, " (a draft may have been created; the outbox "
			   "checks by Message-ID before trying again)");
	} else {
		*id = xstrdup(new_id);
		rc = 0;
	}
	json_decref(doc);
	return rc;
}

int graph_op_create_draft(struct driver *d, const char *mime, size_t len,
			  char **draft_id, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = { "creating a draft", GRAPH_TARGET_NONE, NULL,
			       "Mail.ReadWrite", false };
	size_t b64_len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(b64_len);
	int rc;

	sodium_bin2base64(b64, b64_len, (const unsigned char *)mime, len,
			  sodium_base64_VARIANT_ORIGINAL);
	rc = draft_post(g, &op, "text/plain", b64, strlen(b64), draft_id, e);
	free(b64);
	return rc;
}

int graph_op_send_draft(struct driver *d, const char *draft_id, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = { "sending the draft", GRAPH_TARGET_MESSAGE,
			       draft_id, "Mail.Send", false };
	struct graph_req req = { 0 };
	struct http_response resp;
	int rc;

	if (!(req.url = messages_url(g, draft_id, "/send", e)))
		return -1;
	req.method = "POST"; /* empty body: the client sends Content-Length: 0 */
	http_response_init(&resp);
	rc = graph_call(g, &op, &req, &resp, e);
	http_response_free(&resp);
	free((char *)req.url);
	if (rc < 0 && e && e->class == ERR_TRANSIENT)
		graph_err_append(e, " — the message may have been sent anyway; check "
			   "the draft's state before sending again");
	return rc;
}

/* ---- the send test -------------------------------------------------------------- */

static int draft_remove_once(struct graph_driver *g, const char *id,
			     const char *how, struct err *e)
{
	struct graph_op op = { "removing the test draft", GRAPH_TARGET_MESSAGE,
			       id, "Mail.ReadWrite", false };
	bool is_post = strcmp(how, "DELETE") != 0;
	struct graph_req req = { 0 };
	struct http_response resp;
	int rc;

	if (!(req.url = messages_url(g, id, is_post ? how : NULL, e)))
		return -1;
	req.method = is_post ? "POST" : "DELETE";
	http_response_init(&resp);
	rc = graph_call(g, &op, &req, &resp, e);
	http_response_free(&resp);
	free((char *)req.url);
	return rc;
}

/* Remove the draft for good: permanentDelete where the server has it;
 * otherwise DELETE until the id no longer resolves (a DELETE may only move
 * it to Deleted Items). */
static int draft_remove(struct graph_driver *g, const char *id, struct err *e)
{
	struct driver_state st;

	if (draft_remove_once(g, id, "/permanentDelete", e) == 0)
		return 0;
	if (e->class != ERR_PERMANENT)
		return -1;
	for (int i = 0; i < 3; i++) {
		bool exists;

		if (graph_op_get_state(&g->base, id, &st, e) < 0)
			return -1;
		exists = st.exists;
		driver_state_free(&st);
		if (!exists)
			return 0;
		if (draft_remove_once(g, id, "DELETE", e) < 0 && e->http_status != 404)
			return -1;
	}
	return err_set(e, ERR_TRANSIENT, "cleanup_failed",
		       "the send test could not remove its draft '%.60s'; "
		       "delete the message \"" TEST_SUBJECT "\" by hand", id);
}

/* Is sending allowed? Graph checks the permission before it looks at the
 * message, so sending a draft without any recipient answers 403 when
 * Mail.Send is missing and 400 ErrorInvalidRecipients when it is granted —
 * and nothing can go to anyone. */
static int send_probe(struct graph_driver *g, const char *id, struct err *e)
{
	struct graph_op op = { "testing sending with the empty draft",
			       GRAPH_TARGET_MESSAGE, id, "Mail.Send", false };
	struct graph_req req = { 0 };
	struct http_response resp;
	int rc;

	if (!(req.url = messages_url(g, id, "/send", e)))
		return -1;
	req.method = "POST";
	http_response_init(&resp);
	rc = graph_call(g, &op, &req, &resp, e);
	http_response_free(&resp);
	free((char *)req.url);
	if (rc < 0 && err_is(e, "invalid_recipient")) {
		err_clear(e);
		return 0;
	}
	return rc;
}

int graph_op_test_send(struct driver *d, struct err *e)
{
	struct graph_driver *g = graph_of(d);
	struct graph_op op = { "testing sending (creating a draft)",
			       GRAPH_TARGET_NONE, NULL, "Mail.ReadWrite", false };
	struct err local, cleanup;
	char *text, *id = NULL;
	json_t *msg;
	int rc;

	if (!e)
		e = &local;
	msg = json_pack("{s:s, s:{s:s, s:s}}", "subject", TEST_SUBJECT,
			"body", "contentType", "text", "content", TEST_BODY);
	text = json_dump_compact(msg);
	json_decref(msg);
	rc = draft_post(g, &op, "application/json", text, strlen(text), &id, e);
	free(text);
	if (rc < 0)
		return -1;
	rc = send_probe(g, id, e);
	if (draft_remove(g, id, &cleanup) < 0 && rc == 0) {
		*e = cleanup;
		rc = -1;
	}
	free(id);
	return rc;
}
