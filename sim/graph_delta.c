/*
 * graph_delta.c — GET /me/mailFolders/{id}/messages/delta.
 *
 * Initial round: every message currently in the folder, paged by key
 * (receivedDateTime, number) in the folder's sorted index, ascending or
 * newest first; the round's snapshot is the mailbox sequence number at its
 * start. Change round (from a deltaLink): the folder's change log between
 * the link's sequence number and the round's start, each message reported
 * once in its current state, departures as @removed. Anything that happens
 * while a round is being paged lands after its snapshot and is reported by
 * the next round, so replays can happen but nothing is lost. Cursors live
 * in the tokens; a folder's generation (expire-delta) or forgotten history
 * makes them answer 410 SyncStateNotFound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "cursor.h"
#include "graph.h"
#include "ids.h"
#include "msgjson.h"
#include "query.h"

struct page {
	struct sim_world *w;
	struct sim_req *rq;
	struct sim_mailbox *mb;
	uint32_t folder;
	struct cursor c;
	long size;
	struct render_opts ro;
	bool done;
	struct msgjson_item *slots;   /* items of this page, rendered at the end */
	size_t nslots, capslots;
};

static void sync_state_gone(struct sim_world *w, struct sim_req *rq,
			    struct sim_resp *rs, uint32_t folder, uint32_t gen)
{
	char base[SIM_URL_MAX], *fid, *loc;

	rs_graph_error(rq, rs, 410, "SyncStateNotFound",
			 "The sync state generation is not found; generation=%u;[highest=%u]",
			 gen, rq->mb->folders[folder].generation);
	rq_base_url(rq, base, sizeof(base));
	fid = ids_folder(w, rq->mb->num, folder);
	loc = xasprintf("%s/v1.0/me/mailFolders('%s')/messages/delta?%%24deltatoken=", base, fid);
	rs_header(rs, "Location", loc);
	free(fid);
	free(loc);
}

static bool passes_filter(const struct cursor *c, int64_t t)
{
	if (!(c->flags & CUR_FILTER))
		return true;
	return (c->flags & CUR_FILTER_INCL) ? t >= c->filter_lo : t > c->filter_lo;
}

static void add_slot(struct page *p, uint32_t msg, uint32_t gen, bool removed)
{
	if (p->nslots == p->capslots) {
		p->capslots = p->capslots ? p->capslots * 2 : (size_t)p->size + 1;
		p->slots = xrealloc(p->slots, p->capslots * sizeof(*p->slots));
	}
	p->slots[p->nslots].num = msg;
	p->slots[p->nslots].gen = gen;
	p->slots[p->nslots].removed = removed;
	p->nslots++;
}

static void initial_page(struct page *p)
{
	struct sim_folder *f = &p->mb->folders[p->folder];
	bool desc = p->c.flags & CUR_DESC;
	long cap = (long)p->w->cfg.delta_filter_cap;
	size_t n = f->nidx, i;
	long emitted = 0;
	bool have_pos = p->c.pos_num != SIM_NONE;

	if (desc) {
		i = have_pos ? mbx_upper(p->mb, f->idx, n, p->c.pos_received, p->c.pos_num, true) : n;
		while (i > 0 && emitted < p->size) {
			uint32_t num = f->idx[i - 1];
			struct sim_msg *m = &p->mb->msgs[num];

			if (!passes_filter(&p->c, m->received) ||
			    ((p->c.flags & CUR_FILTER) && (long)p->c.emitted >= cap)) {
				i = 0;
				break;
			}
			add_slot(p, num, 0, false);
			p->c.pos_received = m->received;
			p->c.pos_num = num;
			p->c.emitted++;
			emitted++;
			i--;
		}
		p->done = i == 0 ||
			  !passes_filter(&p->c, p->mb->msgs[f->idx[i - 1]].received) ||
			  ((p->c.flags & CUR_FILTER) && (long)p->c.emitted >= cap);
		return;
	}
	if (have_pos)
		i = mbx_upper(p->mb, f->idx, n, p->c.pos_received, p->c.pos_num, false);
	else if (p->c.flags & CUR_FILTER)
		i = (p->c.flags & CUR_FILTER_INCL)
			    ? mbx_upper(p->mb, f->idx, n, p->c.filter_lo, 0, true)
			    : mbx_upper(p->mb, f->idx, n, p->c.filter_lo, UINT32_MAX, false);
	else
		i = 0;
	while (i < n && emitted < p->size &&
	       !((p->c.flags & CUR_FILTER) && (long)p->c.emitted >= cap)) {
		uint32_t num = f->idx[i];

		add_slot(p, num, 0, false);
		p->c.pos_received = p->mb->msgs[num].received;
		p->c.pos_num = num;
		p->c.emitted++;
		emitted++;
		i++;
	}
	p->done = i >= n || ((p->c.flags & CUR_FILTER) && (long)p->c.emitted >= cap);
}

