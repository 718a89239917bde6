/*
 * imap_sync.c — rounds and polls of one folder (get_changes,
 * poll_changes, list_newest). A round reports every message newest
 * first: pages walk down the sequence numbers from EXISTS, each one
 * remembering the lowest UID and its sequence number, so expunges during
 * the round neither skip nor repeat a message and no UID list is ever
 * held. When it reaches the bottom, the done cursor holds the UIDNEXT and
 * HIGHESTMODSEQ of the round's start. A poll then reports what changed:
 *   QRESYNC    UID FETCH 1:n-1 (FLAGS) (CHANGEDSINCE m VANISHED);
 *   CONDSTORE  the same without VANISHED; expunges by comparing the
 *              folder's size with what was reported, and per bucket of
 *              1024 UIDs (presence digests) where it differs;
 *   neither    flags and expunges by (uid, flags) digests, a few buckets
 *              per poll (all of them once the size says something went);
 * and then new messages (UID >= n), oldest first, page by page. The
 * store applies items idempotently, so a page fetched again after a
 * crash changes nothing. docs/imap-design.md has the reasoning.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "imap/imap_internal.h"

#define ROUND_EMPTY_TRIES 8            /* pages of only already-seen messages */
#define DIGEST_FLAGS (IMAP_FLAG_SEEN | IMAP_FLAG_FLAGGED | IMAP_FLAG_DRAFT | \
		      IMAP_FLAG_ANSWERED | IMAP_FLAG_DELETED)

static size_t page_limit(size_t hint)
{
	if (!hint)
		return IMAP_DEFAULT_PAGE_SIZE;
	return hint > IMAP_MAX_PAGE_SIZE ? IMAP_MAX_PAGE_SIZE : hint;
}

static enum imap_change_mode mode_of(const struct imap_session *s)
{
	return s->qresync ? IMAP_MODE_QRESYNC : s->condstore ? IMAP_MODE_CONDSTORE
							      : IMAP_MODE_SCAN;
}

/* What a digest records of a message's flags in this mode. */
static unsigned digest_flags(enum imap_change_mode mode, unsigned flags)
{
	return mode == IMAP_MODE_SCAN ? flags & DIGEST_FLAGS : 0;
}

/* One item saying `uid` left the open folder. */
static void add_removed(struct imap_session *s, struct imap_page *b, uint32_t uid)
{
	struct mail_message *m = imap_page_add(b);
	char *id = imap_id_format(s->selected, s->uidvalidity, uid);

	m->remote_id = imap_arena_strdup(b->arena, id);
	m->folder_remote_id = imap_arena_strdup(b->arena, s->selected);
	m->removed = true;
	free(id);
}

/* One item with only the flags of `uid` (everything else unknown: the
 * store keeps it). \Deleted counts as gone. */
static void add_flags(struct imap_session *s, struct imap_page *b,
		      const struct imap_fetched *f)
{
	struct mail_message *m;
	char *id;

	if (f->flags & IMAP_FLAG_DELETED) {
		add_removed(s, b, f->uid);
		return;
	}
	m = imap_page_add(b);
	id = imap_id_format(s->selected, s->uidvalidity, f->uid);
	m->remote_id = imap_arena_strdup(b->arena, id);
	m->folder_remote_id = imap_arena_strdup(b->arena, s->selected);
	imap_message_set_flags(b->arena, m, f->flags);
	free(id);
}

/* The UIDNEXT of the open folder, asking for the last message's UID when
 * the server did not say. */
static int current_uidnext(struct imap_session *s, uint32_t *out, struct err *e)
{
	struct imap_fetched *got;
	struct mailimap_set *set;
	size_t n;
	int rc;

	*out = s->uidnext;
	if (s->uidnext)
		return 0;
	if (!s->exists) {
		*out = 1;
		return 0;
	}
	set = imap_set_range(s->exists, s->exists);
	rc = imap_fetch_flags(s, set, false, 0, &got, &n, NULL, e);
	mailimap_set_free(set);
	if (rc == 0)
		*out = n ? got[n - 1].uid + 1 : 1;
	free(got);
	return rc;
}

/* The items' UIDs in item order (from the fetched rows with an item). */
static uint32_t *item_uids(const struct imap_fetched *got, size_t n, size_t items)
{
	uint32_t *uids = xmalloc((items + 1) * sizeof(*uids));
	size_t k = 0;

	for (size_t i = 0; i < n && k < items; i++)
		if (got[i].built)
			uids[k++] = got[i].uid;
	return uids;
}

