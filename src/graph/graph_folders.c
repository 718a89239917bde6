/*
 * graph_folders.c — the folder tree. /me/mailFolders lists only the top
 * level, so child folders are listed for every folder that has some, and
 * every listing follows @odata.nextLink; hidden folders are included and
 * search folders skipped. wellKnownName is beta-only, so the well-known
 * folders are resolved by GET /me/mailFolders/{name} — in the same $batch
 * as the top-level listing. Listings of one tree level share one $batch,
 * and a folder is reported before any of its children.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/json.h"
#include "graph_internal.h"

#define LIST_TOP "100"
#define MAX_LISTINGS 100000   /* a server that pages forever is broken */
#define SEARCH_FOLDER_TYPE "#microsoft.graph.mailSearchFolder"

/* Graph's well-known folder names and the role each one is. */
static const struct {
	const char *name;
	enum mail_role role;
} well_known[] = {
	{ "inbox", MAIL_ROLE_INBOX },
	{ "sentitems", MAIL_ROLE_SENT },
	{ "drafts", MAIL_ROLE_DRAFTS },
	{ "deleteditems", MAIL_ROLE_DELETED },
	{ "archive", MAIL_ROLE_ARCHIVE },
	{ "junkemail", MAIL_ROLE_JUNK },
};
#define N_WELL_KNOWN (sizeof(well_known) / sizeof(well_known[0]))

/* One listing to fetch: a folder collection URL and whose children it
 * holds ("" = the top level). */
struct listing {
	char *url;
	char *parent;
};

struct walk {
	struct graph_driver *g;
	driver_folder_cb cb;
	void *ctx;
	struct listing *jobs;
	size_t head, njobs, capjobs;
	char *wk_ids[N_WELL_KNOWN];
};

static int walk_push(struct walk *w, char *url, const char *parent,
		     const struct graph_batch_item *it, struct err *e)
{
	if (w->njobs >= MAX_LISTINGS) {
		free(url);
		return graph_error_bad_response(e, &it->op, it->request_id,
			"more folder listings than any mailbox has; the "
			"server keeps paging");
	}
	if (w->njobs == w->capjobs) {
		w->capjobs = w->capjobs ? w->capjobs * 2 : 16;
		w->jobs = xrealloc(w->jobs, w->capjobs * sizeof(*w->jobs));
	}
	w->jobs[w->njobs].url = url;
	w->jobs[w->njobs].parent = xstrdup(parent);
	w->njobs++;
	return 0;
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->njobs; i++) {
		free(w->jobs[i].url);
		free(w->jobs[i].parent);
	}
	free(w->jobs);
	for (size_t i = 0; i < N_WELL_KNOWN; i++)
		free(w->wk_ids[i]);
}

/* URL of the top-level listing (parent NULL) or of a folder's children. */
static char *listing_url(struct graph_driver *g, const char *parent,
			 struct err *e)
{
	struct graph_url u;

	graph_url_init(&u, g);
	if (parent) {
		graph_url_path(&u, "/me/mailFolders/");
		graph_url_id(&u, parent);
		graph_url_path(&u, "/childFolders");
	} else {
		graph_url_path(&u, "/me/mailFolders");
	}
	graph_url_param(&u, "$top", LIST_TOP);
	graph_url_param(&u, "includeHiddenFolders", "true");
	return graph_url_finish(&u, e);
}

static enum mail_role role_of(const struct walk *w, const char *id)
{
	for (size_t i = 0; i < N_WELL_KNOWN; i++)
		if (w->wk_ids[i] && strcmp(w->wk_ids[i], id) == 0)
			return well_known[i].role;
	return MAIL_ROLE_NONE;
}

/* ---- one answer of a listing ------------------------------------------------- */

static int folder_emit(struct walk *w, const json_t *f, const char *parent,
		       const struct graph_batch_item *it, int *stop,
		       struct err *e)
{
	struct mail_folder df;
	const char *type = json_str_or_null(f, "@odata.type");
	long long children;
	struct err perr;
	char *url;

	if (type && strcmp(type, SEARCH_FOLDER_TYPE) == 0)
		return 0;
	memset(&df, 0, sizeof(df));
	if (!json_is_object(f) ||
	    json_req_string(f, "id", &df.remote_id, &perr) < 0 ||
	    json_req_string(f, "displayName", &df.name, &perr) < 0 ||
	    json_opt_int(f, "childFolderCount", 0, &children, &perr) < 0 ||
	    json_opt_int(f, "totalItemCount", DRIVER_UNKNOWN, &df.total, &perr) < 0 ||
	    json_opt_int(f, "unreadItemCount", DRIVER_UNKNOWN, &df.unread, &perr) < 0)
		return graph_error_bad_response(e, &it->op, it->request_id,
			json_is_object(f) ? perr.msg : "a folder that is not an object");
	df.parent_remote_id = parent;
	df.role = role_of(w, df.remote_id);
	*stop = w->cb(w->ctx, &df);
	if (*stop)
		return 0;
	if (children > 0) {
		if (!(url = listing_url(w->g, df.remote_id, e)))
			return -1;
		return walk_push(w, url, df.remote_id, it, e);
	}
	return 0;
}

