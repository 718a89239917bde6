/*
 * imap_fetch.c — what the driver asks the open mailbox for: the metadata
 * of messages (UID, FLAGS, INTERNALDATE, RFC822.SIZE, BODYSTRUCTURE, the
 * header and the first bytes of the text, MODSEQ) turned into mail.h
 * messages with GMime reading the header; flags alone (optionally
 * CHANGEDSINCE, with VANISHED); a raw message with BODY.PEEK[]; and UID
 * SEARCH. libetpan parses every answer; the stream caps each one first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <libetpan/condstore.h>
#include <libetpan/qresync.h>
#include "inboxsync/alloc.h"
#include "inboxsync/mime.h"
#include "imap/imap_internal.h"

#define PREVIEW_CHARS 255

/* ---- sets ---------------------------------------------------------------------- */

struct mailimap_set *imap_set_range(uint32_t lo, uint32_t hi)
{
	return mailimap_set_new_interval(lo, hi);
}

struct mailimap_set *imap_set_of(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();

	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		mailimap_set_add_interval(set, uids[i], uids[j]);
		i = j + 1;
	}
	return set;
}

/* ---- flags ------------------------------------------------------------------------ */

static const struct {
	int type;
	unsigned bit;
} flag_bits[] = {
	{ MAILIMAP_FLAG_SEEN, IMAP_FLAG_SEEN },
	{ MAILIMAP_FLAG_FLAGGED, IMAP_FLAG_FLAGGED },
	{ MAILIMAP_FLAG_DRAFT, IMAP_FLAG_DRAFT },
	{ MAILIMAP_FLAG_DELETED, IMAP_FLAG_DELETED },
	{ MAILIMAP_FLAG_ANSWERED, IMAP_FLAG_ANSWERED },
};

unsigned imap_flags_of(const struct mailimap_msg_att_dynamic *dyn)
{
	unsigned flags = 0;

	if (!dyn || !dyn->att_list)
		return 0;
	for (clistiter *it = clist_begin(dyn->att_list); it; it = clist_next(it)) {
		struct mailimap_flag_fetch *ff = clist_content(it);

		if (ff->fl_type != MAILIMAP_FLAG_FETCH_OTHER || !ff->fl_flag)
			continue;
		for (size_t i = 0; i < sizeof(flag_bits) / sizeof(flag_bits[0]); i++)
			if (ff->fl_flag->fl_type == flag_bits[i].type)
				flags |= flag_bits[i].bit;
	}
	return flags;
}

void imap_message_set_flags(struct imap_arena *a, struct mail_message *m,
			    unsigned flags)
{
	char key[16];

	m->is_read = (flags & IMAP_FLAG_SEEN) != 0;
	m->is_flagged = (flags & IMAP_FLAG_FLAGGED) != 0;
	m->is_draft = (flags & IMAP_FLAG_DRAFT) != 0;
	snprintf(key, sizeof(key), "f%u", flags & (IMAP_FLAG_SEEN | IMAP_FLAG_FLAGGED |
						    IMAP_FLAG_DRAFT | IMAP_FLAG_ANSWERED));
	m->change_key = imap_arena_strdup(a, key);
}

/* ---- one fetched message ------------------------------------------------------ */

/* The parts of one FETCH response the driver uses (borrowed from it). */
struct fetch_row {
	uint32_t uid, seq;
	bool has_flags;
	unsigned flags;
	int64_t internaldate;
	int64_t size;
	uint64_t modseq;
	struct mailimap_body *structure;
	const char *header, *text;
	size_t header_len, text_len;
	bool has_header;               /* the answer had a header section */
};

static int64_t unix_of(const struct mailimap_date_time *d)
{
	struct tm tm = { 0 };
	int zone = d->dt_zone, sign = zone < 0 ? -1 : 1;
	int64_t t;

	tm.tm_year = d->dt_year - 1900;
	tm.tm_mon = d->dt_month - 1;
	tm.tm_mday = d->dt_day;
	tm.tm_hour = d->dt_hour;
	tm.tm_min = d->dt_min;
	tm.tm_sec = d->dt_sec;
	t = (int64_t)timegm(&tm);
	zone *= sign;
	return t - sign * (int64_t)((zone / 100) * 3600 + (zone % 100) * 60);
}

