/*
 * test_imap_faults.c — what goes wrong between the IMAP driver and a real
 * Dovecot, and what the driver does: a folder renumbered (UIDVALIDITY) is
 * ERR_RESYNC and the new round brings every message again under its new
 * id; a connection dropped by the server is re-opened without the caller
 * noticing; a token that expired mid-session is replaced by a fresh one
 * at the next login (one refresh, one extra login); a revoked grant is
 * ERR_AUTH after a single refused login per call; a server that is down
 * is ERR_TRANSIENT.
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
static char *cursor;

static int setup(void **state)
{
	static const struct dovecot_opts dv = { 0 };
	struct err e = { 0 };

	(void)state;
	if (imap_fixture_start(&fx, &dv, NULL) < 0 || imap_fixture_seed(&fx, "INBOX", 1, 20) < 0)
		return -1;
	if (imap_fixture_round(&fx, fx.d, "INBOX", NULL, 8, NULL, NULL, &cursor, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	imap_fixture_stop(&fx);
	free(cursor);
	return 0;
}

static void sim_post(const char *path)
{
	struct sim_http r;

	assert_int_equal(sim_admin(&fx.sim, "POST", path, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	sim_http_free(&r);
}

static void collect_ids(void *ctx, const struct mail_message *m)
{
	struct mirror *mr = ctx;

	mirror_apply(mr, m);
}

static void test_uidvalidity_reset_is_resync_then_a_new_round(void **state)
{
	struct driver_page pg;
	struct mirror fresh = { 0 };
	struct err e = { 0 };
	uint32_t before = imap_client_uidvalidity(fx.other, "INBOX");
	long long total = -1;
	char *done;

	(void)state;
	assert_int_equal(dovecot_reset_uidvalidity(&fx.dove, FIXTURE_USER, "INBOX",
						   before + 1000), 0);
	assert_int_equal(driver_get_changes(fx.d, "INBOX", cursor, 100, &pg, &e), -1);
	assert_int_equal(e.class, ERR_RESYNC);
	assert_string_equal(e.code, "uidvalidity_changed");
	/* the new round: every message again, under ids of the new numbering */
	assert_int_equal(imap_fixture_round(&fx, fx.d, "INBOX", NULL, 8, collect_ids, &fresh,
					    &done, &e), 0);
	assert_int_equal(fresh.n, 20);
	assert_true(mirror_matches(&fx, &fresh, "INBOX"));
	/* what the engine asks before a reconciliation deletes most of a folder */
	assert_int_equal(driver_count_messages(fx.d, "INBOX", &total, &e), 0);
	assert_int_equal(total, 20);
	assert_int_equal(driver_count_messages(fx.d, "Nowhere", &total, &e), -1);
	assert_string_equal(e.code, "folder_gone");
	for (size_t i = 0; i < fresh.n; i++)
		assert_int_equal(strtoul(fresh.rows[i].id, NULL, 10), before + 1000);
	mirror_free(&fresh);
	free(cursor);
	cursor = done;
}

static void test_dropped_connection_is_reopened(void **state)
{
	struct driver_page pg;
	struct err e = { 0 };
	int logins = imap_driver_logins(fx.d);

	(void)state;
	assert_int_equal(imap_fixture_kick(&fx), 0);
	assert_int_equal(imap_fixture_seed(&fx, "INBOX", 21, 1), 0);
	assert_int_equal(driver_get_changes(fx.d, "INBOX", cursor, 100, &pg, &e), 0);
	assert_int_equal(pg.n, 1);
	assert_string_equal(pg.items[0].subject, "Message 21");
	free(cursor);
	cursor = xstrdup(pg.done_cursor);
	driver_page_free(&pg);
	assert_int_equal(imap_driver_logins(fx.d), logins + 1);
	assert_int_equal(fx.refreshes, 0);
}

static void test_token_expired_mid_session_is_refreshed_at_the_next_login(void **state)
{
	struct driver_page pg;
	struct err e = { 0 };
	int logins = imap_driver_logins(fx.d);

	(void)state;
	sim_post("/_sim/users/" FIXTURE_USER "/expire-tokens");
	/* the session goes on: Dovecot checked the token at the login */
	assert_int_equal(driver_get_changes(fx.d, "INBOX", cursor, 100, &pg, &e), 0);
	driver_page_free(&pg);
	assert_int_equal(fx.refreshes, 0);
	/* the server ends the session; the next login needs a fresh token */
	assert_int_equal(imap_fixture_kick(&fx), 0);
	assert_int_equal(driver_get_changes(fx.d, "INBOX", cursor, 100, &pg, &e), 0);
	driver_page_free(&pg);
	assert_int_equal(fx.refreshes, 1);
	assert_int_equal(imap_driver_logins(fx.d), logins + 1);
}

static void test_revoked_grant_is_auth_after_one_refused_login(void **state)
{
	struct driver_page pg;
	struct err e = { 0 };
	int refused = dovecot_log_count(&fx.dove, "auth failed");

	(void)state;
	(void)refused;
	sim_post("/_sim/users/" FIXTURE_USER "/revoke");
	sim_post("/_sim/users/" FIXTURE_USER "/expire-tokens");
	assert_int_equal(imap_fixture_kick(&fx), 0);
	for (int call = 1; call <= 2; call++) {
		int calls = fx.token_calls;

		assert_int_equal(driver_get_changes(fx.d, "INBOX", cursor, 100, &pg, &e), -1);
		assert_int_equal(e.class, ERR_AUTH);
		/* the cached token, refused; the source asked once more, and it
		 * could not refresh: no further login */
		assert_int_equal(fx.token_calls, calls + 2);
	}
}

static void test_server_down_is_transient(void **state)
{
	struct driver_page pg;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(dovecot_stop(&fx.dove) >= -1, 1);
	assert_int_equal(driver_get_changes(fx.d, "INBOX", cursor, 100, &pg, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	assert_string_equal(e.code, "network");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uidvalidity_reset_is_resync_then_a_new_round),
		cmocka_unit_test(test_dropped_connection_is_reopened),
		cmocka_unit_test(test_token_expired_mid_session_is_refreshed_at_the_next_login),
		cmocka_unit_test(test_revoked_grant_is_auth_after_one_refused_login),
		cmocka_unit_test(test_server_down_is_transient),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
