/*
 * test_graph_sim.c — the Graph driver against the real m365sim over HTTP.
 * Each test gets a fresh simulator (started by tests/support/sim_harness),
 * signs Adele in through auto-approve, and drives the driver the way the
 * engine will; "another mail client" acts through the sim's admin API, and
 * the sim's dump and request counters are the truth the tests compare
 * with: identity, the folder tree, delta rounds and their changes, expired
 * delta tokens, faults (429, 503, malformed, oversized, dropped), a forced
 * token refresh, polling in one $batch, locate, bodies, MIME, sending.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"
#include "inboxsync/driver.h"
#include "inboxsync/graph.h"
#include "inboxsync/http.h"
#include "inboxsync/json.h"
#include "inboxsync/timeutil.h"
#include "sim_harness.h"

#define USER "adele@contoso.com"
#define MBX "/_sim/mailboxes/adele@contoso.com"

struct fixture {
	struct sim_harness h;
	struct http_client *http;
	struct driver *d;
	char base[96];
	char *access, *refresh;
	int token_calls, forced;
};

/* ---- token source: the sim's token endpoint ------------------------------------- */

static int refresh_token(struct fixture *f)
{
	struct sim_http r;
	char *rt = sim_urlencode(f->refresh);
	char *form = xasprintf("grant_type=refresh_token&client_id=%s&client_secret=%s"
			       "&refresh_token=%s", f->h.client_id, f->h.client_secret, rt);
	int rc = -1;

	free(rt);
	if (sim_post_form(&f->h, "/common/oauth2/v2.0/token", form, &r) == 0 &&
	    r.status == 200) {
		free(f->access);
		free(f->refresh);
		f->access = xstrdup(json_string_value(json_object_get(r.json, "access_token")));
		f->refresh = xstrdup(json_string_value(json_object_get(r.json, "refresh_token")));
		rc = 0;
	}
	sim_http_free(&r);
	free(form);
	return rc;
}

static int get_token(void *ctx, const char *resource, const char *rejected, char **tok,
		     struct err *e)
{
	struct fixture *f = ctx;

	assert_string_equal(resource, "graph");
	f->token_calls++;
	if (rejected) {
		f->forced++;
		if (refresh_token(f) < 0)
			return err_set(e, ERR_AUTH, "invalid_grant", "refresh failed");
	}
	*tok = xstrdup(f->access);
	return 0;
}

static struct driver *driver_new(struct fixture *f, size_t max_response)
{
	struct graph_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.base_url = f->base;
	cfg.http = f->http;
	cfg.auth.get_token = get_token;
	cfg.auth.ctx = f;
	cfg.max_response = max_response;
	return graph_driver_new(&cfg);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	const char *args[] = { "--messages", "60", "--quiet", NULL };

	if (sim_start(&f->h, args) < 0 ||
	    sim_login(&f->h, USER, NULL, &f->access, &f->refresh) < 0) {
		free(f);
		return -1;
	}
	snprintf(f->base, sizeof(f->base), "%s/v1.0", f->h.url);
	f->http = http_client_new(NULL);
	f->d = driver_new(f, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	driver_free(f->d);
	http_client_free(f->http);
	free(f->access);
	free(f->refresh);
	assert_int_equal(sim_stop(&f->h), 0);
	free(f);
	return 0;
}

/* ---- the sim's admin API ------------------------------------------------------------ */

/* POST/PATCH/DELETE an admin route; returns the parsed answer (caller
 * decrefs) and asserts the status is 2xx. */
static json_t *admin(struct fixture *f, const char *method, const char *path,
		     const char *body)
{
	struct sim_http r;
	json_t *out;

	assert_int_equal(sim_admin(&f->h, method, path, body, &r), 0);
	if (r.status < 200 || r.status > 299)
		fail_msg("%s %s -> %ld: %s", method, path, r.status, r.body);
	out = r.json ? json_incref(r.json) : json_object();
	sim_http_free(&r);
	return out;
}

static char *admin_id(struct fixture *f, const char *method, const char *path,
		      const char *body)
{
	json_t *v = admin(f, method, path, body);
	char *id = xstrdup(json_string_value(json_object_get(v, "id")));

	json_decref(v);
	assert_non_null(id);
	return id;
}

static json_t *dump(struct fixture *f)
{
	return admin(f, "GET", MBX "/dump", NULL);
}

/* The folder with display path `path` in a dump. */
static const char *dump_folder_id(json_t *d, const char *path)
{
	json_t *fo;
	size_t i;

	json_array_foreach(json_object_get(d, "folders"), i, fo)
		if (strcmp(json_string_value(json_object_get(fo, "path")), path) == 0)
			return json_string_value(json_object_get(fo, "id"));
	return NULL;
}

static json_t *dump_message(json_t *d, const char *id)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(d, "messages"), i, m)
		if (strcmp(json_string_value(json_object_get(m, "id")), id) == 0)
			return m;
	return NULL;
}