static void take_section(struct fetch_row *r, const struct mailimap_msg_att_body_section *b)
{
	const struct mailimap_section *sec = b->sec_section;
	int type = -1;

	if (sec && sec->sec_spec && sec->sec_spec->sec_type == MAILIMAP_SECTION_SPEC_SECTION_MSGTEXT &&
	    sec->sec_spec->sec_data.sec_msgtext)
		type = sec->sec_spec->sec_data.sec_msgtext->sec_type;
	if (type == MAILIMAP_SECTION_MSGTEXT_HEADER ||
	    type == MAILIMAP_SECTION_MSGTEXT_HEADER_FIELDS) {
		r->header = b->sec_body_part;
		r->header_len = b->sec_length;
		r->has_header = true;
	} else {
		/* TEXT, or the whole message (no section) */
		r->text = b->sec_body_part;
		r->text_len = b->sec_length;
	}
}

static void take_static(struct fetch_row *r, const struct mailimap_msg_att_static *st)
{
	switch (st->att_type) {
	case MAILIMAP_MSG_ATT_UID:
		r->uid = st->att_data.att_uid;
		break;
	case MAILIMAP_MSG_ATT_INTERNALDATE:
		if (st->att_data.att_internal_date)
			r->internaldate = unix_of(st->att_data.att_internal_date);
		break;
	case MAILIMAP_MSG_ATT_RFC822_SIZE:
		r->size = st->att_data.att_rfc822_size;
		break;
	case MAILIMAP_MSG_ATT_BODYSTRUCTURE:
		r->structure = st->att_data.att_bodystructure;
		break;
	case MAILIMAP_MSG_ATT_BODY_SECTION:
		if (st->att_data.att_body_section)
			take_section(r, st->att_data.att_body_section);
		break;
	default:
		break;
	}
}

static void read_row(const struct mailimap_msg_att *att, struct fetch_row *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = att->att_number;
	for (clistiter *it = clist_begin(att->att_list); it; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			r->has_flags = true;
			r->flags = imap_flags_of(item->att_data.att_dyn);
		} else if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC) {
			take_static(r, item->att_data.att_static);
		} else if (item->att_type == MAILIMAP_MSG_ATT_ITEM_EXTENSION &&
			   item->att_data.att_extension_data &&
			   item->att_data.att_extension_data->ext_extension ==
			   &mailimap_extension_condstore &&
			   item->att_data.att_extension_data->ext_type ==
			   MAILIMAP_CONDSTORE_TYPE_FETCH_DATA) {
			struct mailimap_condstore_fetch_mod_resp *mod =
				item->att_data.att_extension_data->ext_data;

			if (mod)
				r->modseq = mod->cs_modseq_value;
		}
	}
}

/* ---- attachments from BODYSTRUCTURE --------------------------------------------- */

static bool has_name_param(const struct mailimap_body_fld_param *p)
{
	if (!p || !p->pa_list)
		return false;
	for (clistiter *it = clist_begin(p->pa_list); it; it = clist_next(it)) {
		struct mailimap_single_body_fld_param *sp = clist_content(it);

		if (sp->pa_name && (strcasecmp(sp->pa_name, "name") == 0 ||
				    strcasecmp(sp->pa_name, "filename") == 0))
			return true;
	}
	return false;
}

static bool part_is_attachment(const struct mailimap_body_type_1part *p)
{
	const struct mailimap_body_fld_dsp *dsp =
		p->bd_ext_1part ? p->bd_ext_1part->bd_disposition : NULL;

	if (dsp && dsp->dsp_type && strcasecmp(dsp->dsp_type, "attachment") == 0)
		return true;
	if (p->bd_type == MAILIMAP_BODY_TYPE_1PART_MSG)
		return true;
	if (p->bd_type == MAILIMAP_BODY_TYPE_1PART_BASIC && p->bd_data.bd_type_basic) {
		const struct mailimap_body_type_basic *b = p->bd_data.bd_type_basic;

		return has_name_param(b->bd_fields ? b->bd_fields->bd_parameter : NULL) ||
		       (dsp && has_name_param(dsp->dsp_attributes));
	}
	return false;
}

static bool has_attachments(const struct mailimap_body *b, int depth)
{
	if (!b || depth > 20)
		return false;
	if (b->bd_type == MAILIMAP_BODY_1PART)
		return b->bd_data.bd_body_1part && part_is_attachment(b->bd_data.bd_body_1part);
	if (!b->bd_data.bd_body_mpart)
		return false;
	for (clistiter *it = clist_begin(b->bd_data.bd_body_mpart->bd_list); it;
	     it = clist_next(it))
		if (has_attachments(clist_content(it), depth + 1))
			return true;
	return false;
}

/* ---- metadata ---------------------------------------------------------------------- */

