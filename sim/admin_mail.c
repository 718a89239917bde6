/*
 * admin_mail.c — /_sim/mailboxes/{email}/...: act on a mailbox as another
 * mail client (or the mail server) would — seed, deliver new mail, mark
 * read/flag, move, delete, create/rename/delete folders — plus
 * expire-delta and the true-state dump tests compare clients against.
 * Messages are named by any of their ids; folders by id, well-known name
 * or display path ("Inbox/Projects").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "admin.h"
#include "graph.h"
#include "ids.h"
#include "mailbox.h"
#include "msgcontent.h"
#include "msgjson.h"
#include "msgstore.h"
#include "seed.h"

static struct sim_mailbox *mailbox(struct sim_world *w, struct sim_req *rq,
				   struct sim_resp *rs)
{
	struct sim_user *u = world_user(w, rq->caps[0]);

	if (!u) {
		admin_error(rq, rs, 404, "itemNotFound", "no mailbox %s", rq->caps[0]);
		return NULL;
	}
	return u->mbox;
}

static uint32_t folder_named(struct sim_world *w, struct sim_mailbox *mb,
			     const char *s)
{
	struct id_parts p;
	enum sim_wk wk = mbx_wk_parse(s);

	if (!s)
		return SIM_NONE;
	if (wk != WK_NONE)
		return mbx_wk(mb, wk);
	if (ids_parse(w, s, &p) == 0 && p.kind == ID_FOLDER && p.mbox == mb->num)
		return mbx_folder(mb, p.a) ? p.a : SIM_NONE;
	return mbx_folder_by_path(mb, s);
}

static uint32_t folder_arg(struct sim_world *w, struct sim_req *rq,
			   struct sim_resp *rs, struct sim_mailbox *mb,
			   const char *s, const char *dflt)
{
	uint32_t f = folder_named(w, mb, s ? s : dflt);

	if (f == SIM_NONE)
		admin_error(rq, rs, 404, "itemNotFound", "no folder '%s' in %s", s ? s : dflt,
			    mb->owner->email);
	return f;
}

static uint32_t message_arg(struct sim_world *w, struct sim_req *rq,
			    struct sim_resp *rs, struct sim_mailbox *mb)
{
	struct id_parts p;

	if (ids_parse(w, rq->caps[1], &p) < 0 || (p.kind != ID_REST && p.kind != ID_IMMUTABLE) ||
	    p.mbox != mb->num || !mbx_msg(mb, p.a) ||
	    (p.kind == ID_REST && mb->msgs[p.a].gen != p.b)) {
		admin_error(rq, rs, 404, "itemNotFound", "no message %s in %s", rq->caps[1],
			    mb->owner->email);
		return SIM_NONE;
	}
	return p.a;
}

static json_t *render(struct sim_world *w, struct sim_mailbox *mb, uint32_t num)
{
	struct render_opts o = { 0 };
	json_t *m;
	char *rest, *path;

	o.immutable = true;
	m = msgjson_render(w, mb, num, &o);
	rest = ids_message(w, mb->num, num, mb->msgs[num].gen, false);
	path = mbx_folder_path(mb, mb->msgs[num].folder);
	json_object_set_new(m, "restId", json_string(rest));
	json_object_set_new(m, "folderPath", json_string(path));
	free(rest);
	free(path);
	return m;
}

void admin_seed(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_mailbox *mb = mailbox(w, rq, rs);
	json_t *b;
	const char *fname, *end;
	json_int_t count;
	uint32_t folder = SIM_NONE;
	int64_t endt = 0;
	char why[200];

	if (!mb || !(b = admin_body(rq, rs)))
		return;
	fname = json_string_value(json_object_get(b, "folder"));
	count = json_integer_value(json_object_get(b, "count"));
	end = json_string_value(json_object_get(b, "end"));
	if (fname && (folder = folder_arg(w, rq, rs, mb, fname, NULL)) == SIM_NONE)
		goto out;
	if (end && simtime_parse(end, &endt, NULL) < 0) {
		admin_error(rq, rs, 400, "invalidRequest", "'end' must be an ISO 8601 timestamp");
		goto out;
	}
	if (count <= 0 || count > SEED_MAX_COUNT) {
		admin_error(rq, rs, 400, "invalidRequest", "'count' must be between 1 and %u", SEED_MAX_COUNT);
		goto out;
	}
	if (seed_mailbox(mb, folder, (uint32_t)count,
			 json_object_get(b, "seed") ? (uint64_t)json_integer_value(json_object_get(b, "seed"))
						    : w->seed,
			 endt, true, why, sizeof(why)) < 0) {
		admin_error(rq, rs, 400, "invalidRequest", "%s", why);
		goto out;
	}
	rs_json(rs, 201, json_pack("{s:I, s:s, s:I}", "count", count, "folder",
				     fname ? fname : "(spread)", "total", (json_int_t)mb->live));
out:
	json_decref(b);
}

/* "a@b" or {"name","address"} or [...] → recipient array. */
static json_t *people(const json_t *v, const char *dflt_addr, const char *dflt_name)
{
	json_t *out = json_array();
	size_t i;
	json_t *e;

	if (!v && dflt_addr) {
		json_array_append_new(out, json_pack("{s:{s:s, s:s}}", "emailAddress", "name",
						     dflt_name ? dflt_name : dflt_addr, "address", dflt_addr));
		return out;
	}
	if (json_is_string(v) || json_is_object(v)) {
		json_t *one = json_pack("[O]", v);
		json_t *r = people(one, NULL, NULL);

		json_decref(one);
		json_decref(out);
		return r;
	}
	json_array_foreach(v, i, e) {
		const char *a = json_is_string(e) ? json_string_value(e)
						   : json_string_value(json_object_get(e, "address"));
		const char *n = json_is_object(e) ? json_string_value(json_object_get(e, "name")) : NULL;

		if (a)
			json_array_append_new(out, json_pack("{s:{s:s, s:s}}", "emailAddress", "name",
							     n ? n : a, "address", a));
	}
	return out;
}