static char *folder_create(struct fixture *f, const char *name, const char *parent,
			   bool hidden)
{
	char *body = xasprintf("{\"displayName\":\"%s\",\"parent\":\"%s\",\"isHidden\":%s}",
			       name, parent, hidden ? "true" : "false");
	char *id = admin_id(f, "POST", MBX "/folders", body);

	free(body);
	return id;
}

static void seed(struct fixture *f, const char *folder, int count)
{
	char *body = xasprintf("{\"folder\":\"%s\",\"count\":%d}", folder, count);

	json_decref(admin(f, "POST", MBX "/seed", body));
	free(body);
}

static void fault(struct fixture *f, const char *rule)
{
	json_decref(admin(f, "POST", "/_sim/faults", rule));
}

/* Requests to /v1.0 since the last counters reset, by "METHOD route". */
static json_t *graph_counters(struct fixture *f)
{
	json_t *c = admin(f, "GET", "/_sim/counters", NULL);
	json_t *out = json_object(), *per;
	const char *key;

	json_object_foreach(json_object_get(c, "requests"), key, per) {
		const char *st;
		json_t *n;
		long long total = 0;

		if (strncmp(key + strcspn(key, " ") + 1, "/v1.0", 5) != 0)
			continue;
		json_object_foreach(per, st, n)
			total += json_integer_value(n);
		json_object_set_new(out, key, json_integer(total));
	}
	json_decref(c);
	return out;
}

/* ---- a whole delta round ------------------------------------------------------------ */

struct round {
	json_t *seen;          /* id -> {"removed":bool,"read":int,"flagged":int,"subject"} */
	size_t items, pages;
	char *done;
	int64_t last_received;
	bool newest_first;
};

static void round_collect(struct round *r, const struct driver_page *pg,
			  const char *folder_id)
{
	for (size_t i = 0; i < pg->n; i++) {
		const struct mail_message *m = &pg->items[i];

		if (json_object_get(r->seen, m->remote_id))
			fail_msg("message %s twice in one round", m->remote_id);
		json_object_set_new(r->seen, m->remote_id, json_pack("{s:b, s:i, s:i, s:s?}",
			"removed", m->removed, "read", m->is_read, "flagged",
			m->is_flagged, "subject", m->subject));
		r->items++;
		if (m->removed)
			continue;
		assert_string_equal(m->folder_remote_id, folder_id);
		if (r->last_received && m->received_at > r->last_received)
			r->newest_first = false;
		r->last_received = m->received_at;
	}
}

/* Run a round from `cursor` (NULL = new) to its done cursor. */
static void round_run(struct fixture *f, const char *folder_id, const char *cursor,
		      size_t page_size, struct round *r)
{
	char *next = cursor ? xstrdup(cursor) : NULL;
	struct err e;

	memset(r, 0, sizeof(*r));
	r->seen = json_object();
	r->newest_first = true;
	for (;;) {
		struct driver_page pg;

		if (driver_get_changes(f->d, folder_id, next, page_size, &pg, &e) < 0)
			fail_msg("get_changes: %s", e.msg);
		r->pages++;
		round_collect(r, &pg, folder_id);
		free(next);
		next = NULL;
		if (pg.done_cursor) {
			r->done = xstrdup(pg.done_cursor);
			driver_page_free(&pg);
			break;
		}
		assert_non_null(pg.next_cursor);
		next = xstrdup(pg.next_cursor);
		driver_page_free(&pg);
		assert_true(r->pages < 1000);
	}
}

static void round_free(struct round *r)
{
	json_decref(r->seen);
	free(r->done);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_whoami(void **state)
{
	struct fixture *f = *state;
	struct driver_identity id;
	struct err e;

	assert_int_equal(driver_whoami(f->d, &id, &e), 0);
	assert_string_equal(id.address, USER);
	assert_string_equal(id.display_name, "Adele Vance");
	assert_true(strlen(id.object_id) > 0);
}

struct tree {
	json_t *folders;       /* array of {id,parent,name,wk} in callback order */
};

static int tree_add(void *ctx, const struct mail_folder *df)
{
	struct tree *t = ctx;

	json_array_append_new(t->folders, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}",
		"id", df->remote_id, "parent", df->parent_remote_id, "name", df->name,
		"wk", mail_role_name(df->role), "total", (json_int_t)df->total,
		"unread", (json_int_t)df->unread));
	return 0;
}

static json_t *tree_find(struct tree *t, const char *id, size_t *pos)
{
	json_t *fo;
	size_t i;

	json_array_foreach(t->folders, i, fo) {
		if (strcmp(json_string_value(json_object_get(fo, "id")), id) == 0) {
			if (pos)
				*pos = i;
			return fo;
		}
	}
	return NULL;
}

