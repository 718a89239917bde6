/*
 * imap_items.c — operations on single messages by id: where a message is
 * now (locate: in place, or where this driver moved it, by COPYUID),
 * its body and raw MIME (BODY.PEEK[], capped), flags (UID STORE), moves
 * (UID MOVE, or COPY + \Deleted + UID EXPUNGE with UIDPLUS) that report
 * the id the message has after it, deletion (into Deleted Items, or for
 * good from there), its state, and the search by Message-ID across the
 * folders that the outbox uses to find out what happened to a send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libetpan/uidplus.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/mime.h"
#include "imap/imap_internal.h"

int imap_item_parse(const char *id, char **mailbox, uint32_t *uidvalidity,
		    uint32_t *uid, struct err *e)
{
	if (imap_id_parse(id, mailbox, uidvalidity, uid) == 0)
		return 0;
	return err_set(e, ERR_PERMANENT, "not_found", "'%.200s' is not the id of a "
		       "message on this IMAP server", id ? id : "");
}

static int gone(const char *id, struct err *e)
{
	return err_set(e, ERR_PERMANENT, "not_found", "the message %.200s is no longer "
		       "on the server", id);
}

/* A message of ours: its mailbox open (`readonly` or for changes) with
 * the id's UIDVALIDITY. Returns 1 when it is there (not \Deleted), 0 when
 * it is gone (the mailbox, the numbering or the message), -1 on error.
 * *flags gets its flags. */
static int open_item(struct imap_driver *g, const char *mailbox, uint32_t uidvalidity,
		     uint32_t uid, bool readonly, unsigned *flags, struct err *e)
{
	struct mailimap_set *set;
	struct imap_fetched *got;
	size_t n;
	int rc;

	*flags = 0;
	if (imap_driver_open_mailbox(g, mailbox, readonly, false, e) < 0)
		return err_is(e, "folder_gone") ? 0 : -1;
	if (g->main.uidvalidity != uidvalidity)
		return 0;
	set = imap_set_range(uid, uid);
	rc = imap_fetch_flags(&g->main, set, true, 0, &got, &n, NULL, e);
	mailimap_set_free(set);
	if (rc < 0)
		return -1;
	rc = n > 0 && got[0].uid == uid && !(got[0].flags & IMAP_FLAG_DELETED);
	if (rc)
		*flags = got[0].flags;
	free(got);
	return rc;
}

/* The same by id. */
static int open_id(struct imap_driver *g, const char *id, bool readonly,
		   char **mailbox, uint32_t *uid, unsigned *flags, struct err *e)
{
	uint32_t uidvalidity;
	int rc;

	if (imap_item_parse(id, mailbox, &uidvalidity, uid, e) < 0)
		return -1;
	rc = open_item(g, *mailbox, uidvalidity, *uid, readonly, flags, e);
	if (rc <= 0) {
		free(*mailbox);
		*mailbox = NULL;
	}
	return rc;
}

/* ---- locate -------------------------------------------------------------------------- */

static void locate_one(struct imap_driver *g, struct driver_locate *it)
{
	const char *moved = imap_driver_moved_to(g, it->remote_id);
	char *mailbox = NULL;
	uint32_t uid;
	unsigned flags;
	int rc;

	err_clear(&it->err);
	it->rc = 0;
	rc = open_id(g, it->remote_id, true, &mailbox, &uid, &flags, &it->err);
	if (rc < 0 && err_is(&it->err, "not_found")) {
		/* not an id of ours: nothing of it is here */
		err_clear(&it->err);
		it->gone = true;
		return;
	}
	if (rc == 0 && moved) {
		/* we moved it: COPYUID said where it went */
		rc = open_id(g, moved, true, &mailbox, &uid, &flags, &it->err);
		if (rc == 1)
			it->new_remote_id = xstrdup(moved);
	}
	if (rc < 0) {
		it->rc = -1;
		return;
	}
	it->gone = rc == 0;
	it->folder_remote_id = mailbox;
}

int imap_op_locate_messages(struct driver *d, struct driver_locate *items, size_t n,
			    struct err *e)
{
	struct imap_driver *g = imap_of(d);