/* ---- a round ---------------------------------------------------------------------- */

/* Keep the items of rows below `low` (the rest were reported by an earlier
 * page); returns the lowest UID kept (or `low`). The digests get every
 * kept row, \Deleted ones too. */
static uint32_t keep_below(struct imap_page *b, size_t first, struct imap_fetched *got,
			   size_t n, struct imap_cursor *c)
{
	struct driver_page *p = b->page;
	size_t item = first, out = first;
	uint32_t lowest = c->low;

	for (size_t i = 0; i < n; i++) {
		bool keep = got[i].uid < c->low;

		if (keep) {
			if (c->mode != IMAP_MODE_QRESYNC)
				imap_digests_add(&c->digests, got[i].uid,
						 digest_flags(c->mode, got[i].flags));
			if (got[i].uid < lowest)
				lowest = got[i].uid;
		}
		if (!got[i].built)
			continue;
		if (keep) {
			p->items[out] = p->items[item];
			got[out - first].uid = got[i].uid; /* reuse as the item's uid */
			out++;
		}
		item++;
	}
	p->n = out;
	return lowest;
}

static int round_page(struct imap_session *s, struct imap_cursor *c, size_t limit,
		      struct imap_page *b, bool *done, struct err *e)
{
	uint32_t hi = c->seq - 1 < s->exists ? c->seq - 1 : s->exists;
	uint32_t *uids = xmalloc(sizeof(*uids));
	size_t nuids = 0;

	*done = false;
	for (int tries = 0; tries < ROUND_EMPTY_TRIES && b->page->n == 0; tries++) {
		uint32_t lo = hi > limit ? hi - (uint32_t)limit + 1 : 1;
		struct mailimap_set *set;
		struct imap_fetched *got;
		size_t n, before = b->page->n;
		int rc;

		if (hi == 0) {
			*done = true;
			break;
		}
		set = imap_set_range(lo, hi);
		rc = imap_fetch_metadata(s, set, false, b, &got, &n, e);
		mailimap_set_free(set);
		if (rc < 0) {
			free(uids);
			return -1;
		}
		c->low = keep_below(b, before, got, n, c);
		uids = xrealloc(uids, (b->page->n + 1) * sizeof(*uids));
		for (size_t i = before; i < b->page->n; i++)
			uids[nuids++] = got[i - before].uid;
		free(got);
		c->seq = lo;
		hi = lo - 1;
		if (lo == 1) {
			*done = true;
			break;
		}
	}
	imap_page_sort_desc(b, uids);
	free(uids);
	return 0;
}

/* ---- a poll: changes below the cursor's UIDNEXT ---------------------------------- */

static int changes_since(struct imap_session *s, struct imap_cursor *c,
			 struct imap_page *b, struct err *e)
{
	struct mailimap_set *set, *vanished = NULL;
	struct imap_fetched *got;
	size_t n;
	int rc;

	if (c->uidnext <= 1 || !s->highestmodseq || s->highestmodseq == c->modseq)
		return 0;
	set = imap_set_range(1, c->uidnext - 1);
	rc = imap_fetch_flags(s, set, true, c->modseq, &got, &n,
			      c->mode == IMAP_MODE_QRESYNC ? &vanished : NULL, e);
	mailimap_set_free(set);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (got[i].uid < c->uidnext)
			add_flags(s, b, &got[i]);
	free(got);
	for (clistiter *it = vanished ? clist_begin(vanished->set_list) : NULL; it;
	     it = clist_next(it)) {
		struct mailimap_set_item *r = clist_content(it);
		uint32_t last = r->set_last ? r->set_last : c->uidnext - 1;

		for (uint32_t uid = r->set_first; uid && uid <= last && uid < c->uidnext; uid++)
			add_removed(s, b, uid);
	}
	if (vanished)
		mailimap_set_free(vanished);
	return 0;
}

/* Compare buckets [first, last] of the folder with the digests: a bucket
 * that differs has its present messages reported (with their flags, in
 * scan mode) and its absent UIDs reported removed; its digest is then
 * the server's. CONDSTORE mode looks at presence only (UID SEARCH); scan
 * mode at (uid, flags) (UID FETCH FLAGS). */
