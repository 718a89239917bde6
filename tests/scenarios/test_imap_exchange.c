/*
 * test_imap_exchange.c — the IMAP driver on a Dovecot that looks like
 * Exchange Online's IMAP: its capabilities (no CONDSTORE, QRESYNC,
 * SPECIAL-USE or ENABLE) and folder names ("Sent Items", "Deleted Items",
 * "Junk Email", "Archive"). Roles come from the names; a round and the
 * digest-scan polls keep the Inbox exact; IDLE on the second connection
 * wakes up for another client's new mail and stays asleep otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>
#include "inboxsync/alloc.h"
#include "imap_fixture.h"

static struct imap_fixture fx;

static int setup(void **state)
{
	static const struct dovecot_opts dv = { .exchange_like = true };

	(void)state;
	return imap_fixture_start(&fx, &dv, NULL);
}

static int teardown(void **state)
{
	(void)state;
	imap_fixture_stop(&fx);
	return 0;
}

struct roles {
	enum mail_role inbox, sent, deleted, junk, archive, drafts;
	int folders;
};

static int on_folder(void *ctx, const struct mail_folder *f)
{
	static const struct {
		const char *name;
		size_t offset;
	} names[] = {
		{ "INBOX", offsetof(struct roles, inbox) },
		{ "Sent Items", offsetof(struct roles, sent) },
		{ "Deleted Items", offsetof(struct roles, deleted) },
		{ "Junk Email", offsetof(struct roles, junk) },
		{ "Archive", offsetof(struct roles, archive) },
		{ "Drafts", offsetof(struct roles, drafts) },
	};
	struct roles *r = ctx;

	r->folders++;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(f->remote_id, names[i].name) == 0)
			*(enum mail_role *)((char *)r + names[i].offset) = f->role;
	assert_string_equal(f->parent_remote_id, "");
	assert_true(f->total >= 0);
	return 0;
}

static void test_roles_come_from_exchange_names(void **state)
{
	struct roles r = { .folders = 0 };
	struct err e = { 0 };

	(void)state;
	assert_int_equal(driver_list_folders(fx.d, on_folder, &r, &e), 0);
	assert_int_equal(r.folders, 6);
	assert_int_equal(r.inbox, MAIL_ROLE_INBOX);
	assert_int_equal(r.sent, MAIL_ROLE_SENT);
	assert_int_equal(r.deleted, MAIL_ROLE_DELETED);
	assert_int_equal(r.junk, MAIL_ROLE_JUNK);
	assert_int_equal(r.archive, MAIL_ROLE_ARCHIVE);
	assert_int_equal(r.drafts, MAIL_ROLE_DRAFTS);
}

static void test_sync_without_condstore_stays_exact(void **state)
{
	struct mirror mr = { 0 };
	struct imap_truth *t;
	struct err e = { 0 };
	char *cursor, *done;
	size_t n;

	(void)state;
	assert_int_equal(imap_fixture_seed(&fx, "INBOX", 1, 40), 0);
	assert_int_equal(imap_fixture_round(&fx, fx.d, "INBOX", NULL, 15, mirror_apply, &mr,
					    &cursor, &e), 0);
	assert_non_null(strstr(cursor, ";s;")); /* the digest-scan mode */
	assert_true(mirror_matches(&fx, &mr, "INBOX"));
	assert_int_equal(imap_client_truth(imap_fixture_other(&fx), "INBOX", &t, &n), 0);
	assert_int_equal(imap_client_flag(fx.other, "INBOX", t[3].uid, false, true), 0);
	assert_int_equal(imap_client_expunge(fx.other, "INBOX", t[7].uid), 0);
	assert_int_equal(imap_client_move(fx.other, "INBOX", t[9].uid, "Archive", NULL), 0);
	free(t);
	assert_int_equal(imap_fixture_round(&fx, fx.d, "INBOX", cursor, 100, mirror_apply, &mr,
					    &done, &e), 0);
	assert_true(mirror_matches(&fx, &mr, "INBOX"));
	assert_int_equal(mirror_count(&mr, "INBOX"), 38);
	free(cursor);
	free(done);
	mirror_free(&mr);
}

/* Another client, a moment after the wait began, delivers a message. */
static void *deliver_later(void *arg)
{
	struct imap_client *c;
	size_t len;
	char *mime = dovecot_sample_message(FIXTURE_USER, 100, 100, &len);
	long ok = 0;

	(void)arg;
	usleep(300000);
	c = imap_client_connect(fx.dove.imap_port, FIXTURE_USER, fx.access);
	if (c && imap_client_append(c, "INBOX", mime, len, false, false, NULL) == 0)
		ok = 1;
	imap_client_close(c);
	free(mime);
	return (void *)ok;
}

static void test_idle_wakes_for_new_mail_only(void **state)
{
	struct err e = { 0 };
	int logins = imap_driver_logins(fx.d);
	pthread_t other;
	void *delivered;

	(void)state;
	/* nothing happens: the wait ends quietly */
	assert_int_equal(imap_driver_wait(fx.d, "INBOX", 1500, &e), 0);
	/* another client delivers: the wait ends with "changed" */
	assert_int_equal(pthread_create(&other, NULL, deliver_later, NULL), 0);
	assert_int_equal(imap_driver_wait(fx.d, "INBOX", 30000, &e), 1);
	assert_int_equal(pthread_join(other, &delivered), 0);
	assert_true(delivered != NULL);
	/* the second connection logged in once and is kept */
	assert_int_equal(imap_driver_logins(fx.d), logins + 1);
	assert_int_equal(imap_driver_wait(fx.d, "INBOX", 500, &e), 0);
	assert_int_equal(imap_driver_logins(fx.d), logins + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles_come_from_exchange_names),
		cmocka_unit_test(test_sync_without_condstore_stays_exact),
		cmocka_unit_test(test_idle_wakes_for_new_mail_only),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
