/*
 * test_imap_sync.c — the IMAP driver synchronizing a real Dovecot whose
 * oauth2 passdb asks m365sim about every token: folders with their roles,
 * a round newest first then backfill, and changes by another client (new
 * mail, flags, expunges) converging through polls — with QRESYNC, with
 * CONDSTORE alone, and with neither (the digest scan), each against its
 * own Dovecot. "Converge" means the items, applied as a store would,
 * equal the server folder exactly (ids, Message-IDs, flags).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "inboxsync/alloc.h"
#include "imap_fixture.h"

struct variant {
	const char *name;
	struct dovecot_opts dove;
	struct imap_driver_opts drv;
	struct imap_fixture f;
};

static struct variant variants[] = {
	{ .name = "qresync" },
	{ .name = "condstore", .drv = { .no_qresync = true } },
	{ .name = "scan", .dove = { .no_condstore = true } },
};

static int setup(void **state, struct variant *v)
{
	if (imap_fixture_start(&v->f, &v->dove, &v->drv) < 0)
		return -1;
	*state = v;
	return 0;
}

static int setup_qresync(void **state) { return setup(state, &variants[0]); }
static int setup_condstore(void **state) { return setup(state, &variants[1]); }
static int setup_scan(void **state) { return setup(state, &variants[2]); }

static int teardown(void **state)
{
	struct variant *v = *state;

	imap_fixture_stop(&v->f);
	return 0;
}

/* ---- folders ------------------------------------------------------------------- */

struct seen_folders {
	char names[32][64];
	enum mail_role roles[32];
	size_t n;
};

static int on_folder(void *ctx, const struct mail_folder *f)
{
	struct seen_folders *s = ctx;

	if (s->n < 32) {
		str_copy(s->names[s->n], sizeof(s->names[0]), f->remote_id);
		s->roles[s->n++] = f->role;
	}
	return 0;
}

static enum mail_role role_of(const struct seen_folders *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return s->roles[i];
	return (enum mail_role)-1;
}

static void test_folders_have_roles_from_special_use(void **state)
{
	struct variant *v = *state;
	struct seen_folders s = { .n = 0 };
	struct err e = { 0 };

	assert_int_equal(driver_list_folders(v->f.d, on_folder, &s, &e), 0);
	assert_int_equal(role_of(&s, "INBOX"), MAIL_ROLE_INBOX);
	assert_int_equal(role_of(&s, "Sent"), MAIL_ROLE_SENT);
	assert_int_equal(role_of(&s, "Drafts"), MAIL_ROLE_DRAFTS);
	assert_int_equal(role_of(&s, "Trash"), MAIL_ROLE_DELETED);
	assert_int_equal(role_of(&s, "Junk"), MAIL_ROLE_JUNK);
	assert_int_equal(role_of(&s, "Archive"), MAIL_ROLE_ARCHIVE);
}

/* ---- a round ------------------------------------------------------------------------ */

static uint32_t uid_of(const char *id)
{
	return (uint32_t)strtoul(strchr(id, ':') + 1, NULL, 10);
}

static char *done_cursor;        /* the Inbox's, for the tests after the round */
static struct mirror inbox;

