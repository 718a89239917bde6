/*
 * graph_folders.c — mailFolder endpoints: list top-level folders and
 * child folders (paged, hidden ones only with includeHiddenFolders=true),
 * get, create, rename, move, delete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "graph.h"
#include "ids.h"
#include "query.h"

json_t *gr_folder_json(struct sim_world *w, struct sim_mailbox *mb, uint32_t num)
{
	struct sim_folder *f = &mb->folders[num];
	char *id = ids_folder(w, mb->num, num);
	char *parent = ids_folder(w, mb->num, f->parent == SIM_NONE ? 0x7fffffffu : f->parent);
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:b}", "id", id, "displayName",
			      f->name, "parentFolderId", parent, "childFolderCount",
			      (json_int_t)mbx_child_count(mb, num, true), "unreadItemCount",
			      (json_int_t)f->unread, "totalItemCount", (json_int_t)f->nidx,
			      "isHidden", f->hidden);

	free(id);
	free(parent);
	return o;
}

static int cmp_name(const void *a, const void *b, void *ctx)
{
	struct sim_mailbox *mb = ctx;
	const struct sim_folder *x = &mb->folders[*(const uint32_t *)a];
	const struct sim_folder *y = &mb->folders[*(const uint32_t *)b];

	return strcasecmp(x->name, y->name);
}

static void list_children(struct sim_world *w, struct sim_req *rq,
			  struct sim_resp *rs, uint32_t parent, const char *path)
{
	struct sim_mailbox *mb = rq->mb;
	const char *hid = rq_query(rq, "includeHiddenFolders");
	bool hidden = hid && strcasecmp(hid, "true") == 0;
	uint32_t *kids = xmalloc((mb->nfolders + 1) * sizeof(*kids));
	size_t n = 0;
	long top, skip = 0;
	json_t *value = json_array(), *out;
	char base[SIM_URL_MAX], ctx[SIM_URL_MAX + 256];

	if (odata_top(rq, rs, 10, w->cfg.max_page_size, &top) < 0)
		goto out;
	if (rq_query(rq, "$skip") &&
	    sim_parse_long(rq_query(rq, "$skip"), 0, 1000000, &skip) < 0) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidUrlQuery",
				 "The value of the query parameter '$skip' is not valid.");
		goto out;
	}
	for (size_t i = 0; i < mb->nfolders; i++) {
		struct sim_folder *f = &mb->folders[i];

		if (!f->gone && f->parent == parent && (hidden || !f->hidden))
			kids[n++] = (uint32_t)i;
	}
	qsort_r(kids, n, sizeof(*kids), cmp_name, mb);
	for (size_t i = (size_t)skip; i < n && (long)(i - (size_t)skip) < top; i++) {
		json_t *o = gr_folder_json(w, mb, kids[i]);

		if (odata_select_plain(rq, rs, o, "microsoft.graph.mailFolder") < 0)
			goto out;
		json_array_append_new(value, o);
	}
	rq_base_url(rq, base, sizeof(base));
	snprintf(ctx, sizeof(ctx), "%s/v1.0/$metadata#users('%s')/mailFolders", base, rq->user->oid);
	out = json_pack("{s:s, s:O}", "@odata.context", ctx, "value", value);
	if ((size_t)skip + (size_t)top < n) {
		char *sel = rq_query(rq, "$select") ? sim_url_encode(rq_query(rq, "$select")) : NULL;
		char *link = xasprintf("%s/v1.0/%s?%s%%24top=%ld&%%24skip=%ld%s%s", base, path,
				       hidden ? "includeHiddenFolders=true&" : "", top,
				       skip + top, sel ? "&%24select=" : "", sel ? sel : "");

		json_object_set_new(out, "@odata.nextLink", json_string(link));
		free(link);
		free(sel);
	}
	rs_json(rs, 200, out);
out:
	json_decref(value);
	free(kids);
}

void gr_folders_list(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	list_children(w, rq, rs, mbx_wk(rq->mb, WK_ROOT), "me/mailFolders");
}

void gr_children_list(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t f = gr_folder_arg(w, rq, rs, rq->caps[0]);
	char *path;

	if (f == SIM_NONE)
		return;
	path = xasprintf("me/mailFolders/%s/childFolders", rq->caps[0]);
	list_children(w, rq, rs, f, path);
	free(path);
}

void gr_folder_get(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t f = gr_folder_arg(w, rq, rs, rq->caps[0]);
	json_t *o;

	if (f == SIM_NONE)
		return;
	o = gr_folder_json(w, rq->mb, f);
	if (odata_select_plain(rq, rs, o, "microsoft.graph.mailFolder") < 0)
		return;
	rs_json(rs, 200, o);
}

/* displayName from the body: non-empty string, no path separator. */
static const char *display_name(struct sim_req *rq, struct sim_resp *rs, json_t *b)
{
	const char *n = json_string_value(json_object_get(b, "displayName"));

	if (!n || !*n || strlen(n) > 255) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
				 "The request is invalid: displayName must be a non-empty string.");
		return NULL;
	}
	return n;
}

