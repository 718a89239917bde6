/*
 * test_imap_peer.c — the IMAP driver against a misbehaving server
 * (tests/support/imap_peer): every bad answer ends in a classified error
 * and a dropped session, never in a crash, unbounded memory or a hang;
 * the next call works again once the server behaves. A literal announced
 * over any cap and an endless line are refused before libetpan allocates
 * for them; an answer over the response cap is refused, and a SEARCH
 * answer over what the mailbox's size allows (libetpan's numbers cost 33
 * times their bytes) well before it; silence is a
 * timeout; a BYE saying the token expired makes the next login use a
 * fresh token (the source is told which one was refused).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/resource.h>
#include "inboxsync/alloc.h"
#include "inboxsync/driver.h"
#include "inboxsync/imap.h"
#include "imap_peer.h"

static struct imap_peer *peer;
static struct driver *drv;
static int token_calls;
static char rejected_seen[64];

static int token_source(void *ctx, const char *resource, const char *rejected,
			char **token, struct err *e)
{
	(void)ctx;
	(void)e;
	(void)resource;
	token_calls++;
	if (rejected)
		str_copy(rejected_seen, sizeof(rejected_seen), rejected);
	*token = xasprintf("token-%d", token_calls);
	return 0;
}

/* A new driver on the peer (nothing connected yet) whose answers may take
 * `max_response` bytes (0: the default, 64 MiB). */
static int open_driver_with(size_t max_response)
{
	const struct imap_driver_opts o = { .io_timeout_ms = 700, .max_response = max_response };
	char server[64];
	struct driver_endpoint ep = {
		.imap_server = server, .smtp_server = "127.0.0.1:1",
		.user = "adele@contoso.com", .auth = { token_source, NULL },
	};
	struct err e = { 0 };

	driver_free(drv);
	snprintf(server, sizeof(server), "127.0.0.1:%d", imap_peer_port(peer));
	return imap_driver_open_with(&ep, &o, &drv, &e);
}

static int open_driver(void)
{
	return open_driver_with((size_t)1 << 20);
}

static int setup(void **state)
{
	(void)state;
	peer = imap_peer_start();
	return peer ? open_driver() : -1;
}

static int teardown(void **state)
{
	(void)state;
	driver_free(drv);
	imap_peer_stop(peer);
	return 0;
}

/* A round's first page: 0, or -1 with `e`. */
static int first_page(struct err *e)
{
	struct driver_page pg;
	int rc = driver_get_changes(drv, "INBOX", NULL, 50, &pg, e);

	if (rc == 0) {
		assert_int_equal(pg.n, 3);
		assert_string_equal(pg.items[0].subject, "peer message");
		assert_string_equal(pg.items[0].internet_message_id, "<peer-3@test.example>");
		driver_page_free(&pg);
	}
	return rc;
}

static void expect_failure(enum imap_peer_fault f, enum err_class class, const char *code)
{
	struct err e = { 0 };

	imap_peer_set_fault(peer, f);
	assert_int_equal(first_page(&e), -1);
	if (e.class != class || !err_is(&e, code))
		fail_msg("fault %d: class %d code %s: %s", f, e.class, e.code, e.msg);
	/* the server behaves again: so does the driver */
	imap_peer_set_fault(peer, IMAP_PEER_OK);
	assert_int_equal(first_page(&e), 0);
}

static long peak_rss_mib(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss / 1024;
}

static int on_found(void *ctx, const char *id, const struct driver_state *s)
{
	(void)id;
	(void)s;
	(*(int *)ctx)++;
	return 0;
}

