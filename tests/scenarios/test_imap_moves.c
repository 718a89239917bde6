/*
 * test_imap_moves.c — moves, both ways, on a real Dovecot. Ours: the
 * driver's UID MOVE reports the id the message has in the destination
 * (COPYUID), locate finds it there under that id, the source's next poll
 * reports it removed and the destination's reports it present under the
 * new id. Another client's: both folders converge (removed here, present
 * there). Deleting moves into Deleted Items, and deleting from there (or
 * what is already gone) ends it. Flags set through the driver reach the
 * server. Bodies come one by one or many at once, the same either way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "inboxsync/alloc.h"
#include "imap_fixture.h"

static struct imap_fixture fx;
static struct mirror mr;
static char *cursor_inbox, *cursor_archive;

static int setup(void **state)
{
	static const struct dovecot_opts dv = { 0 };
	struct err e = { 0 };

	(void)state;
	if (imap_fixture_start(&fx, &dv, NULL) < 0 || imap_fixture_seed(&fx, "INBOX", 1, 12) < 0 ||
	    imap_fixture_seed(&fx, "Archive", 100, 3) < 0)
		return -1;
	if (imap_fixture_round(&fx, fx.d, "INBOX", NULL, 5, mirror_apply, &mr, &cursor_inbox,
			       &e) < 0 ||
	    imap_fixture_round(&fx, fx.d, "Archive", NULL, 5, mirror_apply, &mr,
			       &cursor_archive, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	imap_fixture_stop(&fx);
	mirror_free(&mr);
	free(cursor_inbox);
	free(cursor_archive);
	return 0;
}

static void poll_folder(const char *folder, char **cursor)
{
	struct err e = { 0 };
	char *done;

	assert_int_equal(imap_fixture_round(&fx, fx.d, folder, *cursor, 100, mirror_apply,
					    &mr, &done, &e), 0);
	free(*cursor);
	*cursor = done;
}

static void poll_both(void)
{
	poll_folder("INBOX", &cursor_inbox);
	poll_folder("Archive", &cursor_archive);
}

/* The id of the first mirrored message of `folder`. */
static char *some_id(const char *folder)
{
	for (size_t i = 0; i < mr.n; i++)
		if (strcmp(mr.rows[i].folder, folder) == 0)
			return xstrdup(mr.rows[i].id);
	return NULL;
}

static void test_our_move_reports_the_new_id_and_locate_finds_it(void **state)
{
	char *id = some_id("INBOX"), *new_id = NULL, *imid;
	struct driver_locate loc = { .remote_id = id };
	struct driver_state st;
	struct err e = { 0 };

	(void)state;
	imid = xstrdup(mirror_find(&mr, id)->imid);
	assert_int_equal(driver_move_message(fx.d, id, "Archive", &new_id, &e), 0);
	assert_non_null(new_id);
	assert_non_null(strstr(new_id, ":Archive"));
	/* where is it now? there, under its new id */
	assert_int_equal(driver_locate_messages(fx.d, &loc, 1, &e), 0);
	assert_int_equal(loc.rc, 0);
	assert_false(loc.gone);
	assert_string_equal(loc.folder_remote_id, "Archive");
	assert_string_equal(loc.new_remote_id, new_id);
	free(loc.folder_remote_id);
	free(loc.new_remote_id);
	/* its state under the new id */
	assert_int_equal(driver_get_state(fx.d, new_id, &st, &e), 0);
	assert_true(st.exists);
	assert_string_equal(st.folder_remote_id, "Archive");
	assert_string_equal(st.internet_message_id, imid);
	driver_state_free(&st);
	/* the polls: removed from the Inbox, present in Archive */
	poll_both();
	assert_null(mirror_find(&mr, id));
	assert_non_null(mirror_find(&mr, new_id));
	assert_string_equal(mirror_find(&mr, new_id)->imid, imid);
	assert_true(mirror_matches(&fx, &mr, "INBOX"));
	assert_true(mirror_matches(&fx, &mr, "Archive"));
	free(id);
	free(new_id);
	free(imid);
}