static int scan_buckets(struct imap_session *s, struct imap_cursor *c, uint32_t first,
			uint32_t last, struct imap_page *b, struct err *e)
{
	uint64_t top = (((uint64_t)last + 1) << IMAP_BUCKET_SHIFT) - 1;
	uint32_t lo = first << IMAP_BUCKET_SHIFT;
	uint32_t hi = top > UINT32_MAX ? UINT32_MAX : (uint32_t)top;
	struct imap_fetched *got = NULL;
	struct imap_digests now;
	size_t n = 0, i = 0;
	int rc;

	if (lo == 0)
		lo = 1;
	if (hi >= c->uidnext)
		hi = c->uidnext - 1;
	if (lo > hi)
		return 0;
	if (c->mode == IMAP_MODE_SCAN) {
		struct mailimap_set *set = imap_set_range(lo, hi);

		rc = imap_fetch_flags(s, set, true, 0, &got, &n, NULL, e);
		mailimap_set_free(set);
	} else {
		uint32_t *uids;

		rc = imap_search(s, mailimap_search_key_new_uid(imap_set_range(lo, hi)),
				 &uids, &n, e);
		if (rc == 0) {
			got = xcalloc(n + 1, sizeof(*got));
			for (size_t k = 0; k < n; k++)
				got[k].uid = uids[k];
		}
		free(uids);
	}
	if (rc < 0)
		return -1;
	imap_digests_init(&now);
	for (size_t k = 0; k < n; k++)
		if (got[k].uid >= lo && got[k].uid <= hi)
			imap_digests_add(&now, got[k].uid, digest_flags(c->mode, got[k].flags));
	for (uint32_t bucket = first; bucket <= last; bucket++) {
		struct imap_digest had = imap_digests_get(&c->digests, bucket);
		struct imap_digest has = imap_digests_get(&now, bucket);
		uint64_t blo = (uint64_t)bucket << IMAP_BUCKET_SHIFT;
		uint64_t bhi = blo + (1u << IMAP_BUCKET_SHIFT), uid;

		while (i < n && got[i].uid < blo)
			i++;
		if (had.count == has.count && had.sum == has.sum)
			continue;
		for (uid = blo ? blo : 1; uid < bhi && uid < c->uidnext; uid++) {
			while (i < n && got[i].uid < uid)
				i++;
			if (i < n && got[i].uid == uid) {
				if (c->mode == IMAP_MODE_SCAN)
					add_flags(s, b, &got[i]);
			} else {
				add_removed(s, b, (uint32_t)uid);
			}
		}
		imap_digests_put(&c->digests, has);
	}
	imap_digests_free(&now);
	free(got);
	return 0;
}

/* Expunges and (scan mode) flag changes without CHANGEDSINCE/VANISHED.
 * `below` messages are in the folder with UIDs under the cursor's. */
static int digest_changes(struct imap_session *s, struct imap_cursor *c,
			  uint32_t below, struct imap_page *b, struct err *e)
{
	uint32_t buckets = (c->uidnext - 1) >> IMAP_BUCKET_SHIFT;
	uint32_t first, last;

	if (c->uidnext <= 1)
		return 0;
	if (imap_digests_total(&c->digests) != below)
		return scan_buckets(s, c, 0, buckets, b, e); /* something went */
	if (c->mode != IMAP_MODE_SCAN)
		return 0;
	first = c->scan > buckets ? 0 : c->scan;
	last = first + IMAP_SCAN_BUCKETS - 1 > buckets ? buckets
						       : first + IMAP_SCAN_BUCKETS - 1;
	c->scan = last >= buckets ? 0 : last + 1;
	return scan_buckets(s, c, first, last, b, e);
}

/* ---- a poll: new messages --------------------------------------------------------- */

static int new_messages(struct imap_session *s, struct imap_cursor *c,
			const uint32_t *fresh, size_t n_fresh, size_t limit,
			struct imap_page *b, bool *more, struct err *e)
{
	size_t take = n_fresh < limit ? n_fresh : limit;
	struct mailimap_set *set;
	struct imap_fetched *got;
	size_t n;
	int rc;

	*more = n_fresh > take;
	if (!take)
		return 0;
	set = imap_set_of(fresh, take);
	rc = imap_fetch_metadata(s, set, true, b, &got, &n, e);
	mailimap_set_free(set);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (c->mode != IMAP_MODE_QRESYNC && got[i].uid >= c->uidnext)
			imap_digests_add(&c->digests, got[i].uid,
					 digest_flags(c->mode, got[i].flags));
	free(got);
	c->uidnext = fresh[take - 1] + 1;
	return 0;
}