static void test_folder_tree(void **state)
{
	struct fixture *f = *state;
	static const struct { const char *path, *wk; } well_known[] = {
		{ "Inbox", "inbox" }, { "Sent Items", "sent" }, { "Drafts", "drafts" },
		{ "Deleted Items", "deleted" }, { "Archive", "archive" },
		{ "Junk Email", "junk" },
	};
	char *top = folder_create(f, "Clients", "msgfolderroot", false);
	char *mid = folder_create(f, "Acme", "Clients", false);
	char *leaf = folder_create(f, "2025", "Clients/Acme", false);
	char *hidden = folder_create(f, "Hidden stuff", "msgfolderroot", true);
	struct tree t = { json_array() };
	json_t *d, *fo, *dfo;
	size_t i, pos_top, pos_mid, pos_leaf;
	struct err e;

	assert_int_equal(driver_list_folders(f->d, tree_add, &t, &e), 0);
	d = dump(f);
	/* every folder of the mailbox but the root, once, with its parent */
	json_array_foreach(json_object_get(d, "folders"), i, dfo) {
		const char *id = json_string_value(json_object_get(dfo, "id"));
		const char *path = json_string_value(json_object_get(dfo, "path"));

		if (!*path)
			continue;
		fo = tree_find(&t, id, NULL);
		if (!fo)
			fail_msg("folder %s missing from the listing", path);
		assert_int_equal(json_integer_value(json_object_get(fo, "total")),
				 json_integer_value(json_object_get(dfo, "total")));
		assert_int_equal(json_integer_value(json_object_get(fo, "unread")),
				 json_integer_value(json_object_get(dfo, "unread")));
		if (!strchr(path, '/'))
			assert_string_equal(json_string_value(json_object_get(fo, "parent")), "");
		else
			assert_string_equal(json_string_value(json_object_get(fo, "parent")),
					    json_string_value(json_object_get(dfo, "parentFolderId")));
	}
	assert_int_equal(json_array_size(t.folders), json_array_size(json_object_get(d, "folders")) - 1);
	for (i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++) {
		fo = tree_find(&t, dump_folder_id(d, well_known[i].path), NULL);
		assert_non_null(fo);
		assert_string_equal(json_string_value(json_object_get(fo, "wk")), well_known[i].wk);
	}
	assert_string_equal(json_string_value(json_object_get(tree_find(&t, top, &pos_top), "wk")), "");
	assert_non_null(tree_find(&t, mid, &pos_mid));
	assert_non_null(tree_find(&t, leaf, &pos_leaf));
	assert_non_null(tree_find(&t, hidden, NULL));
	assert_true(pos_top < pos_mid && pos_mid < pos_leaf);
	json_decref(d);
	json_decref(t.folders);
	free(top);
	free(mid);
	free(leaf);
	free(hidden);
}

static void test_delta_round_then_changes(void **state)
{
	struct fixture *f = *state;
	char *folder = folder_create(f, "Bulk", "msgfolderroot", false);
	char *archive, *fresh, *path, *body;
	const char *first, *second, *third, *fourth;
	struct round r1, r2;
	json_t *d, *v, *m;
	size_t i;

	seed(f, "Bulk", 230);
	round_run(f, folder, NULL, 50, &r1);
	assert_int_equal(r1.items, 230);
	assert_int_equal(r1.pages, 5);
	assert_true(r1.newest_first);
	assert_non_null(r1.done);

	/* the newest messages in the round, by another client: */
	d = dump(f);
	archive = xstrdup(dump_folder_id(d, "Archive"));
	first = second = third = fourth = NULL;
	json_array_foreach(json_object_get(d, "messages"), i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));

		if (strcmp(json_string_value(json_object_get(m, "folderId")), folder) != 0)
			continue;
		if (!first) first = id;
		else if (!second) second = id;
		else if (!third) third = id;
		else if (!fourth) fourth = id;
	}
	assert_non_null(fourth);
	/* update, soft delete, move, hard delete, and a new message */
	path = xasprintf(MBX "/messages/%s", first);
	json_decref(admin(f, "PATCH", path, "{\"isRead\":true,\"flag\":{\"flagStatus\":\"flagged\"}}"));
	free(path);
	path = xasprintf(MBX "/messages/%s", second);
	json_decref(admin(f, "DELETE", path, NULL));
	free(path);
	path = xasprintf(MBX "/messages/%s/move", third);
	body = xasprintf("{\"folder\":\"%s\"}", archive);
	json_decref(admin(f, "POST", path, body));
	free(body);
	free(path);
	path = xasprintf(MBX "/messages/%s?permanent=true", fourth);
	json_decref(admin(f, "DELETE", path, NULL));
	free(path);
	body = xasprintf("{\"folder\":\"%s\",\"subject\":\"fresh mail\"}", folder);
	fresh = admin_id(f, "POST", MBX "/messages", body);
	free(body);

	round_run(f, folder, r1.done, 50, &r2);
	v = json_object_get(r2.seen, first);
	assert_non_null(v);
	assert_false(json_is_true(json_object_get(v, "removed")));
	assert_int_equal(json_integer_value(json_object_get(v, "read")), 1);
	assert_int_equal(json_integer_value(json_object_get(v, "flagged")), 1);
	assert_true(json_is_true(json_object_get(json_object_get(r2.seen, second), "removed")));
	assert_true(json_is_true(json_object_get(json_object_get(r2.seen, third), "removed")));
	assert_true(json_is_true(json_object_get(json_object_get(r2.seen, fourth), "removed")));
	v = json_object_get(r2.seen, fresh);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "subject")), "fresh mail");
	assert_false(json_is_true(json_object_get(v, "removed")));

	/* where did the removed ones go? moved, in Deleted Items, gone */
	{
		struct driver_locate loc[3];
		struct err e;

		memset(loc, 0, sizeof(loc));
		loc[0].remote_id = third;
		loc[1].remote_id = second;
		loc[2].remote_id = fourth;
		assert_int_equal(driver_locate_messages(f->d, loc, 3, &e), 0);
		for (i = 0; i < 3; i++)
			assert_int_equal(loc[i].rc, 0);
		assert_string_equal(loc[0].folder_remote_id, archive);
		assert_string_equal(loc[1].folder_remote_id, dump_folder_id(d, "Deleted Items"));
		assert_true(loc[2].gone);
		assert_null(loc[2].folder_remote_id);
		free(loc[0].folder_remote_id);
		free(loc[1].folder_remote_id);
	}
	json_decref(d);
	round_free(&r1);
	round_free(&r2);
	free(fresh);
	free(archive);
	free(folder);
}

