/*
 * imap_folders.c — the folders of an IMAP mailbox: LIST "" "*" (folders
 * that cannot be selected are left out, their children hang on the
 * nearest selectable ancestor), roles from SPECIAL-USE attributes
 * (RFC 6154) when the server gives them and from a table of the usual
 * names only when it does not (Exchange's "Sent Items", "Deleted Items",
 * "Junk Email", ...), names decoded from modified UTF-7, and STATUS for
 * the counts shown with each folder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <glib.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "imap/imap_internal.h"

/* SPECIAL-USE attributes → roles. */
static const struct {
	const char *attr;
	enum mail_role role;
} special_uses[] = {
	{ "Sent", MAIL_ROLE_SENT },
	{ "Drafts", MAIL_ROLE_DRAFTS },
	{ "Trash", MAIL_ROLE_DELETED },
	{ "Junk", MAIL_ROLE_JUNK },
	{ "Archive", MAIL_ROLE_ARCHIVE },
};

/* Top-level names → roles, for servers without SPECIAL-USE; earlier
 * names win. */
static const struct {
	const char *name;
	enum mail_role role;
} role_names[] = {
	{ "Sent Items", MAIL_ROLE_SENT },
	{ "Sent", MAIL_ROLE_SENT },
	{ "Sent Messages", MAIL_ROLE_SENT },
	{ "Sent Mail", MAIL_ROLE_SENT },
	{ "Deleted Items", MAIL_ROLE_DELETED },
	{ "Trash", MAIL_ROLE_DELETED },
	{ "Deleted Messages", MAIL_ROLE_DELETED },
	{ "Drafts", MAIL_ROLE_DRAFTS },
	{ "Archive", MAIL_ROLE_ARCHIVE },
	{ "Archives", MAIL_ROLE_ARCHIVE },
	{ "Junk Email", MAIL_ROLE_JUNK },
	{ "Junk E-mail", MAIL_ROLE_JUNK },
	{ "Junk", MAIL_ROLE_JUNK },
	{ "Spam", MAIL_ROLE_JUNK },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- modified UTF-7 --------------------------------------------------------------- */

/* One "&...-" run (without the markers) as UTF-8 appended to `out`. */
static int decode_run(const char *b64, size_t n, struct buf *out)
{
	char *std = xstrndup(b64, n);
	unsigned char *bin = xmalloc(n + 1);
	size_t bin_len = 0;
	gchar *utf8;
	gsize written = 0;
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		if (std[i] == ',')
			std[i] = '/';
	if (sodium_base642bin(bin, n + 1, std, n, NULL, &bin_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0 &&
	    bin_len % 2 == 0 &&
	    (utf8 = g_convert((const gchar *)bin, (gssize)bin_len, "UTF-8", "UTF-16BE",
			      NULL, &written, NULL)) != NULL) {
		rc = buf_append(out, utf8, written, NULL);
		g_free(utf8);
	}
	free(std);
	free(bin);
	return rc;
}

char *imap_mailbox_decode(const char *name)
{
	struct buf out;

	buf_init(&out, 0);
	for (const char *p = name; *p;) {
		const char *end;

		if (*p != '&') {
			buf_append(&out, p++, 1, NULL);
			continue;
		}
		end = strchr(p + 1, '-');
		if (!end)
			goto raw;
		if (end == p + 1)
			buf_append(&out, "&", 1, NULL);
		else if (decode_run(p + 1, (size_t)(end - p - 1), &out) < 0)
			goto raw;
		p = end + 1;
	}
	return buf_detach(&out, NULL);
raw:
	buf_free(&out);
	return xstrdup(name);
}

/* ---- LIST ------------------------------------------------------------------------------ */

void imap_folder_list_free(struct imap_folder_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->f[i].name);
		free(l->f[i].display);
		free(l->f[i].parent);
	}
	free(l->f);
	memset(l, 0, sizeof(*l));
}

struct listed {
	char *name;
	char delimiter;
	bool selectable;
	enum mail_role special;        /* from SPECIAL-USE, NONE if none */
};

