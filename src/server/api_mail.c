/*
 * api_mail.c — an account's mail over the API: folders (fetch, list,
 * select and map), messages (pages newest first with a cursor, one with
 * its body, write-back of read state and moves, delete to Deleted Items),
 * sending with an Idempotency-Key, and the outbox. Changes that give the
 * scheduler work (a selection, a send, a retry) ask it to look now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/outbox.h"
#include "server/server_internal.h"

int api_folders_fetch(struct request *rq);
int api_folders_list(struct request *rq);
int api_folder_update(struct request *rq);
int api_messages_list(struct request *rq);
int api_message_get(struct request *rq);
int api_message_update(struct request *rq);
int api_message_delete(struct request *rq);
int api_send(struct request *rq);
int api_outbox_list(struct request *rq);
int api_outbox_retry(struct request *rq);
int api_outbox_delete(struct request *rq);

#define MAX_RECIPIENTS 500
#define MAX_ATTACHMENTS 64

/* Sync the account soon (its folders or outbox changed); best effort. */
static void sync_soon(struct request *rq)
{
	struct err e;

	err_clear(&e);
	if (service_account_sync_now(rq->env, &rq->account, &e) == 0)
		server_poke_sync(rq->srv);
}

/* ---- folders ------------------------------------------------------------------- */

static int reply_folders(struct request *rq, int status)
{
	struct store_folder *list;
	json_t *arr;
	size_t n;

	if (service_folders_list(rq->env, &rq->account, &list, &n, &rq->err) < 0)
		return -1;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, service_folder_json(&list[i]));
	store_folder_list_free(list, n);
	return rq_reply(rq, status, json_pack("{s:o}", "folders", arr));
}

int api_folders_fetch(struct request *rq)
{
	int n = 0;

	if (service_folders_fetch(rq->env, &rq->account, &n, &rq->err) < 0)
		return -1;
	sync_soon(rq);
	return reply_folders(rq, 200);
}

int api_folders_list(struct request *rq)
{
	return reply_folders(rq, 200);
}

int api_folder_update(struct request *rq)
{
	const char *what = rq_param(rq, "folder_id");
	const char *role;
	struct store_folder f;
	int selected;

	if (rq_body_bool(rq, "selected", &selected) < 0 ||
	    rq_body_string(rq, "role", false, &role) < 0)
		return -1;
	if (service_folder_find(rq->env, &rq->account, what, &f, &rq->err) < 0)
		return -1;
	if (selected < 0)
		selected = role ? 1 : f.selected;
	store_folder_clear(&f);
	if (service_folders_select(rq->env, &rq->account, &what, 1, selected == 1, role,
				   &f, &rq->err) < 0)
		return -1;
	rq_reply(rq, 200, service_folder_json(&f));
	store_folder_clear(&f);
	if (selected == 1)
		sync_soon(rq);
	return 0;
}

/* ---- messages ------------------------------------------------------------------- */

/* The page is written as text (service_message_page_text): the bytes a
 * tree of it would dump to, without the tree. */
int api_messages_list(struct request *rq)
{
	struct service_message_query q = { 0 };
	struct buf page;
	long long limit;

	if (rq_query_int(rq, "limit", 100, 1, SERVICE_LIST_MAX, &limit) < 0)
		return -1;
	q.limit = (size_t)limit;
	q.folder = rq_query(rq, "folder");
	q.cursor = rq_query(rq, "cursor");
	buf_init(&page, SERVER_PAGE_MAX);
	if (service_message_page_text(rq->env, &rq->account, &q, rq->srv->texts, &page,
				      &rq->err) < 0) {
		buf_free(&page);
		return -1;
	}
	return rq_reply_text(rq, 200, &page);
}

static int reply_message(struct request *rq, const char *id)
{
	struct store_message m;

	if (service_message_open(rq->env, &rq->account, id, &m, &rq->err) < 0)
		return -1;
	rq_reply(rq, 200, service_message_json(&m, true));
	store_message_clear(&m);
	return 0;
}

int api_message_get(struct request *rq)
{
	return reply_message(rq, rq_param(rq, "message_id"));
}

int api_message_update(struct request *rq)
{
	const char *folder;
	char *now_id = NULL;
	int is_read, rc;

	if (rq_body_bool(rq, "is_read", &is_read) < 0 ||
	    rq_body_string(rq, "folder", false, &folder) < 0)
		return -1;
	if (service_message_change(rq->env, &rq->account, rq_param(rq, "message_id"),
				   is_read < 0 ? MAIL_UNKNOWN : is_read, folder, &now_id,
				   &rq->err) < 0)
		return -1;
	{
		struct store_message m;
		int found = store_get_message(rq->env->store, rq->account.id, now_id, &m,
					      &rq->err);

		if (found < 0) {
			free(now_id);
			return -1;
		}
		/* Moved into a folder that is not synced: only what is known. */
		rc = found ? rq_reply(rq, 200, service_message_json(&m, false))
			   : rq_reply(rq, 200, json_pack("{s:s,s:s}", "id", now_id, "folder",
							 folder ? folder : ""));
		if (found)
			store_message_clear(&m);
	}
	free(now_id);
	return rc;
}