static void test_expired_delta_is_resync(void **state)
{
	struct fixture *f = *state;
	char *folder = folder_create(f, "Expiring", "msgfolderroot", false);
	struct driver_page pg;
	struct round r;
	struct err e;

	seed(f, "Expiring", 10);
	round_run(f, folder, NULL, 0, &r);
	json_decref(admin(f, "POST", MBX "/expire-delta", "{\"folder\":\"Expiring\"}"));
	assert_int_equal(driver_get_changes(f->d, folder, r.done, 0, &pg, &e), -1);
	assert_int_equal(e.class, ERR_RESYNC);
	assert_int_equal(e.http_status, 410);
	assert_null(pg.items);
	/* a new round works */
	round_free(&r);
	round_run(f, folder, NULL, 0, &r);
	assert_int_equal(r.items, 10);
	round_free(&r);
	free(folder);
}

static void test_faults_are_classified(void **state)
{
	struct fixture *f = *state;
	struct driver *small = driver_new(f, 64 * 1024);
	struct driver_page pg;
	struct err e;

	fault(f, "{\"kind\":\"429\",\"count\":1,\"retry_after\":7,\"path\":\"/messages/delta\"}");
	assert_int_equal(driver_get_changes(f->d, "inbox", NULL, 0, &pg, &e), -1);
	assert_int_equal(e.class, ERR_THROTTLED);
	assert_int_equal(e.retry_after_s, 7);

	fault(f, "{\"kind\":\"503\",\"count\":1,\"path\":\"/messages/delta\"}");
	assert_int_equal(driver_get_changes(f->d, "inbox", NULL, 0, &pg, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	assert_int_equal(e.http_status, 503);

	fault(f, "{\"kind\":\"malformed\",\"count\":1,\"path\":\"/messages/delta\"}");
	assert_int_equal(driver_get_changes(f->d, "inbox", NULL, 0, &pg, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	assert_string_equal(e.code, "bad_response");
	assert_null(pg.items);

	fault(f, "{\"kind\":\"oversized\",\"count\":1,\"bytes\":1000000,\"path\":\"/messages/delta\"}");
	assert_int_equal(driver_get_changes(small, "inbox", NULL, 0, &pg, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	assert_string_equal(e.code, "too_large");

	fault(f, "{\"kind\":\"drop\",\"count\":1,\"bytes\":100,\"path\":\"/messages/delta\"}");
	assert_int_equal(driver_get_changes(f->d, "inbox", NULL, 0, &pg, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);

	/* and then it works */
	assert_int_equal(driver_get_changes(f->d, "inbox", NULL, 0, &pg, &e), 0);
	assert_true(pg.n > 0);
	driver_page_free(&pg);
	driver_free(small);
}

/* Count of delta requests since the last counters reset. */
static long long delta_requests(struct fixture *f)
{
	json_t *c = graph_counters(f);
	long long n = json_integer_value(json_object_get(c,
		"GET /v1.0/me/mailFolders/{id}/messages/delta"));

	json_decref(c);
	return n;
}

static void test_next_page_fetched_ahead(void **state)
{
	struct fixture *f = *state;
	char *folder = folder_create(f, "Ahead", "msgfolderroot", false);
	struct driver_page p1, p2;
	struct err e;
	long long n = 0;

	seed(f, "Ahead", 160);
	json_decref(admin(f, "POST", "/_sim/counters/reset", NULL));
	assert_int_equal(driver_get_changes(f->d, folder, NULL, 50, &p1, &e), 0);
	assert_non_null(p1.next_cursor);
	/* the next page is asked for before the engine asks (and the one
	 * after it, as a chain runs up to two pages ahead) */
	for (int i = 0; i < 100 && (n = delta_requests(f)) < 2; i++)
		time_sleep_ms(20);
	assert_true(n >= 2 && n <= 3);
	assert_int_equal(driver_get_changes(f->d, folder, p1.next_cursor, 50, &p2, &e), 0);
	assert_int_equal(p2.n, 50);
	assert_string_not_equal(p1.items[0].remote_id, p2.items[0].remote_id);
	driver_page_free(&p1);
	driver_page_free(&p2);
	free(folder);
}

/* Bodies of many messages: $batch, 20 per request, each item its own
 * answer (a message gone since is "not_found", the others still come). */
static void test_bodies_in_batches(void **state)
{
	struct fixture *f = *state;
	char *folder = folder_create(f, "Bodies", "msgfolderroot", false);
	struct driver_body_fetch items[24];
	struct driver_page pg;
	struct err e;
	json_t *c;

	seed(f, "Bodies", 24);
	assert_int_equal(driver_get_changes(f->d, folder, NULL, 50, &pg, &e), 0);
	assert_int_equal(pg.n, 24);
	assert_int_equal(f->d->limits.max_bodies, 20);
	memset(items, 0, sizeof(items));
	for (size_t i = 0; i < 24; i++)
		items[i].remote_id = pg.items[i].remote_id;
	{
		char *esc = curl_easy_escape(NULL, items[23].remote_id, 0);
		char *path = xasprintf("/_sim/mailboxes/adele@contoso.com/messages/%s"
				       "?permanent=true", esc);

		json_decref(admin(f, "DELETE", path, NULL));
		free(path);
		curl_free(esc);
	}
	json_decref(admin(f, "POST", "/_sim/counters/reset", NULL));
	assert_int_equal(driver_fetch_bodies(f->d, items, 20, &e), 0);
	assert_int_equal(driver_fetch_bodies(f->d, items + 20, 4, &e), 0);
	for (size_t i = 0; i < 23; i++) {
		assert_int_equal(items[i].rc, 0);
		assert_non_null(items[i].body.content_type);
		assert_true(items[i].body.len > 0);
		driver_body_free(&items[i].body);
	}
	assert_int_equal(items[23].rc, -1);
	assert_true(err_is(&items[23].err, "not_found"));
	c = graph_counters(f);
	assert_int_equal(json_integer_value(json_object_get(c, "POST /v1.0/$batch")), 2);
	json_decref(c);
	driver_page_free(&pg);
	free(folder);
}

static void test_failed_prefetch_is_asked_again(void **state)
{
	struct fixture *f = *state;
	char *folder = folder_create(f, "Again", "msgfolderroot", false);
	struct driver_page p1, p2;
	struct err e;

	seed(f, "Again", 160);
	/* the first next-page request (the one made ahead) fails */
	fault(f, "{\"kind\":\"500\",\"count\":1,\"path\":\"skiptoken\"}");
	assert_int_equal(driver_get_changes(f->d, folder, NULL, 50, &p1, &e), 0);
	time_sleep_ms(200);
	assert_int_equal(driver_get_changes(f->d, folder, p1.next_cursor, 50, &p2, &e), 0);
	assert_int_equal(p2.n, 50);
	driver_page_free(&p1);
	driver_page_free(&p2);
	free(folder);
}

static void test_expired_token_refreshes_once(void **state)
{
	struct fixture *f = *state;
	struct driver_identity id;
	struct err e;
	json_t *c, *reqs;

	json_decref(admin(f, "POST", "/_sim/users/" USER "/expire-tokens", NULL));
	json_decref(admin(f, "POST", "/_sim/counters/reset", NULL));
	assert_int_equal(driver_whoami(f->d, &id, &e), 0);
	assert_int_equal(f->forced, 1);
	/* the sim files the refused request under "(unknown)": it never got
	 * routed; the retry with the fresh token succeeded */
	c = admin(f, "GET", "/_sim/counters", NULL);
	reqs = json_object_get(c, "requests");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(reqs,
		"GET /v1.0/(unknown)"), "401")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(reqs,
		"GET /v1.0/me"), "200")), 1);
	json_decref(c);
}

static void test_poll_is_one_request(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "P1", "P2", "P3", "P4", "P5", "P6" };
	struct driver_poll polls[6];
	struct round r[6];
	char *ids[6], *body;
	struct err e;
	json_t *c;
	size_t i;

	memset(polls, 0, sizeof(polls));
	for (i = 0; i < 6; i++) {
		ids[i] = folder_create(f, names[i], "msgfolderroot", false);
		seed(f, names[i], 3);
		round_run(f, ids[i], NULL, 0, &r[i]);
		polls[i].folder_remote_id = ids[i];
		polls[i].cursor = r[i].done;
	}
	body = xasprintf("{\"folder\":\"%s\",\"subject\":\"poll me\"}", ids[4]);
	free(admin_id(f, "POST", MBX "/messages", body));
	free(body);
	json_decref(admin(f, "POST", "/_sim/counters/reset", NULL));
	assert_int_equal(driver_poll_changes(f->d, polls, 6, 0, &e), 0);
	/* one HTTP request; the sim also counts the six sub-requests it ran
	 * inside the batch under their own routes */
	c = graph_counters(f);
	if (json_object_size(c) != 2 ||
	    json_integer_value(json_object_get(c, "POST /v1.0/$batch")) != 1 ||
	    json_integer_value(json_object_get(c, "GET /v1.0/me/mailFolders/{id}/messages/delta")) != 6)
		fail_msg("expected one $batch request, got %s", json_dumps(c, 0));
	json_decref(c);
	for (i = 0; i < 6; i++) {
		if (polls[i].rc != 0)
			fail_msg("poll %zu: %s", i, polls[i].err.msg);
		assert_non_null(polls[i].page.done_cursor);
		assert_int_equal(polls[i].page.n, i == 4 ? 1 : 0);
		driver_page_free(&polls[i].page);
		round_free(&r[i]);
		free(ids[i]);
	}
}

/* Per-folder outcomes of one poll: an expired token (410), a throttled
 * sub-request (429 with its Retry-After), and the 424s of the requests
 * chained behind them. Seven folders make four chains: 4 runs after 0,
 * 5 after 1, 6 after 2. */
static void test_poll_per_folder_errors(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "Q0", "Q1", "Q2", "Q3", "Q4", "Q5", "Q6" };
	struct driver_poll polls[7];
	struct round r[7];
	char *ids[7], *rule;
	struct err e;
	size_t i;

	memset(polls, 0, sizeof(polls));
	for (i = 0; i < 7; i++) {
		ids[i] = folder_create(f, names[i], "msgfolderroot", false);
		seed(f, names[i], 2);
		round_run(f, ids[i], NULL, 0, &r[i]);
		polls[i].folder_remote_id = ids[i];
		polls[i].cursor = r[i].done;
	}
	json_decref(admin(f, "POST", MBX "/expire-delta", "{\"folder\":\"Q1\"}"));
	rule = xasprintf("{\"kind\":\"429\",\"count\":1,\"retry_after\":9,\"path\":\"%s\"}", ids[2]);
	fault(f, rule);
	free(rule);
	assert_int_equal(driver_poll_changes(f->d, polls, 7, 0, &e), 0);
	for (i = 0; i < 7; i++) {
		static const enum err_class want[] = {
			ERR_NONE, ERR_RESYNC, ERR_THROTTLED, ERR_NONE, ERR_NONE,
			ERR_TRANSIENT, ERR_THROTTLED,
		};

		if (want[i] == ERR_NONE) {
			if (polls[i].rc != 0)
				fail_msg("poll %zu: %s", i, polls[i].err.msg);
			assert_non_null(polls[i].page.done_cursor);
			continue;
		}
		assert_int_equal(polls[i].rc, -1);
		if (polls[i].err.class != want[i])
			fail_msg("poll %zu: %s: %s", i, err_class_name(polls[i].err.class),
				 polls[i].err.msg);
		if (want[i] == ERR_THROTTLED)
			assert_int_equal(polls[i].err.retry_after_s, 9);
		assert_null(polls[i].page.items);
	}
	assert_string_equal(polls[5].err.code, "dependency_failed");
	for (i = 0; i < 7; i++) {
		driver_page_free(&polls[i].page);
		round_free(&r[i]);
		free(ids[i]);
	}
}

/* Twenty lookups in one $batch under the sim's strict per-mailbox
 * concurrency (independent sub-requests beyond 4 get 429): none is
 * throttled; a gone message heading a chain makes its followers 424,
 * and they are asked again. */
static void test_locate_twenty(void **state)
{
	struct fixture *f = *state;
	struct driver_locate loc[20];
	struct driver_page pg;
	char *path;
	struct err e;
	json_t *c;
	size_t i;

	assert_int_equal(driver_list_newest(f->d, "inbox", 0, 20, &pg, &e), 0);
	assert_int_equal(pg.n, 20);
	memset(loc, 0, sizeof(loc));
	for (i = 0; i < 20; i++)
		loc[i].remote_id = pg.items[i].remote_id;
	path = xasprintf(MBX "/messages/%s?permanent=true", loc[1].remote_id);
	json_decref(admin(f, "DELETE", path, NULL));
	free(path);
	json_decref(admin(f, "POST", "/_sim/counters/reset", NULL));
	assert_int_equal(driver_locate_messages(f->d, loc, 20, &e), 0);
	for (i = 0; i < 20; i++) {
		if (loc[i].rc != 0)
			fail_msg("locate %zu: %s", i, loc[i].err.msg);
		assert_int_equal(loc[i].gone, i == 1);
		if (i != 1)
			assert_non_null(loc[i].folder_remote_id);
		free(loc[i].folder_remote_id);
	}
	c = graph_counters(f);
	/* the batch, then the 4 followers of the gone one in a second batch */
	assert_int_equal(json_integer_value(json_object_get(c, "POST /v1.0/$batch")), 2);
	json_decref(c);
	c = admin(f, "GET", "/_sim/counters", NULL);
	assert_null(json_object_get(json_object_get(c, "events"), "throttled"));
	json_decref(c);
	driver_page_free(&pg);
}

static void test_list_newest_and_content(void **state)
{
	struct fixture *f = *state;
	struct driver_page pg, later;
	struct driver_body body;
	struct buf mime;
	struct err e;

	assert_int_equal(driver_list_newest(f->d, "inbox", 0, 5, &pg, &e), 0);
	assert_int_equal(pg.n, 5);
	assert_null(pg.next_cursor);
	assert_null(pg.done_cursor);
	for (size_t i = 1; i < pg.n; i++)
		assert_true(pg.items[i - 1].received_at >= pg.items[i].received_at);
	assert_int_equal(driver_list_newest(f->d, "inbox", pg.items[2].received_at, 50,
					    &later, &e), 0);
	for (size_t i = 0; i < later.n; i++)
		assert_true(later.items[i].received_at > pg.items[2].received_at);
	assert_true(later.n >= 2);
	driver_page_free(&later);

	assert_int_equal(driver_fetch_body(f->d, pg.items[0].remote_id, &body, &e), 0);
	assert_true(strcmp(body.content_type, "html") == 0 ||
		    strcmp(body.content_type, "text") == 0);
	assert_true(body.len > 0);
	driver_body_free(&body);

	buf_init(&mime, 8 << 20);
	assert_int_equal(driver_fetch_mime(f->d, pg.items[0].remote_id, &mime, &e), 0);
	assert_non_null(strstr(buf_str(&mime), "Message-ID:") ? strstr(buf_str(&mime), "Message-ID:")
				: strstr(buf_str(&mime), "Message-Id:"));
	assert_non_null(strstr(buf_str(&mime), pg.items[0].internet_message_id));
	buf_free(&mime);
	buf_init(&mime, 100);
	assert_int_equal(driver_fetch_mime(f->d, pg.items[0].remote_id, &mime, &e), -1);
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "too_large");
	buf_free(&mime);
	driver_page_free(&pg);
}