static void read_flags(const struct mailimap_mbx_list_flags *fl, struct listed *out)
{
	out->selectable = true;
	out->special = MAIL_ROLE_NONE;
	if (!fl)
		return;
	if (fl->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
	    fl->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT)
		out->selectable = false;
	for (clistiter *it = fl->mbf_oflags ? clist_begin(fl->mbf_oflags) : NULL; it;
	     it = clist_next(it)) {
		struct mailimap_mbx_list_oflag *of = clist_content(it);

		if (of->of_type != MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT || !of->of_flag_ext)
			continue;
		if (strcasecmp(of->of_flag_ext, "Noselect") == 0 ||
		    strcasecmp(of->of_flag_ext, "NonExistent") == 0)
			out->selectable = false;
		for (size_t i = 0; i < COUNT(special_uses); i++)
			if (strcasecmp(of->of_flag_ext, special_uses[i].attr) == 0)
				out->special = special_uses[i].role;
	}
}

static size_t depth_of(const char *name, char delim)
{
	size_t d = 0;

	for (const char *p = name; delim && *p; p++)
		d += *p == delim;
	return d;
}

/* The nearest selectable ancestor of `name` in `all` ("" at the top). */
static char *parent_of(const struct listed *all, size_t n, const char *name, char delim)
{
	char *p = xstrdup(name);

	for (;;) {
		char *cut = delim ? strrchr(p, delim) : NULL;

		if (!cut) {
			free(p);
			return xstrdup("");
		}
		*cut = '\0';
		for (size_t i = 0; i < n; i++)
			if (all[i].selectable && strcmp(all[i].name, p) == 0)
				return p;
	}
}

static const char *last_component(const char *name, char delim)
{
	const char *cut = delim ? strrchr(name, delim) : NULL;

	return cut ? cut + 1 : name;
}

/* Roles: INBOX always; SPECIAL-USE when any folder has an attribute;
 * else the name table (top level only). One folder per role. */
static void assign_roles(struct imap_folder_list *l, const struct listed *all,
			 size_t n, bool use_attributes)
{
	bool taken[MAIL_ROLE_COUNT] = { false };

	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->f[i].name, "INBOX") == 0) {
			l->f[i].role = MAIL_ROLE_INBOX;
			taken[MAIL_ROLE_INBOX] = true;
		}
	if (use_attributes) {
		for (size_t i = 0; i < l->n; i++)
			for (size_t k = 0; k < n; k++)
				if (strcmp(all[k].name, l->f[i].name) == 0 &&
				    all[k].special != MAIL_ROLE_NONE &&
				    !taken[all[k].special] && l->f[i].role == MAIL_ROLE_NONE) {
					l->f[i].role = all[k].special;
					taken[all[k].special] = true;
				}
		return;
	}
	for (size_t r = 0; r < COUNT(role_names); r++) {
		if (taken[role_names[r].role])
			continue;
		for (size_t i = 0; i < l->n; i++)
			if (!*l->f[i].parent && l->f[i].role == MAIL_ROLE_NONE &&
			    strcasecmp(l->f[i].display, role_names[r].name) == 0) {
				l->f[i].role = role_names[r].role;
				taken[role_names[r].role] = true;
				break;
			}
	}
}

/* Parents before children (insertion sort, stable: folder lists are
 * short and the server's order is kept otherwise). */
static void sort_by_depth(struct imap_folder_list *l)
{
	for (size_t i = 1; i < l->n; i++) {
		struct imap_folder f = l->f[i];
		size_t d = depth_of(f.name, l->delimiter), j = i;

		while (j > 0 && depth_of(l->f[j - 1].name, l->delimiter) > d) {
			l->f[j] = l->f[j - 1];
			j--;
		}
		l->f[j] = f;
	}
}

int imap_folders_list(struct imap_session *s, struct imap_folder_list *out,
		      struct err *e)
{
	struct listed *all;
	clist *list = NULL;
	size_t n = 0;
	bool attributes = false;
	int r;