static int live_page(struct imap_session *s, struct imap_cursor *c, size_t limit,
		     struct imap_page *b, bool *done, struct err *e)
{
	uint32_t *fresh = NULL, uidnext;
	size_t n_fresh = 0;
	bool more = false;
	int rc = -1;

	*done = false;
	if (current_uidnext(s, &uidnext, e) < 0)
		return -1;
	if (uidnext > c->uidnext && imap_search_from(s, c->uidnext, &fresh, &n_fresh, e) < 0)
		return -1;
	if (c->mode == IMAP_MODE_QRESYNC || c->mode == IMAP_MODE_CONDSTORE) {
		if (changes_since(s, c, b, e) < 0)
			goto out;
		c->modseq = s->highestmodseq;
	}
	if (c->mode != IMAP_MODE_QRESYNC) {
		uint32_t below = s->exists >= n_fresh ? s->exists - (uint32_t)n_fresh : 0;

		if (digest_changes(s, c, below, b, e) < 0)
			goto out;
	}
	if (new_messages(s, c, fresh, n_fresh, limit, b, &more, e) < 0)
		goto out;
	if (!more && uidnext > c->uidnext)
		c->uidnext = uidnext;
	*done = !more;
	rc = 0;
out:
	free(fresh);
	return rc;
}

/* ---- the operations ------------------------------------------------------------------ */

static int finish_page(struct imap_page *b, const struct imap_cursor *c, bool done,
		       int rc)
{
	if (rc == 0) {
		char *text = imap_cursor_format(c);

		if (done)
			b->page->done_cursor = text;
		else
			b->page->next_cursor = text;
	}
	imap_page_finish(b, rc == 0);
	if (rc < 0)
		driver_page_free(b->page);
	return rc;
}

/* One page of `folder` after `cursor` on the open main session. */
static int changes_page(struct imap_driver *g, const char *folder, const char *cursor,
			size_t page_size, struct driver_page *page, struct err *e)
{
	struct imap_session *s = &g->main;
	struct imap_cursor c;
	struct imap_page b;
	bool done = false, keep;
	int rc;

	imap_cursor_init(&c);
	memset(page, 0, sizeof(*page));
	if (cursor && imap_cursor_parse(&c, cursor, e) < 0)
		return -1;
	/* The next page of a round going down by sequence numbers needs the
	 * mailbox opened again only when messages left it since it was
	 * opened (each EXAMINE costs the server a look at the whole
	 * mailbox); new rounds and polls always look afresh. */
	keep = cursor && c.kind == IMAP_CURSOR_ROUND && c.uidvalidity == s->uidvalidity &&
	       imap_session_numbers_kept(s, folder);
	if (imap_driver_open_mailbox(g, folder, true, !keep, e) < 0) {
		imap_cursor_free(&c);
		return -1;
	}
	if (cursor && c.uidvalidity != s->uidvalidity) {
		imap_cursor_free(&c);
		return err_set(e, ERR_RESYNC, "uidvalidity_changed", "the folder %.200s was "
			       "renumbered on the server (UIDVALIDITY %u, was %u); it is "
			       "synchronized again", folder, s->uidvalidity, c.uidvalidity);
	}
	if (cursor && c.mode != IMAP_MODE_SCAN && mode_of(s) == IMAP_MODE_SCAN) {
		imap_cursor_free(&c);
		return err_set(e, ERR_RESYNC, "condstore_gone", "the server no longer offers "
			       "CONDSTORE for %.200s; the folder is synchronized again", folder);
	}
	if (!cursor) {
		c.kind = IMAP_CURSOR_ROUND;
		/* a folder without mod-sequences ([NOMODSEQ], or none yet after a
		 * renumbering) is watched by digests */
		c.mode = s->highestmodseq ? mode_of(s) : IMAP_MODE_SCAN;
		c.uidvalidity = s->uidvalidity;
		c.modseq = s->highestmodseq;
		c.seq = s->exists + 1;
		if (current_uidnext(s, &c.uidnext, e) < 0) {
			imap_cursor_free(&c);
			return -1;
		}
		c.low = c.uidnext;
	}
	imap_page_init(&b, page);
	if (c.kind == IMAP_CURSOR_ROUND) {
		rc = round_page(s, &c, page_limit(page_size), &b, &done, e);
		if (rc == 0 && done) {
			c.kind = IMAP_CURSOR_LIVE;
			c.low = c.seq = 0;
		}
	} else {
		rc = live_page(s, &c, page_limit(page_size), &b, &done, e);
	}
	rc = finish_page(&b, &c, done, rc);
	imap_cursor_free(&c);
	return rc;
}

