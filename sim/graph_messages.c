/*
 * graph_messages.c — reading messages: list a folder or the whole mailbox
 * (paged by $top/$skip over the receivedDateTime index, never a re-sort),
 * $filter by date range, internetMessageId or isRead, get one message,
 * and its MIME ($value).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "graph.h"
#include "ids.h"
#include "msgcontent.h"
#include "mime.h"
#include "msgjson.h"
#include "query.h"
#include "seedgen.h"

static void render_opts_for(const struct sim_req *rq, const struct odata_query *q,
			    struct render_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mask = q ? q->select : 0;
	o->immutable = rq->prefer.immutable;
	o->body_type = rq->prefer.body_type;
}

static bool msg_passes(struct sim_mailbox *mb, uint32_t num, uint32_t folder,
		       const struct odata_query *q)
{
	struct sim_msg *m = mbx_msg(mb, num);

	if (!m || (folder != SIM_NONE && m->folder != folder))
		return false;
	if (!odata_time_ok(q, m->received))
		return false;
	if (q->is_read >= 0 && !!(m->flags & MSG_READ) != q->is_read)
		return false;
	return true;
}

static int cmp_recv(const void *a, const void *b, void *ctx)
{
	struct sim_mailbox *mb = ctx;
	const struct sim_msg *x = &mb->msgs[*(const uint32_t *)a];
	const struct sim_msg *y = &mb->msgs[*(const uint32_t *)b];

	if (x->received != y->received)
		return x->received < y->received ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* Candidates for `internetMessageId eq`: stored ones and the seeded one. */
static size_t imid_candidates(struct sim_mailbox *mb, const char *imid,
			      uint32_t **out)
{
	const uint32_t *nums;
	size_t n = mbx_imid_lookup(mb, imid, &nums), k = 0;
	uint32_t bnum, index;

	*out = xmalloc((n + 1) * sizeof(**out));
	for (size_t i = 0; i < n; i++)
		(*out)[k++] = nums[i];
	if (seedgen_parse_imid(imid, &bnum, &index) == 0 && bnum <= mb->nbatches &&
	    seedgen_imid_matches(&mb->batches[bnum - 1], (uint16_t)bnum, index, imid)) {
		uint32_t num = mb->batches[bnum - 1].base + index;

		if (mbx_msg(mb, num) && mb->msgs[num].batch == bnum)
			(*out)[k++] = num;
	}
	return k;
}

static void add_param(struct buf *b, const char *k, const char *v)
{
	char *e;

	if (!v)
		return;
	e = sim_url_encode(v);
	buf_printf(b, NULL, "&%s=%s", k, e);
	free(e);
}

