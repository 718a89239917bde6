/*
 * test_store.c — the store interface, whichever backend is behind it:
 * migrations, explicit transactions and rollback, accounts (names unique
 * per owner) and their state rules, credentials (rotation compare-and-swap,
 * refresh lease), single-use OAuth states, folder scans, message pages
 * (moves, orphans, sweep, replacing a local Sent entry), users, tokens and
 * sessions, sync leases and the fence, the outbox, events and webhook
 * deliveries. The backend comes from $INBOXSYNC_TEST_STORE_URL's helper
 * (tests/support/store_fixture.h): a fresh SQLite file by default.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "inboxsync/alloc.h"
#include "inboxsync/store.h"
#include "inboxsync/timeutil.h"
#include "store_fixture.h"

struct fixture {
	struct store_fixture sf;
	char dir[128];
	const char *path;
	struct store *st;
	int64_t account;
	int64_t inbox, archive, sent;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_account a = { 0 };
	struct err e = { 0 };

	assert_int_equal(store_fixture_new(&f->sf, "store"), 0);
	snprintf(f->dir, sizeof(f->dir), "%s", f->sf.dir);
	f->path = f->sf.location;
	assert_int_equal(store_open(f->path, &f->st, &e), 0);
	snprintf(a.name, sizeof(a.name), "work");
	snprintf(a.email, sizeof(a.email), "adele@contoso.com");
	snprintf(a.transport, sizeof(a.transport), "graph");
	assert_int_equal(store_add_account(f->st, &a, &e), 0);
	f->account = a.id;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	store_fixture_free(&f->sf);
	free(f);
	return 0;
}

static int64_t add_folder(struct fixture *f, const char *remote, const char *path,
			  enum mail_role role)
{
	int64_t id = store_fixture_folder(f->st, f->account, remote, path, role);

	assert_true(id > 0);
	return id;
}

static int setup_folders(void **state)
{
	struct fixture *f;

	setup(state);
	f = *state;
	f->inbox = add_folder(f, "F-inbox", "Inbox", MAIL_ROLE_INBOX);
	f->archive = add_folder(f, "F-archive", "Archive", MAIL_ROLE_ARCHIVE);
	f->sent = add_folder(f, "F-sent", "Sent Items", MAIL_ROLE_SENT);
	return 0;
}

static struct mail_message msg(const char *id, const char *subject, int64_t t)
{
	struct mail_message m;

	mail_message_init(&m);
	m.remote_id = id;
	m.subject = subject;
	m.received_at = t;
	m.is_read = 0;
	return m;
}

static void test_migrates_empty_file_and_reopens(void **state)
{
	struct fixture *f = *state;
	struct err e = { 0 };
	struct store *again;

	assert_true(store_schema_version(f->st) >= 1);
	assert_int_equal(store_open(f->path, &again, &e), 0);
	assert_int_equal(store_schema_version(again), store_schema_version(f->st));
	store_close(again);
}

static void test_not_a_database_is_a_clear_error(void **state)
{
	struct fixture *f = *state;
	char path[160];
	struct store *st = NULL;
	struct err e = { 0 };
	FILE *fp;

	if (strcmp(store_backend_name(f->st), "sqlite") != 0)
		skip(); /* a file that is not a database: SQLite's case only */
	snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
	fp = fopen(path, "w");
	fputs("this is not sqlite, just text that is long enough to be a header......", fp);
	fclose(fp);
	assert_int_equal(store_open(path, &st, &e), -1);
	assert_null(st);
	assert_non_null(strstr(e.msg, "not an inboxsync store"));
}

static void test_rollback_discards_writes(void **state)
{
	struct fixture *f = *state;
	struct store_account a = { 0 }, got;
	struct err e = { 0 };

	assert_int_equal(store_begin(f->st, &e), 0);
	snprintf(a.name, sizeof(a.name), "temp");
	snprintf(a.email, sizeof(a.email), "t@contoso.com");
	snprintf(a.transport, sizeof(a.transport), "graph");
	assert_int_equal(store_add_account(f->st, &a, &e), 0);
	store_rollback(f->st);
	assert_int_equal(store_get_account_by_name(f->st, 0, "temp", &got, &e), 0);
	/* nested begin is a bug, not a silent no-op */
	assert_int_equal(store_begin(f->st, &e), 0);
	assert_int_equal(store_begin(f->st, &e), -1);
	assert_int_equal(e.class, ERR_BUG);
	store_rollback(f->st);
}

static void test_duplicate_account_name(void **state)
{
	struct fixture *f = *state;
	struct store_account a = { 0 };
	struct err e = { 0 };

	snprintf(a.name, sizeof(a.name), "work");
	snprintf(a.email, sizeof(a.email), "x@contoso.com");
	snprintf(a.transport, sizeof(a.transport), "graph");
	assert_int_equal(store_add_account(f->st, &a, &e), -1);
	assert_string_equal(e.code, "duplicate");
}

static void test_auth_failures_reach_auth_invalid_at_threshold(void **state)
{
	struct fixture *f = *state;
	struct store_account a;
	struct err e = { 0 };
	int count;

	for (int i = 1; i <= 2; i++) {
		assert_int_equal(store_record_auth_failure(f->st, f->account, 3, "revoked",
							   &count, &e), 0);
		assert_int_equal(count, i);
		store_get_account(f->st, f->account, &a, &e);
		assert_int_not_equal(a.state, STORE_STATE_AUTH_INVALID);
	}
	assert_int_equal(store_record_auth_failure(f->st, f->account, 3, "revoked",
						   &count, &e), 0);
	store_get_account(f->st, f->account, &a, &e);
	assert_int_equal(a.state, STORE_STATE_AUTH_INVALID);
	assert_string_equal(a.state_reason, "revoked");
	assert_int_equal(a.state_fix, FIX_REAUTHORIZE);
	assert_string_equal(a.state_fix_arg, "work");
	assert_int_equal(store_clear_auth_failures(f->st, f->account, &e), 0);
	store_get_account(f->st, f->account, &a, &e);
	assert_int_equal(a.auth_failures, 0);
}

static void test_refresh_rotation_is_compare_and_swap(void **state)
{
	struct fixture *f = *state;
	struct store_credentials c;
	struct err e = { 0 };
	char *sealed;
	int64_t exp;

	assert_int_equal(store_put_refresh_token(f->st, f->account, "v1:rt1", "scope", &e), 0);
	assert_int_equal(store_put_access_token(f->st, f->account, "graph", "v1:at", 99, &e), 0);
	assert_int_equal(store_get_credentials(f->st, f->account, &c, &e), 1);
	assert_string_equal(c.refresh_sealed, "v1:rt1");
	assert_int_equal(store_rotate_refresh_token(f->st, f->account, c.generation,
						    "v1:rt2", &e), 1);
	/* a second writer with the old generation loses */
	assert_int_equal(store_rotate_refresh_token(f->st, f->account, c.generation,
						    "v1:rt3", &e), 0);
	store_credentials_clear(&c);
	assert_int_equal(store_get_credentials(f->st, f->account, &c, &e), 1);
	assert_string_equal(c.refresh_sealed, "v1:rt2");
	store_credentials_clear(&c);
	assert_int_equal(store_get_access_token(f->st, f->account, "graph", &sealed, &exp, &e), 1);
	assert_int_equal(exp, 99);
	free(sealed);
	/* a new grant drops cached access tokens */
	assert_int_equal(store_put_refresh_token(f->st, f->account, "v1:rt9", "s", &e), 0);
	assert_int_equal(store_get_access_token(f->st, f->account, "graph", &sealed, &exp, &e), 0);
}

static void test_refresh_lease_single_owner(void **state)
{
	struct fixture *f = *state;
	struct err e = { 0 };

	store_put_refresh_token(f->st, f->account, "v1:rt", "s", &e);
	char holder[64];

	assert_int_equal(store_lock_refresh(f->st, f->account, "a", 60, NULL, NULL, &e), 1);
	assert_int_equal(store_lock_refresh(f->st, f->account, "b", 60, NULL, holder, &e), 0);
	assert_string_equal(holder, "a");
	assert_int_equal(store_lock_refresh(f->st, f->account, "a", 60, NULL, NULL, &e), 1);
	assert_int_equal(store_unlock_refresh(f->st, f->account, "a", &e), 0);
	assert_int_equal(store_lock_refresh(f->st, f->account, "b", 60, NULL, NULL, &e), 1);
	/* an expired lease can be taken over */
	assert_int_equal(store_lock_refresh(f->st, f->account, "b", -10, NULL, NULL, &e), 1);
	assert_int_equal(store_lock_refresh(f->st, f->account, "c", 60, NULL, NULL, &e), 1);
	/* and so can the lease of a holder known to be dead */
	assert_int_equal(store_lock_refresh(f->st, f->account, "d", 60, NULL, NULL, &e), 0);
	assert_int_equal(store_lock_refresh(f->st, f->account, "d", 60, "c", NULL, &e), 1);
}

static void test_oauth_state_single_use_and_expiry(void **state)
{
	struct fixture *f = *state;
	struct store_oauth_state s = { 0 }, got;
	struct err e = { 0 };

	snprintf(s.state, sizeof(s.state), "state-1");
	s.account_id = f->account;
	s.verifier_sealed = "v1:verifier";
	snprintf(s.redirect_uri, sizeof(s.redirect_uri), "http://127.0.0.1:1/callback");
	s.expires_at = time_now() + 60;
	assert_int_equal(store_put_oauth_state(f->st, &s, &e), 0);
	assert_int_equal(store_take_oauth_state(f->st, "state-1", &got, &e), 1);
	assert_string_equal(got.verifier_sealed, "v1:verifier");
	store_oauth_state_clear(&got);
	assert_int_equal(store_take_oauth_state(f->st, "state-1", &got, &e), 0);
	snprintf(s.state, sizeof(s.state), "state-old");
	s.expires_at = time_now() - 1;
	assert_int_equal(store_put_oauth_state(f->st, &s, &e), 0);
	assert_int_equal(store_take_oauth_state(f->st, "state-old", &got, &e), 0);
}