static void test_flags_move_delete(void **state)
{
	struct fixture *f = *state;
	char *folder = folder_create(f, "Work", "msgfolderroot", false);
	char *archive;
	struct driver_page pg;
	json_t *d, *m;
	struct err e;
	char id0[256], id1[256];

	seed(f, "Work", 3);
	assert_int_equal(driver_list_newest(f->d, folder, 0, 3, &pg, &e), 0);
	str_copy(id0, sizeof(id0), pg.items[0].remote_id);
	str_copy(id1, sizeof(id1), pg.items[1].remote_id);
	driver_page_free(&pg);
	d = dump(f);
	archive = xstrdup(dump_folder_id(d, "Archive"));
	json_decref(d);

	assert_int_equal(driver_set_flags(f->d, id0, 1, 1, &e), 0);
	assert_int_equal(driver_move_message(f->d, id0, archive, NULL, &e), 0);
	assert_int_equal(driver_delete_message(f->d, id1, &e), 0);
	assert_int_equal(driver_delete_message(f->d, id1, &e), 0); /* again */
	d = dump(f);
	m = dump_message(d, id0); /* same immutable id after the move */
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "folderId")), archive);
	assert_true(json_is_true(json_object_get(m, "isRead")));
	assert_string_equal(json_string_value(json_object_get(m, "flag")), "flagged");
	json_decref(d);

	assert_int_equal(driver_move_message(f->d, "AAkALgAAAAAnotAnIdAtAll=", archive, NULL, &e), -1);
	assert_int_equal(e.class, ERR_PERMANENT);
	free(archive);
	free(folder);
}