static void copy_addresses(struct imap_arena *a, struct mail_address_list *out,
			   const struct mail_address *in, size_t n)
{
	struct mail_address *items = n ? imap_arena_alloc(a, n * sizeof(*items)) : NULL;

	for (size_t i = 0; i < n; i++) {
		items[i].name = imap_arena_strdup(a, in[i].name);
		items[i].address = imap_arena_strdup(a, in[i].address);
	}
	out->items = items;
	out->n = n;
	out->known = true;
}

/* One item from one row: the header (and text start) read by GMime. */
static void build_item(struct imap_session *s, struct imap_page *b,
		       const struct fetch_row *r)
{
	struct imap_arena *a = b->arena;
	struct mail_message *m = imap_page_add(b);
	struct mime_summary sum;
	struct buf raw;
	char *id = imap_id_format(s->selected, s->uidvalidity, r->uid);

	m->remote_id = imap_arena_strdup(a, id);
	free(id);
	m->folder_remote_id = imap_arena_strdup(a, s->selected);
	m->received_at = r->internaldate;
	m->size = r->size;
	imap_message_set_flags(a, m, r->flags);
	m->has_attachments = has_attachments(r->structure, 0);
	buf_init(&raw, 0);
	if (r->header)
		buf_append(&raw, r->header, r->header_len, NULL);
	if (r->text)
		buf_append(&raw, r->text, r->text_len, NULL);
	if (mime_summarize(raw.data ? raw.data : "", raw.len, PREVIEW_CHARS, &sum, NULL) == 0) {
		m->internet_message_id = imap_arena_strdup(a, sum.message_id ? sum.message_id : "");
		m->conversation_id = imap_arena_strdup(a, sum.conversation_id);
		m->subject = imap_arena_strdup(a, sum.subject);
		m->from.name = imap_arena_strdup(a, sum.from.name ? sum.from.name : "");
		m->from.address = imap_arena_strdup(a, sum.from.address ? sum.from.address : "");
		copy_addresses(a, &m->to, sum.to, sum.n_to);
		copy_addresses(a, &m->cc, sum.cc, sum.n_cc);
		m->preview = imap_arena_strdup(a, sum.preview);
		m->sent_at = sum.date;
		if (!r->structure)
			m->has_attachments = sum.has_attachments;
		mime_summary_free(&sum);
	}
	buf_free(&raw);
}

static struct mailimap_fetch_type *metadata_type(const struct imap_session *s)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_internaldate());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_bodystructure());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
		mailimap_fetch_att_new_body_peek_section(mailimap_section_new_header()));
	mailimap_fetch_type_new_fetch_att_list_add(ft,
		mailimap_fetch_att_new_body_peek_section_partial(mailimap_section_new_text(),
								  0, IMAP_PREVIEW_BYTES));
	if (s->condstore)
		mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_modseq());
	return ft;
}

static void push_fetched(struct imap_fetched **got, size_t *n, size_t *cap,
			 const struct fetch_row *r)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*got = xrealloc(*got, *cap * sizeof(**got));
	}
	(*got)[(*n)++] = (struct imap_fetched){ r->uid, r->seq, r->flags,
						r->internaldate, r->modseq, false };
}

int imap_fetch_metadata(struct imap_session *s, struct mailimap_set *set,
			bool by_uid, struct imap_page *b, struct imap_fetched **got,
			size_t *n_got, struct err *e)
{
	struct mailimap_fetch_type *ft = metadata_type(s);
	clist *result = NULL;
	size_t cap = 0;
	int r;

	*got = NULL;
	*n_got = 0;
	imap_session_limits(s, IMAP_METADATA_LITERAL_MAX, 0);
	r = by_uid ? mailimap_uid_fetch(s->imap, set, ft, &result)
		   : mailimap_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "fetching messages of", s->selected, false, e);
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct fetch_row row;

		read_row(clist_content(it), &row);
		/* A row without the header section is not an answer to this
		 * command but the server telling of another client's flag
		 * change (an unsolicited FETCH, of any message of the mailbox):
		 * the polls report those. */
		if (!row.uid || !row.has_header)
			continue;
		push_fetched(got, n_got, &cap, &row);
		if (row.flags & IMAP_FLAG_DELETED)
			continue;
		build_item(s, b, &row);
		(*got)[*n_got - 1].built = true;
	}
	mailimap_fetch_list_free(result);
	return 0;
}

