/*
 * imap_bodies.c — the bodies of many messages in few commands (what `sync
 * --prefetch` and a full mirror ask for): the ids grouped by mailbox, the
 * RFC822.SIZE of each group in one UID FETCH, then the raw messages in
 * chunks of about IMAP_BODY_CHUNK_BYTES, one UID FETCH (BODY.PEEK[]) per
 * chunk, each message read into its body by GMime. A chunk whose answer
 * goes over a cap is fetched again one message at a time, so a large
 * message costs only itself. Single messages stay in imap_items.c.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/mime.h"
#include "imap/imap_internal.h"

/* One id asked for. */
struct want {
	struct driver_body_fetch *it;
	char *mailbox;                 /* NULL: not an id of ours */
	uint32_t uidvalidity, uid;
	int64_t size;                  /* RFC822.SIZE, -1 = not on the server */
	bool done;                     /* it->rc / it->err are final */
};

/* The chunk being fetched: its wants, for the answer's callback. */
struct chunk {
	struct want **w;
	size_t n;
};

static void finish(struct want *w, int rc, const struct err *e)
{
	w->it->rc = rc;
	if (rc < 0)
		w->it->err = *e;
	w->done = true;
}

static void not_found(struct want *w)
{
	struct err e = { 0 };

	err_set(&e, ERR_PERMANENT, "not_found", "the message %.200s is no longer on "
		"the server", w->it->remote_id);
	finish(w, -1, &e);
}

static int by_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A set of the wants' UIDs (ascending, as imap_set_of wants them). */
static struct mailimap_set *set_of(struct want **w, size_t n)
{
	uint32_t *uids = xmalloc((n ? n : 1) * sizeof(*uids));
	struct mailimap_set *set;

	for (size_t i = 0; i < n; i++)
		uids[i] = w[i]->uid;
	qsort(uids, n, sizeof(*uids), by_uid);
	set = imap_set_of(uids, n);
	free(uids);
	return set;
}

/* One raw message of the answer into its want's body. */
static void take_raw(void *ctx, uint32_t uid, const char *raw, size_t len)
{
	struct chunk *c = ctx;
	struct driver_body *b;
	struct err e = { 0 };
	bool is_html;

	for (size_t i = 0; i < c->n; i++) {
		if (c->w[i]->uid != uid || c->w[i]->done)
			continue;
		b = &c->w[i]->it->body;
		if (mime_body(raw, len, &is_html, &b->content, &b->len, &e) < 0) {
			finish(c->w[i], -1, &e);
			return;
		}
		b->content_type = xstrdup(is_html ? "html" : "text");
		finish(c->w[i], 0, NULL);
		return;
	}
}

/* One at a time (after a chunk went over a cap): each message under its
 * own caps, reconnecting as imap_op_fetch_body does. */
static void one_by_one(struct imap_driver *g, struct want **w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct err e = { 0 };

		if (w[i]->done)
			continue;
		if (imap_op_fetch_body(&g->base, w[i]->it->remote_id, &w[i]->it->body, &e) < 0)
			finish(w[i], -1, &e);
		else
			finish(w[i], 0, NULL);
	}
}

/* Open the group's mailbox; 1 open with the ids' numbering, 0 when the
 * mailbox or the numbering is gone (every want of the group not found). */
static int open_group(struct imap_driver *g, struct want **w, size_t n, struct err *e)
{
	if (imap_driver_open_mailbox(g, w[0]->mailbox, true, false, e) < 0) {
		if (!err_is(e, "folder_gone"))
			return -1;
		err_clear(e);
	} else if (g->main.uidvalidity == w[0]->uidvalidity) {
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		not_found(w[i]);
	return 0;
}

/* One chunk: one UID FETCH, once more after a dropped connection. Wants
 * the answer leaves out are gone. */
static int fetch_chunk(struct imap_driver *g, struct want **w, size_t n, struct err *e)
{
	struct chunk c = { w, n };
	struct mailimap_set *set = set_of(w, n);
	int rc = -1;

	for (int attempt = 0; attempt < 2; attempt++) {
		rc = open_group(g, w, n, e);
		if (rc <= 0)
			break;
		if (imap_fetch_raw_set(&g->main, set, g->max_message, take_raw, &c, e) == 0)
			break;
		rc = -1;
		if (g->main.imap || e->class != ERR_TRANSIENT)
			break;
		log_info("imap", "%s: %s; connecting again", g->host, e->msg);
	}
	mailimap_set_free(set);
	if (rc == 0)
		return 0; /* the mailbox or its numbering is gone */
	if (rc < 0 && err_is(e, "too_large")) {
		if (n == 1) {
			finish(w[0], -1, e);
		} else {
			log_info("imap", "%s: %zu messages of %s at once are too large; "
				 "fetching them one at a time", g->host, n, w[0]->mailbox);
			one_by_one(g, w, n);
		}
		err_clear(e);
		return 0;
	}
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!w[i]->done)
			not_found(w[i]);
	return 0;
}