static void test_round_is_newest_first_then_backfill(void **state)
{
	struct variant *v = *state;
	struct driver_page pg;
	struct err e = { 0 };
	char *next;
	uint32_t last = UINT32_MAX;
	size_t pages = 1;

	assert_int_equal(imap_fixture_seed(&v->f, "INBOX", 1, 230), 0);
	/* the first page: the 50 newest, newest first */
	assert_int_equal(driver_get_changes(v->f.d, "INBOX", NULL, 50, &pg, &e), 0);
	assert_int_equal(pg.n, 50);
	assert_non_null(pg.next_cursor);
	assert_null(pg.done_cursor);
	assert_string_equal(pg.items[0].subject, "Message 230");
	assert_string_equal(pg.items[0].internet_message_id, "<seed-230@test.example>");
	assert_string_equal(pg.items[0].from.address, "carol@fabrikam.example");
	assert_int_equal(pg.items[0].to.n, 1);
	assert_true(pg.items[0].size > 200);
	assert_true(pg.items[0].received_at > 0);
	assert_non_null(strstr(pg.items[0].preview, "lorem") ? pg.items[0].preview
			: strstr(pg.items[0].preview, "ipsum"));
	for (size_t i = 0; i < pg.n; i++) {
		assert_true(uid_of(pg.items[i].remote_id) < last);
		last = uid_of(pg.items[i].remote_id);
		mirror_apply(&inbox, &pg.items[i]);
	}
	next = xstrdup(pg.next_cursor);
	driver_page_free(&pg);
	/* the backfill: older mail, page by page, each message once */
	for (;;) {
		assert_int_equal(driver_get_changes(v->f.d, "INBOX", next, 100, &pg, &e), 0);
		pages++;
		for (size_t i = 0; i < pg.n; i++) {
			assert_true(uid_of(pg.items[i].remote_id) < last);
			last = uid_of(pg.items[i].remote_id);
			mirror_apply(&inbox, &pg.items[i]);
		}
		free(next);
		next = xstrdup(pg.done_cursor ? pg.done_cursor : pg.next_cursor);
		if (pg.done_cursor) {
			driver_page_free(&pg);
			break;
		}
		driver_page_free(&pg);
	}
	done_cursor = next;
	assert_int_equal(pages, 3);
	assert_int_equal(inbox.created, 230);
	assert_int_equal(inbox.updated, 0);
	assert_true(mirror_matches(&v->f, &inbox, "INBOX"));
}

/* Poll the Inbox's done cursor to the next done cursor into the mirror. */
static void poll_inbox(struct variant *v)
{
	struct err e = { 0 };
	char *done;

	assert_int_equal(imap_fixture_round(&v->f, v->f.d, "INBOX", done_cursor, 100,
					    mirror_apply, &inbox, &done, &e), 0);
	free(done_cursor);
	done_cursor = done;
}

static void test_unchanged_folder_polls_empty(void **state)
{
	struct variant *v = *state;
	struct driver_poll p = { .folder_remote_id = "INBOX", .cursor = done_cursor };
	struct err e = { 0 };

	assert_int_equal(driver_poll_changes(v->f.d, &p, 1, 100, &e), 0);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.page.n, 0);
	assert_non_null(p.page.done_cursor);
	driver_page_free(&p.page);
}

static void test_changes_by_another_client_converge(void **state)
{
	struct variant *v = *state;
	struct imap_truth *t;
	size_t n;

	assert_int_equal(imap_client_truth(v->f.other, "INBOX", &t, &n), 0);
	assert_int_equal(n, 230);
	/* new mail, flags both ways, expunges, in one go */
	assert_int_equal(imap_fixture_seed(&v->f, "INBOX", 231, 3), 0);
	assert_int_equal(imap_client_flag(v->f.other, "INBOX", t[10].uid, true, !t[10].seen), 0);
	assert_int_equal(imap_client_flag(v->f.other, "INBOX", t[200].uid, false,
					  !t[200].flagged), 0);
	assert_int_equal(imap_client_expunge(v->f.other, "INBOX", t[5].uid), 0);
	assert_int_equal(imap_client_expunge(v->f.other, "INBOX", t[229].uid), 0);
	free(t);
	poll_inbox(v);
	if (strcmp(v->name, "scan") == 0)
		poll_inbox(v); /* the flag scan covers a few buckets per poll */
	assert_true(mirror_matches(&v->f, &inbox, "INBOX"));
	assert_int_equal(mirror_count(&inbox, "INBOX"), 231);
}

static void test_flag_change_alone_is_found(void **state)
{
	struct variant *v = *state;
	struct imap_truth *t;
	size_t n;

	/* no count changes: only CHANGEDSINCE (or the digest scan) sees it */
	assert_int_equal(imap_client_truth(v->f.other, "INBOX", &t, &n), 0);
	assert_int_equal(imap_client_flag(v->f.other, "INBOX", t[100].uid, true,
					  !t[100].seen), 0);
	free(t);
	for (int i = 0; i < 4; i++)
		poll_inbox(v);
	assert_true(mirror_matches(&v->f, &inbox, "INBOX"));
}

