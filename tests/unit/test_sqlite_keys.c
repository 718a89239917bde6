/*
 * test_sqlite_keys.c — the SQLite store finds messages by a 64-bit key of
 * their remote id (sqlite_keys.h). Real collisions are too rare to meet,
 * so the key is cut to two bits here: most ids of a page then share a key
 * with another, and every message operation must still find, move,
 * change and delete exactly the right row, never lose one and never
 * store one twice — through the multi-row insert of a first round, the
 * general path, replays, moves, removals and the sweep — and a store
 * made before the key (schema version 4) gets it when it is opened.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "inboxsync/store.h"
#include "store/sqlite/sqlite_keys.h"
#include "store_fixture.h"

#define N_MSG 40

struct fixture {
	struct store_fixture sf;
	struct store *st;
	int64_t account, inbox, archive;
	char ids[N_MSG][48];
	char subjects[N_MSG][32];
	struct mail_message m[N_MSG];
	bool created[N_MSG];       /* a message.created named it */
};

static int64_t add_folder(struct fixture *f, const char *remote, const char *path,
			  enum mail_role role)
{
	int64_t id = store_fixture_folder(f->st, f->account, remote, path, role);

	assert_true(id > 0);
	return id;
}

static int setup_with_mask(void **state, uint64_t mask)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_account a = { 0 };
	struct err e = { 0 };

	sq_remote_key_mask = mask;
	assert_int_equal(store_fixture_new(&f->sf, "keys"), 0);
	assert_int_equal(store_open(f->sf.location, &f->st, &e), 0);
	snprintf(a.name, sizeof(a.name), "work");
	snprintf(a.email, sizeof(a.email), "adele@contoso.com");
	snprintf(a.transport, sizeof(a.transport), "graph");
	assert_int_equal(store_add_account(f->st, &a, &e), 0);
	f->account = a.id;
	f->inbox = add_folder(f, "F-inbox", "Inbox", MAIL_ROLE_INBOX);
	f->archive = add_folder(f, "F-archive", "Archive", MAIL_ROLE_ARCHIVE);
	for (int i = 0; i < N_MSG; i++) {
		snprintf(f->ids[i], sizeof(f->ids[i]), "AAMkAGI2-immutable-%03d", i);
		snprintf(f->subjects[i], sizeof(f->subjects[i]), "subject %d", i);
		mail_message_init(&f->m[i]);
		f->m[i].remote_id = f->ids[i];
		f->m[i].subject = f->subjects[i];
		f->m[i].received_at = 1000 - i;
		f->m[i].change_key = "ck1";
	}
	*state = f;
	return 0;
}

/* Keys of two bits: most ids share theirs with another. */
static int setup(void **state)
{
	return setup_with_mask(state, 0x3);
}

static int setup_full_keys(void **state)
{
	return setup_with_mask(state, UINT64_MAX);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	store_fixture_free(&f->sf);
	free(f);
	sq_remote_key_mask = UINT64_MAX;
	return 0;
}

static long long count(struct fixture *f)
{
	struct err e = { 0 };
	long long n = -1;

	assert_int_equal(store_count_messages(f->st, f->account, &n, &e), 0);
	return n;
}

/* Message i is stored once, in `folder`, with its own subject. */
static void expect_message(struct fixture *f, int i, int64_t folder)
{
	struct store_message got;
	struct err e = { 0 };

	assert_int_equal(store_get_message(f->st, f->account, f->ids[i], &got, &e), 1);
	assert_string_equal(got.m.remote_id, f->ids[i]);
	assert_string_equal(got.m.subject, f->subjects[i]);
	assert_int_equal(got.folder_id, folder);
	store_message_clear(&got);
}

/* Each message.created names one of the ids, each id once. */
static int created_cb(void *ctx, const struct store_event *ev)
{
	struct fixture *f = ctx;

	if (ev->type != STORE_EVENT_MESSAGE_CREATED)
		return 0;
	for (int i = 0; i < N_MSG; i++)
		if (strcmp(ev->entity_id, f->ids[i]) == 0) {
			assert_false(f->created[i]);
			f->created[i] = true;
			return 0;
		}
	fail_msg("message.created of an unknown id %s", ev->entity_id);
	return 0;
}

