/*
 * driver.c — the registry of transports, dispatch of driver.h calls
 * through each driver's ops table, and the free functions for what
 * drivers return.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/driver.h"
#include "inboxsync/graph.h"
#include "inboxsync/imap.h"

/* ---- the registry ------------------------------------------------------ */

static const struct driver_transport graph_transport = {
	.name = "graph",
	.label = "Microsoft Graph",
	.token_resource = "graph",
	.can_sync = true,
	.open = graph_driver_open,
};

/* IMAP OAuth2: the libetpan driver with SMTP submission (src/imap). */
static const struct driver_transport imap_transport = {
	.name = "imap",
	.label = "IMAP OAuth2",
	.token_resource = "outlook",
	.can_sync = true,
	.open = imap_driver_open,
};

const struct driver_transport *const driver_transports[] = {
	&graph_transport,
	&imap_transport,
	NULL,
};

const struct driver_transport *driver_transport_find(const char *name)
{
	for (const struct driver_transport *const *t = driver_transports; name && *t; t++)
		if (strcmp((*t)->name, name) == 0)
			return *t;
	return NULL;
}

/* ---- dispatch ------------------------------------------------------------ */

static int unsupported(const struct driver *d, const char *what, struct err *e)
{
	return err_set(e, ERR_PERMANENT, "unsupported",
		       "the %s transport cannot %s", d->ops->name, what);
}

#define DISPATCH(op, what, ...) \
	(d->ops->op ? d->ops->op(d, __VA_ARGS__) : unsupported(d, what, e))

int driver_whoami(struct driver *d, struct driver_identity *out, struct err *e)
{
	return DISPATCH(whoami, "identify the signed-in user", out, e);
}

int driver_list_folders(struct driver *d, driver_folder_cb cb, void *ctx,
			struct err *e)
{
	return DISPATCH(list_folders, "list folders", cb, ctx, e);
}

int driver_get_changes(struct driver *d, const char *folder, const char *cursor,
		       size_t page_size, struct driver_page *page, struct err *e)
{
	memset(page, 0, sizeof(*page));
	return DISPATCH(get_changes, "list changes", folder, cursor, page_size, page, e);
}

void driver_prefetch_changes(struct driver *d, const char *folder,
			     const char *cursor, size_t page_size,
			     size_t next_page_size)
{
	if (d->ops->prefetch_changes)
		d->ops->prefetch_changes(d, folder, cursor, page_size, next_page_size);
}

int driver_poll_changes(struct driver *d, struct driver_poll *polls, size_t n,
			size_t page_size, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		memset(&polls[i].page, 0, sizeof(polls[i].page));
		polls[i].rc = -1;
		err_clear(&polls[i].err);
	}
	return DISPATCH(poll_changes, "poll for changes", polls, n, page_size, e);
}

int driver_list_newest(struct driver *d, const char *folder, int64_t after,
		       size_t limit, struct driver_page *page, struct err *e)
{
	memset(page, 0, sizeof(*page));
	return DISPATCH(list_newest, "list the newest messages", folder, after,
			limit, page, e);
}

int driver_locate_messages(struct driver *d, struct driver_locate *items,
			   size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		items[i].folder_remote_id = NULL;
		items[i].new_remote_id = NULL;
		items[i].gone = false;
		items[i].rc = -1;
		err_clear(&items[i].err);
	}
	return DISPATCH(locate_messages, "locate messages", items, n, e);
}

int driver_count_messages(struct driver *d, const char *folder, long long *total,
			  struct err *e)
{
	*total = -1;
	return DISPATCH(count_messages, "count a folder's messages", folder, total, e);
}

int driver_fetch_bodies(struct driver *d, struct driver_body_fetch *items,
			size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		memset(&items[i].body, 0, sizeof(items[i].body));
		items[i].rc = -1;
		err_clear(&items[i].err);
	}
	if (d->ops->fetch_bodies)
		return d->ops->fetch_bodies(d, items, n, e);
	for (size_t i = 0; i < n; i++)
		items[i].rc = driver_fetch_body(d, items[i].remote_id, &items[i].body,
						&items[i].err);
	return 0;
}

int driver_fetch_body(struct driver *d, const char *id, struct driver_body *out,
		      struct err *e)
{
	memset(out, 0, sizeof(*out));
	return DISPATCH(fetch_body, "fetch message bodies", id, out, e);
}

int driver_fetch_mime(struct driver *d, const char *id, struct buf *out,
		      struct err *e)
{
	return DISPATCH(fetch_mime, "fetch raw messages", id, out, e);
}

int driver_set_flags(struct driver *d, const char *id, int is_read,
		     int is_flagged, struct err *e)
{
	return DISPATCH(set_flags, "change flags", id, is_read, is_flagged, e);
}

int driver_move_message(struct driver *d, const char *id, const char *dest,
			char **new_id, struct err *e)
{
	char *ignored = NULL;

	if (new_id)
		*new_id = NULL;
	return DISPATCH(move_message, "move messages", id, dest,
			new_id ? new_id : &ignored, e);
}

int driver_delete_message(struct driver *d, const char *id, struct err *e)
{
	return DISPATCH(delete_message, "delete messages", id, e);
}

int driver_create_draft(struct driver *d, const char *mime, size_t len,
			char **draft_id, struct err *e)
{
	*draft_id = NULL;
	return DISPATCH(create_draft, "create drafts", mime, len, draft_id, e);
}

int driver_send_draft(struct driver *d, const char *draft_id, struct err *e)
{
	return DISPATCH(send_draft, "send drafts", draft_id, e);
}

int driver_get_state(struct driver *d, const char *id, struct driver_state *out,
		     struct err *e)
{
	memset(out, 0, sizeof(*out));
	return DISPATCH(get_state, "look up messages", id, out, e);
}

int driver_find_by_message_id(struct driver *d, const char *imid,
			      driver_found_cb cb, void *ctx, struct err *e)
{
	return DISPATCH(find_by_message_id, "search by Message-ID", imid, cb, ctx, e);
}

int driver_test_send(struct driver *d, struct err *e)
{
	return DISPATCH(test_send, "test sending", e);
}

void driver_free(struct driver *d)
{
	if (d && d->ops->free)
		d->ops->free(d);
}

void driver_page_free(struct driver_page *p)
{
	if (!p)
		return;
	free(p->items);
	free(p->next_cursor);
	free(p->done_cursor);
	/* priv is released by the driver that made the page, through items'
	 * owner: drivers store a json_t or arena there and register a free
	 * function as its first member. */
	if (p->priv) {
		void (**release)(void *) = p->priv;

		(*release)(p->priv);
	}
	memset(p, 0, sizeof(*p));
}

void driver_body_free(struct driver_body *b)
{
	if (!b)
		return;
	free(b->content_type);
	free(b->content);
	memset(b, 0, sizeof(*b));
}

void driver_state_free(struct driver_state *s)
{
	if (!s)
		return;
	free(s->folder_remote_id);
	free(s->internet_message_id);
	free(s->conversation_id);
	memset(s, 0, sizeof(*s));
}