int api_message_delete(struct request *rq)
{
	if (service_message_delete(rq->env, &rq->account, rq_param(rq, "message_id"),
				   &rq->err) < 0)
		return -1;
	return rq_reply(rq, 204, NULL);
}

/* ---- sending ------------------------------------------------------------------- */

/* [{address, name?}] as an address list "Name" <addr>, ... (NULL = absent). */
static int recipients(struct request *rq, const char *key, bool required, struct buf *out,
		      bool *given)
{
	json_t *arr, *v;
	size_t i;

	*given = false;
	if (rq_body_array(rq, key, required, &arr) < 0)
		return -1;
	if (!arr)
		return 0;
	if (json_array_size(arr) > MAX_RECIPIENTS)
		return rq_bad(rq, "'%s' has more than %d recipients", key, MAX_RECIPIENTS);
	json_array_foreach(arr, i, v) {
		const char *addr = json_string_value(json_object_get(v, "address"));
		json_t *jn = json_object_get(v, "name");
		const char *name = json_string_value(jn);

		if (!json_is_object(v) || !addr || !*addr || strpbrk(addr, "<>,;\"\\ \t\r\n()"))
			return rq_bad(rq, "'%s[%zu]' must be {\"address\": \"name@domain\", "
				      "\"name\": \"...\"} with a plain address", key, i);
		if (jn && !json_is_null(jn) && !name)
			return rq_bad(rq, "'%s[%zu].name' must be a string", key, i);
		if (name && strpbrk(name, "\r\n"))
			return rq_bad(rq, "'%s[%zu].name' must be one line", key, i);
		if (i)
			buf_puts(out, ", ", NULL);
		if (name && *name) {
			buf_puts(out, "\"", NULL);
			for (const char *p = name; *p; p++) {
				if (*p == '"' || *p == '\\')
					buf_append(out, "\\", 1, NULL);
				buf_append(out, p, 1, NULL);
			}
			buf_puts(out, "\" ", NULL);
		}
		if (buf_printf(out, &rq->err, "<%s>", addr) < 0)
			return rq_bad(rq, "'%s' is too long", key);
	}
	*given = json_array_size(arr) > 0;
	return 0;
}

struct send_parts {
	struct buf to, cc, bcc;
	struct mime_attachment att[MAX_ATTACHMENTS];
	unsigned char *data[MAX_ATTACHMENTS];
	size_t n_att;
};

static void send_parts_free(struct send_parts *p)
{
	buf_free(&p->to);
	buf_free(&p->cc);
	buf_free(&p->bcc);
	for (size_t i = 0; i < p->n_att; i++)
		free(p->data[i]);
}

