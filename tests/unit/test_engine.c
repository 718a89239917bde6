/*
 * test_engine.c — the sync engine against a scripted driver that fails on
 * cue (no network): a page and its cursor are committed together, so a
 * failure resumes from the last committed cursor; an expired cursor
 * re-bootstraps the folder and sweeps what the server no longer has while
 * keeping cached bodies; removed messages found in another selected folder
 * move (one row); throttling is recorded on the account.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "inboxsync/alloc.h"
#include "inboxsync/engine.h"
#include "inboxsync/sched.h"
#include "inboxsync/timeutil.h"

/* ---- the scripted driver ------------------------------------------------------ */

#define MAX_MSGS 64

struct fake_msg {
	char id[16];
	char folder[16];
	int64_t t;
	bool removed_from_inbox; /* report as @removed in the next Inbox delta */
};

struct fake {
	struct driver base;
	struct fake_msg msgs[MAX_MSGS];
	size_t n;
	int calls;
	int fail_call;            /* this get_changes call fails (1-based), 0 = never */
	enum err_class fail_class;
	char expire_folder[16];   /* the next delta of this folder is expired */
	char last_cursor[64];
};

static void page_release(void *p)
{
	free(p);
}

/* The page's priv: a release function followed by nothing else. */
static void *new_priv(void)
{
	void (**release)(void *) = xmalloc(sizeof(*release));

	*release = page_release;
	return release;
}

static void add_item(struct driver_page *pg, const struct fake_msg *m, bool removed)
{
	struct mail_message *it;

	pg->items = xrealloc(pg->items, (pg->n + 1) * sizeof(*pg->items));
	it = &pg->items[pg->n++];
	mail_message_init(it);
	it->remote_id = m->id;
	it->removed = removed;
	it->subject = m->id;
	it->received_at = m->t;
}

/* Cursors: "inbox:N" = next page starting at the N-th newest; "delta" =
 * done; pages hold 2 messages. */
static int fake_changes(struct driver *d, const char *folder, const char *cursor,
			size_t page_size, struct driver_page *pg, struct err *e)
{
	struct fake *f = (struct fake *)d;
	size_t start = 0, seen = 0;

	(void)page_size;
	f->calls++;
	snprintf(f->last_cursor, sizeof(f->last_cursor), "%s", cursor ? cursor : "(none)");
	if (f->fail_call == f->calls)
		return err_set(e, f->fail_class, "fake", "scripted failure");
	if (cursor && strcmp(cursor, "delta") == 0) {
		if (strcmp(f->expire_folder, folder) == 0) {
			f->expire_folder[0] = '\0';
			return err_set(e, ERR_RESYNC, "sync_state", "delta token expired");
		}
		pg->priv = new_priv();
		for (size_t i = 0; i < f->n; i++)
			if (f->msgs[i].removed_from_inbox && strcmp(folder, "inbox") == 0) {
				add_item(pg, &f->msgs[i], true);
				f->msgs[i].removed_from_inbox = false;
			}
		pg->done_cursor = xstrdup("delta");
		return 0;
	}
	if (cursor)
		start = (size_t)strtoul(strchr(cursor, ':') + 1, NULL, 10);
	pg->priv = new_priv();
	/* messages of the folder, newest first (msgs[] is kept newest first) */
	for (size_t i = 0; i < f->n && pg->n < 2; i++) {
		if (strcmp(f->msgs[i].folder, folder) != 0)
			continue;
		if (seen++ < start)
			continue;
		add_item(pg, &f->msgs[i], false);
	}
	if (pg->n == 2)
		pg->next_cursor = xasprintf("%s:%zu", folder, start + 2);
	else
		pg->done_cursor = xstrdup("delta");
	return 0;
}

static int fake_poll(struct driver *d, struct driver_poll *polls, size_t n,
		     size_t page_size, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		polls[i].rc = fake_changes(d, polls[i].folder_remote_id, polls[i].cursor,
					   page_size, &polls[i].page, &polls[i].err);
	}
	(void)e;
	return 0;
}