struct found {
	char *id;
	char *folder;
	int n;
};

static int on_found(void *ctx, const char *id, const struct driver_state *s)
{
	struct found *fd = ctx;

	fd->n++;
	free(fd->id);
	free(fd->folder);
	fd->id = xstrdup(id);
	fd->folder = xstrdup(s->folder_remote_id);
	return 0;
}

static void test_draft_send_lands_in_sent(void **state)
{
	struct fixture *f = *state;
	char imid[128], *mime, *draft = NULL;
	struct driver_state st;
	struct found fd = { 0 };
	json_t *d;
	struct err e;
	const char *sent, *drafts;
	int tries;

	snprintf(imid, sizeof(imid), "<test-%lld@inboxsync.test>", (long long)time_now());
	mime = xasprintf("From: Adele Vance <" USER ">\r\nTo: Bob Kelly <bob@contoso.com>\r\n"
			 "Subject: driver send test\r\nMessage-ID: %s\r\n"
			 "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
			 "Hello Bob.\r\n", imid);
	d = dump(f);
	sent = dump_folder_id(d, "Sent Items");
	drafts = dump_folder_id(d, "Drafts");
	assert_int_equal(driver_create_draft(f->d, mime, strlen(mime), &draft, &e), 0);
	assert_non_null(draft);
	assert_int_equal(driver_get_state(f->d, draft, &st, &e), 0);
	assert_true(st.exists);
	assert_true(st.is_draft);
	assert_string_equal(st.folder_remote_id, drafts);
	assert_string_equal(st.internet_message_id, imid);
	driver_state_free(&st);

	assert_int_equal(driver_send_draft(f->d, draft, &e), 0);
	for (tries = 0; tries < 100; tries++) {
		assert_int_equal(driver_get_state(f->d, draft, &st, &e), 0);
		if (st.exists && !st.is_draft)
			break;
		driver_state_free(&st);
		time_sleep_ms(50);
	}
	assert_true(st.exists);
	assert_false(st.is_draft);
	assert_string_equal(st.folder_remote_id, sent);
	assert_string_equal(st.internet_message_id, imid);
	driver_state_free(&st);

	assert_int_equal(driver_find_by_message_id(f->d, imid, on_found, &fd, &e), 0);
	assert_int_equal(fd.n, 1);
	assert_string_equal(fd.id, draft);
	assert_string_equal(fd.folder, sent);
	free(fd.id);
	free(fd.folder);
	json_decref(d);
	free(draft);
	free(mime);
}