void admin_new_message(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_mailbox *mb = mailbox(w, rq, rs);
	json_t *b, *f, *from, *atts = NULL;
	const char *s;
	uint32_t folder, num;
	int64_t received = simtime_now();
	uint16_t flags = 0;
	size_t total = 0;

	if (!mb || !(b = admin_body(rq, rs)))
		return;
	folder = folder_arg(w, rq, rs, mb, json_string_value(json_object_get(b, "folder")), "inbox");
	if (folder == SIM_NONE)
		goto out;
	s = json_string_value(json_object_get(b, "receivedDateTime"));
	if (s && simtime_parse(s, &received, NULL) < 0) {
		admin_error(rq, rs, 400, "invalidRequest", "'receivedDateTime' must be ISO 8601");
		goto out;
	}
	if (json_object_get(b, "attachments")) {
		struct sim_req fake = *rq;

		if (!(atts = gr_parse_attachments(&fake, rs, json_object_get(b, "attachments"), &total)))
			goto out;
	}
	f = json_object();
	s = json_string_value(json_object_get(b, "subject"));
	json_object_set_new(f, "subject", json_string(s ? s : "(no subject)"));
	from = people(json_object_get(b, "from"), "someone@fabrikam.com", "Someone");
	json_object_set(f, "from", json_array_get(from, 0));
	json_object_set(f, "sender", json_array_get(from, 0));
	json_decref(from);
	json_object_set_new(f, "toRecipients", people(json_object_get(b, "to"), mb->owner->email,
						      mb->owner->name));
	json_object_set_new(f, "ccRecipients", people(json_object_get(b, "cc"), NULL, NULL));
	json_object_set_new(f, "bccRecipients", json_array());
	json_object_set_new(f, "replyTo", json_array());
	json_object_set_new(f, "categories", json_array());
	s = json_string_value(json_object_get(b, "body"));
	json_object_set_new(f, "body", json_pack("{s:s, s:s}", "contentType",
						 sim_ieq(json_string_value(json_object_get(b, "bodyType")), "html") ? "html" : "text",
						 "content", s ? s : ""));
	if ((s = json_string_value(json_object_get(b, "internetMessageId"))))
		json_object_set_new(f, "internetMessageId", json_string(s));
	if ((s = json_string_value(json_object_get(b, "inReplyTo"))))
		json_object_set_new(f, "_inReplyTo", json_string(s));
	if (json_is_array(json_object_get(b, "references")))
		json_object_set(f, "_references", json_object_get(b, "references"));
	if (json_is_true(json_object_get(b, "isRead")))
		flags |= MSG_READ;
	num = msgstore_put(w, mb, folder, received, flags, f, atts, NULL, 0);
	rs_json(rs, 201, render(w, mb, num));
out:
	json_decref(b);
}