static void test_another_clients_move_converges(void **state)
{
	struct imap_truth *t;
	size_t n, inbox_before = mirror_count(&mr, "INBOX");

	(void)state;
	assert_int_equal(imap_client_truth(fx.other, "Archive", &t, &n), 0);
	assert_int_equal(imap_client_move(fx.other, "Archive", t[0].uid, "INBOX", NULL), 0);
	free(t);
	poll_both();
	assert_int_equal(mirror_count(&mr, "INBOX"), inbox_before + 1);
	assert_true(mirror_matches(&fx, &mr, "INBOX"));
	assert_true(mirror_matches(&fx, &mr, "Archive"));
}

static void test_locate_in_place_and_gone(void **state)
{
	char *id = some_id("INBOX");
	struct driver_locate loc[3] = { { .remote_id = id }, { .remote_id = "9:9:INBOX" },
					{ .remote_id = "local:abc" } };
	struct err e = { 0 };

	(void)state;
	assert_int_equal(driver_locate_messages(fx.d, loc, 3, &e), 0);
	assert_false(loc[0].gone);
	assert_string_equal(loc[0].folder_remote_id, "INBOX");
	assert_null(loc[0].new_remote_id);
	assert_true(loc[1].gone);
	assert_true(loc[2].gone);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(loc[i].rc, 0);
		free(loc[i].folder_remote_id);
	}
	free(id);
}

static void test_flags_set_through_the_driver_reach_the_server(void **state)
{
	char *id = some_id("INBOX");
	struct mirror_row *row = mirror_find(&mr, id);
	int seen = row->seen, flagged = row->flagged;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(driver_set_flags(fx.d, id, !seen, !flagged, &e), 0);
	assert_int_equal(driver_set_flags(fx.d, id, DRIVER_UNKNOWN, DRIVER_UNKNOWN, &e), 0);
	poll_folder("INBOX", &cursor_inbox);
	row = mirror_find(&mr, id);
	assert_int_equal(row->seen, !seen);
	assert_int_equal(row->flagged, !flagged);
	assert_true(mirror_matches(&fx, &mr, "INBOX"));
	/* a message that is gone: not_found */
	assert_int_equal(driver_set_flags(fx.d, "1:999999:INBOX", 1, 1, &e), -1);
	assert_string_equal(e.code, "not_found");
	free(id);
}

static void test_delete_goes_to_deleted_items_then_away(void **state)
{
	char *id = some_id("INBOX");
	struct imap_truth *t;
	size_t n;
	struct err e = { 0 };
	char *trash_id = NULL;
	struct driver_locate loc = { .remote_id = NULL };

	(void)state;
	assert_int_equal(driver_delete_message(fx.d, id, &e), 0);
	assert_int_equal(imap_client_truth(fx.other, "Trash", &t, &n), 0);
	assert_int_equal(n, 1);
	free(t);
	loc.remote_id = id;
	assert_int_equal(driver_locate_messages(fx.d, &loc, 1, &e), 0);
	assert_string_equal(loc.folder_remote_id, "Trash");
	trash_id = loc.new_remote_id;
	free(loc.folder_remote_id);
	/* deleting from Deleted Items ends it; deleting what is gone succeeds */
	assert_int_equal(driver_delete_message(fx.d, trash_id, &e), 0);
	assert_int_equal(imap_client_truth(fx.other, "Trash", &t, &n), 0);
	assert_int_equal(n, 0);
	free(t);
	assert_int_equal(driver_delete_message(fx.d, trash_id, &e), 0);
	assert_int_equal(driver_delete_message(fx.d, id, &e), 0);
	poll_folder("INBOX", &cursor_inbox);
	assert_true(mirror_matches(&fx, &mr, "INBOX"));
	free(trash_id);
	free(id);
}