static void test_folder_scan_renames_and_deletes(void **state)
{
	struct fixture *f = *state;
	struct store_folder_in renamed = { { "F-archive", "", "Old mail", MAIL_ROLE_ARCHIVE, 0, 0 },
					   "Old mail" };
	struct mail_message m = msg("M1", "in archive", 100);
	struct store_folder out;
	struct err e = { 0 };
	long long deleted;
	bool created;

	store_select_folder(f->st, f->archive, true, MAIL_ROLE_ARCHIVE, &e);
	assert_int_equal(store_put_message(f->st, f->account, f->inbox, &m, 1, NULL, &e), 0);
	assert_int_equal(store_begin_folder_scan(f->st, f->account, &e), 0);
	assert_int_equal(store_put_folder(f->st, f->account, &renamed, &created, &e), 0);
	assert_false(created);
	assert_int_equal(store_end_folder_scan(f->st, f->account, &deleted, &e), 0);
	assert_int_equal(deleted, 2); /* Inbox and Sent Items vanished */
	assert_int_equal(store_find_folder(f->st, f->account, "old mail", &out, &e), 1);
	assert_true(out.selected); /* selection survives a rename */
	assert_int_equal(out.role, MAIL_ROLE_ARCHIVE);
	store_folder_clear(&out);
	assert_int_equal(store_find_folder(f->st, f->account, "Inbox", &out, &e), 0);
	{
		long long n;
		store_count_messages(f->st, f->account, &n, &e);
		assert_int_equal(n, 0); /* the deleted folder's mail went with it */
	}
}

static int count_cb(void *ctx, const struct store_message *m)
{
	(void)m;
	(*(int *)ctx)++;
	return 0;
}

static void test_move_is_one_row_and_keeps_body(void **state)
{
	struct fixture *f = *state;
	struct mail_message m = msg("M1", "hello", 100);
	struct store_message got;
	struct err e = { 0 };
	char outcome;
	long long n;

	assert_int_equal(store_put_message(f->st, f->account, f->inbox, &m, 1, &outcome, &e), 0);
	assert_int_equal(outcome, 'c');
	assert_int_equal(store_put_body(f->st, f->account, "M1", "text", "body!", 5, &e), 0);
	assert_int_equal(store_put_message(f->st, f->account, f->archive, &m, 1, &outcome, &e), 0);
	assert_int_equal(outcome, 'm');
	store_count_messages(f->st, f->account, &n, &e);
	assert_int_equal(n, 1);
	assert_int_equal(store_get_message(f->st, f->account, "M1", &got, &e), 1);
	assert_int_equal(got.folder_id, f->archive);
	assert_true(got.body_fetched);
	assert_string_equal(got.body, "body!");
	assert_string_equal(got.folder_path, "Archive");
	store_message_clear(&got);
}

static void test_update_merges_unknown_fields(void **state)
{
	struct fixture *f = *state;
	struct mail_message m = msg("M1", "hello", 100), upd;
	struct mail_address to[2] = { { "Bob \"B\" Ünal", "bob@x.com" }, { "", "carol@x.com" } };
	static const char *const cats[2] = { "Red \\ \"x\"", "Blé" };
	struct store_message got;
	struct err e = { 0 };

	m.from.name = "A";
	m.categories = (struct mail_string_list){ cats, 2, true };
	m.from.address = "a@x.com";
	m.to = (struct mail_address_list){ to, 2, true };
	m.change_key = "k1";
	store_put_message(f->st, f->account, f->inbox, &m, 1, NULL, &e);
	mail_message_init(&upd);
	upd.remote_id = "M1";
	upd.is_read = 1;
	upd.change_key = "k2";
	assert_int_equal(store_put_message(f->st, f->account, f->inbox, &upd, 1, NULL, &e), 0);
	assert_int_equal(store_get_message(f->st, f->account, "M1", &got, &e), 1);
	assert_true(got.m.is_read);
	assert_string_equal(got.m.subject, "hello");
	assert_string_equal(got.m.from.address, "a@x.com");
	/* the address list survived the update that did not carry it */
	assert_int_equal(got.m.to.n, 2);
	assert_string_equal(got.m.to.items[0].name, "Bob \"B\" Ünal");
	assert_string_equal(got.m.to.items[1].address, "carol@x.com");
	/* so did the categories, escapes and non-ASCII text as they were */
	assert_int_equal(got.m.categories.n, 2);
	assert_string_equal(got.m.categories.items[0], "Red \\ \"x\"");
	assert_string_equal(got.m.categories.items[1], "Blé");
	store_message_clear(&got);
}