	if (imap_driver_session(g, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		locate_one(g, &items[i]);
	return 0;
}

/* ---- content ---------------------------------------------------------------------------- */

int imap_op_fetch_mime(struct driver *d, const char *id, struct buf *out, struct err *e)
{
	struct imap_driver *g = imap_of(d);
	size_t cap = out->limit && out->limit < g->max_message ? out->limit : g->max_message;
	char *mailbox = NULL;
	uint32_t validity, uid;
	bool found = false;
	int rc = -1;

	if (imap_item_parse(id, &mailbox, &validity, &uid, e) < 0)
		return -1;
	/* one command: BODY.PEEK[] of a message that is gone answers nothing */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (imap_driver_open_mailbox(g, mailbox, true, false, e) < 0) {
			if (err_is(e, "folder_gone"))
				rc = 0;
			break;
		}
		rc = g->main.uidvalidity != validity ? 0
		     : imap_fetch_raw(&g->main, uid, cap, out, &found, e) < 0 ? -1 : 0;
		if (rc == 0 || g->main.imap || e->class != ERR_TRANSIENT)
			break;
	}
	free(mailbox);
	if (rc < 0)
		return -1;
	return found ? 0 : gone(id, e);
}

int imap_op_fetch_body(struct driver *d, const char *id, struct driver_body *out,
		       struct err *e)
{
	struct imap_driver *g = imap_of(d);
	struct buf raw;
	bool is_html;
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&raw, g->max_message);
	rc = imap_op_fetch_mime(d, id, &raw, e);
	if (rc == 0)
		rc = mime_body(raw.data ? raw.data : "", raw.len, &is_html, &out->content,
			       &out->len, e);
	if (rc == 0)
		out->content_type = xstrdup(is_html ? "html" : "text");
	buf_free(&raw);
	return rc;
}

/* ---- flags -------------------------------------------------------------------------------- */

static int store_flag(struct imap_session *s, uint32_t uid, struct mailimap_flag *flag,
		      bool add, struct err *e)
{
	struct mailimap_flag_list *list = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *att;
	struct mailimap_set *set = imap_set_range(uid, uid);
	int r;

	mailimap_flag_list_add(list, flag);
	att = add ? mailimap_store_att_flags_new_add_flags_silent(list)
		  : mailimap_store_att_flags_new_remove_flags_silent(list);
	imap_session_limits(s, 0, IMAP_SMALL_RESPONSE);
	r = mailimap_uid_store(s->imap, set, att);
	mailimap_store_att_flags_free(att);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "changing the flags of a message in",
					 s->selected, false, e);
	return 0;
}

int imap_op_set_flags(struct driver *d, const char *id, int is_read, int is_flagged,
		      struct err *e)
{
	struct imap_driver *g = imap_of(d);
	char *mailbox = NULL;
	uint32_t uid;
	unsigned flags;
	int rc = open_id(g, id, false, &mailbox, &uid, &flags, e);

	free(mailbox);
	if (rc <= 0)
		return rc < 0 ? -1 : gone(id, e);
	if (is_read != DRIVER_UNKNOWN && (is_read != 0) != ((flags & IMAP_FLAG_SEEN) != 0) &&
	    store_flag(&g->main, uid, mailimap_flag_new_seen(), is_read != 0, e) < 0)
		return -1;
	if (is_flagged != DRIVER_UNKNOWN &&
	    (is_flagged != 0) != ((flags & IMAP_FLAG_FLAGGED) != 0) &&
	    store_flag(&g->main, uid, mailimap_flag_new_flagged(), is_flagged != 0, e) < 0)
		return -1;
	return 0;
}

/* ---- moving and deleting ------------------------------------------------------------------- */