static void test_list_newest_after_a_time(void **state)
{
	struct variant *v = *state;
	struct driver_page pg;
	struct err e = { 0 };

	assert_int_equal(driver_list_newest(v->f.d, "INBOX", 0, 10, &pg, &e), 0);
	assert_int_equal(pg.n, 10);
	assert_null(pg.next_cursor);
	assert_null(pg.done_cursor);
	for (size_t i = 1; i < pg.n; i++)
		assert_true(uid_of(pg.items[i - 1].remote_id) > uid_of(pg.items[i].remote_id));
	assert_string_equal(pg.items[0].subject, "Message 233");
	driver_page_free(&pg);
	/* nothing is newer than the newest */
	assert_int_equal(driver_list_newest(v->f.d, "INBOX", time(NULL) + 3600, 10, &pg, &e), 0);
	assert_int_equal(pg.n, 0);
	driver_page_free(&pg);
}

/* Another client expunges (one message the round has not reached, one it
 * has reported) and delivers while the round goes down page by page:
 * every message still there comes once, and the poll after the round
 * converges. */
static void test_expunges_during_a_round(void **state)
{
	struct variant *v = *state;
	struct mirror arch = { 0 };
	struct imap_truth *t;
	struct driver_page pg;
	struct err e = { 0 };
	size_t n;
	char *next, *done;

	assert_int_equal(imap_fixture_seed(&v->f, "Archive", 1000, 150), 0);
	assert_int_equal(imap_client_truth(v->f.other, "Archive", &t, &n), 0);
	assert_int_equal(n, 150);
	assert_int_equal(driver_get_changes(v->f.d, "Archive", NULL, 50, &pg, &e), 0);
	for (size_t i = 0; i < pg.n; i++)
		mirror_apply(&arch, &pg.items[i]);
	next = xstrdup(pg.next_cursor);
	driver_page_free(&pg);
	assert_int_equal(driver_get_changes(v->f.d, "Archive", next, 60, &pg, &e), 0);
	for (size_t i = 0; i < pg.n; i++)
		mirror_apply(&arch, &pg.items[i]);
	free(next);
	next = xstrdup(pg.next_cursor);
	driver_page_free(&pg);
	assert_int_equal(imap_client_expunge(v->f.other, "Archive", t[10].uid), 0);
	assert_int_equal(imap_client_expunge(v->f.other, "Archive", t[120].uid), 0);
	assert_int_equal(imap_fixture_seed(&v->f, "Archive", 2000, 1), 0);
	for (;;) {
		if (driver_get_changes(v->f.d, "Archive", next, 60, &pg, &e) < 0)
			fprintf(stderr, "round: %s\n", e.msg), fail();
		for (size_t i = 0; i < pg.n; i++)
			mirror_apply(&arch, &pg.items[i]);
		free(next);
		next = xstrdup(pg.done_cursor ? pg.done_cursor : pg.next_cursor);
		if (pg.done_cursor) {
			driver_page_free(&pg);
			break;
		}
		driver_page_free(&pg);
	}
	assert_int_equal(arch.updated, 0);
	if (arch.created < 148 || arch.created > 150)
		fprintf(stderr, "the round reported %lld messages\n", arch.created), fail();
	assert_int_equal(imap_fixture_round(&v->f, v->f.d, "Archive", next, 100, mirror_apply,
					    &arch, &done, &e), 0);
	assert_true(mirror_matches(&v->f, &arch, "Archive"));
	free(done);
	free(next);
	free(t);
	mirror_free(&arch);
}

static void test_cleanup(void **state)
{
	(void)state;
	free(done_cursor);
	done_cursor = NULL;
	mirror_free(&inbox);
}

#define SYNC_TESTS \
	cmocka_unit_test(test_folders_have_roles_from_special_use), \
	cmocka_unit_test(test_round_is_newest_first_then_backfill), \
	cmocka_unit_test(test_unchanged_folder_polls_empty), \
	cmocka_unit_test(test_changes_by_another_client_converge), \
	cmocka_unit_test(test_flag_change_alone_is_found), \
	cmocka_unit_test(test_list_newest_after_a_time), \
	cmocka_unit_test(test_expunges_during_a_round), \
	cmocka_unit_test(test_cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = { SYNC_TESTS };
	const char *only = getenv("IMAP_TEST_VARIANT");
	int failed = 0;

	if (!only || strcmp(only, "qresync") == 0)
		failed += cmocka_run_group_tests_name("qresync", tests, setup_qresync, teardown);
	if (!only || strcmp(only, "condstore") == 0)
		failed += cmocka_run_group_tests_name("condstore", tests, setup_condstore,
						      teardown);
	if (!only || strcmp(only, "scan") == 0)
		failed += cmocka_run_group_tests_name("scan", tests, setup_scan, teardown);
	return failed;
}