static void test_orphan_then_sweep(void **state)
{
	struct fixture *f = *state;
	struct mail_message a = msg("A", "a", 100), b = msg("B", "b", 200), gone;
	struct store_message_query q = { f->account, f->inbox, 0, 0, 0, false };
	struct err e = { 0 };
	char **ids;
	size_t n;
	int64_t gen;
	long long swept;
	int count = 0;

	store_put_message(f->st, f->account, f->inbox, &a, 0, NULL, &e);
	store_put_message(f->st, f->account, f->inbox, &b, 0, NULL, &e);
	mail_message_init(&gone);
	gone.remote_id = "A";
	gone.removed = true;
	assert_int_equal(store_put_message(f->st, f->account, f->inbox, &gone, 0, NULL, &e), 0);
	assert_int_equal(store_list_orphans(f->st, f->account, 10, &ids, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "A");
	free(ids[0]);
	free(ids);
	/* orphans are hidden from listings */
	assert_int_equal(store_list_messages(f->st, &q, count_cb, &count, &e), 0);
	assert_int_equal(count, 1);
	/* a fresh round that sees only B sweeps A */
	assert_int_equal(store_start_folder_round(f->st, f->inbox, true, &gen, &e), 0);
	store_put_message(f->st, f->account, f->inbox, &b, gen, NULL, &e);
	assert_int_equal(store_sweep_folder(f->st, f->inbox, &swept, &e), 0);
	assert_int_equal(swept, 1);
	assert_int_equal(store_list_orphans(f->st, f->account, 10, &ids, &n, &e), 0);
	assert_int_equal(n, 0);
	free(ids);
}

static void test_moved_in_during_a_fresh_round_is_not_swept(void **state)
{
	struct fixture *f = *state;
	struct mail_message m = msg("X", "x", 100);
	struct err e = { 0 };
	long long swept, n;
	int64_t gen;

	assert_int_equal(store_put_message(f->st, f->account, f->inbox, &m, 0, NULL, &e), 0);
	/* Archive starts a fresh round; meanwhile X is found moved there. */
	assert_int_equal(store_start_folder_round(f->st, f->archive, false, &gen, &e), 0);
	assert_int_equal(store_move_message(f->st, f->account, "X", f->archive, NULL, &e), 0);
	assert_int_equal(store_sweep_folder(f->st, f->archive, &swept, &e), 0);
	assert_int_equal(swept, 0);
	store_count_messages(f->st, f->account, &n, &e);
	assert_int_equal(n, 1);
}

static void test_server_copy_replaces_local_sent_entry(void **state)
{
	struct fixture *f = *state;
	struct mail_message local = msg("local:key1", "hi", 100), server = msg("S1", "hi", 101);
	struct store_message got;
	struct err e = { 0 };
	char outcome;
	long long n;
	int64_t gen;

	local.internet_message_id = "<id1@x>";
	server.internet_message_id = "<id1@x>";
	assert_int_equal(store_put_local_message(f->st, f->account, f->sent, &local, &e), 0);
	assert_int_equal(store_get_message(f->st, f->account, "local:key1", &got, &e), 1);
	assert_true(got.pending);
	store_message_clear(&got);
	assert_int_equal(store_start_folder_round(f->st, f->sent, false, &gen, &e), 0);
	assert_int_equal(store_put_message(f->st, f->account, f->sent, &server, gen, &outcome, &e), 0);
	assert_int_equal(outcome, 'r');
	store_count_messages(f->st, f->account, &n, &e);
	assert_int_equal(n, 1);
	assert_int_equal(store_get_message(f->st, f->account, "S1", &got, &e), 1);
	assert_false(got.pending);
	store_message_clear(&got);
	assert_int_equal(store_get_message(f->st, f->account, "local:key1", &got, &e), 0);
}

static void test_pending_entry_survives_sweep(void **state)
{
	struct fixture *f = *state;
	struct mail_message local = msg("local:k", "hi", 100);
	struct err e = { 0 };
	int64_t gen;
	long long n;

	local.internet_message_id = "<k@x>";
	assert_int_equal(store_put_local_message(f->st, f->account, f->sent, &local, &e), 0);
	store_start_folder_round(f->st, f->sent, true, &gen, &e);
	assert_int_equal(store_sweep_folder(f->st, f->sent, NULL, &e), 0);
	store_count_messages(f->st, f->account, &n, &e);
	assert_int_equal(n, 1);
}

struct page_acc {
	int n;
	int64_t last_t, last_id, prev_t;
	int ordered;
};

static int page_cb(void *ctx, const struct store_message *m)
{
	struct page_acc *acc = ctx;

	if (acc->n && m->m.received_at > acc->prev_t)
		acc->ordered = 0;
	acc->prev_t = m->m.received_at;
	acc->last_t = m->m.received_at;
	acc->last_id = m->id;
	acc->n++;
	return 0;
}

static void test_keyset_paging_newest_first(void **state)
{
	struct fixture *f = *state;
	struct store_message_query q = { 0 };
	struct err e = { 0 };
	int total = 0;

	for (int i = 0; i < 30; i++) {
		struct mail_message m;
		char id[16];

		snprintf(id, sizeof(id), "M%02d", i);
		/* Pairs share a time; the first ten are undated (a page can
		 * end among them: its cursor is (0, id)). */
		m = msg(id, "s", i < 10 ? 0 : 1000 + i / 2);
		store_put_message(f->st, f->account, f->inbox, &m, 1, NULL, &e);
	}
	store_select_folder(f->st, f->inbox, true, MAIL_ROLE_NONE, &e);
	q.account_id = f->account;
	q.limit = 7;
	for (int pages = 0;; pages++) {
		struct page_acc acc = { 0, 0, 0, 0, 1 };

		assert_true(pages < 5); /* 30 in pages of 7: never around again */

		assert_int_equal(store_list_messages(f->st, &q, page_cb, &acc, &e), 0);
		assert_true(acc.ordered);
		total += acc.n;
		if (acc.n < 7)
			break;
		q.before_received = acc.last_t;
		q.before_id = acc.last_id;
	}
	assert_int_equal(total, 30); /* every message once, none skipped at ties */
}

static int count_event(void *ctx, const struct store_event *ev)
{
	(void)ev;
	(*(int *)ctx)++;
	return 0;
}

static void test_outbox_idempotency_and_feed(void **state)
{
	struct fixture *f = *state;
	struct store_outbox o = { 0 }, again = { 0 }, *list;
	struct store_event_query q = { .account_id = f->account };
	struct err e = { 0 };
	size_t n;
	int changes = 0;

	o.account_id = f->account;
	snprintf(o.idem_key, sizeof(o.idem_key), "key-1");
	snprintf(o.internet_message_id, sizeof(o.internet_message_id), "<k1@x>");
	o.request_json = "{}";
	assert_int_equal(store_outbox_add(f->st, &o, &e), 0);
	again.account_id = f->account;
	snprintf(again.idem_key, sizeof(again.idem_key), "key-1");
	snprintf(again.internet_message_id, sizeof(again.internet_message_id), "<other@x>");
	again.request_json = "{}";
	assert_int_equal(store_outbox_add(f->st, &again, &e), -1);
	assert_string_equal(e.code, "duplicate");
	assert_int_equal(again.id, o.id);
	assert_string_equal(again.internet_message_id, "<k1@x>");
	assert_int_equal(store_outbox_list_open(f->st, f->account, time_now(), &list, &n, &e), 0);
	assert_int_equal(n, 1);
	store_outbox_list_free(list, n);
	assert_int_equal(store_read_events(f->st, &q, count_event, &changes, &e), 0);
	assert_true(changes >= 4); /* the account's state, the three folders */
}

/* A page of 5 messages and its cursor, committed together. */
static int put_page(struct store *st, int64_t account, int64_t folder, struct err *e)
{
	static const char *const ids[] = { "P1", "P2", "P3", "P4", "P5" };
	static const struct mail_address to[] = { { "Bob", "bob@x.com" } };
	struct mail_message page[5];

	for (int i = 0; i < 5; i++) {
		page[i] = msg(ids[i], "page", 500 + i);
		page[i].to = (struct mail_address_list){ to, 1, true };
	}
	if (store_begin(st, e) < 0)
		return -1;
	if (store_put_messages(st, account, folder, page, 5, 1, false, NULL, e) < 0 ||
	    store_set_folder_sync(st, folder, STORE_PHASE_BACKFILL, "cursor-after-page", e) < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, e);
}

static int count_in_folder(void *ctx, const struct store_message *m)
{
	(void)m;
	(*(long long *)ctx)++;
	return 0;
}

/* Abort at the 1st, 2nd, ... allocation of committing a page, in a child
 * process each time: the store always holds the whole page with its
 * cursor, or none of it and no cursor. */
static void test_abort_at_every_allocation_of_a_page(void **state)
{
	struct fixture *f = *state;
	struct store_message_query q = { .account_id = f->account, .folder_id = f->inbox,
					 .limit = 100 };
	struct err e = { 0 };
	unsigned long total;

	/* How many allocations a whole commit makes (on another connection,
	 * as the children do). */
	{
		struct store *st;

		assert_int_equal(store_open(f->path, &st, &e), 0);
		alloc_fail_at(0);
		assert_int_equal(put_page(st, f->account, f->inbox, &e), 0);
		total = alloc_count();
		store_close(st);
	}
	if (total < 5)
		fail_msg("only %lu allocations counted", total);
	for (unsigned long n = 1; n <= total + 1; n++) {
		struct store_folder fo;
		long long count = 0;
		pid_t pid;
		int status;

		/* back to the state before the page */
		for (int i = 1; i <= 5; i++) {
			char id[8];

			snprintf(id, sizeof(id), "P%d", i);
			assert_int_equal(store_delete_message(f->st, f->account, id, &e), 0);
		}
		assert_int_equal(store_set_folder_sync(f->st, f->inbox, STORE_PHASE_PENDING,
						       NULL, &e), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct store *st;

			if (!freopen("/dev/null", "w", stderr) ||
			    store_open(f->path, &st, &e) < 0)
				_exit(3);
			alloc_fail_at(n);
			_exit(put_page(st, f->account, f->inbox, &e) == 0 ? 0 : 2);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_int_equal(store_list_messages(f->st, &q, count_in_folder, &count, &e), 0);
		assert_int_equal(store_get_folder(f->st, f->inbox, &fo, &e), 1);
		if (count == 5) {
			assert_non_null(fo.cursor);
			assert_string_equal(fo.cursor, "cursor-after-page");
		} else {
			assert_int_equal(count, 0);
			assert_null(fo.cursor);
			assert_true(WIFSIGNALED(status) || WEXITSTATUS(status) != 0);
		}
		store_folder_clear(&fo);
		if (n == total + 1)
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

static int stop_at_first(void *ctx, const struct store_event *ev)
{
	(void)ctx;
	(void)ev;
	return 7;
}

/* ---- users, tokens, sessions ------------------------------------------------ */

static int64_t add_user(struct fixture *f, const char *name, bool admin)
{
	struct store_user u = { 0 };
	struct err e = { 0 };

	snprintf(u.name, sizeof(u.name), "%s", name);
	u.admin = admin;
	u.password_hash = "$argon2id$hash";
	assert_int_equal(store_add_user(f->st, &u, &e), 0);
	assert_true(u.id > STORE_LOCAL_USER_ID);
	return u.id;
}

static int64_t add_account_of(struct fixture *f, int64_t user_id, const char *name)
{
	struct store_account a = { 0 };
	struct err e = { 0 };

	a.user_id = user_id;
	snprintf(a.name, sizeof(a.name), "%s", name);
	snprintf(a.email, sizeof(a.email), "%s@contoso.com", name);
	snprintf(a.transport, sizeof(a.transport), "graph");
	assert_int_equal(store_add_account(f->st, &a, &e), 0);
	return a.id;
}

static void test_users_names_passwords_and_removal(void **state)
{
	struct fixture *f = *state;
	struct store_user u = { 0 }, got, *list;
	struct store_session s = { 0 }, sg;
	struct err e = { 0 };
	int64_t bob = add_user(f, "bob", false), acc;
	long long n;
	size_t count;

	add_user(f, "alice", true);
	snprintf(u.name, sizeof(u.name), "bob");
	assert_int_equal(store_add_user(f->st, &u, &e), -1);
	assert_string_equal(e.code, "duplicate");
	assert_int_equal(store_get_user_by_name(f->st, "bob", &got, &e), 1);
	assert_int_equal(got.id, bob);
	assert_false(got.admin);
	assert_string_equal(got.password_hash, "$argon2id$hash");
	store_user_clear(&got);
	assert_int_equal(store_get_user(f->st, STORE_LOCAL_USER_ID, &got, &e), 1);
	assert_string_equal(got.name, "local");
	assert_true(got.admin);
	store_user_clear(&got);
	assert_int_equal(store_get_user_by_name(f->st, "nobody", &got, &e), 0);
	assert_int_equal(store_list_users(f->st, &list, &count, &e), 0);
	assert_int_equal(count, 3);
	assert_string_equal(list[0].name, "alice"); /* by name */
	assert_string_equal(list[2].name, "local");
	store_user_list_free(list, count);

	/* a new password ends the user's sessions */
	snprintf(s.id_hash, sizeof(s.id_hash), "sess-1");
	s.user_id = bob;
	snprintf(s.csrf, sizeof(s.csrf), "csrf");
	s.created_at = time_now();
	s.expires_at = time_now() + 3600;
	assert_int_equal(store_put_session(f->st, &s, &e), 0);
	assert_int_equal(store_set_user_password(f->st, bob, NULL, &e), 0);
	assert_int_equal(store_get_session(f->st, "sess-1", &sg, &e), 0);
	assert_int_equal(store_get_user(f->st, bob, &got, &e), 1);
	assert_null(got.password_hash);
	store_user_clear(&got);

	/* removing a user takes what they own */
	acc = add_account_of(f, bob, "bobs");
	assert_int_equal(store_delete_user(f->st, bob, &e), 0);
	assert_int_equal(store_get_user(f->st, bob, &got, &e), 0);
	{
		struct store_account a;

		assert_int_equal(store_get_account(f->st, acc, &a, &e), 0);
	}
	store_count_messages(f->st, acc, &n, &e);
	assert_int_equal(n, 0);
	assert_int_equal(store_delete_user(f->st, STORE_LOCAL_USER_ID, &e), -1);
	assert_string_equal(e.code, "forbidden");
}

static void test_tokens_and_sessions(void **state)
{
	struct fixture *f = *state;
	struct store_token t = { 0 }, t2 = { 0 }, got, *list;
	struct store_session s = { 0 }, sg;
	struct err e = { 0 };
	int64_t bob = add_user(f, "bob", false);
	size_t n;

	t.user_id = bob;
	snprintf(t.label, sizeof(t.label), "ci");
	snprintf(t.hash, sizeof(t.hash), "aa11");
	assert_int_equal(store_add_token(f->st, &t, &e), 0);
	t2.user_id = STORE_LOCAL_USER_ID;
	snprintf(t2.hash, sizeof(t2.hash), "bb22");
	assert_int_equal(store_add_token(f->st, &t2, &e), 0);
	assert_int_equal(store_get_token(f->st, t.id, &got, &e), 1);
	assert_string_equal(got.label, "ci");
	assert_string_equal(got.hash, "aa11");
	assert_int_equal(got.last_used_at, 0);
	assert_int_equal(store_list_tokens(f->st, bob, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	free(list);
	assert_int_equal(store_list_tokens(f->st, 0, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, t2.id); /* newest first */
	free(list);
	/* a use is noted, but not again within the minute */
	assert_int_equal(store_touch_token(f->st, t.id, 1000000, &e), 0);
	assert_int_equal(store_touch_token(f->st, t.id, 1000030, &e), 0);
	assert_int_equal(store_get_token(f->st, t.id, &got, &e), 1);
	assert_int_equal(got.last_used_at, 1000000);
	assert_int_equal(store_touch_token(f->st, t.id, 1000100, &e), 0);
	assert_int_equal(store_get_token(f->st, t.id, &got, &e), 1);
	assert_int_equal(got.last_used_at, 1000100);
	assert_int_equal(store_delete_token(f->st, t.id, &e), 0);
	assert_int_equal(store_get_token(f->st, t.id, &got, &e), 0);

	snprintf(s.id_hash, sizeof(s.id_hash), "live");
	s.user_id = bob;
	snprintf(s.csrf, sizeof(s.csrf), "c1");
	s.created_at = time_now();
	s.expires_at = time_now() + 60;
	assert_int_equal(store_put_session(f->st, &s, &e), 0);
	assert_int_equal(store_get_session(f->st, "live", &sg, &e), 1);
	assert_int_equal(sg.user_id, bob);
	assert_string_equal(sg.csrf, "c1");
	snprintf(s.id_hash, sizeof(s.id_hash), "old");
	s.expires_at = time_now() - 1;
	assert_int_equal(store_put_session(f->st, &s, &e), 0);
	assert_int_equal(store_get_session(f->st, "old", &sg, &e), 0);
	assert_int_equal(store_delete_session(f->st, "live", &e), 0);
	assert_int_equal(store_get_session(f->st, "live", &sg, &e), 0);
}

/* ---- provider, accounts --------------------------------------------------------- */

static void test_provider_settings_and_problem(void **state)
{
	struct fixture *f = *state;
	struct store_provider p = { 0 }, got;
	struct err e = { 0 };

	assert_int_equal(store_get_provider(f->st, "microsoft", &got, &e), 0);
	snprintf(p.name, sizeof(p.name), "microsoft");
	snprintf(p.tenant, sizeof(p.tenant), "common");
	snprintf(p.client_id, sizeof(p.client_id), "cid");
	p.client_secret_sealed = "v1:secret";
	snprintf(p.login_url, sizeof(p.login_url), "https://login");
	snprintf(p.graph_url, sizeof(p.graph_url), "https://graph");
	snprintf(p.imap_host, sizeof(p.imap_host), "imap.example");
	p.imap_port = 993;
	snprintf(p.smtp_host, sizeof(p.smtp_host), "smtp.example");
	p.smtp_port = 587;
	p.enabled = true;
	p.transports = STORE_TRANSPORT_GRAPH;
	p.secret_expires_at = 12345;
	assert_int_equal(store_put_provider(f->st, &p, &e), 0);
	assert_int_equal(store_set_provider_problem(f->st, "microsoft", "invalid_client",
						    "the secret expired", &e), 0);
	assert_int_equal(store_get_provider(f->st, "microsoft", &got, &e), 1);
	assert_string_equal(got.client_secret_sealed, "v1:secret");
	assert_int_equal(got.imap_port, 993);
	assert_int_equal(got.transports, STORE_TRANSPORT_GRAPH);
	assert_int_equal(got.secret_expires_at, 12345);
	assert_true(got.enabled);
	assert_string_equal(got.problem_code, "invalid_client");
	assert_true(got.problem_at > 0);
	store_provider_clear(&got);
	/* new settings clear the problem */
	p.client_secret_sealed = NULL;
	assert_int_equal(store_put_provider(f->st, &p, &e), 0);
	assert_int_equal(store_get_provider(f->st, "microsoft", &got, &e), 1);
	assert_null(got.client_secret_sealed);
	assert_string_equal(got.problem_code, "");
	store_provider_clear(&got);
	assert_int_equal(store_set_provider_problem(f->st, "microsoft", "x", "y", &e), 0);
	assert_int_equal(store_set_provider_problem(f->st, "microsoft", NULL, NULL, &e), 0);
	assert_int_equal(store_get_provider(f->st, "microsoft", &got, &e), 1);
	assert_string_equal(got.problem, "");
	store_provider_clear(&got);
}

static void test_accounts_by_owner_identity_and_email(void **state)
{
	struct fixture *f = *state;
	struct store_account a, *list;
	struct err e = { 0 };
	int64_t bob = add_user(f, "bob", false);
	int64_t bobs_work = add_account_of(f, bob, "work");
	size_t n;

	/* names are unique per owner, so "work" now needs the owner */
	assert_int_equal(store_get_account_by_name(f->st, bob, "work", &a, &e), 1);
	assert_int_equal(a.id, bobs_work);
	assert_int_equal(store_get_account_by_name(f->st, STORE_LOCAL_USER_ID, "work", &a, &e), 1);
	assert_int_equal(a.id, f->account);
	assert_int_equal(store_get_account_by_name(f->st, 0, "work", &a, &e), -1);
	assert_string_equal(e.code, "ambiguous");
	assert_int_equal(store_list_accounts(f->st, bob, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	free(list);
	assert_int_equal(store_list_accounts(f->st, 0, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	free(list);

	assert_int_equal(store_get_account(f->st, f->account, &a, &e), 1);
	snprintf(a.identity, sizeof(a.identity), "Adele@Contoso.com");
	snprintf(a.tenant_id, sizeof(a.tenant_id), "tid");
	snprintf(a.object_id, sizeof(a.object_id), "oid");
	snprintf(a.sender_name, sizeof(a.sender_name), "Adele V");
	a.authorized_at = 100;
	assert_int_equal(store_update_account(f->st, &a, &e), 0);
	assert_int_equal(store_find_account_by_identity(f->st, "tid", "oid", bobs_work, &a, &e), 1);
	assert_int_equal(a.id, f->account);
	assert_string_equal(a.sender_name, "Adele V");
	assert_int_equal(store_find_account_by_identity(f->st, "tid", "oid", f->account, &a, &e), 0);
	assert_int_equal(store_find_account_by_email(f->st, "ADELE@contoso.com", bobs_work, &a, &e), 1);
	assert_int_equal(a.id, f->account);
	assert_int_equal(store_find_account_by_email(f->st, "adele@contoso.com", f->account, &a, &e), 0);
	/* one Microsoft mailbox, one account */
	assert_int_equal(store_get_account(f->st, bobs_work, &a, &e), 1);
	snprintf(a.tenant_id, sizeof(a.tenant_id), "tid");
	snprintf(a.object_id, sizeof(a.object_id), "oid");
	assert_int_equal(store_update_account(f->st, &a, &e), -1);
	assert_string_equal(e.code, "already_connected");
}

static void test_state_status_schedule_and_errors(void **state)
{
	struct fixture *f = *state;
	struct store_account a;
	struct store_account_error *hist;
	struct err e = { 0 }, fail = { 0 };
	int64_t before = 0, after = 0;
	size_t n;

	store_last_event_seq(f->st, &before, &e);
	assert_int_equal(store_set_account_state(f->st, f->account, STORE_STATE_ERROR,
						 "server down", FIX_RETRY, NULL, &e), 0);
	/* the same state again is no change and no event */
	assert_int_equal(store_set_account_state(f->st, f->account, STORE_STATE_ERROR,
						 "server down", FIX_RETRY, NULL, &e), 0);
	store_last_event_seq(f->st, &after, &e);
	assert_int_equal(after, before + 1);
	assert_int_equal(store_set_incoming_status(f->st, f->account, STORE_INCOMING_CONFIRMED,
						   NULL, 777, &e), 0);
	assert_int_equal(store_set_incoming_status(f->st, f->account, STORE_INCOMING_CONFIRMED,
						   "", 0, &e), 0);
	assert_int_equal(store_set_outgoing_status(f->st, f->account, STORE_OUTGOING_FAILED,
						   "550 denied", &e), 0);
	assert_int_equal(store_set_account_schedule(f->st, f->account, 500, 400, 60, &e), 0);
	assert_int_equal(store_get_account(f->st, f->account, &a, &e), 1);
	assert_int_equal(a.state, STORE_STATE_ERROR);
	assert_int_equal(a.state_fix, FIX_RETRY);
	assert_int_equal(a.incoming_status, STORE_INCOMING_CONFIRMED);
	assert_int_equal(a.incoming_last_fetch_at, 777); /* 0 kept it */
	assert_int_equal(a.outgoing_status, STORE_OUTGOING_FAILED);
	assert_string_equal(a.outgoing_error, "550 denied");
	assert_int_equal(a.next_due_at, 500);
	assert_int_equal(a.throttled_until, 400);
	assert_int_equal(a.backoff_s, 60);

	for (int i = 0; i < 25; i++) {
		err_set(&fail, ERR_TRANSIENT, i % 2 ? "timeout" : NULL, "failure %d", i);
		assert_int_equal(store_note_account_error(f->st, f->account, &fail,
							  i == 24 ? "req-24" : NULL, &e), 0);
	}
	assert_int_equal(store_get_account(f->st, f->account, &a, &e), 1);
	assert_string_equal(a.last_error, "failure 24");
	assert_string_equal(a.last_error_code, "transient"); /* the class when no code */
	assert_true(a.last_error_at > 0);
	assert_int_equal(store_list_account_errors(f->st, f->account, 100, &hist, &n, &e), 0);
	assert_int_equal(n, 20); /* the last 20 are kept */
	assert_string_equal(hist[0].message, "failure 24"); /* newest first */
	assert_string_equal(hist[0].request_id, "req-24");
	assert_string_equal(hist[0].class_name, "transient");
	assert_string_equal(hist[1].code, "timeout");
	assert_string_equal(hist[19].message, "failure 5");
	free(hist);
	assert_int_equal(store_list_account_errors(f->st, f->account, 3, &hist, &n, &e), 0);
	assert_int_equal(n, 3);
	free(hist);
	assert_int_equal(store_clear_account_error(f->st, f->account, &e), 0);
	assert_int_equal(store_get_account(f->st, f->account, &a, &e), 1);
	assert_string_equal(a.last_error, "");
	assert_int_equal(a.last_error_at, 0);
}

static void test_stop_then_purge_and_delete(void **state)
{
	struct fixture *f = *state;
	struct mail_message m = msg("M1", "kept", 100);
	struct store_credentials c;
	struct store_account a;
	struct store_folder fo;
	struct store_lease l;
	struct err e = { 0 };
	long long n;
	int64_t gen, seq_before = 0;
	struct store_event_query q = { .account_id = f->account, .limit = 1000 };
	int events = 0;

	store_select_folder(f->st, f->inbox, true, MAIL_ROLE_INBOX, &e);
	store_put_message(f->st, f->account, f->inbox, &m, 1, NULL, &e);
	store_put_refresh_token(f->st, f->account, "v1:rt", "s", &e);
	assert_int_equal(store_claim_lease(f->st, f->account, "node-a", 60, &gen, NULL, &e), 1);
	assert_int_equal(store_stop_account(f->st, f->account, false, "stopped by the owner", &e), 0);
	assert_int_equal(store_get_account(f->st, f->account, &a, &e), 1);
	assert_int_equal(a.state, STORE_STATE_STOPPED);
	assert_int_equal(a.state_fix, FIX_AUTHORIZE);
	assert_int_equal(a.authorized_at, 0);
	assert_int_equal(store_get_credentials(f->st, f->account, &c, &e), 0);
	assert_int_equal(store_get_lease(f->st, f->account, &l, &e), 0);
	assert_string_equal(l.holder, "");
	assert_int_equal(store_get_folder(f->st, f->inbox, &fo, &e), 1);
	assert_false(fo.selected);
	assert_int_equal(fo.role, MAIL_ROLE_NONE);
	assert_int_equal(fo.server_role, MAIL_ROLE_INBOX); /* the server's stays */
	store_folder_clear(&fo);
	store_count_messages(f->st, f->account, &n, &e);
	assert_int_equal(n, 1); /* kept without purge */
	assert_int_equal(store_stop_account(f->st, f->account, true, "purged", &e), 0);
	store_count_messages(f->st, f->account, &n, &e);
	assert_int_equal(n, 0);
	assert_int_equal(store_get_folder(f->st, f->inbox, &fo, &e), 0);
	/* removing the account takes its events too */
	assert_int_equal(store_read_events(f->st, &q, count_event, &events, &e), 0);
	assert_true(events > 0);
	store_last_event_seq(f->st, &seq_before, &e);
	assert_int_equal(store_delete_account(f->st, f->account, &e), 0);
	assert_int_equal(store_get_account(f->st, f->account, &a, &e), 0);
	events = 0;
	assert_int_equal(store_read_events(f->st, &q, count_event, &events, &e), 0);
	assert_int_equal(events, 0);
}

static void test_stats_count_by_state_phase_and_outbox(void **state)
{
	struct fixture *f = *state;
	struct mail_message a = msg("A", "a", 1), b = msg("B", "b", 2);
	struct store_outbox o = { 0 };
	struct store_stats s;
	struct err e = { 0 };

	add_account_of(f, STORE_LOCAL_USER_ID, "second");
	store_set_account_state(f->st, f->account, STORE_STATE_IDLE, "", FIX_NONE, NULL, &e);
	store_select_folder(f->st, f->inbox, true, MAIL_ROLE_INBOX, &e);
	store_select_folder(f->st, f->archive, true, MAIL_ROLE_ARCHIVE, &e);
	store_set_folder_sync(f->st, f->archive, STORE_PHASE_LIVE, "c", &e);
	store_put_message(f->st, f->account, f->inbox, &a, 0, NULL, &e);
	store_put_message(f->st, f->account, f->inbox, &b, 0, NULL, &e);
	o.account_id = f->account;
	snprintf(o.idem_key, sizeof(o.idem_key), "k");
	snprintf(o.internet_message_id, sizeof(o.internet_message_id), "<k@x>");
	o.request_json = "{}";
	store_outbox_add(f->st, &o, &e);
	assert_int_equal(store_get_stats(f->st, &s, &e), 0);
	assert_int_equal(s.accounts[STORE_STATE_IDLE], 1);
	assert_int_equal(s.accounts[STORE_STATE_NEW], 1);
	assert_int_equal(s.folders[STORE_PHASE_PENDING], 1);
	assert_int_equal(s.folders[STORE_PHASE_LIVE], 1);
	assert_int_equal(s.folders[STORE_PHASE_NEWEST], 0);
	assert_int_equal(s.outbox[STORE_OUTBOX_QUEUED], 1);
	assert_int_equal(s.messages, 2);
	{
		int64_t last = 0;

		store_last_event_seq(f->st, &last, &e);
		assert_int_equal(s.last_event_seq, last);
		assert_true(last > 0);
	}
}

/* ---- leases and the fence ---------------------------------------------------------- */

static void authorize(struct fixture *f, int64_t id, int64_t due)
{
	struct store_account a;
	struct err e = { 0 };

	assert_int_equal(store_get_account(f->st, id, &a, &e), 1);
	a.authorized_at = 1;
	assert_int_equal(store_update_account(f->st, &a, &e), 0);
	assert_int_equal(store_set_account_schedule(f->st, id, due, 0, 0, &e), 0);
}

static void test_lease_claim_renew_and_takeover(void **state)
{
	struct fixture *f = *state;
	struct store_lease cur, l;
	struct store_holder_count counts[4];
	struct err e = { 0 };
	int64_t gen = 0, gen2 = 0;
	size_t n;

	assert_int_equal(store_get_lease(f->st, f->account, &l, &e), 0);
	assert_string_equal(l.holder, "");
	assert_int_equal(store_claim_lease(f->st, f->account, "node-a", 60, &gen, &cur, &e), 1);
	assert_string_equal(cur.holder, "node-a");
	assert_int_equal(cur.generation, gen);
	/* renewing keeps the generation */
	assert_int_equal(store_claim_lease(f->st, f->account, "node-a", 60, &gen2, NULL, &e), 1);
	assert_int_equal(gen2, gen);
	/* someone else's live lease is refused, and described */
	assert_int_equal(store_claim_lease(f->st, f->account, "node-b", 60, &gen2, &cur, &e), 0);
	assert_string_equal(cur.holder, "node-a");
	assert_int_equal(store_count_leases(f->st, counts, 4, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(counts[0].holder, "node-a");
	assert_int_equal(counts[0].leases, 1);
	/* a lease let go moves to the next claimant with a new generation */
	assert_int_equal(store_release_lease(f->st, f->account, "node-b", &e), 0); /* not b's */
	assert_int_equal(store_get_lease(f->st, f->account, &l, &e), 0);
	assert_string_equal(l.holder, "node-a");
	assert_int_equal(store_release_lease(f->st, f->account, "node-a", &e), 0);
	assert_int_equal(store_claim_lease(f->st, f->account, "node-b", -10, &gen2, NULL, &e), 1);
	assert_true(gen2 > gen);
	/* an expired lease is anybody's */
	assert_int_equal(store_get_lease(f->st, f->account, &l, &e), 0);
	assert_string_equal(l.holder, "");
	assert_int_equal(store_claim_lease(f->st, f->account, "node-c", 60, &gen, NULL, &e), 1);
	assert_true(gen > gen2);
	assert_int_equal(store_count_leases(f->st, counts, 4, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(counts[0].holder, "node-c");
}

static void test_fenced_commit_refused_after_the_lease_moved(void **state)
{
	struct fixture *f = *state;
	struct mail_message m = msg("STALE", "stale", 100), ok = msg("OK", "ok", 100);
	struct store_folder fo;
	struct err e = { 0 };
	int64_t gen = 0, gen_b = 0;
	long long n;

	/* node-a holds the lease (already expired: paused past its TTL) */
	assert_int_equal(store_claim_lease(f->st, f->account, "node-a", -1, &gen, NULL, &e), 1);
	store_set_fence(f->st, f->account, "node-a", gen);
	/* node-b takes the account over */
	{
		struct store *b;

		assert_int_equal(store_open(f->path, &b, &e), 0);
		assert_int_equal(store_claim_lease(b, f->account, "node-b", 60, &gen_b, NULL, &e), 1);
		assert_true(gen_b > gen);
		store_close(b);
	}
	/* node-a wakes up and commits a page with its cursor: refused whole */
	assert_int_equal(store_begin(f->st, &e), 0);
	assert_int_equal(store_put_message(f->st, f->account, f->inbox, &m, 1, NULL, &e), 0);
	assert_int_equal(store_set_folder_sync(f->st, f->inbox, STORE_PHASE_LIVE, "stale-cursor", &e), 0);
	assert_int_equal(store_commit(f->st, &e), -1);
	assert_string_equal(e.code, "lease_lost");
	assert_int_equal(e.class, ERR_PERMANENT);
	/* and so is a write outside an explicit transaction */
	assert_int_equal(store_put_message(f->st, f->account, f->inbox, &m, 1, NULL, &e), -1);
	assert_string_equal(e.code, "lease_lost");
	store_count_messages(f->st, f->account, &n, &e);
	assert_int_equal(n, 0);
	assert_int_equal(store_get_folder(f->st, f->inbox, &fo, &e), 1);
	assert_null(fo.cursor);
	store_folder_clear(&fo);
	/* with node-b's fence the same commit goes through */
	store_set_fence(f->st, f->account, "node-b", gen_b);
	assert_int_equal(store_begin(f->st, &e), 0);
	assert_int_equal(store_put_message(f->st, f->account, f->inbox, &ok, 1, NULL, &e), 0);
	assert_int_equal(store_commit(f->st, &e), 0);
	store_set_fence(f->st, 0, NULL, 0);
	store_count_messages(f->st, f->account, &n, &e);
	assert_int_equal(n, 1);
}

static void test_claim_due_accounts_takes_what_is_due_and_free(void **state)
{
	struct fixture *f = *state;
	int64_t later = add_account_of(f, STORE_LOCAL_USER_ID, "later");
	int64_t invalid = add_account_of(f, STORE_LOCAL_USER_ID, "invalid");
	int64_t held = add_account_of(f, STORE_LOCAL_USER_ID, "held");
	int64_t never = add_account_of(f, STORE_LOCAL_USER_ID, "never");
	int64_t *ids, gen;
	struct err e = { 0 };
	size_t n;

	(void)never; /* not authorized: never due */
	authorize(f, f->account, 10);
	authorize(f, later, time_now() + 3600);
	authorize(f, invalid, 0);
	authorize(f, held, 5);
	store_set_account_state(f->st, invalid, STORE_STATE_AUTH_INVALID, "r", FIX_REAUTHORIZE,
				"invalid", &e);
	assert_int_equal(store_claim_lease(f->st, held, "node-x", 60, &gen, NULL, &e), 1);
	assert_int_equal(store_claim_due_accounts(f->st, "node-a", 60, 10, &ids, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], f->account);
	free(ids);
	/* now held by node-a: nothing more for node-b */
	assert_int_equal(store_claim_due_accounts(f->st, "node-b", 60, 10, &ids, &n, &e), 0);
	assert_int_equal(n, 0);
	free(ids);
	/* node-x's lease ends: its account is due and free again */
	assert_int_equal(store_release_lease(f->st, held, "node-x", &e), 0);
	assert_int_equal(store_claim_due_accounts(f->st, "node-b", 60, 10, &ids, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], held);
	free(ids);
}

static void test_kept_leases_renewed_and_due(void **state)
{
	struct fixture *f = *state;
	int64_t later = add_account_of(f, STORE_LOCAL_USER_ID, "later");
	int64_t other = add_account_of(f, STORE_LOCAL_USER_ID, "other");
	int64_t ids[3], due[3], gen, gen_later, gen_other;
	bool flags[3];
	size_t n_due;
	struct store_lease l;
	struct err e = { 0 };

	authorize(f, f->account, 10);
	authorize(f, later, time_now() + 3600);
	authorize(f, other, 10);
	ids[0] = f->account;
	ids[1] = later;
	ids[2] = other;
	assert_int_equal(store_claim_lease(f->st, f->account, "node-a", 60, &gen, NULL, &e), 1);
	assert_int_equal(store_claim_lease(f->st, later, "node-a", 60, &gen_later, NULL, &e), 1);
	assert_int_equal(store_claim_lease(f->st, other, "node-b", 60, &gen_other, NULL, &e), 1);
	/* node-a's leases renewed at their generation; node-b's untouched */
	assert_int_equal(store_renew_leases(f->st, "node-a", 600, ids, 3, flags, &e), 0);
	assert_true(flags[0]);
	assert_true(flags[1]);
	assert_false(flags[2]);
	assert_int_equal(store_get_lease(f->st, f->account, &l, &e), 0);
	assert_string_equal(l.holder, "node-a");
	assert_int_equal(l.generation, gen);
	assert_true(l.expires_at >= time_now() + 590);
	assert_int_equal(store_get_lease(f->st, other, &l, &e), 0);
	assert_string_equal(l.holder, "node-b");
	assert_true(l.expires_at <= time_now() + 60);
	/* a lease given back is not renewed (nor taken again) */
	assert_int_equal(store_release_lease(f->st, f->account, "node-a", &e), 0);
	assert_int_equal(store_renew_leases(f->st, "node-a", 60, ids, 2, flags, &e), 0);
	assert_false(flags[0]);
	assert_true(flags[1]);
	assert_int_equal(store_get_lease(f->st, f->account, &l, &e), 0);
	assert_string_equal(l.holder, "");
	/* due: the third (longer due) and the first; the second an hour
	 * from now */
	assert_int_equal(store_set_account_schedule(f->st, other, 5, 0, 0, &e), 0);
	assert_int_equal(store_due_among(f->st, ids, 3, due, &n_due, &e), 0);
	assert_int_equal(n_due, 2);
	assert_int_equal(due[0], other);
	assert_int_equal(due[1], f->account);
	store_set_account_state(f->st, other, STORE_STATE_AUTH_INVALID, "r", FIX_REAUTHORIZE,
				"invalid", &e);
	assert_int_equal(store_due_among(f->st, ids, 3, due, &n_due, &e), 0);
	assert_int_equal(n_due, 1);
	assert_int_equal(due[0], f->account);
	assert_int_equal(store_due_among(f->st, ids, 0, due, &n_due, &e), 0);
	assert_int_equal(n_due, 0);
	(void)gen_later;
	(void)gen_other;
}

static void test_node_heartbeats_count_the_fleet(void **state)
{
	struct fixture *f = *state;
	bool pg = strncmp(f->sf.location, "postgres", 8) == 0;
	struct store_fleet fl;
	struct err e = { 0 };

	authorize(f, f->account, 10);
	assert_int_equal(store_node_beat(f->st, "node-a", 60, &fl, &e), 0);
	assert_int_equal(fl.nodes, 1);
	assert_int_equal(fl.accounts, 1);
	assert_int_equal(store_node_beat(f->st, "node-b", 60, &fl, &e), 0);
	assert_int_equal(fl.nodes, pg ? 2 : 1); /* SQLite: each node alone */
	assert_int_equal(store_node_beat(f->st, "node-a", 60, &fl, &e), 0);
	assert_int_equal(fl.nodes, pg ? 2 : 1);
	/* a node that left, or whose heartbeat expired, no longer counts */
	assert_int_equal(store_node_leave(f->st, "node-b", &e), 0);
	assert_int_equal(store_node_beat(f->st, "node-c", 0, &fl, &e), 0);
	assert_int_equal(store_node_beat(f->st, "node-a", 60, &fl, &e), 0);
	assert_int_equal(fl.nodes, 1);
	assert_int_equal(store_node_leave(f->st, "node-a", &e), 0);
}

#define CLAIMANTS 2
#define MANY 60

struct claimant {
	const char *path;
	char holder[32];
	int64_t got[MANY];
	size_t n;
	int failed;
};

static void *claim_until_empty(void *arg)
{
	struct claimant *c = arg;
	struct store *st;
	struct err e = { 0 };

	if (store_open(c->path, &st, &e) < 0) {
		c->failed = 1;
		return NULL;
	}
	for (int rounds = 0; rounds < 200; rounds++) {
		int64_t *ids;
		size_t n;

		if (store_claim_due_accounts(st, c->holder, 60, 3, &ids, &n, &e) < 0) {
			if (e.class != ERR_TRANSIENT)
				c->failed = 1;
			continue;
		}
		for (size_t i = 0; i < n && c->n < MANY; i++)
			c->got[c->n++] = ids[i];
		free(ids);
		if (n == 0 && rounds > 20)
			break;
	}
	store_close(st);
	return NULL;
}

static void test_two_nodes_never_claim_the_same_account(void **state)
{
	struct fixture *f = *state;
	struct claimant c[CLAIMANTS];
	pthread_t t[CLAIMANTS];
	int seen[MANY + 8] = { 0 };
	size_t total = 0;
	int64_t first = 0;

	for (int i = 0; i < MANY - 1; i++) {
		char name[16];
		int64_t id;

		snprintf(name, sizeof(name), "acc%02d", i);
		id = add_account_of(f, STORE_LOCAL_USER_ID, name);
		authorize(f, id, 1);
	}
	authorize(f, f->account, 1);
	first = f->account;
	for (int i = 0; i < CLAIMANTS; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].path = f->path;
		snprintf(c[i].holder, sizeof(c[i].holder), "node-%d", i);
		assert_int_equal(pthread_create(&t[i], NULL, claim_until_empty, &c[i]), 0);
	}
	for (int i = 0; i < CLAIMANTS; i++) {
		pthread_join(t[i], NULL);
		assert_false(c[i].failed);
		for (size_t k = 0; k < c[i].n; k++) {
			int64_t slot = c[i].got[k] - first;

			assert_true(slot >= 0 && slot < MANY);
			assert_int_equal(seen[slot], 0); /* never twice */
			seen[slot] = 1;
			total++;
		}
	}
	assert_int_equal(total, MANY); /* and every account once */
}

/* ---- events ------------------------------------------------------------------------- */

struct seqs {
	int64_t seq[64];
	int types[64];
	int n;
};

static int collect(void *ctx, const struct store_event *ev)
{
	struct seqs *s = ctx;

	if (s->n < 64) {
		s->seq[s->n] = ev->seq;
		s->types[s->n] = (int)ev->type;
		s->n++;
	}
	return 0;
}

static void test_events_filters_and_order(void **state)
{
	struct fixture *f = *state;
	int64_t bob = add_user(f, "bob", false), bobs = add_account_of(f, bob, "bobs");
	struct mail_message m = msg("B1", "backfilled", 1);
	struct store_event_query q = { 0 };
	struct seqs s;
	struct err e = { 0 };
	int64_t last = 0, start = 0;

	store_last_event_seq(f->st, &start, &e);
	assert_int_equal(store_add_event(f->st, f->account, STORE_EVENT_SEND_CONFIRMED, "k1",
					 "{\"key\":\"k1\"}", &e), 0);
	assert_int_equal(store_put_messages(f->st, f->account, f->inbox, &m, 1, 1, true,
					    NULL, &e), 0);
	assert_int_equal(store_add_event(f->st, bobs, STORE_EVENT_SEND_FAILED, "k2", NULL, &e), 0);
	store_last_event_seq(f->st, &last, &e);
	assert_true(last >= start + 3);

	/* everything after start, oldest first, strictly growing */
	memset(&s, 0, sizeof(s));
	q.after_seq = start;
	q.include_backfill = true;
	assert_int_equal(store_read_events(f->st, &q, collect, &s, &e), 0);
	assert_int_equal(s.n, 3);
	assert_true(s.seq[0] < s.seq[1] && s.seq[1] < s.seq[2]);
	assert_int_equal(s.types[0], STORE_EVENT_SEND_CONFIRMED);
	assert_int_equal(s.seq[2], last);
	/* backfill left out unless asked for */
	memset(&s, 0, sizeof(s));
	q.include_backfill = false;
	assert_int_equal(store_read_events(f->st, &q, collect, &s, &e), 0);
	assert_int_equal(s.n, 2);
	/* by owner, by account, by type, with a limit */
	memset(&s, 0, sizeof(s));
	q.user_id = bob;
	assert_int_equal(store_read_events(f->st, &q, collect, &s, &e), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.types[0], STORE_EVENT_SEND_FAILED);
	memset(&s, 0, sizeof(s));
	q.user_id = 0;
	q.account_id = f->account;
	q.types = STORE_EVENT_BIT(STORE_EVENT_MESSAGE_CREATED);
	q.include_backfill = true;
	assert_int_equal(store_read_events(f->st, &q, collect, &s, &e), 0);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	q = (struct store_event_query){ .limit = 2 };
	assert_int_equal(store_read_events(f->st, &q, collect, &s, &e), 0);
	assert_int_equal(s.n, 2);
	/* a callback's non-zero answer stops the read and comes back */
	q.limit = 0;
	assert_int_equal(store_read_events(f->st, &q, stop_at_first, NULL, &e), 7);
}

static void test_wait_events_answers_at_once_or_times_out(void **state)
{
	struct fixture *f = *state;
	struct err e = { 0 };
	int64_t last = 0;

	store_last_event_seq(f->st, &last, &e);
	assert_int_equal(store_wait_events(f->st, last - 1, 5000, &e), 1);
	assert_int_equal(store_wait_events(f->st, last, 50, &e), 0);
}

struct waiter {
	const char *path;
	int64_t after;
	int rc;
};

static void *wait_for_news(void *arg)
{
	struct waiter *w = arg;
	struct store *st;
	struct err e = { 0 };

	w->rc = -2;
	if (store_open(w->path, &st, &e) < 0)
		return NULL;
	w->rc = store_wait_events(st, w->after, 60000, &e);
	store_close(st);
	return NULL;
}

static void test_wait_events_wakes_when_another_connection_commits(void **state)
{
	struct fixture *f = *state;
	struct waiter w = { f->path, 0, 0 };
	struct err e = { 0 };
	pthread_t t;

	store_last_event_seq(f->st, &w.after, &e);
	assert_int_equal(pthread_create(&t, NULL, wait_for_news, &w), 0);
	time_sleep_ms(300);
	assert_int_equal(store_add_event(f->st, f->account, STORE_EVENT_SEND_CONFIRMED, "k",
					 NULL, &e), 0);
	pthread_join(t, NULL);
	assert_int_equal(w.rc, 1); /* woken by the event, not by the 60 s timeout */
}

/* ---- webhooks and deliveries ------------------------------------------------------------ */

static int64_t add_hook(struct fixture *f, unsigned events, bool backfill)
{
	struct store_webhook w = { 0 };
	struct err e = { 0 };

	w.user_id = STORE_LOCAL_USER_ID;
	snprintf(w.url, sizeof(w.url), "https://app.example/hook");
	w.events = events;
	w.secret_sealed = "v1:hooksecret";
	w.include_backfill = backfill;
	assert_int_equal(store_add_webhook(f->st, &w, &e), 0);
	return w.id;
}

static void test_webhooks_crud(void **state)
{
	struct fixture *f = *state;
	struct store_webhook w, *list;
	struct err e = { 0 };
	int64_t last = 0, id;
	size_t n;

	store_last_event_seq(f->st, &last, &e);
	id = add_hook(f, 0, false);
	assert_int_equal(store_get_webhook(f->st, id, &w, &e), 1);
	assert_int_equal(w.after_seq, last); /* only what comes next */
	assert_string_equal(w.secret_sealed, "v1:hooksecret");
	assert_false(w.disabled);
	store_webhook_clear(&w);
	assert_int_equal(store_get_webhook(f->st, id, &w, &e), 1);
	w.disabled = true;
	snprintf(w.disabled_reason, sizeof(w.disabled_reason), "410 Gone");
	w.failing_since = 99;
	w.events = STORE_EVENT_BIT(STORE_EVENT_MESSAGE_CREATED);
	assert_int_equal(store_update_webhook(f->st, &w, &e), 0);
	store_webhook_clear(&w);
	assert_int_equal(store_get_webhook(f->st, id, &w, &e), 1);
	assert_true(w.disabled);
	assert_string_equal(w.disabled_reason, "410 Gone");
	assert_int_equal(w.failing_since, 99);
	assert_int_equal(w.events, STORE_EVENT_BIT(STORE_EVENT_MESSAGE_CREATED));
	store_webhook_clear(&w);
	add_hook(f, 0, false);
	assert_int_equal(store_list_webhooks(f->st, STORE_LOCAL_USER_ID, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, id);
	store_webhook_list_free(list, n);
	assert_int_equal(store_delete_webhook(f->st, id, &e), 0);
	assert_int_equal(store_get_webhook(f->st, id, &w, &e), 0);
}

static void test_deliveries_in_order_claimed_once_and_retried(void **state)
{
	struct fixture *f = *state;
	int64_t hook = add_hook(f, STORE_EVENT_BIT(STORE_EVENT_SEND_CONFIRMED) |
				STORE_EVENT_BIT(STORE_EVENT_SEND_FAILED), false);
	struct store_delivery_slot slots[4];
	struct store_event evs[4];
	struct store_delivery_attempt att = { 0 }, *log;
	struct store *b;
	struct err e = { 0 };
	long long left;
	size_t n;

	store_add_event(f->st, f->account, STORE_EVENT_SEND_CONFIRMED, "k1", "{\"n\":1}", &e);
	store_add_event(f->st, f->account, STORE_EVENT_FOLDER_UPDATED, "f", NULL, &e); /* not asked for */
	store_add_event(f->st, f->account, STORE_EVENT_SEND_FAILED, "k2", NULL, &e);
	assert_int_equal(store_count_undelivered(f->st, hook, &left, &e), 0);
	assert_int_equal(left, 2);

	/* node-a claims the slot, with the account's first event */
	assert_int_equal(store_claim_deliveries(f->st, "node-a", 60, 4, slots, evs, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(slots[0].webhook_id, hook);
	assert_int_equal(slots[0].account_id, f->account);
	assert_int_equal(evs[0].type, STORE_EVENT_SEND_CONFIRMED);
	assert_string_equal(evs[0].entity_id, "k1");
	assert_string_equal(evs[0].data_json, "{\"n\":1}");
	/* node-b, on its own connection, gets nothing while node-a works */
	assert_int_equal(store_open(f->path, &b, &e), 0);
	assert_int_equal(store_claim_deliveries(b, "node-b", 60, 4, slots + 1, evs + 1, &n, &e), 0);
	assert_int_equal(n, 0);
	/* a failed attempt holds the slot back until its retry time */
	att.webhook_id = hook;
	att.seq = evs[0].seq;
	att.account_id = f->account;
	att.ok = false;
	att.http_status = 503;
	snprintf(att.error, sizeof(att.error), "503 Service Unavailable");
	assert_int_equal(store_finish_delivery(f->st, &slots[0], &att, time_now() + 3600, &e), 0);
	assert_int_equal(store_claim_deliveries(b, "node-b", 60, 4, slots + 1, evs + 1, &n, &e), 0);
	assert_int_equal(n, 0);
	{
		struct store_webhook w;

		assert_int_equal(store_get_webhook(f->st, hook, &w, &e), 1);
		assert_true(w.failing_since > 0); /* failing since the first failure */
		store_webhook_clear(&w);
	}
	/* once due again it is retried, the same event, attempts counted */
	assert_int_equal(store_finish_delivery(f->st, &slots[0], &att, 0, &e), 0);
	assert_int_equal(store_claim_deliveries(b, "node-b", 60, 4, slots + 1, evs + 1, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(evs[1].seq, att.seq);
	assert_int_equal(slots[1].attempts, 2);
	/* delivered: the next event of the account follows */
	att.ok = true;
	att.http_status = 200;
	att.error[0] = '\0';
	assert_int_equal(store_finish_delivery(b, &slots[1], &att, 0, &e), 0);
	assert_int_equal(store_count_undelivered(f->st, hook, &left, &e), 0);
	assert_int_equal(left, 1);
	assert_int_equal(store_claim_deliveries(f->st, "node-a", 60, 4, slots, evs, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(evs[0].entity_id, "k2");
	assert_int_equal(slots[0].attempts, 0);
	store_close(b);
	/* the log, newest first */
	assert_int_equal(store_list_deliveries(f->st, hook, 10, &log, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_true(log[0].ok);
	assert_int_equal(log[0].http_status, 200);
	assert_false(log[2].ok);
	assert_string_equal(log[2].error, "503 Service Unavailable");
	free(log);
}

static void test_deliveries_skip_backfill_unless_asked(void **state)
{
	struct fixture *f = *state;
	int64_t plain = add_hook(f, 0, false), with = add_hook(f, 0, true);
	struct mail_message m = msg("BF", "old mail", 1);
	struct err e = { 0 };
	long long n_plain, n_with;

	assert_int_equal(store_put_messages(f->st, f->account, f->inbox, &m, 1, 1, true,
					    NULL, &e), 0);
	assert_int_equal(store_count_undelivered(f->st, plain, &n_plain, &e), 0);
	assert_int_equal(store_count_undelivered(f->st, with, &n_with, &e), 0);
	assert_int_equal(n_plain, 0);
	assert_int_equal(n_with, 1);
}

#define DELIVERY_NODES 3
#define DELIVERY_ACCOUNTS 12
#define EVENTS_PER_ACCOUNT 4

struct deliverer {
	const char *path;
	char holder[32];
	int64_t seqs[DELIVERY_ACCOUNTS * EVENTS_PER_ACCOUNT * 2];
	size_t n;
	int failed;
};

/* A node's delivery loop: claim, "send", finish, until nothing is left. */
static void *deliver_all(void *arg)
{
	struct deliverer *d = arg;
	struct store *st;
	struct err e = { 0 };
	int idle = 0;

	if (store_open(d->path, &st, &e) < 0) {
		d->failed = 1;
		return NULL;
	}
	while (idle < 20) {
		struct store_delivery_slot slots[4];
		struct store_event evs[4];
		size_t n;

		if (store_claim_deliveries(st, d->holder, 60, 4, slots, evs, &n, &e) < 0) {
			d->failed |= e.class != ERR_TRANSIENT;
			continue;
		}
		idle = n ? 0 : idle + 1;
		for (size_t i = 0; i < n; i++) {
			struct store_delivery_attempt a = { .webhook_id = slots[i].webhook_id,
				.seq = evs[i].seq, .account_id = slots[i].account_id, .ok = true,
				.http_status = 200 };

			if (d->n < sizeof(d->seqs) / sizeof(d->seqs[0]))
				d->seqs[d->n++] = evs[i].seq;
			if (store_finish_delivery(st, &slots[i], &a, 0, &e) < 0)
				d->failed = 1;
		}
	}
	store_close(st);
	return NULL;
}

static int cmp_seq(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_each_event_delivered_once_across_nodes(void **state)
{
	struct fixture *f = *state;
	struct deliverer d[DELIVERY_NODES];
	pthread_t t[DELIVERY_NODES];
	int64_t all[DELIVERY_ACCOUNTS * EVENTS_PER_ACCOUNT * 2];
	size_t total = 0;
	struct err e = { 0 };
	long long left;
	int64_t hook = add_hook(f, STORE_EVENT_BIT(STORE_EVENT_SEND_CONFIRMED), false);

	for (int a = 0; a < DELIVERY_ACCOUNTS; a++) {
		char name[16];
		int64_t id;

		snprintf(name, sizeof(name), "hooked%02d", a);
		id = a ? add_account_of(f, STORE_LOCAL_USER_ID, name) : f->account;
		for (int k = 0; k < EVENTS_PER_ACCOUNT; k++)
			assert_int_equal(store_add_event(f->st, id, STORE_EVENT_SEND_CONFIRMED,
							 name, NULL, &e), 0);
	}
	for (int i = 0; i < DELIVERY_NODES; i++) {
		memset(&d[i], 0, sizeof(d[i]));
		d[i].path = f->path;
		snprintf(d[i].holder, sizeof(d[i].holder), "node-%d", i);
		assert_int_equal(pthread_create(&t[i], NULL, deliver_all, &d[i]), 0);
	}
	for (int i = 0; i < DELIVERY_NODES; i++) {
		pthread_join(t[i], NULL);
		assert_false(d[i].failed);
		for (size_t k = 0; k < d[i].n; k++)
			all[total++] = d[i].seqs[k];
	}
	/* every event once: none lost, none sent twice */
	assert_int_equal(total, DELIVERY_ACCOUNTS * EVENTS_PER_ACCOUNT);
	qsort(all, total, sizeof(all[0]), cmp_seq);
	for (size_t k = 1; k < total; k++)
		assert_true(all[k] > all[k - 1]);
	assert_int_equal(store_count_undelivered(f->st, hook, &left, &e), 0);
	assert_int_equal(left, 0);
}

static int count_types(void *ctx, const struct store_event *ev)
{
	int *n = ctx;

	if ((unsigned)ev->type < STORE_EVENT_TYPE_COUNT)
		n[ev->type]++;
	return 0;
}

/* One page that names a message twice, replaces a local Sent entry and
 * carries an already known message whose server copy makes another local
 * entry redundant: the same outcome as applying the items one by one. */
static void test_page_with_repeats_and_local_entries(void **state)
{
	struct fixture *f = *state;
	struct mail_message l1 = msg("local:k1", "hi", 100), l2 = msg("local:k2", "yo", 100);
	struct mail_message known = msg("D1", "draft", 90), page[5];
	struct store_page_result r = { 0 };
	struct store_event_query q = { .account_id = f->account, .limit = 1000 };
	struct store_message got;
	struct seqs_by_type { int n[STORE_EVENT_TYPE_COUNT]; } ev = { { 0 } };
	struct err e = { 0 };
	int64_t start = 0, gen;
	long long n;

	l1.internet_message_id = "<k1@x>";
	l2.internet_message_id = "<k2@x>";
	assert_int_equal(store_put_local_message(f->st, f->account, f->sent, &l1, &e), 0);
	assert_int_equal(store_put_local_message(f->st, f->account, f->sent, &l2, &e), 0);
	/* the draft of k2, synced from Drafts before it was sent */
	known.change_key = "d1";
	assert_int_equal(store_put_message(f->st, f->account, f->archive, &known, 0, NULL, &e), 0);
	store_last_event_seq(f->st, &start, &e);
	assert_int_equal(store_start_folder_round(f->st, f->sent, false, &gen, &e), 0);
	page[0] = msg("S1", "hi", 101);              /* server copy of local:k1 */
	page[0].internet_message_id = "<k1@x>";
	page[1] = msg("N1", "new", 102);
	page[2] = msg("N1", "new, changed", 102);    /* the same message again */
	page[2].change_key = "n1b";
	page[3] = msg("D1", "sent", 103);            /* the draft, now in Sent */
	page[3].internet_message_id = "<k2@x>";
	page[3].change_key = "d2";
	mail_message_init(&page[4]);                 /* gone from a folder it was never in */
	page[4].remote_id = "ZZ";
	page[4].removed = true;
	assert_int_equal(store_put_messages(f->st, f->account, f->sent, page, 5, gen, false,
					    &r, &e), 0);
	assert_int_equal(r.replaced, 1);
	assert_int_equal(r.created, 1);
	assert_int_equal(r.updated, 1);
	assert_int_equal(r.moved, 1);
	assert_int_equal(r.removed, 0);
	/* S1, N1, D1: no local entry left */
	store_count_messages(f->st, f->account, &n, &e);
	assert_int_equal(n, 3);
	assert_int_equal(store_get_message(f->st, f->account, "N1", &got, &e), 1);
	assert_string_equal(got.m.subject, "new, changed");
	store_message_clear(&got);
	assert_int_equal(store_get_message(f->st, f->account, "D1", &got, &e), 1);
	assert_int_equal(got.folder_id, f->sent);
	assert_false(got.pending);
	store_message_clear(&got);
	assert_int_equal(store_get_message(f->st, f->account, "local:k2", &got, &e), 0);
	/* events: replaced = updated, the redundant local entry deleted */
	q.after_seq = start;
	assert_int_equal(store_read_events(f->st, &q, count_types, &ev, &e), 0);
	assert_int_equal(ev.n[STORE_EVENT_MESSAGE_CREATED], 1);
	assert_int_equal(ev.n[STORE_EVENT_MESSAGE_UPDATED], 2);
	assert_int_equal(ev.n[STORE_EVENT_MESSAGE_MOVED], 1);
	assert_int_equal(ev.n[STORE_EVENT_MESSAGE_DELETED], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrates_empty_file_and_reopens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database_is_a_clear_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_discards_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_account_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_failures_reach_auth_invalid_at_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_rotation_is_compare_and_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_lease_single_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oauth_state_single_use_and_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_scan_renames_and_deletes, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_move_is_one_row_and_keeps_body, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_update_merges_unknown_fields, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_orphan_then_sweep, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_moved_in_during_a_fresh_round_is_not_swept, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_server_copy_replaces_local_sent_entry, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_pending_entry_survives_sweep, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_keyset_paging_newest_first, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_idempotency_and_feed, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_abort_at_every_allocation_of_a_page, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_users_names_passwords_and_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens_and_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_provider_settings_and_problem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts_by_owner_identity_and_email, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_status_schedule_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_then_purge_and_delete, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_stats_count_by_state_phase_and_outbox, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_lease_claim_renew_and_takeover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fenced_commit_refused_after_the_lease_moved, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_claim_due_accounts_takes_what_is_due_and_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_leases_renewed_and_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_heartbeats_count_the_fleet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_nodes_never_claim_the_same_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_filters_and_order, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_wait_events_answers_at_once_or_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_events_wakes_when_another_connection_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_webhooks_crud, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliveries_in_order_claimed_once_and_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliveries_skip_backfill_unless_asked, setup_folders, teardown),
		cmocka_unit_test_setup_teardown(test_each_event_delivered_once_across_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_with_repeats_and_local_entries, setup_folders, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