static int fake_locate(struct driver *d, struct driver_locate *items, size_t n,
		       struct err *e)
{
	struct fake *f = (struct fake *)d;

	(void)e;
	for (size_t i = 0; i < n; i++) {
		items[i].rc = 0;
		items[i].gone = true;
		for (size_t k = 0; k < f->n; k++)
			if (strcmp(f->msgs[k].id, items[i].remote_id) == 0) {
				items[i].gone = false;
				items[i].folder_remote_id = xstrdup(f->msgs[k].folder);
			}
	}
	return 0;
}

static const struct driver_ops fake_ops = {
	.name = "fake",
	.get_changes = fake_changes,
	.poll_changes = fake_poll,
	.locate_messages = fake_locate,
};

/* ---- fixture --------------------------------------------------------------------- */

struct fixture {
	char dir[64];
	struct auth_env env;
	struct fake fake;
	int64_t account, inbox, archive;
};

static int64_t folder(struct fixture *fx, const char *remote, const char *path)
{
	struct store_folder_in in = { { remote, "", path, MAIL_ROLE_NONE, 0, 0 }, path };
	struct store_folder f;
	struct err e = { 0 };

	assert_int_equal(store_put_folder(fx->env.store, fx->account, &in, NULL, &e), 0);
	assert_int_equal(store_find_folder_by_remote(fx->env.store, fx->account, remote, &f, &e), 1);
	store_folder_clear(&f);
	assert_int_equal(store_select_folder(fx->env.store, f.id, true, MAIL_ROLE_CUSTOM, &e), 0);
	return f.id;
}