void gr_folder_create(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t parent = rq->caps[0] ? gr_folder_arg(w, rq, rs, rq->caps[0])
				      : mbx_wk(rq->mb, WK_ROOT);
	json_t *b;
	const char *name;
	uint32_t f;

	if (parent == SIM_NONE || !(b = rq_json_body(rq, rs, NULL)))
		return;
	if ((name = display_name(rq, rs, b))) {
		f = mbx_folder_create(rq->mb, parent, name,
				      json_is_true(json_object_get(b, "isHidden")));
		if (f == SIM_NONE)
			rs_graph_error(rq, rs, 409, "ErrorFolderExists",
					 "A folder with the specified name already exists.");
		else
			rs_json(rs, 201, gr_folder_json(w, rq->mb, f));
	}
	json_decref(b);
}

void gr_folder_update(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t f = gr_folder_arg(w, rq, rs, rq->caps[0]);
	json_t *b;
	const char *name;

	if (f == SIM_NONE || !(b = rq_json_body(rq, rs, NULL)))
		return;
	if ((name = display_name(rq, rs, b))) {
		if (rq->mb->folders[f].wk != WK_NONE)
			rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
					 "Distinguished folders cannot be renamed.");
		else if (mbx_folder_rename(rq->mb, f, name) < 0)
			rs_graph_error(rq, rs, 409, "ErrorFolderExists",
					 "A folder with the specified name already exists.");
		else
			rs_json(rs, 200, gr_folder_json(w, rq->mb, f));
	}
	json_decref(b);
}

void gr_folder_delete(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t f = gr_folder_arg(w, rq, rs, rq->caps[0]);

	if (f == SIM_NONE)
		return;
	if (rq->mb->folders[f].wk != WK_NONE) {
		rs_graph_error(rq, rs, 400, "ErrorDeleteDistinguishedFolder",
				 "Distinguished folders cannot be deleted.");
		return;
	}
	mbx_folder_delete(rq->mb, f);
	rs_empty(rs, 204);
}

void gr_folder_move(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs)
{
	uint32_t f = gr_folder_arg(w, rq, rs, rq->caps[0]), dest;
	json_t *b;
	const char *did;

	if (f == SIM_NONE || !(b = rq_json_body(rq, rs, NULL)))
		return;
	did = json_string_value(json_object_get(b, "destinationId"));
	if (!did) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidRequest", "destinationId is required.");
	} else if ((dest = gr_folder_arg(w, rq, rs, did)) != SIM_NONE) {
		if (rq->mb->folders[f].wk != WK_NONE)
			rs_graph_error(rq, rs, 400, "ErrorInvalidRequest",
					 "Distinguished folders cannot be moved.");
		else if (mbx_folder_move(rq->mb, f, dest) < 0)
			rs_graph_error(rq, rs, 409, "ErrorFolderExists",
					 "The folder cannot be moved there (name clash or into itself).");
		else
			rs_json(rs, 201, gr_folder_json(w, rq->mb, f));
	}
	json_decref(b);
}