static void change_page(struct page *p)
{
	struct sim_folder *f = &p->mb->folders[p->folder];
	unsigned ct = (unsigned)(p->c.flags & CUR_CT_MASK) >> CUR_CT_SHIFT;
	size_t i = mbx_log_after(f, p->c.pos_seq);
	long emitted = 0, scanned = 0, max_scan = p->size * 4 + 64;

	while (i < f->nlog && f->log[i].seq <= p->c.upto && emitted < p->size &&
	       scanned < max_scan) {
		const struct sim_change *e = &f->log[i];
		struct sim_msg *m;

		scanned++;
		p->c.pos_seq = e->seq;
		i++;
		if (e->kind == CHG_LEAVE) {
			if (ct == 0 || ct == 3) {
				add_slot(p, e->msg, e->gen, true);
				emitted++;
			}
			continue;
		}
		m = mbx_msg(p->mb, e->msg);
		if (!m || m->folder != p->folder || m->fseq != e->seq ||
		    !passes_filter(&p->c, m->received))
			continue;
		if ((ct == 1 && m->enter_seq <= p->c.since) ||
		    (ct == 2 && m->enter_seq > p->c.since) || ct == 3)
			continue;
		add_slot(p, e->msg, 0, false);
		emitted++;
	}
	p->done = i >= f->nlog || f->log[i].seq > p->c.upto;
}

/* Build the cursor of an initial request from its query options. */
static int initial_cursor(struct sim_req *rq, struct sim_resp *rs,
			  struct cursor *c, bool fractions)
{
	struct odata_query q;
	const char *ct = rq_query(rq, "changeType");
	static const char *const cts[] = { "", "created", "updated", "deleted" };
	unsigned cti = 0;
	long top = 0;

	if (odata_parse_messages(rq, rs, &q, true, fractions) < 0)
		return -1;
	if (rq_query(rq, "$top") &&
	    sim_parse_long(rq_query(rq, "$top"), 1, 1000000, &top) < 0) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidUrlQuery",
				 "The value of the query parameter '$top' is not valid.");
		odata_free(&q);
		return -1;
	}
	if (ct) {
		for (cti = 1; cti < 4 && strcasecmp(ct, cts[cti]) != 0; cti++)
			;
		if (cti == 4) {
			rs_graph_error(rq, rs, 400, "ErrorInvalidUrlQuery",
					 "changeType must be created, updated or deleted.");
			odata_free(&q);
			return -1;
		}
	}
	c->kind = CUR_INITIAL;
	c->flags = (uint8_t)((q.order < 0 ? CUR_DESC : 0) | (q.has_lo ? CUR_FILTER : 0) |
			     (q.has_lo && q.lo_incl ? CUR_FILTER_INCL : 0) |
			     (cti << CUR_CT_SHIFT));
	c->filter_lo = q.lo;
	c->select = q.select;
	c->top = (uint32_t)top;
	c->pos_num = SIM_NONE;
	c->since = rq->mb->seq;
	odata_free(&q);
	return 0;
}

static void link_for(struct page *p, const char *param, json_t *out,
		     const char *key)
{
	char base[SIM_URL_MAX], *fid = ids_folder(p->w, p->mb->num, p->folder);
	char *tok = cursor_encode(p->w, &p->c);
	char *link;

	rq_base_url(p->rq, base, sizeof(base));
	link = xasprintf("%s/v1.0/me/mailFolders('%s')/messages/delta?%s=%s", base, fid,
			 param, tok);
	json_object_set_new(out, key, json_string(link));
	free(link);
	free(tok);
	free(fid);
}

