/*
 * service_messages.c — reading and filing mail: pages of messages newest
 * first with an opaque cursor, opening one (its body fetched on demand),
 * and write-back — mark read/unread, move, delete to Deleted Items — which
 * changes the mailbox first and then the store, as the same message, so
 * the next delta has nothing to undo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/account.h"
#include "inboxsync/alloc.h"
#include "inboxsync/engine.h"
#include "inboxsync/service.h"

/* The last message a page handed out, for the next cursor. */
struct page_state {
	store_message_cb cb;
	void *ctx;
	size_t seen, limit;
	int64_t last_received, last_id;
};

static int on_message(void *ctx, const struct store_message *m)
{
	struct page_state *p = ctx;

	p->seen++;
	if (p->seen > p->limit)
		return 1; /* one more than the page: there is a next page */
	p->last_received = m->m.received_at;
	p->last_id = m->id;
	return p->cb(p->ctx, m);
}

int service_messages_list(const struct auth_env *env, const struct store_account *a,
			  const struct service_message_query *q,
			  store_message_cb cb, void *ctx, char **next_cursor,
			  struct err *e)
{
	struct store_message_query sq = { .account_id = a->id };
	struct page_state p = { .cb = cb, .ctx = ctx };
	int rc;

	*next_cursor = NULL;
	p.limit = q->limit ? q->limit : 100;
	if (p.limit > SERVICE_LIST_MAX) {
		err_set(e, ERR_PERMANENT, "usage", "limit %zu is too large (1 to %d)",
			p.limit, SERVICE_LIST_MAX);
		return err_set_fix(e, FIX_CHECK_INPUT, "ask for at most 1000 messages a page");
	}
	if (q->folder && *q->folder) {
		struct store_folder f;

		if (service_folder_find(env, a, q->folder, &f, e) < 0)
			return -1;
		store_folder_clear(&f);
		if (!f.selected) {
			err_set(e, ERR_PERMANENT, "conflict", "folder '%.200s' is not "
				"selected for sync: its mail is kept but not listed",
				f.path);
			return err_set_fix(e, FIX_SELECT_FOLDERS, a->name);
		}
		sq.folder_id = f.id;
	}
	if (q->cursor && *q->cursor &&
	    service_cursor_parse(q->cursor, &sq.before_received, &sq.before_id, e) < 0)
		return -1;
	sq.limit = p.limit + 1;
	rc = store_list_messages(env->store, &sq, on_message, &p, e);
	if (rc < 0)
		return -1;
	if (rc != 0 && p.seen <= p.limit)
		return rc; /* the caller's callback stopped the walk */
	if (p.seen > p.limit) {
		char cur[48];

		service_cursor_format(p.last_received, p.last_id, cur);
		*next_cursor = xstrdup(cur);
	}
	return 0;
}

static int message_not_found(const struct store_account *a, const char *id,
			     struct err *e)
{
	err_set(e, ERR_PERMANENT, "not_found", "no message '%.200s' in account '%s'",
		id, a->name);
	return err_set_fix(e, FIX_CHECK_INPUT, "use an id from the message list");
}

int service_message_open(const struct auth_env *env, const struct store_account *a,
			 const char *id, struct store_message *out, struct err *e)
{
	int rc = store_get_message(env->store, a->id, id, out, e);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return message_not_found(a, id, e);
	if (out->body_fetched || out->pending)
		return 0;
	store_message_clear(out);
	if (engine_fetch_body(env, a->id, id, e) < 0)
		return -1;
	rc = store_get_message(env->store, a->id, id, out, e);
	return rc == 1 ? 0 : rc < 0 ? -1 : message_not_found(a, id, e);
}

/* A driver for a change the owner makes now. */
static int connect_for_change(const struct auth_env *env, const struct store_account *a,
			      struct account_conn *c, struct err *e)
{
	if (a->state == STORE_STATE_AUTH_INVALID || !a->authorized_at) {
		err_set(e, ERR_AUTH, a->authorized_at ? "auth_invalid" : "auth_required",
			"'%s' must be authorized%s before its mail can be changed",
			a->name, a->authorized_at ? " again" : "");
		return err_set_fix(e, a->authorized_at ? FIX_REAUTHORIZE : FIX_AUTHORIZE,
				   a->name);
	}
	return account_connect(env, a, c, e);
}

int service_message_mime(const struct auth_env *env, const struct store_account *a,
			 const char *id, struct buf *out, struct err *e)
{
	struct store_message m;
	struct account_conn c;
	int rc = store_get_message(env->store, a->id, id, &m, e);

	if (rc <= 0)
		return rc < 0 ? -1 : message_not_found(a, id, e);
	store_message_clear(&m);
	if (connect_for_change(env, a, &c, e) < 0)
		return -1;
	rc = driver_fetch_mime(c.driver, id, out, e);
	account_disconnect(&c);
	return rc;
}