/* \Deleted and UID EXPUNGE of `uid` in the open (read-write) mailbox. */
static int expunge_one(struct imap_session *s, uint32_t uid, struct err *e)
{
	struct mailimap_set *set;
	int r;

	if (!(s->caps & IMAP_CAP_UIDPLUS))
		return err_set(e, ERR_PERMANENT, "unsupported", "the IMAP server has neither "
			       "MOVE nor UIDPLUS, so one message cannot be removed without "
			       "expunging others marked deleted in %.200s", s->selected);
	if (store_flag(s, uid, mailimap_flag_new_deleted(), true, e) < 0)
		return -1;
	set = imap_set_range(uid, uid);
	imap_session_limits(s, 0, IMAP_SMALL_RESPONSE);
	r = mailimap_uid_expunge(s->imap, set);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "removing a message from", s->selected, false, e);
	return 0;
}

/* The UID the message has in `dest` after a copy or move: from COPYUID,
 * else by its Message-ID and size there. 0 when unknown. */
static uint32_t uid_in_dest(struct imap_session *s, struct mailimap_set *dest_uids,
			    const char *dest, const struct mime_summary *sum,
			    int64_t size, struct err *e)
{
	struct imap_found *found;
	size_t n;
	uint32_t uid = 0;

	if (dest_uids && clist_begin(dest_uids->set_list)) {
		struct mailimap_set_item *r = clist_content(clist_begin(dest_uids->set_list));

		return r->set_first;
	}
	if (!sum->message_id || imap_session_open(s, dest, true, true, e) < 0)
		return 0;
	if (imap_search_message_id(s, sum->message_id, &found, &n, e) < 0)
		return 0;
	for (size_t i = n; i-- > 0 && !uid;)
		if (found[i].size == size)
			uid = found[i].uid;
	free(found);
	return uid;
}

/* Move `uid` of the open mailbox to `dest`; *new_uid and *new_validity
 * get where it went (0 when the server does not say). */
static int move_uid(struct imap_session *s, uint32_t uid, const char *dest,
		    uint32_t *new_validity, uint32_t *new_uid, struct err *e)
{
	struct mailimap_set *set = imap_set_range(uid, uid), *src = NULL, *dst = NULL;
	struct mime_summary sum;
	struct imap_found info = { 0 };
	bool found = false;
	int r, rc = -1;

	*new_uid = *new_validity = 0;
	if (imap_fetch_summary(s, uid, &found, &info, &sum, e) < 0)
		goto out;
	imap_session_limits(s, 0, IMAP_SMALL_RESPONSE);
	if (s->caps & IMAP_CAP_MOVE)
		r = mailimap_uidplus_uid_move(s->imap, set, dest, new_validity, &src, &dst);
	else
		r = mailimap_uidplus_uid_copy(s->imap, set, dest, new_validity, &src, &dst);
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_fail(s, r, "moving a message to", dest, false, e);
		goto out;
	}
	if (!(s->caps & IMAP_CAP_MOVE) && expunge_one(s, uid, e) < 0)
		goto out;
	*new_uid = uid_in_dest(s, dst, dest, &sum, info.size, e);
	if (*new_uid && !*new_validity) {
		if (imap_session_open(s, dest, true, false, e) < 0)
			goto out;
		*new_validity = s->uidvalidity;
	}
	rc = 0;
out:
	if (found)
		mime_summary_free(&sum);
	if (src)
		mailimap_set_free(src);
	if (dst)
		mailimap_set_free(dst);
	mailimap_set_free(set);
	return rc;
}

int imap_op_move_message(struct driver *d, const char *id, const char *dest,
			 char **new_id, struct err *e)
{
	struct imap_driver *g = imap_of(d);
	char *mailbox = NULL;
	uint32_t uid, validity, new_uid;
	unsigned flags;
	int rc = open_id(g, id, false, &mailbox, &uid, &flags, e);

	*new_id = NULL;
	if (rc <= 0)
		return rc < 0 ? -1 : gone(id, e);
	if (strcmp(mailbox, dest) == 0) {
		free(mailbox);
		return 0;
	}
	free(mailbox);
	if (move_uid(&g->main, uid, dest, &validity, &new_uid, e) < 0)
		return -1;
	if (new_uid) {
		*new_id = imap_id_format(dest, validity, new_uid);
		imap_driver_remember_move(g, id, *new_id);
	} else {
		log_warn("imap", "moved a message to %s but the server did not say its new "
			 "UID; the next sync finds it there", dest);
	}
	return 0;
}

