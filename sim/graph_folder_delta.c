/*
 * graph_folder_delta.c — GET /me/mailFolders/delta: every folder of the
 * mailbox (flat, each with parentFolderId), then changes from the
 * mailbox's folder log: created, renamed or moved folders in full, deleted
 * ones as @removed. Count changes are not reported (see README).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "cursor.h"
#include "graph.h"
#include "ids.h"

static void folder_link(struct sim_world *w, struct sim_req *rq,
			const struct cursor *c, const char *param, json_t *out,
			const char *key)
{
	char base[SIM_URL_MAX], *tok = cursor_encode(w, c), *link;

	rq_base_url(rq, base, sizeof(base));
	link = xasprintf("%s/v1.0/me/mailFolders/delta?%s=%s", base, param, tok);
	json_object_set_new(out, key, json_string(link));
	free(link);
	free(tok);
}

void gr_folders_delta(struct sim_world *w, struct sim_req *rq,
			 struct sim_resp *rs)
{
	struct sim_mailbox *mb = rq->mb;
	const char *tok = rq_query(rq, "$skiptoken");
	struct cursor c;
	long size = rq->prefer.maxpagesize ? rq->prefer.maxpagesize : 100, emitted = 0;
	json_t *value = json_array(), *out;
	bool done;
	char base[SIM_URL_MAX], ctx[SIM_URL_MAX + 256];

	if (!tok)
		tok = rq_query(rq, "$deltatoken");
	memset(&c, 0, sizeof(c));
	if (tok && *tok) {
		if (cursor_decode(w, tok, &c) < 0 || c.mbox != mb->num ||
		    c.kind < CUR_FOLDERS_INITIAL || c.kind > CUR_FOLDERS_DELTA) {
			rs_graph_error(rq, rs, 400, "ErrorInvalidSyncStateData",
					 "The sync state data is corrupt or otherwise invalid.");
			json_decref(value);
			return;
		}
		if (c.generation != mb->fgeneration) {
			rs_graph_error(rq, rs, 410, "SyncStateNotFound",
					 "The sync state generation is not found; generation=%u;[highest=%u]",
					 c.generation, mb->fgeneration);
			json_decref(value);
			return;
		}
	} else {
		c.kind = CUR_FOLDERS_INITIAL;
		c.mbox = mb->num;
		c.generation = mb->fgeneration;
		c.since = mb->seq;
		c.pos_num = 0;
	}
	if (size > w->cfg.max_page_size)
		size = w->cfg.max_page_size;
	if (c.kind == CUR_FOLDERS_DELTA) {
		c.kind = CUR_FOLDERS_CHANGES;
		c.pos_seq = c.since;
		c.upto = mb->seq;
	}
	if (c.kind == CUR_FOLDERS_INITIAL) {
		uint32_t i = c.pos_num;

		for (; i < mb->nfolders && emitted < size; i++) {
			struct sim_folder *f = &mb->folders[i];

			if (f->gone || f->wk == WK_ROOT)
				continue;
			json_array_append_new(value, gr_folder_json(w, mb, i));
			emitted++;
		}
		c.pos_num = i;
		done = i >= mb->nfolders;
	} else {
		size_t i = 0;

		while (i < mb->nflog && mb->flog[i].seq <= c.pos_seq)
			i++;
		for (; i < mb->nflog && mb->flog[i].seq <= c.upto && emitted < size; i++) {
			const struct sim_fchange *e = &mb->flog[i];
			struct sim_folder *f = &mb->folders[e->folder];

			c.pos_seq = e->seq;
			if (f->wk == WK_ROOT)
				continue;
			if (e->kind == CHG_LEAVE) {
				char *id = ids_folder(w, mb->num, e->folder);

				json_array_append_new(value, json_pack("{s:s, s:{s:s}}", "id", id,
								       "@removed", "reason", "deleted"));
				free(id);
				emitted++;
			} else if (!f->gone && f->fseq == e->seq) {
				json_array_append_new(value, gr_folder_json(w, mb, e->folder));
				emitted++;
			}
		}
		done = i >= mb->nflog || mb->flog[i].seq > c.upto;
	}
	rq_base_url(rq, base, sizeof(base));
	snprintf(ctx, sizeof(ctx), "%s/v1.0/$metadata#Collection(mailFolder)", base);
	out = json_pack("{s:s, s:o}", "@odata.context", ctx, "value", value);
	if (done) {
		c.since = c.kind == CUR_FOLDERS_INITIAL ? c.since : c.upto;
		c.kind = CUR_FOLDERS_DELTA;
		c.pos_seq = c.upto = 0;
		folder_link(w, rq, &c, "%24deltatoken", out, "@odata.deltaLink");
	} else {
		folder_link(w, rq, &c, "%24skiptoken", out, "@odata.nextLink");
	}
	rs_json(rs, 200, out);
}