static void test_body_and_mime_of_a_message(void **state)
{
	char *id = some_id("INBOX");
	struct driver_body body;
	struct buf raw;
	struct err e = { 0 };

	(void)state;
	buf_init(&raw, 0);
	if (driver_fetch_mime(fx.d, id, &raw, &e) < 0)
		fprintf(stderr, "fetching %s: class %d code %s: %s\n", id, e.class, e.code, e.msg), fail();
	assert_non_null(strstr(raw.data, "Message-ID: <seed-"));
	assert_int_equal(driver_fetch_body(fx.d, id, &body, &e), 0);
	assert_string_equal(body.content_type, "text");
	assert_non_null(strstr(body.content, "lorem") ? body.content : strstr(body.content, "ipsum"));
	driver_body_free(&body);
	/* capped by the caller's buffer */
	buf_free(&raw);
	buf_init(&raw, 100);
	assert_int_equal(driver_fetch_mime(fx.d, id, &raw, &e), -1);
	assert_string_equal(e.code, "too_large");
	buf_free(&raw);
	/* and the session is still good */
	buf_init(&raw, 0);
	assert_int_equal(driver_fetch_mime(fx.d, id, &raw, &e), 0);
	buf_free(&raw);
	assert_int_equal(driver_fetch_mime(fx.d, "1:999999:INBOX", &raw, &e), -1);
	assert_string_equal(e.code, "not_found");
	buf_free(&raw);
	free(id);
}

/* The bodies of many messages at once: the same as one by one, across
 * two folders, with ids that are gone or not ours answered per item; a
 * message over the driver's cap fails alone and the session stays good. */
static void test_bodies_in_a_batch(void **state)
{
	struct driver_body_fetch items[40];
	const char *extra[] = { "1:999999:INBOX", "not an id", "1:1:INBOX" };
	struct imap_driver_opts small = { .max_message = 100 };
	struct driver *tiny = NULL;
	struct err e = { 0 };
	size_t n = 0, real;

	(void)state;
	poll_both();
	memset(items, 0, sizeof(items));
	for (size_t i = 0; i < mr.n && n < 30; i++)
		items[n++].remote_id = mr.rows[i].id;
	real = n;
	assert_true(real >= 4);
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		items[n++].remote_id = extra[i];
	assert_int_equal(driver_fetch_bodies(fx.d, items, n, &e), 0);
	for (size_t i = 0; i < real; i++) {
		struct driver_body one;

		if (items[i].rc != 0)
			fprintf(stderr, "%s: %s\n", items[i].remote_id, items[i].err.msg), fail();
		assert_int_equal(driver_fetch_body(fx.d, items[i].remote_id, &one, &e), 0);
		assert_string_equal(items[i].body.content_type, one.content_type);
		assert_int_equal(items[i].body.len, one.len);
		assert_memory_equal(items[i].body.content, one.content, one.len);
		driver_body_free(&one);
	}
	for (size_t i = real; i < n; i++) {
		assert_int_equal(items[i].rc, -1);
		assert_string_equal(items[i].err.code, "not_found");
	}
	for (size_t i = 0; i < n; i++)
		driver_body_free(&items[i].body);
	/* over the cap: each message on its own, as one by one */
	assert_int_equal(imap_fixture_open(&fx, &small, &tiny), 0);
	memset(items, 0, sizeof(items));
	items[0].remote_id = mr.rows[0].id;
	items[1].remote_id = mr.rows[1].id;
	assert_int_equal(driver_fetch_bodies(tiny, items, 2, &e), 0);
	assert_int_equal(items[0].rc, -1);
	assert_string_equal(items[0].err.code, "too_large");
	assert_int_equal(items[1].rc, -1);
	assert_string_equal(items[1].err.code, "too_large");
	driver_free(tiny);
	memset(items, 0, sizeof(items));
	items[0].remote_id = mr.rows[0].id;
	assert_int_equal(driver_fetch_bodies(fx.d, items, 1, &e), 0);
	assert_int_equal(items[0].rc, 0);
	driver_body_free(&items[0].body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_our_move_reports_the_new_id_and_locate_finds_it),
		cmocka_unit_test(test_another_clients_move_converges),
		cmocka_unit_test(test_locate_in_place_and_gone),
		cmocka_unit_test(test_flags_set_through_the_driver_reach_the_server),
		cmocka_unit_test(test_delete_goes_to_deleted_items_then_away),
		cmocka_unit_test(test_body_and_mime_of_a_message),
		cmocka_unit_test(test_bodies_in_a_batch),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