static int listing_apply(struct walk *w, const struct graph_batch_item *it,
			 const char *parent, int *stop, struct err *e)
{
	const char *next;
	json_t *value, *f;
	struct err perr;
	size_t i;

	if (it->rc < 0) {
		/* a folder deleted while we walk has no children to list */
		if (*parent && it->status == 404)
			return 0;
		*e = it->err;
		return -1;
	}
	if (json_req_array(it->response, "value", &value, &perr) < 0 ||
	    json_opt_string(it->response, "@odata.nextLink", &next, &perr) < 0)
		return graph_error_bad_response(e, &it->op, it->request_id, perr.msg);
	json_array_foreach(value, i, f) {
		if (folder_emit(w, f, parent, it, stop, e) < 0)
			return -1;
		if (*stop)
			return 0;
	}
	if (next && *next) {
		if (!graph_url_is_ours(w->g, next))
			return graph_error_bad_response(e, &it->op, it->request_id,
				"an @odata.nextLink to another server");
		return walk_push(w, xstrdup(next), parent, it, e);
	}
	return 0;
}

static int well_known_apply(struct walk *w, size_t k,
			    const struct graph_batch_item *it, struct err *e)
{
	const char *id;
	struct err perr;

	if (it->rc < 0) {
		if (it->status == 404) /* e.g. no archive folder yet */
			return 0;
		*e = it->err;
		return -1;
	}
	if (json_req_string(it->response, "id", &id, &perr) < 0)
		return graph_error_bad_response(e, &it->op, it->request_id, perr.msg);
	w->wk_ids[k] = xstrdup(id);
	return 0;
}

/* ---- the walk ------------------------------------------------------------------ */

static const struct graph_op listing_op = {
	"listing folders", GRAPH_TARGET_NONE, NULL, "Mail.Read", false
};

/* The first round: well-known lookups and the top-level listing in one
 * $batch. The listing goes first so the lookups that may 404 (archive,
 * junk) end their dependsOn chains. */
static int walk_first_round(struct walk *w, int *stop, struct err *e)
{
	struct graph_batch_item items[N_WELL_KNOWN + 1];
	char *urls[N_WELL_KNOWN + 1] = { 0 };
	int rc = -1;

	memset(items, 0, sizeof(items));
	if (!(urls[0] = listing_url(w->g, NULL, e)))
		return -1;
	items[0].op = listing_op;
	items[0].url = urls[0];
	for (size_t k = 0; k < N_WELL_KNOWN; k++) {
		struct graph_url u;

		graph_url_init(&u, w->g);
		graph_url_path(&u, "/me/mailFolders/");
		graph_url_id(&u, well_known[k].name);
		graph_url_param(&u, "$select", "id");
		if (!(urls[k + 1] = graph_url_finish(&u, e)))
			goto out;
		items[k + 1].op = (struct graph_op){ "looking up the well-known",
			GRAPH_TARGET_FOLDER, well_known[k].name, "Mail.Read", false };
		items[k + 1].url = urls[k + 1];
	}
	if (graph_batch_run(w->g, "listing folders", items, N_WELL_KNOWN + 1,
			    GRAPH_BATCH_RERUN_DEPENDENTS, e) < 0)
		goto out;
	for (size_t k = 0; k < N_WELL_KNOWN; k++)
		if (well_known_apply(w, k, &items[k + 1], e) < 0)
			goto out;
	rc = listing_apply(w, &items[0], "", stop, e);
out:
	graph_batch_release(items, N_WELL_KNOWN + 1);
	for (size_t k = 0; k <= N_WELL_KNOWN; k++)
		free(urls[k]);
	return rc;
}

/* Later rounds: up to one $batch of pending listings (children and next
 * pages), answers applied in queue order. */
static int walk_round(struct walk *w, int *stop, struct err *e)
{
	size_t m = w->njobs - w->head, first = w->head;
	struct graph_batch_item *items;
	int rc = 0;

	if (m > GRAPH_BATCH_MAX)
		m = GRAPH_BATCH_MAX;
	items = xcalloc(m, sizeof(*items));
	for (size_t i = 0; i < m; i++) {
		items[i].op = listing_op;
		items[i].url = w->jobs[first + i].url;
	}
	w->head += m;
	if (graph_batch_run(w->g, "listing folders", items, m,
			    GRAPH_BATCH_RERUN_DEPENDENTS, e) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && !*stop && i < m; i++)
		rc = listing_apply(w, &items[i], w->jobs[first + i].parent, stop, e);
	graph_batch_release(items, m);
	free(items);
	return rc;
}

int graph_op_list_folders(struct driver *d, driver_folder_cb cb, void *ctx,
			  struct err *e)
{
	struct walk w;
	int stop = 0, rc;

	memset(&w, 0, sizeof(w));
	w.g = graph_of(d);
	w.cb = cb;
	w.ctx = ctx;
	rc = walk_first_round(&w, &stop, e);
	while (rc == 0 && !stop && w.head < w.njobs)
		rc = walk_round(&w, &stop, e);
	walk_free(&w);
	if (rc < 0)
		return -1;
	return stop;
}