static int attachments(struct request *rq, struct send_parts *p)
{
	size_t total = 0, i;
	json_t *arr, *v;

	if (rq_body_array(rq, "attachments", false, &arr) < 0)
		return -1;
	if (arr && json_array_size(arr) > MAX_ATTACHMENTS)
		return rq_bad(rq, "at most %d attachments", MAX_ATTACHMENTS);
	json_array_foreach(arr, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *type = json_string_value(json_object_get(v, "content_type"));
		const char *b64 = json_string_value(json_object_get(v, "content_base64"));
		size_t cap, len = 0;

		if (!json_is_object(v) || !name || !*name || !b64 ||
		    (json_object_get(v, "content_type") && !json_is_null(json_object_get(v, "content_type")) && !type))
			return rq_bad(rq, "'attachments[%zu]' must be {\"name\", \"content_type\", "
				      "\"content_base64\"} with strings", i);
		cap = strlen(b64) / 4 * 3 + 3;
		p->data[p->n_att] = xmalloc(cap + 1);
		if (sodium_base642bin(p->data[p->n_att], cap, b64, strlen(b64), " \r\n", &len,
				      NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
			free(p->data[p->n_att]);
			return rq_bad(rq, "'attachments[%zu].content_base64' is not base64", i);
		}
		total += len;
		if (total > OUTBOX_MAX_MESSAGE) {
			free(p->data[p->n_att]);
			err_set(&rq->err, ERR_PERMANENT, "payload_too_large", "the attachments "
				"are larger than the %zu bytes a message may have",
				(size_t)OUTBOX_MAX_MESSAGE);
			return err_set_fix(&rq->err, FIX_CHECK_INPUT, "send smaller attachments");
		}
		p->att[p->n_att] = (struct mime_attachment){ name, type, p->data[p->n_att], len };
		p->n_att++;
	}
	return 0;
}

static int send_request(struct request *rq, struct outbox_request *r, struct send_parts *p)
{
	const char *type, *content;
	json_t *body;
	bool have_to, have;

	if (recipients(rq, "to", true, &p->to, &have_to) < 0 ||
	    recipients(rq, "cc", false, &p->cc, &have) < 0 ||
	    recipients(rq, "bcc", false, &p->bcc, &have) < 0 ||
	    rq_body_string(rq, "subject", true, &r->subject) < 0 ||
	    rq_body_object(rq, "body", true, &body) < 0 ||
	    rq_body_string(rq, "reply_to_id", false, &r->reply_to_id) < 0 ||
	    attachments(rq, p) < 0)
		return -1;
	if (!have_to)
		return rq_bad(rq, "'to' needs at least one recipient");
	type = json_string_value(json_object_get(body, "content_type"));
	content = json_string_value(json_object_get(body, "content"));
	if (!content || (type && strcmp(type, "text") != 0 && strcmp(type, "html") != 0) ||
	    (json_object_get(body, "content_type") && !type))
		return rq_bad(rq, "'body' must be {\"content_type\": \"text\" or \"html\", "
			      "\"content\": \"...\"}");
	r->to = buf_str(&p->to);
	r->cc = p->cc.len ? buf_str(&p->cc) : NULL;
	r->bcc = p->bcc.len ? buf_str(&p->bcc) : NULL;
	r->body = content;
	r->body_len = strlen(content);
	r->html = type && strcmp(type, "html") == 0;
	r->attachments = p->att;
	r->n_attachments = p->n_att;
	r->idempotency_key = rq_header(rq, "Idempotency-Key");
	return 0;
}

/* Whether a send makes a local Sent entry: Sent Items is synced. */
static bool has_sent_entry(struct request *rq)
{
	struct store_folder f;
	struct err e;
	bool yes;

	err_clear(&e);
	if (store_find_folder_by_role(rq->env->store, rq->account.id, MAIL_ROLE_SENT, &f,
				      &e) != 1)
		return false;
	yes = f.selected;
	store_folder_clear(&f);
	return yes;
}

int api_send(struct request *rq)
{
	struct outbox_request r = { 0 };
	struct send_parts p;
	struct store_outbox o;
	bool sent_entry = false;
	char local_id[128];
	int rc;

	memset(&p, 0, sizeof(p));
	buf_init(&p.to, 256 * 1024);
	buf_init(&p.cc, 256 * 1024);
	buf_init(&p.bcc, 256 * 1024);
	if (send_request(rq, &r, &p) < 0) {
		send_parts_free(&p);
		return -1;
	}
	rc = service_send(rq->env, &rq->account, &r, &o, &sent_entry, &rq->err);
	send_parts_free(&p);
	if (rc < 0 && !err_is(&rq->err, "duplicate"))
		return -1;
	if (rc < 0) {
		/* The same request again: answered as the first was. */
		sent_entry = has_sent_entry(rq);
		err_clear(&rq->err);
	}
	snprintf(local_id, sizeof(local_id), "local:%s", o.idem_key);
	rq_reply(rq, 202, json_pack("{s:s,s:s,s:s,s:o}", "key", o.idem_key,
				    "state", store_outbox_state_name(o.state),
				    "internet_message_id", o.internet_message_id,
				    "local_id", sent_entry ? json_string(local_id) : json_null()));
	rq->replayed = rc < 0;
	store_outbox_clear(&o);
	sync_soon(rq);
	return 0;
}

int api_outbox_list(struct request *rq)
{
	struct store_outbox *list;
	json_t *arr;
	size_t n;

	if (service_outbox_list(rq->env, &rq->account, &list, &n, &rq->err) < 0)
		return -1;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, service_outbox_json(&list[i]));
	store_outbox_list_free(list, n);
	return rq_reply(rq, 200, json_pack("{s:o}", "outbox", arr));
}

int api_outbox_retry(struct request *rq)
{
	struct store_outbox o;

	if (service_outbox_retry(rq->env, &rq->account, rq_param(rq, "key"), &o, &rq->err) < 0)
		return -1;
	rq_reply(rq, 200, service_outbox_json(&o));
	store_outbox_clear(&o);
	sync_soon(rq);
	return 0;
}

int api_outbox_delete(struct request *rq)
{
	if (service_outbox_remove(rq->env, &rq->account, rq_param(rq, "key"), &rq->err) < 0)
		return -1;
	return rq_reply(rq, 204, NULL);
}