int imap_fetch_flags(struct imap_session *s, struct mailimap_set *set,
		     bool by_uid, uint64_t changedsince, struct imap_fetched **got,
		     size_t *n_got, struct mailimap_set **vanished, struct err *e)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_qresync_vanished *qv = NULL;
	clist *result = NULL;
	size_t cap = 0;
	int r;

	*got = NULL;
	*n_got = 0;
	if (vanished)
		*vanished = NULL;
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
	if (!by_uid)
		mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_internaldate());
	if (changedsince)
		mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_modseq());
	imap_session_limits(s, IMAP_METADATA_LITERAL_MAX, 0);
	if (!by_uid)
		r = mailimap_fetch(s->imap, set, ft, &result);
	else if (changedsince && vanished)
		r = mailimap_uid_fetch_qresync(s->imap, set, ft, changedsince, &result, &qv);
	else if (changedsince)
		r = mailimap_uid_fetch_changedsince(s->imap, set, ft, changedsince, &result);
	else
		r = mailimap_uid_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR) {
		if (qv)
			mailimap_qresync_vanished_free(qv);
		return imap_session_fail(s, r, "reading the flags of", s->selected, false, e);
	}
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct fetch_row row;

		read_row(clist_content(it), &row);
		if (row.uid)
			push_fetched(got, n_got, &cap, &row);
	}
	mailimap_fetch_list_free(result);
	if (qv) {
		/* a copy: libetpan frees the set with the response */
		if (vanished && qv->qr_known_uids) {
			*vanished = mailimap_set_new_empty();
			for (clistiter *it = clist_begin(qv->qr_known_uids->set_list); it;
			     it = clist_next(it)) {
				struct mailimap_set_item *item = clist_content(it);

				mailimap_set_add_interval(*vanished, item->set_first,
							  item->set_last);
			}
		}
		mailimap_qresync_vanished_free(qv);
	}
	return 0;
}

int imap_fetch_raw(struct imap_session *s, uint32_t uid, size_t cap,
		   struct buf *out, bool *found, struct err *e)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_set *set = imap_set_range(uid, uid);
	clist *result = NULL;
	int r;

	*found = false;
	buf_reset(out);
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
		mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
	imap_session_limits(s, cap, cap + ((size_t)1 << 20));
	r = mailimap_uid_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "fetching a message of", s->selected, true, e);
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct fetch_row row;

		read_row(clist_content(it), &row);
		if (row.uid != uid || !row.text)
			continue;
		*found = true;
		if (buf_append(out, row.text, row.text_len, e) < 0) {
			mailimap_fetch_list_free(result);
			return err_prefix(e, "the message in %.200s is larger than %zu bytes: ",
					  s->selected, cap);
		}
		break;
	}
	mailimap_fetch_list_free(result);
	return 0;
}

int imap_fetch_sizes(struct imap_session *s, struct mailimap_set *set,
		     struct imap_found **got, size_t *n, struct err *e)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *result = NULL;
	size_t cap = 0;
	int r;

	*got = NULL;
	*n = 0;
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
	imap_session_limits(s, IMAP_METADATA_LITERAL_MAX, 0);
	r = mailimap_uid_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "reading the sizes of messages in", s->selected,
					 false, e);
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct fetch_row row;

		read_row(clist_content(it), &row);
		if (!row.uid)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*got = xrealloc(*got, cap * sizeof(**got));
		}
		(*got)[(*n)++] = (struct imap_found){ row.uid, 0, row.size };
	}
	mailimap_fetch_list_free(result);
	return 0;
}

int imap_fetch_raw_set(struct imap_session *s, struct mailimap_set *set,
		       size_t max_literal, imap_raw_cb cb, void *ctx, struct err *e)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *result = NULL;
	int r;

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
		mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
	imap_session_limits(s, max_literal, 0);
	r = mailimap_uid_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "fetching messages of", s->selected, true, e);
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct fetch_row row;

		read_row(clist_content(it), &row);
		if (row.uid && row.text)
			cb(ctx, row.uid, row.text, row.text_len);
	}
	mailimap_fetch_list_free(result);
	return 0;
}

/* ---- searching ----------------------------------------------------------------------- */

static int by_value(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The most a SEARCH answer of the selected mailbox may take: a UID (ten
 * digits and a space) for each message it holds (as the server last said),
 * room for some that arrive meanwhile, and never more than one line of an
 * answer. libetpan keeps every number of the answer in two allocations (a
 * list cell and the number): "* SEARCH 1 1 1 ..." costs 33 times its
 * bytes, so this bound, not the response cap, is what keeps a hostile
 * answer's memory in check (8 MiB of it cost 263 MiB; 64 MiB, the
 * response cap, would have cost 2 GiB). */
static size_t search_cap(const struct imap_session *s)
{
	const struct mailimap_selection_info *sel = s->imap ? s->imap->imap_selection_info : NULL;
	size_t exists = sel && sel->sel_exists > s->exists ? sel->sel_exists : s->exists;
	size_t cap = IMAP_SEARCH_SLACK + exists * 11;

	if (cap > IMAP_MAX_LINE)
		cap = IMAP_MAX_LINE;
	return cap < s->acct->max_response ? cap : s->acct->max_response;
}

