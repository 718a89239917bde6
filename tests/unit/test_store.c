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
	struct store_folder_in in = { { remote, "", path, role, 10, 2 }, path };
	struct store_folder out;
	struct err e = { 0 };

	assert_int_equal(store_put_folder(f->st, f->account, &in, NULL, &e), 0);
	assert_int_equal(store_find_folder_by_remote(f->st, f->account, remote, &out, &e), 1);
	store_folder_clear(&out);
	return out.id;
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
	struct mail_address to[2] = { { "Bob", "bob@x.com" }, { "", "carol@x.com" } };
	struct store_message got;
	struct err e = { 0 };

	m.from.name = "A";
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
	assert_string_equal(got.m.to.items[0].name, "Bob");
	assert_string_equal(got.m.to.items[1].address, "carol@x.com");
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
		m = msg(id, "s", 1000 + i / 2); /* pairs share a time */
		store_put_message(f->st, f->account, f->inbox, &m, 1, NULL, &e);
	}
	store_select_folder(f->st, f->inbox, true, MAIL_ROLE_NONE, &e);
	q.account_id = f->account;
	q.limit = 7;
	for (;;) {
		struct page_acc acc = { 0, 0, 0, 0, 1 };

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
