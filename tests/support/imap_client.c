/*
 * imap_client.c — the second IMAP client of the tests (imap_client.h),
 * on libetpan's own socket stream: independent of the driver's stream,
 * session and fetch code, so what it reports is the server's truth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libetpan/libetpan.h>
#include "imap_client.h"

struct imap_client {
	mailimap *imap;
};

static int failed(const char *what, int r)
{
	fprintf(stderr, "imap_client: %s failed (libetpan %d)\n", what, r);
	return -1;
}

struct imap_client *imap_client_connect(int port, const char *user, const char *token)
{
	struct imap_client *c = calloc(1, sizeof(*c));
	int r;

	c->imap = mailimap_new(0, NULL);
	r = mailimap_socket_connect(c->imap, "127.0.0.1", (uint16_t)port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		failed("connect", r);
		goto fail;
	}
	r = mailimap_oauth2_authenticate(c->imap, user, token);
	if (r != MAILIMAP_NO_ERROR) {
		failed("XOAUTH2 login", r);
		goto fail;
	}
	return c;
fail:
	mailimap_free(c->imap);
	free(c);
	return NULL;
}

void imap_client_close(struct imap_client *c)
{
	if (!c)
		return;
	mailimap_logout(c->imap);
	mailimap_free(c->imap);
	free(c);
}

static int select_mailbox(struct imap_client *c, const char *mailbox)
{
	int r = mailimap_select(c->imap, mailbox);

	return r == MAILIMAP_NO_ERROR ? 0 : failed("SELECT", r);
}

int imap_client_append(struct imap_client *c, const char *mailbox, const char *mime,
		       size_t len, bool seen, bool flagged, uint32_t *uid)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	uint32_t validity = 0, got = 0;
	int r;

	if (seen)
		mailimap_flag_list_add(fl, mailimap_flag_new_seen());
	if (flagged)
		mailimap_flag_list_add(fl, mailimap_flag_new_flagged());
	r = mailimap_uidplus_append(c->imap, mailbox, fl, NULL, mime, len, &validity, &got);
	mailimap_flag_list_free(fl);
	if (r != MAILIMAP_NO_ERROR)
		return failed("APPEND", r);
	if (uid)
		*uid = got;
	return 0;
}

static int store(struct imap_client *c, uint32_t uid, struct mailimap_flag *flag, bool add)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *att;
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r;

	mailimap_flag_list_add(fl, flag);
	att = add ? mailimap_store_att_flags_new_add_flags_silent(fl)
		  : mailimap_store_att_flags_new_remove_flags_silent(fl);
	r = mailimap_uid_store(c->imap, set, att);
	mailimap_store_att_flags_free(att);
	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : failed("STORE", r);
}

int imap_client_flag(struct imap_client *c, const char *mailbox, uint32_t uid,
		     bool seen, bool add)
{
	if (select_mailbox(c, mailbox) < 0)
		return -1;
	return store(c, uid, seen ? mailimap_flag_new_seen() : mailimap_flag_new_flagged(),
		     add);
}

int imap_client_move(struct imap_client *c, const char *from, uint32_t uid,
		     const char *to, uint32_t *new_uid)
{
	struct mailimap_set *set = mailimap_set_new_single(uid), *src = NULL, *dst = NULL;
	uint32_t validity = 0;
	int r;

	if (select_mailbox(c, from) < 0) {
		mailimap_set_free(set);
		return -1;
	}
	r = mailimap_uidplus_uid_move(c->imap, set, to, &validity, &src, &dst);
	mailimap_set_free(set);
	if (new_uid)
		*new_uid = dst && clist_begin(dst->set_list) ?
			((struct mailimap_set_item *)clist_content(clist_begin(dst->set_list)))->set_first
			: 0;
	if (src)
		mailimap_set_free(src);
	if (dst)
		mailimap_set_free(dst);
	return r == MAILIMAP_NO_ERROR ? 0 : failed("UID MOVE", r);
}

int imap_client_expunge(struct imap_client *c, const char *mailbox, uint32_t uid)
{
	struct mailimap_set *set;
	int r;

	if (select_mailbox(c, mailbox) < 0 || store(c, uid, mailimap_flag_new_deleted(), true) < 0)
		return -1;
	set = mailimap_set_new_single(uid);
	r = mailimap_uid_expunge(c->imap, set);
	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : failed("UID EXPUNGE", r);
}

/* The <...> of a "Message-ID:" header line in `h` (n bytes). */
static void message_id_of(const char *h, size_t n, char *out, size_t cap)
{
	const char *lt = memchr(h, '<', n), *gt;

	out[0] = '\0';
	if (!lt || !(gt = memchr(lt, '>', n - (size_t)(lt - h))))
		return;
	snprintf(out, cap, "%.*s", (int)(gt - lt + 1), lt);
}

int imap_client_truth(struct imap_client *c, const char *mailbox,
		      struct imap_truth **out, size_t *n)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	clist *fields, *result = NULL;
	size_t cap = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (select_mailbox(c, mailbox) < 0)
		return -1;
	if (!c->imap->imap_selection_info->sel_exists)
		return 0;
	fields = clist_new();
	clist_append(fields, strdup("Message-ID"));
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_body_peek_section(
		mailimap_section_new_header_fields(mailimap_header_list_new(fields))));
	set = mailimap_set_new_interval(1, 0);
	r = mailimap_uid_fetch(c->imap, set, ft, &result);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR)
		return failed("FETCH", r);
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct mailimap_msg_att *att = clist_content(it);
		struct imap_truth t = { 0 };

		for (clistiter *i2 = clist_begin(att->att_list); i2; i2 = clist_next(i2)) {
			struct mailimap_msg_att_item *item = clist_content(i2);

			if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
				clist *fl = item->att_data.att_dyn->att_list;

				for (clistiter *i3 = fl ? clist_begin(fl) : NULL; i3; i3 = clist_next(i3)) {
					struct mailimap_flag_fetch *ff = clist_content(i3);

					if (ff->fl_type != MAILIMAP_FLAG_FETCH_OTHER)
						continue;
					t.seen |= ff->fl_flag->fl_type == MAILIMAP_FLAG_SEEN;
					t.flagged |= ff->fl_flag->fl_type == MAILIMAP_FLAG_FLAGGED;
					t.deleted |= ff->fl_flag->fl_type == MAILIMAP_FLAG_DELETED;
				}
			} else if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID) {
				t.uid = item->att_data.att_static->att_data.att_uid;
			} else if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_BODY_SECTION) {
				struct mailimap_msg_att_body_section *b =
					item->att_data.att_static->att_data.att_body_section;

				message_id_of(b->sec_body_part, b->sec_length, t.message_id,
					      sizeof(t.message_id));
			}
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = realloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = t;
	}
	mailimap_fetch_list_free(result);
	return 0;
}

uint32_t imap_client_uidvalidity(struct imap_client *c, const char *mailbox)
{
	if (select_mailbox(c, mailbox) < 0)
		return 0;
	return c->imap->imap_selection_info->sel_uidvalidity;
}