/* A message's MIME as attachments are read from it. */
#define MIME_MAX ((size_t)64 << 20)

int service_message_attachments(const struct auth_env *env, const struct store_account *a,
				const char *id, struct mime_part_info **out, size_t *n,
				struct err *e)
{
	struct buf mime;
	int rc;

	*out = NULL;
	*n = 0;
	buf_init(&mime, MIME_MAX);
	rc = service_message_mime(env, a, id, &mime, e);
	if (rc == 0)
		rc = mime_list_attachments(mime.data, mime.len, out, n, e);
	buf_free(&mime);
	return rc;
}

int service_message_attachment(const struct auth_env *env, const struct store_account *a,
			       const char *id, size_t index, struct buf *out,
			       struct mime_part_info *info, struct err *e)
{
	struct buf mime;
	int rc;

	buf_init(&mime, MIME_MAX);
	rc = service_message_mime(env, a, id, &mime, e);
	if (rc == 0 && (rc = mime_extract_attachment(mime.data, mime.len, index, out,
						      info, e)) < 0 && err_is(e, "not_found"))
		err_prefix(e, "message '%.200s': ", id);
	buf_free(&mime);
	return rc;
}

/* Move `m` to `dest` on the server, then locally: one message, which
 * leaves the local view when the destination is not synced. */
static int move_to(const struct auth_env *env, const struct store_account *a,
		   struct driver *d, const struct store_message *m,
		   const struct store_folder *dest, char **new_id, struct err *e)
{
	char *moved = NULL;
	int rc;

	if (m->folder_id == dest->id)
		return 0;
	if (driver_move_message(d, m->m.remote_id, dest->remote_id, &moved, e) < 0)
		return -1;
	if (dest->selected)
		rc = store_move_message(env->store, a->id, m->m.remote_id, dest->id,
					moved, e);
	else
		rc = store_delete_message(env->store, a->id, m->m.remote_id, e);
	if (rc == 0 && new_id)
		*new_id = xstrdup(moved ? moved : m->m.remote_id);
	free(moved);
	return rc;
}

int service_message_change(const struct auth_env *env, const struct store_account *a,
			   const char *id, int is_read, const char *folder,
			   char **new_id, struct err *e)
{
	struct store_message m;
	struct store_folder dest = { 0 };
	struct account_conn c;
	int rc = store_get_message(env->store, a->id, id, &m, e);

	if (new_id)
		*new_id = NULL;
	if (rc <= 0)
		return rc < 0 ? -1 : message_not_found(a, id, e);
	if (m.pending) {
		store_message_clear(&m);
		err_set(e, ERR_PERMANENT, "conflict", "this is the local copy of a message "
			"being sent; it can be changed once the server's copy arrives");
		return err_set_fix(e, FIX_RETRY, NULL);
	}
	if (folder && service_folder_find(env, a, folder, &dest, e) < 0) {
		store_message_clear(&m);
		return -1;
	}
	if (connect_for_change(env, a, &c, e) < 0) {
		store_message_clear(&m);
		store_folder_clear(&dest);
		return -1;
	}
	rc = 0;
	if (is_read != MAIL_UNKNOWN && (is_read != 0) != (m.m.is_read != 0)) {
		rc = driver_set_flags(c.driver, id, is_read, MAIL_UNKNOWN, e);
		if (rc == 0)
			rc = store_set_message_flags(env->store, a->id, id, is_read,
						     MAIL_UNKNOWN, e);
	}
	if (rc == 0 && folder)
		rc = move_to(env, a, c.driver, &m, &dest, new_id, e);
	else if (rc == 0 && new_id)
		*new_id = xstrdup(id);
	account_disconnect(&c);
	store_message_clear(&m);
	store_folder_clear(&dest);
	return rc;
}

int service_message_delete(const struct auth_env *env, const struct store_account *a,
			   const char *id, struct err *e)
{
	struct store_folder bin;
	int found = store_find_folder_by_role(env->store, a->id, MAIL_ROLE_DELETED,
					      &bin, e);
	int rc;

	if (found < 0)
		return -1;
	if (found) {
		char path[1024];

		str_copy(path, sizeof(path), bin.remote_id);
		store_folder_clear(&bin);
		return service_message_change(env, a, id, MAIL_UNKNOWN, path, NULL, e);
	}
	/* No Deleted Items known locally (folders not fetched): the server
	 * deletes it its own way, which for Exchange is Deleted Items too. */
	{
		struct store_message m;
		struct account_conn c;

		rc = store_get_message(env->store, a->id, id, &m, e);
		if (rc <= 0)
			return rc < 0 ? -1 : message_not_found(a, id, e);
		store_message_clear(&m);
		if (connect_for_change(env, a, &c, e) < 0)
			return -1;
		rc = driver_delete_message(c.driver, id, e);
		account_disconnect(&c);
		if (rc == 0)
			rc = store_delete_message(env->store, a->id, id, e);
		return rc;
	}
}