/* Runs first: the process's peak memory is still that of its start. */
static void test_search_answer_is_bounded_by_the_mailbox(void **state)
{
	long before;
	struct err e = { 0 };
	int found = 0;

	(void)state;
	/* the default response cap (64 MiB): only the SEARCH bound stops it */
	assert_int_equal(open_driver_with(0), 0);
	before = peak_rss_mib();
	imap_peer_set_fault(peer, IMAP_PEER_LARGE_SEARCH);
	assert_int_equal(driver_find_by_message_id(drv, "<x@test.example>", on_found, &found,
						   &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	assert_true(err_is(&e, "bad_response"));
	assert_int_equal(found, 0);
	/* 4 MiB of "1 1 1 ..." parsed would take libetpan about 130 MiB; on
	 * a three-message mailbox the answer is refused after 64 KiB */
	if (peak_rss_mib() - before >= 16)
		fail_msg("a hostile SEARCH answer took the peak from %ld to %ld MiB", before,
			 peak_rss_mib());
	imap_peer_set_fault(peer, IMAP_PEER_OK);
	assert_int_equal(driver_find_by_message_id(drv, "<x@test.example>", on_found, &found,
						   &e), 0);
	assert_int_equal(found, 0);
	assert_int_equal(open_driver(), 0);
}

static void test_a_sane_peer_works(void **state)
{
	struct err e = { 0 };

	(void)state;
	assert_int_equal(first_page(&e), 0);
}

static void test_malformed_answer_is_transient(void **state)
{
	(void)state;
	expect_failure(IMAP_PEER_MALFORMED, ERR_TRANSIENT, "bad_response");
}

static void test_truncated_answer_is_a_lost_connection(void **state)
{
	(void)state;
	expect_failure(IMAP_PEER_TRUNCATED, ERR_TRANSIENT, "network");
}

static void test_huge_literal_is_refused_unread(void **state)
{
	(void)state;
	expect_failure(IMAP_PEER_HUGE_LITERAL, ERR_TRANSIENT, "bad_response");
}

static void test_endless_line_is_refused(void **state)
{
	(void)state;
	expect_failure(IMAP_PEER_ENDLESS_LINE, ERR_TRANSIENT, "bad_response");
}

static void test_answer_over_the_cap_is_refused(void **state)
{
	(void)state;
	expect_failure(IMAP_PEER_LARGE_ANSWER, ERR_TRANSIENT, "bad_response");
}

static void test_silence_is_a_timeout(void **state)
{
	(void)state;
	expect_failure(IMAP_PEER_SILENT, ERR_TRANSIENT, "timeout");
}

static void test_dropped_connection_is_transient(void **state)
{
	(void)state;
	expect_failure(IMAP_PEER_DROP, ERR_TRANSIENT, "network");
}

static void test_refused_login_is_auth_after_a_fresh_token(void **state)
{
	int before;

	(void)state;
	assert_int_equal(open_driver(), 0);
	before = token_calls;
	expect_failure(IMAP_PEER_REFUSE_LOGIN, ERR_AUTH, "imap_auth");
	/* the cached token, then a fresh one, then (server fixed) a login */
	assert_int_equal(token_calls, before + 3);
}

static void test_bye_token_expired_logs_in_with_a_fresh_token(void **state)
{
	struct err e = { 0 };
	char *first, *second;
	int calls, tokens = 0;

	(void)state;
	while ((first = imap_peer_token(peer, tokens)) != NULL) {
		free(first);
		tokens++;
	}
	/* a new driver: its first connection meets the BYE */
	assert_int_equal(open_driver(), 0);
	imap_peer_set_fault(peer, IMAP_PEER_BYE_TOKEN);
	calls = token_calls;
	assert_int_equal(first_page(&e), 0);
	assert_int_equal(imap_peer_connections(peer), 2);
	first = imap_peer_token(peer, tokens);
	second = imap_peer_token(peer, tokens + 1);
	assert_non_null(first);
	assert_non_null(second);
	assert_string_not_equal(first, second);
	/* the source was told which token the server had refused */
	assert_string_equal(rejected_seen, first);
	assert_int_equal(token_calls, calls + 2);
	free(first);
	free(second);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_answer_is_bounded_by_the_mailbox),
		cmocka_unit_test(test_a_sane_peer_works),
		cmocka_unit_test(test_malformed_answer_is_transient),
		cmocka_unit_test(test_truncated_answer_is_a_lost_connection),
		cmocka_unit_test(test_huge_literal_is_refused_unread),
		cmocka_unit_test(test_endless_line_is_refused),
		cmocka_unit_test(test_answer_over_the_cap_is_refused),
		cmocka_unit_test(test_silence_is_a_timeout),
		cmocka_unit_test(test_dropped_connection_is_transient),
		cmocka_unit_test(test_refused_login_is_auth_after_a_fresh_token),
		cmocka_unit_test(test_bye_token_expired_logs_in_with_a_fresh_token),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