int imap_op_delete_message(struct driver *d, const char *id, struct err *e)
{
	struct imap_driver *g = imap_of(d);
	const struct imap_folder *trash;
	char *mailbox = NULL, *new_id = NULL;
	uint32_t uid;
	unsigned flags;
	int rc;

	if (imap_driver_folders(g, false, e) < 0)
		return -1;
	trash = imap_folder_by_role(&g->folders, MAIL_ROLE_DELETED);
	rc = open_id(g, id, false, &mailbox, &uid, &flags, e);
	if (rc <= 0)
		return rc; /* already gone: done */
	if (trash && strcmp(mailbox, trash->name) != 0) {
		free(mailbox);
		rc = imap_op_move_message(d, id, trash->name, &new_id, e);
		free(new_id);
		return rc;
	}
	free(mailbox);
	return expunge_one(&g->main, uid, e);
}

/* ---- state and search -------------------------------------------------------------------- */

static void fill_state(struct driver_state *out, const char *mailbox, unsigned flags,
		       const char *imid, const char *conversation_id)
{
	out->exists = true;
	out->is_draft = (flags & IMAP_FLAG_DRAFT) != 0;
	out->folder_remote_id = xstrdup(mailbox);
	out->internet_message_id = xstrdup(imid);
	/* an array of the summary's, never NULL (xstrdup takes NULL anyway) */
	// cppcheck-suppress nullPointer
	out->conversation_id = xstrdup(conversation_id);
}

int imap_op_get_state(struct driver *d, const char *id, struct driver_state *out,
		      struct err *e)
{
	struct imap_driver *g = imap_of(d);
	const char *moved = imap_driver_moved_to(g, id);
	struct mime_summary sum;
	struct imap_found info;
	char *mailbox = NULL;
	uint32_t uid;
	unsigned flags;
	bool found = false;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = open_id(g, id, true, &mailbox, &uid, &flags, e);
	if (rc == 0 && moved)
		rc = open_id(g, moved, true, &mailbox, &uid, &flags, e);
	if (rc == 1 && imap_fetch_summary(&g->main, uid, &found, &info, &sum, e) < 0)
		rc = -1;
	if (rc == 1 && found) {
		fill_state(out, mailbox, info.flags, sum.message_id, sum.conversation_id);
		mime_summary_free(&sum);
	}
	free(mailbox);
	return rc < 0 ? -1 : 0;
}

/* Folders in the order a search for a sent message should try them. */
static bool searched_first(const struct imap_folder *f)
{
	return f->role == MAIL_ROLE_SENT || f->role == MAIL_ROLE_DRAFTS;
}

int imap_op_find_by_message_id(struct driver *d, const char *imid, driver_found_cb cb,
			       void *ctx, struct err *e)
{
	struct imap_driver *g = imap_of(d);

	if (!imid || !*imid)
		return err_set(e, ERR_BUG, "usage", "a search by Message-ID without one");
	if (imap_driver_folders(g, false, e) < 0)
		return -1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < g->folders.n; i++) {
			const struct imap_folder *f = &g->folders.f[i];
			struct imap_found *found;
			size_t n;
			int rc = 0;

			if (searched_first(f) != (pass == 0))
				continue;
			if (imap_driver_open_mailbox(g, f->name, true, false, e) < 0 ||
			    imap_search_message_id(&g->main, imid, &found, &n, e) < 0) {
				if (err_is(e, "folder_gone"))
					continue;
				return err_prefix(e, "looking for %.200s: ", imid);
			}
			for (size_t k = 0; k < n && rc == 0; k++) {
				struct driver_state st = { 0 };
				char *id = imap_id_format(f->name, g->main.uidvalidity,
							  found[k].uid);

				fill_state(&st, f->name, found[k].flags, imid, NULL);
				rc = cb(ctx, id, &st);
				driver_state_free(&st);
				free(id);
			}
			free(found);
			if (rc)
				return rc;
		}
	return 0;
}