int imap_op_get_changes(struct driver *d, const char *folder, const char *cursor,
			size_t page_size, struct driver_page *page, struct err *e)
{
	struct imap_driver *g = imap_of(d);

	for (int attempt = 0; attempt < 2; attempt++) {
		if (changes_page(g, folder, cursor, page_size, page, e) == 0)
			return 0;
		/* a lost connection is retried once: the page is read-only */
		if (g->main.imap || e->class != ERR_TRANSIENT)
			break;
	}
	return err_prefix(e, "%.200s: ", folder);
}

int imap_op_poll_changes(struct driver *d, struct driver_poll *polls, size_t n,
			 size_t page_size, struct err *e)
{
	struct imap_driver *g = imap_of(d);
	const struct err *fatal = NULL;

	if (imap_driver_session(g, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		memset(&polls[i].page, 0, sizeof(polls[i].page));
		err_clear(&polls[i].err);
		if (fatal) {
			/* the mailbox cannot be reached: the others would fail alike */
			polls[i].rc = -1;
			polls[i].err = *fatal;
			continue;
		}
		polls[i].rc = imap_op_get_changes(d, polls[i].folder_remote_id,
						  polls[i].cursor, page_size, &polls[i].page,
						  &polls[i].err);
		if (polls[i].rc < 0 && !g->main.imap &&
		    (polls[i].err.class == ERR_TRANSIENT || polls[i].err.class == ERR_AUTH))
			fatal = &polls[i].err;
	}
	return 0;
}

/* ---- newest messages ------------------------------------------------------------------- */

static int newest_page(struct imap_driver *g, const char *folder, int64_t after,
		       size_t limit, struct driver_page *page, struct err *e)
{
	struct imap_session *s = &g->main;
	struct imap_fetched *dates = NULL, *got = NULL;
	uint32_t *want = NULL, *uids = NULL;
	struct mailimap_set *set;
	struct imap_page b;
	size_t n = 0, nwant = 0, ngot = 0;
	int rc;

	memset(page, 0, sizeof(*page));
	if (imap_driver_open_mailbox(g, folder, true, true, e) < 0)
		return -1;
	if (limit == 0 || limit > 1000)
		limit = 1000;
	imap_page_init(&b, page);
	if (s->exists == 0) {
		imap_page_finish(&b, true);
		return 0;
	}
	set = imap_set_range(s->exists > limit ? s->exists - (uint32_t)limit + 1 : 1,
			     s->exists);
	rc = imap_fetch_flags(s, set, false, 0, &dates, &n, NULL, e);
	mailimap_set_free(set);
	if (rc == 0) {
		want = xmalloc((n + 1) * sizeof(*want));
		for (size_t i = 0; i < n; i++)
			if (!(dates[i].flags & IMAP_FLAG_DELETED) &&
			    (!after || dates[i].internaldate > after))
				want[nwant++] = dates[i].uid;
	}
	if (rc == 0 && nwant) {
		set = imap_set_of(want, nwant);
		rc = imap_fetch_metadata(s, set, true, &b, &got, &ngot, e);
		mailimap_set_free(set);
	}
	if (rc == 0) {
		uids = item_uids(got, ngot, page->n);
		imap_page_sort_desc(&b, uids);
	}
	free(dates);
	free(want);
	free(got);
	free(uids);
	imap_page_finish(&b, rc == 0);
	if (rc < 0)
		driver_page_free(page);
	return rc;
}

int imap_op_list_newest(struct driver *d, const char *folder, int64_t received_after,
			size_t limit, struct driver_page *page, struct err *e)
{
	struct imap_driver *g = imap_of(d);

	for (int attempt = 0; attempt < 2; attempt++) {
		if (newest_page(g, folder, received_after, limit, page, e) == 0)
			return 0;
		if (g->main.imap || e->class != ERR_TRANSIENT)
			break;
	}
	return err_prefix(e, "%.200s: ", folder);
}