static void add_msg(struct fake *f, const char *id, const char *folder_name, int64_t t)
{
	struct fake_msg *m = &f->msgs[f->n++];

	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	snprintf(m->folder, sizeof(m->folder), "%s", folder_name);
	m->t = t;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct store_account a = { 0 };
	struct err e = { 0 };
	char path[96];

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/inboxsync-engine-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(path, sizeof(path), "%s/s.db", fx->dir);
	assert_int_equal(store_open(path, &fx->env.store, &e), 0);
	snprintf(a.name, sizeof(a.name), "work");
	snprintf(a.email, sizeof(a.email), "a@contoso.com");
	snprintf(a.transport, sizeof(a.transport), "graph");
	assert_int_equal(store_add_account(fx->env.store, &a, &e), 0);
	fx->account = a.id;
	/* the folder tree counts as just read: no rescan during the tests */
	assert_int_equal(store_begin_folder_scan(fx->env.store, a.id, &e), 0);
	fx->inbox = folder(fx, "inbox", "Inbox");
	fx->archive = folder(fx, "archive", "Archive");
	assert_int_equal(store_end_folder_scan(fx->env.store, a.id, NULL, &e), 0);
	fx->fake.base.ops = &fake_ops;
	for (int i = 0; i < 5; i++) {
		char id[16];

		snprintf(id, sizeof(id), "M%d", i);
		add_msg(&fx->fake, id, "inbox", 1000 - i); /* newest first */
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[96];

	store_close(fx->env.store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static long long count(struct fixture *fx)
{
	long long n;
	struct err e;

	store_count_messages(fx->env.store, fx->account, &n, &e);
	return n;
}

static int pass(struct fixture *fx, struct engine_result *r, struct err *e)
{
	struct engine_opts o = { 0 };

	return engine_sync_pass_with(&fx->env, &fx->fake.base, fx->account, &o, r, e);
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_failure_resumes_from_the_committed_cursor(void **state)
{
	struct fixture *fx = *state;
	struct engine_result r;
	struct err e = { 0 };
	struct store_account a;

	fx->fake.fail_call = 3; /* Archive (empty), Inbox page 1, then page 2 fails */
	fx->fake.fail_class = ERR_TRANSIENT;
	assert_int_equal(pass(fx, &r, &e), -1);
	assert_int_equal(count(fx), 2);          /* page 1 committed with its cursor */
	store_get_account(fx->env.store, fx->account, &a, &e);
	assert_string_equal(store_state_name(a.state), "error");
	assert_non_null(strstr(a.state_reason, "Temporary"));
	assert_int_equal(pass(fx, &r, &e), 0);
	assert_string_equal(fx->fake.last_cursor, "delta");
	assert_int_equal(count(fx), 5);
	assert_true(r.complete);
	store_get_account(fx->env.store, fx->account, &a, &e);
	assert_string_equal(store_state_name(a.state), "idle");
}

static void test_expired_cursor_rebootstraps_and_sweeps(void **state)
{
	struct fixture *fx = *state;
	struct engine_result r;
	struct err e = { 0 };
	struct store_message m;

	assert_int_equal(pass(fx, &r, &e), 0);
	assert_int_equal(count(fx), 5);
	assert_int_equal(store_put_body(fx->env.store, fx->account, "M1", "text", "kept", 4, &e), 0);
	/* the server loses M3 while the delta token is dead */
	memmove(&fx->fake.msgs[3], &fx->fake.msgs[4], sizeof(fx->fake.msgs[0]));
	fx->fake.n--;
	snprintf(fx->fake.expire_folder, sizeof(fx->fake.expire_folder), "inbox");
	assert_int_equal(pass(fx, &r, &e), 0);
	assert_int_equal(r.resyncs, 1);
	assert_int_equal(count(fx), 4);          /* swept, nothing duplicated */
	assert_int_equal(store_get_message(fx->env.store, fx->account, "M1", &m, &e), 1);
	assert_true(m.body_fetched);             /* local state kept */
	store_message_clear(&m);
}

static void test_removed_then_found_elsewhere_moves(void **state)
{
	struct fixture *fx = *state;
	struct engine_result r;
	struct err e = { 0 };
	struct store_message m;

	assert_int_equal(pass(fx, &r, &e), 0);
	store_put_body(fx->env.store, fx->account, "M2", "text", "b", 1, &e);
	/* M2 moved to Archive; only the @removed in Inbox is reported */
	snprintf(fx->fake.msgs[2].folder, sizeof(fx->fake.msgs[2].folder), "archive");
	fx->fake.msgs[2].removed_from_inbox = true;
	/* M4 deleted */
	fx->fake.msgs[4].removed_from_inbox = true;
	snprintf(fx->fake.msgs[4].folder, sizeof(fx->fake.msgs[4].folder), "gone");
	assert_int_equal(pass(fx, &r, &e), 0);
	assert_int_equal(store_get_message(fx->env.store, fx->account, "M2", &m, &e), 1);
	assert_int_equal(m.folder_id, fx->archive);
	assert_true(m.body_fetched);            /* one row moved */
	store_message_clear(&m);
	/* "gone" is not a folder we know: removed locally */
	assert_int_equal(store_get_message(fx->env.store, fx->account, "M4", &m, &e), 0);
}

static void test_throttling_is_recorded(void **state)
{
	struct fixture *fx = *state;
	struct engine_result r;
	struct err e = { 0 };
	struct store_account a;

	fx->fake.fail_call = 1;
	fx->fake.fail_class = ERR_THROTTLED;
	assert_int_equal(pass(fx, &r, &e), -1);
	store_get_account(fx->env.store, fx->account, &a, &e);
	assert_string_equal(store_state_name(a.state), "throttled");
	assert_true(a.throttled_until >= time_now());
	assert_non_null(strstr(a.state_reason, "Retry-After"));
}

static void test_backoff_bounds(void **state)
{
	(void)state;
	for (int k = 1; k < 20; k++) {
		int s = sched_backoff_s(k);
		double base = k < 9 ? (double)(1 << k) : 300;

		if (base > 300)
			base = 300;
		assert_true(s >= (int)(base * 0.5) && s <= (int)(base * 1.5) + 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_failure_resumes_from_the_committed_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_cursor_rebootstraps_and_sweeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_then_found_elsewhere_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttling_is_recorded, setup, teardown),
		cmocka_unit_test(test_backoff_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
