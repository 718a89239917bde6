/*
 * test_timeutil.c — clocks and timestamps (timeutil.c): RFC 3339 variants
 * Graph and HTTP servers send (fractions, offsets, "Z", none), invalid
 * inputs refused, formatting, HTTP dates in all three forms, fake "now".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "inboxsync/timeutil.h"

#define T0 1736392508LL /* 2025-01-09T03:15:08Z */

static int64_t parse_ok(const char *s)
{
	int64_t t = -12345;

	if (time_parse_rfc3339(s, &t) != 0)
		fail_msg("'%s' was refused", s);
	return t;
}

static void test_rfc3339_basic_and_fractions(void **state)
{
	(void)state;
	assert_true(parse_ok("2025-01-09T03:15:08Z") == T0);
	assert_true(parse_ok("2025-01-09T03:15:08.1Z") == T0);
	assert_true(parse_ok("2025-01-09T03:15:08.1234567Z") == T0);
	assert_true(parse_ok("2025-01-09T03:15:08.999999999999Z") == T0);
	assert_true(parse_ok("2025-01-09t03:15:08z") == T0);
	assert_true(parse_ok("2025-01-09 03:15:08Z") == T0);
	/* Graph sometimes omits the zone: it means UTC */
	assert_true(parse_ok("2025-01-09T03:15:08") == T0);
	assert_true(parse_ok("2025-01-09T03:15:08.123") == T0);
	assert_true(parse_ok("1970-01-01T00:00:00Z") == 0);
	assert_true(parse_ok("1969-12-31T23:59:59Z") == -1);
}

static void test_rfc3339_offsets(void **state)
{
	(void)state;
	assert_true(parse_ok("2025-01-09T05:15:08+02:00") == T0);
	assert_true(parse_ok("2025-01-09T05:15:08.5+02:00") == T0);
	assert_true(parse_ok("2025-01-08T21:45:08-05:30") == T0);
	assert_true(parse_ok("2025-01-09T03:15:08+00:00") == T0);
	assert_true(parse_ok("2025-01-09T03:15:08-00:00") == T0);
	/* an offset that crosses a year boundary */
	assert_true(parse_ok("2024-12-31T23:00:00-01:00") ==
		    parse_ok("2025-01-01T00:00:00Z"));
}

static void test_rfc3339_calendar(void **state)
{
	(void)state;
	assert_true(parse_ok("2024-02-29T12:00:00Z") == 1709208000LL);
	/* a leap second is read as the next second */
	assert_true(parse_ok("2016-12-31T23:59:60Z") == 1483228800LL);
}

static void test_rfc3339_invalid(void **state)
{
	static const char *const bad[] = {
		"", "2025", "2025-01-09", "2025-01-09T", "2025-01-09T03:15Z",
		"2025-1-09T03:15:08Z", "2025-01-9T03:15:08Z", "25-01-09T03:15:08Z",
		"2025/01/09T03:15:08Z", "2025-01-09X03:15:08Z",
		"2025-00-09T03:15:08Z", "2025-13-09T03:15:08Z",
		"2025-01-00T03:15:08Z", "2025-01-32T03:15:08Z",
		"2025-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
		"2025-04-31T00:00:00Z",
		"2025-01-09T24:00:00Z", "2025-01-09T03:60:08Z",
		"2025-01-09T03:15:61Z", "2025-01-09T03:15:08.Z",
		"2025-01-09T03:15:08.", "2025-01-09T03:15:08+0200",
		"2025-01-09T03:15:08+02", "2025-01-09T03:15:08+24:00",
		"2025-01-09T03:15:08+02:60", "2025-01-09T03:15:08Zjunk",
		"2025-01-09T03:15:08 Z", " 2025-01-09T03:15:08Z",
		"2025-01-09T03:15:08ZZ", "2025-01-09T-3:15:08Z",
		"abcd-ef-ghTij:kl:mnZ",
	};
	int64_t t = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (time_parse_rfc3339(bad[i], &t) != -1)
			fail_msg("'%s' was accepted", bad[i]);
	assert_int_equal(time_parse_rfc3339(NULL, &t), -1);
	assert_int_equal(t, 77); /* untouched on failure */
}

static void test_format(void **state)
{
	char out[TIME_RFC3339_LEN];

	(void)state;
	time_format_rfc3339(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	time_format_rfc3339(T0, out);
	assert_string_equal(out, "2025-01-09T03:15:08Z");
	time_format_rfc3339(1709208000LL, out);
	assert_string_equal(out, "2024-02-29T12:00:00Z");
	time_format_rfc3339(-1, out);
	assert_string_equal(out, "1969-12-31T23:59:59Z");
}

static void test_format_parse_round_trip(void **state)
{
	char out[TIME_RFC3339_LEN];

	(void)state;
	for (int64_t t = -86400LL * 365; t < 4102444800LL; t += 86400LL * 7 + 3601) {
		time_format_rfc3339(t, out);
		assert_true(parse_ok(out) == t);
	}
}

static void test_http_dates(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_int_equal(time_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
	assert_true(t == 784111777LL);
	t = 0;
	assert_int_equal(time_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", &t), 0);
	assert_true(t == 784111777LL);
	t = 0;
	assert_int_equal(time_parse_http_date("Sun Nov  6 08:49:37 1994", &t), 0);
	assert_true(t == 784111777LL);
	assert_int_equal(time_parse_http_date("Thu, 09 Jan 2025 03:15:08 GMT", &t), 0);
	assert_true(t == T0);

	t = 5;
	assert_int_equal(time_parse_http_date("", &t), -1);
	assert_int_equal(time_parse_http_date(NULL, &t), -1);
	assert_int_equal(time_parse_http_date("not a date at all", &t), -1);
	assert_int_equal(t, 5);
}

static void test_fake_now(void **state)
{
	int64_t real;

	(void)state;
	real = time_now();
	assert_true(real > T0);
	time_set_fake_now(1000);
	assert_true(time_now() == 1000);
	time_set_fake_now(0);
	assert_true(time_now() >= real);
}

static void test_monotonic_and_sleep(void **state)
{
	int64_t a, b;

	(void)state;
	a = time_mono_ms();
	time_sleep_ms(30);
	b = time_mono_ms();
	assert_true(b - a >= 30);
	assert_true(b - a < 5000);
	time_sleep_ms(0);
	time_sleep_ms(-5); /* returns at once */
	assert_true(time_mono_ms() - b < 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_basic_and_fractions),
		cmocka_unit_test(test_rfc3339_offsets),
		cmocka_unit_test(test_rfc3339_calendar),
		cmocka_unit_test(test_rfc3339_invalid),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_parse_round_trip),
		cmocka_unit_test(test_http_dates),
		cmocka_unit_test(test_fake_now),
		cmocka_unit_test(test_monotonic_and_sleep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