void admin_patch_message(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_mailbox *mb = mailbox(w, rq, rs);
	json_t *b, *flag, *cats;
	uint32_t num;
	struct sim_msg *m;

	if (!mb || (num = message_arg(w, rq, rs, mb)) == SIM_NONE || !(b = admin_body(rq, rs)))
		return;
	if (json_is_boolean(json_object_get(b, "isRead")))
		mbx_msg_set_read(mb, num, json_is_true(json_object_get(b, "isRead")));
	flag = json_object_get(b, "flag");
	if (json_is_object(flag))
		flag = json_object_get(flag, "flagStatus");
	if (json_is_string(flag)) {
		static const char *const names[] = { "notFlagged", "flagged", "complete" };

		m = &mb->msgs[num];
		for (unsigned i = 0; i < 3; i++)
			if (strcasecmp(json_string_value(flag), names[i]) == 0)
				m->flags = (uint16_t)((m->flags & ~MSG_FLAG_MASK) | (i << MSG_FLAG_SHIFT));
	}
	cats = json_object_get(b, "categories");
	if (json_is_array(cats))
		json_object_set(msgcontent_materialize(w, mb, num)->fields, "categories", cats);
	mbx_msg_touch(mb, num);
	rs_json(rs, 200, render(w, mb, num));
	json_decref(b);
}

void admin_move_message(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_mailbox *mb = mailbox(w, rq, rs);
	json_t *b;
	uint32_t num, dest;
	const char *d;

	if (!mb || (num = message_arg(w, rq, rs, mb)) == SIM_NONE || !(b = admin_body(rq, rs)))
		return;
	d = json_string_value(json_object_get(b, "folder"));
	if (!d)
		d = json_string_value(json_object_get(b, "destinationId"));
	if ((dest = folder_arg(w, rq, rs, mb, d, NULL)) != SIM_NONE) {
		mbx_msg_move(mb, num, dest);
		rs_json(rs, 200, render(w, mb, num));
	}
	json_decref(b);
}

void admin_delete_message(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_mailbox *mb = mailbox(w, rq, rs);
	uint32_t num, deleted;
	const char *perm = rq_query(rq, "permanent");

	if (!mb || (num = message_arg(w, rq, rs, mb)) == SIM_NONE)
		return;
	deleted = mbx_wk(mb, WK_DELETED);
	if ((perm && strcmp(perm, "true") == 0) || mb->msgs[num].folder == deleted)
		mbx_msg_destroy(mb, num);
	else
		mbx_msg_move(mb, num, deleted);
	rs_empty(rs, 204);
}

static json_t *folder_json(struct sim_world *w, struct sim_mailbox *mb, uint32_t f)
{
	json_t *o = gr_folder_json(w, mb, f);
	char *path = mbx_folder_path(mb, f);

	json_object_set_new(o, "path", json_string(path));
	free(path);
	return o;
}