static void test_a_page_of_colliding_ids_is_stored_once_each(void **state)
{
	struct fixture *f = *state;
	struct store_page_result r = { 0 };
	struct store_event_query q = { .account_id = f->account };
	struct err e = { 0 };

	assert_int_equal(store_put_messages(f->st, f->account, f->inbox, f->m, N_MSG, 1,
					    false, &r, &e), 0);
	assert_int_equal(r.created, N_MSG);
	assert_int_equal(count(f), N_MSG);
	for (int i = 0; i < N_MSG; i++)
		expect_message(f, i, f->inbox);
	assert_int_equal(store_read_events(f->st, &q, created_cb, f, &e), 0);
	for (int i = 0; i < N_MSG; i++)
		assert_true(f->created[i]);
	/* The same page again: every message found, none added. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_put_messages(f->st, f->account, f->inbox, f->m, N_MSG, 2,
					    false, &r, &e), 0);
	assert_int_equal(r.created, 0);
	assert_int_equal(r.unchanged, N_MSG);
	assert_int_equal(count(f), N_MSG);
}

static void test_moves_changes_and_removals_hit_the_right_row(void **state)
{
	struct fixture *f = *state;
	struct store_page_result r = { 0 };
	struct mail_message gone;
	struct store_message got;
	struct err e = { 0 };
	long long swept = 0;
	int64_t gen = 0;

	assert_int_equal(store_start_folder_round(f->st, f->inbox, false, &gen, &e), 0);
	assert_int_equal(store_put_messages(f->st, f->account, f->inbox, f->m, N_MSG, gen,
					    false, &r, &e), 0);
	/* Every third message moves to Archive, seen there by a page. */
	for (int i = 0; i < N_MSG; i += 3) {
		char outcome = 0;

		assert_int_equal(store_put_message(f->st, f->account, f->archive, &f->m[i],
						   1, &outcome, &e), 0);
		assert_int_equal(outcome, 'm');
	}
	/* Changed subjects and flags reach only their own row. */
	f->m[1].change_key = "ck2";
	snprintf(f->subjects[1], sizeof(f->subjects[1]), "changed 1");
	assert_int_equal(store_put_messages(f->st, f->account, f->inbox, &f->m[1], 1, 1,
					    false, NULL, &e), 0);
	assert_int_equal(store_set_message_flags(f->st, f->account, f->ids[2], 1,
						 MAIL_UNKNOWN, &e), 0);
	assert_int_equal(store_put_body(f->st, f->account, f->ids[4], "text", "four", 4, &e), 0);
	for (int i = 0; i < N_MSG; i++)
		expect_message(f, i, i % 3 == 0 ? f->archive : f->inbox);
	assert_int_equal(store_get_message(f->st, f->account, f->ids[2], &got, &e), 1);
	assert_int_equal(got.m.is_read, 1);
	store_message_clear(&got);
	for (int i = 3; i < N_MSG; i++) {
		assert_int_equal(store_get_message(f->st, f->account, f->ids[i], &got, &e), 1);
		assert_int_equal(got.m.is_read, 0);
		assert_int_equal(got.body_fetched, i == 4);
		store_message_clear(&got);
	}
	/* A move through the API under a new id (IMAP), a delete, a removal. */
	assert_int_equal(store_move_message(f->st, f->account, f->ids[5], f->archive,
					    "AAMkAGI2-immutable-new", &e), 0);
	assert_int_equal(store_get_message(f->st, f->account, f->ids[5], &got, &e), 0);
	assert_int_equal(store_get_message(f->st, f->account, "AAMkAGI2-immutable-new",
					   &got, &e), 1);
	assert_string_equal(got.m.subject, f->subjects[5]);
	store_message_clear(&got);
	assert_int_equal(store_delete_message(f->st, f->account, f->ids[7], &e), 0);
	assert_int_equal(store_get_message(f->st, f->account, f->ids[7], &got, &e), 0);
	assert_int_equal(count(f), N_MSG - 1);
	mail_message_init(&gone);
	gone.remote_id = f->ids[8];
	gone.removed = true;
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_put_messages(f->st, f->account, f->inbox, &gone, 1, 1,
					    false, &r, &e), 0);
	assert_int_equal(r.removed, 1);
	/* A fresh round of Inbox that sees all but message 10: the sweep
	 * takes exactly that one (and the orphan 8, not seen either). */
	assert_int_equal(store_start_folder_round(f->st, f->inbox, false, &gen, &e), 0);
	for (int i = 0; i < N_MSG; i++)
		if (i % 3 != 0 && i != 5 && i != 7 && i != 8 && i != 10)
			assert_int_equal(store_put_messages(f->st, f->account, f->inbox,
							    &f->m[i], 1, gen, false, NULL, &e), 0);
	assert_int_equal(store_sweep_folder(f->st, f->inbox, &swept, &e), 0);
	assert_int_equal(swept, 2);
	assert_int_equal(store_get_message(f->st, f->account, f->ids[10], &got, &e), 0);
	assert_int_equal(store_get_message(f->st, f->account, f->ids[8], &got, &e), 0);
	assert_int_equal(count(f), N_MSG - 3);
	for (int i = 0; i < N_MSG; i++)
		if (i != 5 && i != 7 && i != 8 && i != 10)
			expect_message(f, i, i % 3 == 0 ? f->archive : f->inbox);
}