void gr_messages_delta(struct sim_world *w, struct sim_req *rq,
			  struct sim_resp *rs)
{
	struct page p;
	const char *skip = rq_query(rq, "$skiptoken");
	const char *delta = rq_query(rq, "$deltatoken");
	const char *tok = skip ? skip : delta;
	struct sim_folder *f;
	json_t *out;
	struct buf items;
	char base[SIM_URL_MAX], ctx[SIM_URL_MAX + 256];

	memset(&p, 0, sizeof(p));
	p.w = w;
	p.rq = rq;
	p.mb = rq->mb;
	p.folder = gr_folder_arg(w, rq, rs, rq->caps[0]);
	if (p.folder == SIM_NONE)
		return;
	f = &p.mb->folders[p.folder];
	if (tok && *tok) {
		if (cursor_decode(w, tok, &p.c) < 0 || p.c.mbox != p.mb->num ||
		    p.c.folder != p.folder || p.c.kind < CUR_INITIAL || p.c.kind > CUR_DELTA) {
			rs_graph_error(rq, rs, 400, "ErrorInvalidSyncStateData",
					 "The sync state data is corrupt or otherwise invalid.");
			return;
		}
		if (p.c.generation != f->generation) {
			sync_state_gone(w, rq, rs, p.folder, p.c.generation);
			return;
		}
		if (p.c.kind == CUR_CHANGES ? p.c.pos_seq < f->floor_seq
					    : p.c.since < f->floor_seq) {
			sync_state_gone(w, rq, rs, p.folder, p.c.generation);
			return;
		}
	} else if (delta) {
		/* "$deltatoken=" with nothing: a fresh initial round (Location). */
		if (initial_cursor(rq, rs, &p.c, w->cfg.date_fractions) < 0)
			return;
	} else if (initial_cursor(rq, rs, &p.c, w->cfg.date_fractions) < 0) {
		return;
	}
	p.c.mbox = p.mb->num;
	p.c.folder = p.folder;
	p.c.generation = f->generation;
	if (p.c.kind == CUR_DELTA) {
		p.c.kind = CUR_CHANGES;
		p.c.pos_seq = p.c.since;
		p.c.upto = p.mb->seq;
	}
	p.size = rq->prefer.maxpagesize ? rq->prefer.maxpagesize
					: (p.c.top ? (long)p.c.top : 10);
	if (p.size > w->cfg.max_page_size)
		p.size = w->cfg.max_page_size;
	p.ro.mask = p.c.select;
	p.ro.immutable = rq->prefer.immutable;
	p.ro.body_type = rq->prefer.body_type;
	p.ro.odata_type = true;
	if (p.c.kind == CUR_INITIAL)
		initial_page(&p);
	else
		change_page(&p);
	buf_init(&items, rs->items.limit);
	if (msgjson_render_items(w, p.mb, p.slots, p.nslots, &p.ro, &items) < 0) {
		rs_graph_error(rq, rs, 500, "ErrorInternalServerError",
				 "The page is too large to be sent.");
		buf_free(&items);
		free(p.slots);
		return;
	}
	free(p.slots);
	rq_base_url(rq, base, sizeof(base));
	snprintf(ctx, sizeof(ctx), "%s/v1.0/$metadata#Collection(message)", base);
	out = json_pack("{s:s}", "@odata.context", ctx);
	if (p.done) {
		struct cursor next = p.c;

		p.c.kind = CUR_DELTA;
		p.c.since = next.kind == CUR_INITIAL ? next.since : next.upto;
		p.c.pos_seq = 0;
		p.c.upto = 0;
		p.c.pos_num = SIM_NONE;
		p.c.emitted = 0;
		link_for(&p, "%24deltatoken", out, "@odata.deltaLink");
	} else {
		link_for(&p, "%24skiptoken", out, "@odata.nextLink");
	}
	json_object_set_new(out, "value", json_array());
	gr_preference_applied(rq, rs, p.size);
	rs_json_items(rs, 200, out, &items);
	buf_free(&items);
}