void gr_messages_list(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_mailbox *mb = rq->mb;
	uint32_t folder = SIM_NONE;
	struct odata_query q;
	struct render_opts o;
	long top;
	uint32_t *cand = NULL;
	size_t ncand = 0, lo, hi, total = 0;
	json_t *out;
	struct buf items;
	char base[SIM_URL_MAX], ctx[SIM_URL_MAX + 256];
	const uint32_t *idx;
	size_t nidx;
	int order, rc;

	if (rq->caps[0] && (folder = gr_folder_arg(w, rq, rs, rq->caps[0])) == SIM_NONE)
		return;
	if (odata_parse_messages(rq, rs, &q, false, w->cfg.date_fractions) < 0)
		return;
	if (odata_top(rq, rs, 10, w->cfg.max_page_size, &top) < 0) {
		odata_free(&q);
		return;
	}
	order = q.order ? q.order : -1;
	render_opts_for(rq, &q, &o);
	buf_init(&items, rs->items.limit);
	if (folder != SIM_NONE) {
		idx = mb->folders[folder].idx;
		nidx = mb->folders[folder].nidx;
	} else {
		idx = mb->all;
		nidx = mb->nall;
	}
	if (q.imid || q.is_read >= 0) {
		/* Filtered scan: collect matches, then page. */
		if (q.imid) {
			size_t n = imid_candidates(mb, q.imid, &cand);

			for (size_t i = 0; i < n; i++)
				if (msg_passes(mb, cand[i], folder, &q))
					cand[ncand++] = cand[i];
			qsort_r(cand, ncand, sizeof(*cand), cmp_recv, mb);
		} else {
			cand = xmalloc((nidx + 1) * sizeof(*cand));
			for (size_t i = 0; i < nidx; i++)
				if (msg_passes(mb, idx[i], SIM_NONE, &q))
					cand[ncand++] = idx[i];
		}
		idx = cand;
		lo = 0;
		hi = ncand;
	} else {
		lo = 0;
		hi = nidx;
		if (q.has_lo)
			lo = q.lo_incl ? mbx_upper(mb, idx, nidx, q.lo, 0, true)
				       : mbx_upper(mb, idx, nidx, q.lo, UINT32_MAX, false);
		if (q.has_hi)
			hi = q.hi_incl ? mbx_upper(mb, idx, nidx, q.hi, UINT32_MAX, false)
				       : mbx_upper(mb, idx, nidx, q.hi, 0, true);
		if (hi < lo)
			hi = lo;
	}
	total = hi - lo;
	{
		struct msgjson_item *page = xcalloc((size_t)top + 1, sizeof(*page));
		size_t n = 0;

		for (long k = 0; k < top && (size_t)(q.skip + k) < total; k++) {
			size_t pos = order < 0 ? hi - 1 - (size_t)(q.skip + k) : lo + (size_t)(q.skip + k);

			page[n++].num = idx[pos];
		}
		rc = msgjson_render_items(w, mb, page, n, &o, &items);
		free(page);
	}
	if (rc < 0) {
		rs_graph_error(rq, rs, 500, "ErrorInternalServerError",
				 "The page is too large to be sent.");
		goto out;
	}
	rq_base_url(rq, base, sizeof(base));
	snprintf(ctx, sizeof(ctx), "%s/v1.0/$metadata#users('%s')/messages", base, rq->user->oid);
	out = json_pack("{s:s}", "@odata.context", ctx);
	if (q.count)
		json_object_set_new(out, "@odata.count", json_integer((json_int_t)total));
	json_object_set_new(out, "value", json_array());
	if ((size_t)(q.skip + top) < total) {
		struct buf b;

		buf_init(&b, 0);
		if (folder != SIM_NONE)
			buf_printf(&b, NULL, "%s/v1.0/me/mailFolders/%s/messages?%%24top=%ld&%%24skip=%ld",
				   base, rq->caps[0], top, q.skip + top);
		else
			buf_printf(&b, NULL, "%s/v1.0/me/messages?%%24top=%ld&%%24skip=%ld", base, top,
				   q.skip + top);
		add_param(&b, "%24select", q.select_text);
		add_param(&b, "%24filter", q.filter_text);
		add_param(&b, "%24orderby", q.orderby_text);
		if (q.count)
			buf_puts(&b, "&%24count=true", NULL);
		json_object_set_new(out, "@odata.nextLink", json_string(buf_str(&b)));
		buf_free(&b);
	}
	gr_preference_applied(rq, rs, 0);
	rs_json_items(rs, 200, out, &items);
out:
	buf_free(&items);
	free(cand);
	odata_free(&q);
}

void gr_message_get(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num = gr_message_arg(w, rq, rs, rq->caps[0]);
	struct odata_query q;
	struct render_opts o;
	json_t *m;
	char base[SIM_URL_MAX], ctx[SIM_URL_MAX + 256];

	if (num == SIM_NONE || odata_parse_messages(rq, rs, &q, false, w->cfg.date_fractions) < 0)
		return;
	render_opts_for(rq, &q, &o);
	m = msgjson_render(w, rq->mb, num, &o);
	if (rq_query(rq, "$expand") && strstr(rq_query(rq, "$expand"), "attachments")) {
		json_t *atts = msgcontent_attachments(w, rq->mb, num, true), *a;
		size_t i;

		json_array_foreach(atts, i, a) {
			char *aid = ids_attachment(w, rq->mb->num, num,
						   (uint32_t)json_integer_value(json_object_get(a, "_index")));

			json_object_del(a, "_index");
			json_object_set_new(a, "id", json_string(aid));
			free(aid);
		}
		json_object_set_new(m, "attachments", atts);
	}
	rq_base_url(rq, base, sizeof(base));
	snprintf(ctx, sizeof(ctx), "%s/v1.0/$metadata#users('%s')/messages/$entity", base,
		 rq->user->oid);
	json_object_set_new(m, "@odata.context", json_string(ctx));
	gr_preference_applied(rq, rs, 0);
	rs_json(rs, 200, m);
	odata_free(&q);
}

void gr_message_value(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t num = gr_message_arg(w, rq, rs, rq->caps[0]);
	struct buf b;

	if (num == SIM_NONE)
		return;
	buf_init(&b, (size_t)200 << 20);
	if (simmime_build(w, rq->mb, num, &b) < 0) {
		rs_graph_error(rq, rs, 500, "ErrorInternalServerError",
				 "The MIME content could not be generated.");
	} else {
		rs_text(rs, 200, "text/plain", buf_str(&b), b.len);
	}
	buf_free(&b);
}