int imap_search(struct imap_session *s, struct mailimap_search_key *key,
		uint32_t **uids, size_t *n, struct err *e)
{
	clist *result = NULL;
	size_t i = 0;
	int r;

	*uids = NULL;
	*n = 0;
	imap_session_limits(s, IMAP_METADATA_LITERAL_MAX, search_cap(s));
	r = mailimap_uid_search(s->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "searching", s->selected, false, e);
	*uids = xmalloc(((size_t)clist_count(result) + 1) * sizeof(**uids));
	for (clistiter *it = clist_begin(result); it; it = clist_next(it))
		(*uids)[i++] = *(uint32_t *)clist_content(it);
	*n = i;
	mailimap_search_result_free(result);
	qsort(*uids, *n, sizeof(**uids), by_value);
	return 0;
}

int imap_search_from(struct imap_session *s, uint32_t from, uint32_t **uids,
		     size_t *n, struct err *e)
{
	size_t j = 0;

	if (imap_search(s, mailimap_search_key_new_uid(imap_set_range(from, 0)), uids, n,
			e) < 0)
		return -1;
	/* "from:*" matches the last message even when its UID is below */
	for (size_t i = 0; i < *n; i++)
		if ((*uids)[i] >= from)
			(*uids)[j++] = (*uids)[i];
	*n = j;
	return 0;
}

/* UID, FLAGS, RFC822.SIZE and BODY.PEEK[HEADER.FIELDS (...)] of `set`. */
static int fetch_id_fields(struct imap_session *s, struct mailimap_set *set,
			   clist **result, struct err *e)
{
	static const char *const names[] = { "Message-ID", "References", "In-Reply-To" };
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *fields = clist_new();
	int r;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		clist_append(fields, xstrdup(names[i]));
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_body_peek_section(
		mailimap_section_new_header_fields(mailimap_header_list_new(fields))));
	imap_session_limits(s, IMAP_METADATA_LITERAL_MAX, 0);
	r = mailimap_uid_fetch(s->imap, set, ft, result);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "reading messages of", s->selected, false, e);
	return 0;
}

int imap_fetch_summary(struct imap_session *s, uint32_t uid, bool *found,
		       struct imap_found *info, struct mime_summary *sum, struct err *e)
{
	struct mailimap_set *set = imap_set_range(uid, uid);
	clist *result = NULL;
	int rc = fetch_id_fields(s, set, &result, e);

	*found = false;
	memset(sum, 0, sizeof(*sum));
	mailimap_set_free(set);
	if (rc < 0)
		return -1;
	for (clistiter *it = clist_begin(result); it && !*found; it = clist_next(it)) {
		struct fetch_row row;

		read_row(clist_content(it), &row);
		if (row.uid != uid || (row.flags & IMAP_FLAG_DELETED))
			continue;
		*info = (struct imap_found){ row.uid, row.flags, row.size };
		*found = mime_summarize(row.header ? row.header : "\r\n",
					row.header ? row.header_len : 2, 0, sum, NULL) == 0;
	}
	mailimap_fetch_list_free(result);
	return 0;
}

int imap_search_message_id(struct imap_session *s, const char *imid,
			   struct imap_found **found, size_t *n, struct err *e)
{
	struct mailimap_set *set;
	clist *result = NULL;
	uint32_t *uids;
	size_t nuids, cap = 0;
	int r;

	*found = NULL;
	*n = 0;
	if (imap_search(s, mailimap_search_key_new_header(xstrdup("Message-ID"),
							  xstrdup(imid)), &uids, &nuids, e) < 0)
		return -1;
	if (nuids == 0) {
		free(uids);
		return 0;
	}
	set = imap_set_of(uids, nuids);
	free(uids);
	r = fetch_id_fields(s, set, &result, e);
	mailimap_set_free(set);
	if (r < 0)
		return -1;
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct fetch_row row;
		struct mime_summary sum;

		read_row(clist_content(it), &row);
		if (!row.uid || !row.header || (row.flags & IMAP_FLAG_DELETED) ||
		    mime_summarize(row.header, row.header_len, 0, &sum, NULL) < 0)
			continue;
		if (sum.message_id && strcmp(sum.message_id, imid) == 0) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 4;
				*found = xrealloc(*found, cap * sizeof(**found));
			}
			(*found)[(*n)++] = (struct imap_found){ row.uid, row.flags, row.size };
		}
		mime_summary_free(&sum);
	}
	mailimap_fetch_list_free(result);
	return 0;
}