void admin_create_folder(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_mailbox *mb = mailbox(w, rq, rs);
	json_t *b;
	const char *name;
	uint32_t parent, f;

	if (!mb || !(b = admin_body(rq, rs)))
		return;
	name = json_string_value(json_object_get(b, "displayName"));
	parent = folder_arg(w, rq, rs, mb, json_string_value(json_object_get(b, "parent")),
			    "msgfolderroot");
	if (parent == SIM_NONE)
		goto out;
	if (!name || !*name || strchr(name, '/')) {
		admin_error(rq, rs, 400, "invalidRequest", "'displayName' must be a non-empty name without '/'");
		goto out;
	}
	f = mbx_folder_create(mb, parent, name, json_is_true(json_object_get(b, "isHidden")));
	if (f == SIM_NONE)
		admin_error(rq, rs, 409, "ErrorFolderExists", "a folder named '%s' already exists there", name);
	else
		rs_json(rs, 201, folder_json(w, mb, f));
out:
	json_decref(b);
}

void admin_patch_folder(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_mailbox *mb = mailbox(w, rq, rs);
	json_t *b;
	uint32_t f;
	const char *name, *parent;

	if (!mb || (f = folder_arg(w, rq, rs, mb, rq->caps[1], NULL)) == SIM_NONE ||
	    !(b = admin_body(rq, rs)))
		return;
	name = json_string_value(json_object_get(b, "displayName"));
	parent = json_string_value(json_object_get(b, "parent"));
	if (mb->folders[f].wk != WK_NONE) {
		admin_error(rq, rs, 400, "invalidRequest", "well-known folders cannot be renamed or moved");
	} else if (name && (!*name || strchr(name, '/') || mbx_folder_rename(mb, f, name) < 0)) {
		admin_error(rq, rs, 409, "ErrorFolderExists", "cannot rename to '%s'", name);
	} else if (parent && mbx_folder_move(mb, f, folder_named(w, mb, parent)) < 0) {
		admin_error(rq, rs, 409, "invalidRequest", "cannot move under '%s'", parent);
	} else {
		rs_json(rs, 200, folder_json(w, mb, f));
	}
	json_decref(b);
}

void admin_delete_folder(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_mailbox *mb = mailbox(w, rq, rs);
	uint32_t f;

	if (!mb || (f = folder_arg(w, rq, rs, mb, rq->caps[1], NULL)) == SIM_NONE)
		return;
	if (mb->folders[f].wk != WK_NONE) {
		admin_error(rq, rs, 400, "invalidRequest", "well-known folders cannot be deleted");
		return;
	}
	mbx_folder_delete(mb, f);
	rs_empty(rs, 204);
}

void admin_expire_delta(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_mailbox *mb = mailbox(w, rq, rs);
	json_t *b;
	const char *fname;
	uint32_t f = SIM_NONE;

	if (!mb || !(b = admin_body(rq, rs)))
		return;
	fname = json_string_value(json_object_get(b, "folder"));
	if (fname && (f = folder_arg(w, rq, rs, mb, fname, NULL)) == SIM_NONE) {
		json_decref(b);
		return;
	}
	mbx_expire_delta(mb, f);
	rs_json(rs, 200, json_pack("{s:b, s:s}", "ok", 1, "folder", fname ? fname : "(all)"));
	json_decref(b);
}

static const char *flag_status(uint16_t flags)
{
	static const char *const names[] = { "notFlagged", "flagged", "complete", "notFlagged" };

	return names[(flags & MSG_FLAG_MASK) >> MSG_FLAG_SHIFT];
}

/* One dump record, appended as compact JSON to out (ids_only: id,
 * folderId, folderPath — no generated content, for big mailboxes). */