/* The sizes of a group's messages: those the server no longer has are
 * not found. */
static int size_group(struct imap_driver *g, struct want **w, size_t n, struct err *e)
{
	struct mailimap_set *set = set_of(w, n);
	struct imap_found *got = NULL;
	size_t n_got = 0;
	int rc = -1;

	for (int attempt = 0; attempt < 2; attempt++) {
		rc = open_group(g, w, n, e);
		if (rc <= 0)
			break;
		if (imap_fetch_sizes(&g->main, set, &got, &n_got, e) == 0)
			break;
		rc = -1;
		if (g->main.imap || e->class != ERR_TRANSIENT)
			break;
	}
	mailimap_set_free(set);
	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		w[i]->size = -1;
		for (size_t j = 0; j < n_got; j++)
			if (got[j].uid == w[i]->uid)
				w[i]->size = got[j].size;
		if (w[i]->size < 0)
			not_found(w[i]);
	}
	free(got);
	return 1;
}

/* Every want of one mailbox and numbering, in the order asked (newest
 * first as the engine asks), in chunks of about IMAP_BODY_CHUNK_BYTES. */
static int fetch_group(struct imap_driver *g, struct want **w, size_t n, struct err *e)
{
	struct want **chunk = xmalloc(n * sizeof(*chunk));
	int rc = size_group(g, w, n, e);

	for (size_t i = 0; rc > 0 && i < n;) {
		size_t k = 0, bytes = 0;

		for (; i < n; i++) {
			size_t size = w[i]->size > 0 ? (size_t)w[i]->size : 0;

			if (w[i]->done)
				continue;
			if (k > 0 && bytes + size > IMAP_BODY_CHUNK_BYTES)
				break;
			chunk[k++] = w[i];
			bytes += size;
		}
		if (k > 0 && fetch_chunk(g, chunk, k, e) < 0)
			rc = -1;
	}
	free(chunk);
	return rc < 0 ? -1 : 0;
}

int imap_op_fetch_bodies(struct driver *d, struct driver_body_fetch *items, size_t n,
			 struct err *e)
{
	struct imap_driver *g = imap_of(d);
	struct want *wants = xcalloc(n ? n : 1, sizeof(*wants));
	struct want **group = xmalloc((n ? n : 1) * sizeof(*group));
	struct err stop = { 0 };
	int rc = 0;

	if (imap_driver_session(g, e) < 0) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		wants[i].it = &items[i];
		if (imap_id_parse(items[i].remote_id, &wants[i].mailbox, &wants[i].uidvalidity,
				  &wants[i].uid) < 0)
			not_found(&wants[i]);
	}
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		if (wants[i].done)
			continue;
		if (stop.class) {
			finish(&wants[i], -1, &stop);
			continue;
		}
		for (size_t j = i; j < n; j++)
			if (!wants[j].done && wants[j].uidvalidity == wants[i].uidvalidity &&
			    strcmp(wants[j].mailbox, wants[i].mailbox) == 0)
				group[k++] = &wants[j];
		/* a failure other than the messages' own ends the call: every
		 * want not done yet gets it */
		if (fetch_group(g, group, k, &stop) < 0)
			for (size_t j = 0; j < k; j++)
				if (!group[j]->done)
					finish(group[j], -1, &stop);
	}
out:
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (!wants[i].done) {
			/* every path above ends each want; never leave one unsaid */
			err_set(&stop, ERR_BUG, "imap_bodies", "no answer for %.200s",
				items[i].remote_id);
			finish(&wants[i], -1, &stop);
		}
	for (size_t i = 0; i < n; i++)
		free(wants[i].mailbox);
	free(wants);
	free(group);
	return rc;
}