static void test_send_test_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	json_t *before, *after, *m;
	struct sim_http r;
	struct err e;
	size_t i;

	before = dump(f);
	assert_int_equal(driver_test_send(f->d, &e), 0);
	after = dump(f);
	assert_int_equal(json_array_size(json_object_get(after, "messages")),
			 json_array_size(json_object_get(before, "messages")));
	json_array_foreach(json_object_get(after, "messages"), i, m) {
		const char *s = json_string_value(json_object_get(m, "subject"));

		assert_true(!s || !strstr(s, "inboxsync send test"));
	}
	assert_int_equal(sim_admin(&f->h, "GET", "/_sim/sent", NULL, &r), 0);
	assert_int_equal(json_array_size(json_object_get(r.json, "value")), 0);
	sim_http_free(&r);
	json_decref(before);
	json_decref(after);
}

static void test_send_test_without_mail_send(void **state)
{
	struct fixture *f = *state;
	json_t *before, *after;
	struct err e;

	free(f->access);
	free(f->refresh);
	f->access = f->refresh = NULL;
	/* Entra puts every consented scope in a token: withdraw the consent
	 * first, then consent to everything but Mail.Send */
	json_decref(admin(f, "POST", "/_sim/users/" USER "/withdraw-consent", "{}"));
	assert_int_equal(sim_login(&f->h, USER, "openid offline_access Mail.ReadWrite User.Read",
				   &f->access, &f->refresh), 0);
	before = dump(f);
	assert_int_equal(driver_test_send(f->d, &e), -1);
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "access_denied");
	assert_non_null(strstr(e.msg, "Mail.Send"));
	assert_non_null(strstr(e.msg, "authorize"));
	after = dump(f);
	assert_int_equal(json_array_size(json_object_get(after, "messages")),
			 json_array_size(json_object_get(before, "messages")));
	json_decref(before);
	json_decref(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whoami, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delta_round_then_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_delta_is_resync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults_are_classified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_token_refreshes_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_page_fetched_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_prefetch_is_asked_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_is_one_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_per_folder_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locate_twenty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_newest_and_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags_move_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_draft_send_lands_in_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_test_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_test_without_mail_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bodies_in_batches, setup, teardown),
	};

	http_global_init(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