static void dump_message(struct sim_world *w, struct sim_mailbox *mb, uint32_t num,
			 char **paths, bool ids_only, struct buf *out)
{
	struct sim_msg *m = &mb->msgs[num];
	json_t *f;
	char *id = ids_message(w, mb->num, num, 0, true);
	char *fid = ids_folder(w, mb->num, m->folder);
	char t[SIMTIME_LEN];
	json_t *rec;
	char *text;

	if (ids_only) {
		rec = json_pack("{s:s, s:s, s:s}", "id", id, "folderId", fid, "folderPath",
				paths[m->folder]);
		text = json_dumps(rec, JSON_COMPACT);
		buf_puts(out, text, NULL);
		free(text);
		json_decref(rec);
		free(id);
		free(fid);
		return;
	}
	f = msgcontent_fields(w, mb, num, 0);
	simtime_format(m->received, false, t);
	rec = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:b, s:s, s:s, s:b, s:b}",
			"id", id, "folderId", fid, "folderPath", paths[m->folder],
			"internetMessageId", json_object_get(f, "internetMessageId") ? json_object_get(f, "internetMessageId") : json_null(),
			"conversationId", json_object_get(f, "conversationId") ? json_object_get(f, "conversationId") : json_null(),
			"subject", json_object_get(f, "subject") ? json_object_get(f, "subject") : json_null(),
			"isRead", m->flags & MSG_READ, "flag", flag_status(m->flags),
			"receivedDateTime", t, "isDraft", m->flags & MSG_DRAFT,
			"hasAttachments", m->flags & MSG_HASATT);
	text = json_dumps(rec, JSON_COMPACT);
	buf_puts(out, text, NULL);
	free(text);
	json_decref(rec);
	json_decref(f);
	free(id);
	free(fid);
}

static void dump_messages(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs,
			  bool with_folders)
{
	struct sim_mailbox *mb = mailbox(w, rq, rs);
	const char *only = rq_query(rq, "folder");
	const char *ids = rq_query(rq, "ids");
	bool ids_only = ids && strcmp(ids, "true") == 0;
	uint32_t fo = SIM_NONE;
	char **paths;
	struct buf out;
	bool first = true;

	if (!mb)
		return;
	if (only && (fo = folder_arg(w, rq, rs, mb, only, NULL)) == SIM_NONE)
		return;
	paths = xcalloc(mb->nfolders, sizeof(*paths));
	for (size_t i = 0; i < mb->nfolders; i++)
		paths[i] = mbx_folder_path(mb, (uint32_t)i);
	buf_init(&out, (size_t)1 << 30);
	buf_puts(&out, "{", NULL);
	if (with_folders) {
		json_t *folders = json_array();
		char *text;

		for (size_t i = 0; i < mb->nfolders; i++) {
			struct sim_folder *f = &mb->folders[i];
			char *id, *pid;

			if (f->gone)
				continue;
			id = ids_folder(w, mb->num, (uint32_t)i);
			pid = f->parent == SIM_NONE ? NULL : ids_folder(w, mb->num, f->parent);
			json_array_append_new(folders, json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:I, s:b}",
								 "id", id, "path", paths[i],
								 "parentFolderId", pid,
								 "wellKnownName", f->wk ? mbx_wk_name(f->wk) : NULL,
								 "total", (json_int_t)f->nidx,
								 "unread", (json_int_t)f->unread,
								 "isHidden", f->hidden));
			free(id);
			free(pid);
		}
		text = json_dumps(folders, JSON_COMPACT);
		buf_printf(&out, NULL, "\"folders\":%s,", text);
		free(text);
		json_decref(folders);
	}
	buf_puts(&out, "\"messages\":[", NULL);
	for (size_t i = 0; i < mb->nall; i++) {
		uint32_t num = mb->all[i];

		if (fo != SIM_NONE && mb->msgs[num].folder != fo)
			continue;
		if (!first)
			buf_puts(&out, ",", NULL);
		first = false;
		dump_message(w, mb, num, paths, ids_only, &out);
	}
	buf_printf(&out, NULL, "],\"mailboxTotal\":%zu}", mb->live);
	rs_text(rs, 200, "application/json", buf_str(&out), out.len);
	buf_free(&out);
	for (size_t i = 0; i < mb->nfolders; i++)
		free(paths[i]);
	free(paths);
}

void admin_dump(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	dump_messages(w, rq, rs, true);
}

void admin_list_messages(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	dump_messages(w, rq, rs, false);
}