	imap_folder_list_free(out);
	imap_session_limits(s, IMAP_METADATA_LITERAL_MAX, (size_t)16 << 20);
	r = mailimap_list(s->imap, "", "*", &list);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "listing the folders of", s->acct->host,
					 false, e);
	all = xcalloc((size_t)clist_count(list) + 1, sizeof(*all));
	for (clistiter *it = clist_begin(list); it; it = clist_next(it)) {
		struct mailimap_mailbox_list *mb = clist_content(it);

		if (!mb->mb_name || !*mb->mb_name)
			continue;
		all[n].name = xstrdup(mb->mb_name);
		all[n].delimiter = mb->mb_delimiter;
		read_flags(mb->mb_flag, &all[n]);
		attributes |= all[n].special != MAIL_ROLE_NONE;
		if (mb->mb_delimiter)
			out->delimiter = mb->mb_delimiter;
		n++;
	}
	mailimap_list_result_free(list);
	out->f = xcalloc(n + 1, sizeof(*out->f));
	for (size_t i = 0; i < n; i++) {
		struct imap_folder *f;

		if (!all[i].selectable)
			continue;
		f = &out->f[out->n++];
		f->name = xstrdup(all[i].name);
		f->display = imap_mailbox_decode(last_component(all[i].name,
								 all[i].delimiter));
		f->parent = parent_of(all, n, all[i].name, all[i].delimiter);
		f->role = MAIL_ROLE_NONE;
	}
	assign_roles(out, all, n, attributes || (s->caps & IMAP_CAP_SPECIAL_USE));
	sort_by_depth(out);
	for (size_t i = 0; i < n; i++)
		free(all[i].name);
	free(all);
	return 0;
}

const struct imap_folder *imap_folder_by_role(const struct imap_folder_list *l,
					      enum mail_role role)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->f[i].role == role)
			return &l->f[i];
	return NULL;
}

const struct imap_folder *imap_folder_by_name(const struct imap_folder_list *l,
					      const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->f[i].name, name) == 0)
			return &l->f[i];
	return NULL;
}

/* ---- the operation ------------------------------------------------------------------ */

/* MESSAGES and UNSEEN of `name` (-1 when the server does not say). */
static int folder_counts(struct imap_session *s, const char *name, long long *total,
			 long long *unread, struct err *e)
{
	struct mailimap_status_att_list *atts = mailimap_status_att_list_new_empty();
	struct mailimap_mailbox_data_status *st = NULL;
	int r;

	*total = *unread = -1;
	mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_MESSAGES);
	mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UNSEEN);
	imap_session_limits(s, 0, IMAP_SMALL_RESPONSE);
	r = mailimap_status(s->imap, name, atts, &st);
	mailimap_status_att_list_free(atts);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "counting the messages of", name, false, e);
	for (clistiter *it = st && st->st_info_list ? clist_begin(st->st_info_list) : NULL;
	     it; it = clist_next(it)) {
		struct mailimap_status_info *info = clist_content(it);

		if (info->st_att == MAILIMAP_STATUS_ATT_MESSAGES)
			*total = info->st_value;
		else if (info->st_att == MAILIMAP_STATUS_ATT_UNSEEN)
			*unread = info->st_value;
	}
	if (st)
		mailimap_mailbox_data_status_free(st);
	return 0;
}

int imap_op_list_folders(struct driver *d, driver_folder_cb cb, void *ctx,
			 struct err *e)
{
	struct imap_driver *g = imap_of(d);

	if (imap_driver_folders(g, true, e) < 0)
		return -1;
	for (size_t i = 0; i < g->folders.n; i++) {
		const struct imap_folder *f = &g->folders.f[i];
		struct mail_folder mf = {
			.remote_id = f->name, .parent_remote_id = f->parent,
			.name = f->display, .role = f->role, .total = -1, .unread = -1,
		};
		int rc;

		if (imap_driver_session(g, e) < 0 ||
		    folder_counts(&g->main, f->name, &mf.total, &mf.unread, e) < 0)
			return err_prefix(e, "listing the folders: ");
		rc = cb(ctx, &mf);
		if (rc)
			return rc;
	}
	return 0;
}

int imap_op_count_messages(struct driver *d, const char *folder, long long *total,
			   struct err *e)
{
	struct imap_driver *g = imap_of(d);
	long long unread;

	*total = -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (imap_driver_session(g, e) < 0)
			return -1;
		if (folder_counts(&g->main, folder, total, &unread, e) == 0) {
			if (*total >= 0)
				return 0;
			return err_set(e, ERR_TRANSIENT, "bad_response", "the IMAP server did "
				       "not say how many messages %.200s holds", folder);
		}
		if (g->main.imap || e->class != ERR_TRANSIENT)
			break;
	}
	if (err_is(e, "imap_refused") || err_is(e, "folder_gone"))
		err_set(e, ERR_PERMANENT, "folder_gone", "the folder %.200s is not on the "
			"server any more", folder);
	return -1;
}