/* A move under a new id that names another stored message is refused,
 * as the unique index on the id text refused it: never two rows of one
 * id. */
static void test_a_move_onto_a_stored_id_is_refused(void **state)
{
	struct fixture *f = *state;
	struct err e = { 0 };

	assert_int_equal(store_put_messages(f->st, f->account, f->inbox, f->m, N_MSG, 1,
					    false, NULL, &e), 0);
	assert_int_equal(store_move_message(f->st, f->account, f->ids[0], f->archive,
					    f->ids[1], &e), -1);
	assert_int_equal(count(f), N_MSG);
	expect_message(f, 0, f->inbox);
	expect_message(f, 1, f->inbox);
}

/* A store of schema version 4 (messages keyed by the id text) with
 * messages in it, made from a current one by rebuilding its messages
 * table the old way. */
static void make_version_4(struct fixture *f)
{
	static const char sql[] =
		"CREATE TABLE old (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, "
		"folder_id INTEGER NOT NULL, remote_id TEXT NOT NULL, "
		"internet_message_id TEXT NOT NULL DEFAULT '', conversation_id TEXT NOT "
		"NULL DEFAULT '', subject TEXT NOT NULL DEFAULT '', from_name TEXT NOT "
		"NULL DEFAULT '', from_addr TEXT NOT NULL DEFAULT '', to_json TEXT NOT "
		"NULL DEFAULT '[]', cc_json TEXT NOT NULL DEFAULT '[]', categories_json "
		"TEXT NOT NULL DEFAULT '[]', preview TEXT NOT NULL DEFAULT '', "
		"change_key TEXT NOT NULL DEFAULT '', received_at INTEGER NOT NULL "
		"DEFAULT 0, sent_at INTEGER NOT NULL DEFAULT 0, is_read INTEGER NOT "
		"NULL DEFAULT 0, is_flagged INTEGER NOT NULL DEFAULT 0, is_draft "
		"INTEGER NOT NULL DEFAULT 0, has_attachments INTEGER NOT NULL DEFAULT "
		"0, body_type TEXT, body BLOB, pending INTEGER NOT NULL DEFAULT 0, "
		"seen_gen INTEGER NOT NULL DEFAULT 0, orphan INTEGER NOT NULL DEFAULT "
		"0, updated_at INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL "
		"DEFAULT 0, UNIQUE (account_id, remote_id));"
		"INSERT INTO old SELECT id, account_id, folder_id, remote_id, "
		"internet_message_id, conversation_id, subject, from_name, from_addr, "
		"to_json, cc_json, categories_json, preview, change_key, received_at, "
		"sent_at, is_read, is_flagged, is_draft, has_attachments, body_type, "
		"body, pending, seen_gen, orphan, updated_at, size FROM messages;"
		"DROP TABLE messages; ALTER TABLE old RENAME TO messages;"
		"PRAGMA user_version = 4;";
	struct err e = { 0 };
	sqlite3 *db;

	assert_int_equal(store_put_messages(f->st, f->account, f->inbox, f->m, N_MSG, 1,
					    false, NULL, &e), 0);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->sf.location, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_a_version_4_store_gets_its_keys(void **state)
{
	struct fixture *f = *state;
	struct store_page_result r = { 0 };
	struct err e = { 0 };

	make_version_4(f);
	assert_int_equal(store_open(f->sf.location, &f->st, &e), 0);
	assert_int_equal(count(f), N_MSG);
	for (int i = 0; i < N_MSG; i++)
		expect_message(f, i, f->inbox);
	assert_int_equal(store_put_messages(f->st, f->account, f->inbox, f->m, N_MSG, 2,
					    false, &r, &e), 0);
	assert_int_equal(r.created, 0);
	assert_int_equal(count(f), N_MSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_page_of_colliding_ids_is_stored_once_each,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_moves_changes_and_removals_hit_the_right_row,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_version_4_store_gets_its_keys,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_move_onto_a_stored_id_is_refused,
						setup_full_keys, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
