/*
 * test_err.c — classified errors (err.c): set, prefix, clear, class names,
 * code matching, truncation of over-long messages, NULL-safety, remote
 * text escaped on the way in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "inboxsync/err.h"

static int fail_with(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail_with(struct err *e, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = err_vset(e, ERR_AUTH, "invalid_grant", fmt, ap);
	va_end(ap);
	return rc;
}

static void test_set_fills_everything(void **state)
{
	struct err e;

	(void)state;
	memset(&e, 0x5a, sizeof(e));
	assert_int_equal(err_set(&e, ERR_THROTTLED, "throttled",
				 "wait %d s for %s", 30, "work"), -1);
	assert_int_equal(e.class, ERR_THROTTLED);
	assert_string_equal(e.code, "throttled");
	assert_string_equal(e.msg, "wait 30 s for work");
	assert_int_equal(e.retry_after_s, 0);
	assert_int_equal(e.http_status, 0);

	assert_int_equal(err_set(&e, ERR_PERMANENT, NULL, "no code"), -1);
	assert_string_equal(e.code, "");
	assert_string_equal(e.msg, "no code");
}

static void test_vset(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(fail_with(&e, "refresh for %s rejected", "work"), -1);
	assert_int_equal(e.class, ERR_AUTH);
	assert_true(err_is(&e, "invalid_grant"));
	assert_string_equal(e.msg, "refresh for work rejected");
}

static void test_null_err_is_fine(void **state)
{
	(void)state;
	assert_int_equal(err_set(NULL, ERR_BUG, "x", "ignored %d", 1), -1);
	assert_int_equal(err_prefix(NULL, "ctx: "), -1);
	err_clear(NULL);
	assert_false(err_is(NULL, "x"));
}

static void test_long_message_and_code_truncated(void **state)
{
	struct err e;
	char long_text[2000], long_code[200];

	(void)state;
	memset(long_text, 'm', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	memset(long_code, 'c', sizeof(long_code) - 1);
	long_code[sizeof(long_code) - 1] = '\0';
	err_set(&e, ERR_TRANSIENT, long_code, "%s", long_text);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	assert_int_equal(strlen(e.code), sizeof(e.code) - 1);
}

static void test_remote_text_is_escaped(void **state)
{
	struct err e;

	(void)state;
	/* what a server sent lands in messages and codes: never raw */
	err_set(&e, ERR_PERMANENT, "bad\x1b[31m", "Graph said '%s'",
		"\x1b]0;pwned\x07 \xff ok");
	assert_string_equal(e.msg, "Graph said '\\x1b]0;pwned\\x07 \\xff ok'");
	assert_string_equal(e.code, "bad\\x1b[31m");
	err_prefix(&e, "folder %s: ", "In\nbox");
	assert_string_equal(e.msg, "folder In\\nbox: Graph said "
			    "'\\x1b]0;pwned\\x07 \\xff ok'");
	/* an argument may be the message itself */
	err_set(&e, ERR_TRANSIENT, "x", "again: %s", e.msg);
	assert_memory_equal(e.msg, "again: folder In\\nbox:", 22);
}

static void test_prefix(void **state)
{
	struct err e;

	(void)state;
	err_set(&e, ERR_RESYNC, "sync_reset", "delta token expired");
	assert_int_equal(err_prefix(&e, "syncing %s: ", "Inbox"), -1);
	assert_string_equal(e.msg, "syncing Inbox: delta token expired");
	assert_int_equal(e.class, ERR_RESYNC);
	assert_string_equal(e.code, "sync_reset");
	/* the message is not re-read as a format */
	err_set(&e, ERR_BUG, NULL, "%s", "100%s done %n");
	err_prefix(&e, "a: ");
	assert_string_equal(e.msg, "a: 100%s done %n");
}

static void test_prefix_overlong(void **state)
{
	struct err e;
	char big[1500];

	(void)state;
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(&e, ERR_TRANSIENT, "network", "tail");
	err_prefix(&e, "%s", big);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	assert_int_equal(e.msg[0], 'p');

	err_set(&e, ERR_TRANSIENT, "network", "%s", big); /* full message */
	err_prefix(&e, "ctx: ");
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	assert_memory_equal(e.msg, "ctx: ppp", 8);
}

static void test_clear(void **state)
{
	struct err e;

	(void)state;
	err_set(&e, ERR_AUTH, "x", "y");
	e.http_status = 401;
	e.retry_after_s = 5;
	err_clear(&e);
	assert_int_equal(e.class, ERR_NONE);
	assert_string_equal(e.code, "");
	assert_string_equal(e.msg, "");
	assert_int_equal(e.http_status, 0);
	assert_int_equal(e.retry_after_s, 0);
}

static void test_class_names(void **state)
{
	(void)state;
	assert_string_equal(err_class_name(ERR_NONE), "none");
	assert_string_equal(err_class_name(ERR_TRANSIENT), "transient");
	assert_string_equal(err_class_name(ERR_THROTTLED), "throttled");
	assert_string_equal(err_class_name(ERR_AUTH), "auth");
	assert_string_equal(err_class_name(ERR_RESYNC), "resync");
	assert_string_equal(err_class_name(ERR_PERMANENT), "permanent");
	assert_string_equal(err_class_name(ERR_BUG), "bug");
	assert_string_equal(err_class_name((enum err_class)99), "unknown");
	assert_string_equal(err_class_name((enum err_class)-1), "unknown");
}

static void test_is(void **state)
{
	struct err e;

	(void)state;
	err_set(&e, ERR_PERMANENT, "too_large", "x");
	assert_true(err_is(&e, "too_large"));
	assert_false(err_is(&e, "too"));
	assert_false(err_is(&e, "too_large_"));
	assert_false(err_is(&e, NULL));
	err_clear(&e);
	assert_true(err_is(&e, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_fills_everything),
		cmocka_unit_test(test_vset),
		cmocka_unit_test(test_null_err_is_fine),
		cmocka_unit_test(test_long_message_and_code_truncated),
		cmocka_unit_test(test_remote_text_is_escaped),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_prefix_overlong),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_class_names),
		cmocka_unit_test(test_is),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
