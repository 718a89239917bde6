/*
 * test_buf.c — the size-capped buffer (buf.c): growth, the cap at and past
 * the limit (a refused append leaves the buffer as it was), reserving
 * room that later appends use without allocating, reset, detach and
 * printf.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"

static void test_init_allocates_nothing(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	assert_int_equal(b.limit, BUF_DEFAULT_LIMIT);
	assert_string_equal(buf_str(&b), "");
	buf_init(&b, 10);
	assert_int_equal(b.limit, 10);
	buf_free(&b);
}

static void test_growth_keeps_content_and_nul(void **state)
{
	struct buf b;
	size_t total = 0;

	(void)state;
	buf_init(&b, 0);
	for (int i = 0; i < 10000; i++) {
		assert_int_equal(buf_append(&b, "abc", 3, NULL), 0);
		total += 3;
		assert_int_equal(b.len, total);
		assert_true(b.alloc > b.len);
		assert_int_equal(b.data[b.len], '\0');
	}
	for (size_t i = 0; i < total; i++)
		assert_int_equal(b.data[i], "abc"[i % 3]);
	assert_int_equal(strlen(buf_str(&b)), total);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_binary_data_with_nul(void **state)
{
	struct buf b;
	static const char bin[] = { 'a', '\0', 'b', '\0' };

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, bin, sizeof(bin), NULL), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, bin, 4);
	assert_int_equal(b.data[4], '\0');
	assert_int_equal(buf_append(&b, NULL, 0, NULL), 0);
	assert_int_equal(b.len, 4);
	buf_free(&b);
}

static void test_cap_exactly_at_limit(void **state)
{
	struct buf b;
	struct err e;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, "12345", 5, &e), 0);
	assert_int_equal(buf_append(&b, "67890", 5, &e), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(buf_str(&b), "1234567890");
	assert_true(b.alloc <= 11); /* never allocates past limit + NUL */
	assert_int_equal(buf_append(&b, "", 0, &e), 0);
	buf_free(&b);

	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "1234567890", &e), 0);
	assert_int_equal(b.len, 10);
	buf_free(&b);
}

static void test_over_limit_leaves_buffer_unchanged(void **state)
{
	struct buf b;
	struct err e;
	char *before;
	size_t alloc;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "hello", &e), 0);
	alloc = b.alloc;
	before = b.data;
	err_clear(&e);
	assert_int_equal(buf_append(&b, "world!", 6, &e), -1);
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "too_large");
	assert_non_null(strstr(e.msg, "10 bytes"));
	assert_int_equal(b.len, 5);
	assert_int_equal(b.alloc, alloc);
	assert_ptr_equal(b.data, before);
	assert_string_equal(buf_str(&b), "hello");

	assert_int_equal(buf_puts(&b, "0123456789", &e), -1);
	assert_string_equal(buf_str(&b), "hello");
	assert_int_equal(buf_printf(&b, &e, "%s", "123456"), -1);
	assert_string_equal(e.code, "too_large");
	assert_string_equal(buf_str(&b), "hello");
	/* NULL error pointer is fine */
	assert_int_equal(buf_append(&b, "123456", 6, NULL), -1);
	/* and what still fits still fits */
	assert_int_equal(buf_puts(&b, "world", &e), 0);
	assert_string_equal(buf_str(&b), "helloworld");
	buf_free(&b);
}

static void test_huge_append_does_not_overflow(void **state)
{
	struct buf b;
	struct err e;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(buf_puts(&b, "x", &e), 0);
	/* a length that would wrap size_t arithmetic must still be refused */
	assert_int_equal(buf_append(&b, "y", (size_t)-1, &e), -1);
	assert_string_equal(e.code, "too_large");
	assert_int_equal(buf_append(&b, "y", (size_t)-1 - 1, &e), -1);
	assert_int_equal(b.len, 1);
	buf_free(&b);
}

static void test_largest_limit(void **state)
{
	struct buf b;

	(void)state;
	/* SIZE_MAX as "no practical limit": limit + 1 must not wrap to 0 */
	buf_init(&b, (size_t)-1);
	assert_int_equal(buf_puts(&b, "0123456789", NULL), 0);
	assert_int_equal(buf_printf(&b, NULL, "%s", "abcdefghij"), 0);
	assert_string_equal(buf_str(&b), "0123456789abcdefghij");
	assert_true(b.alloc > b.len);
	buf_free(&b);
}

static void test_reset_keeps_allocation_and_limit(void **state)
{
	struct buf b;
	char *p;
	size_t alloc;

	(void)state;
	buf_init(&b, 50);
	buf_reset(&b); /* on an empty buffer: harmless */
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_puts(&b, "some text", NULL), 0);
	p = b.data;
	alloc = b.alloc;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	assert_ptr_equal(b.data, p);
	assert_int_equal(b.alloc, alloc);
	assert_int_equal(b.limit, 50);
	assert_int_equal(buf_puts(&b, "again", NULL), 0);
	assert_string_equal(buf_str(&b), "again");
	buf_free(&b);
	assert_int_equal(b.limit, 50);
}

static void test_detach(void **state)
{
	struct buf b;
	size_t len = 99;
	char *s;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(buf_puts(&b, "payload", NULL), 0);
	s = buf_detach(&b, &len);
	assert_string_equal(s, "payload");
	assert_int_equal(len, 7);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	assert_int_equal(b.limit, 100);
	free(s);

	/* an empty buffer still gives a string the caller can free */
	s = buf_detach(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	s = buf_detach(&b, NULL);
	free(s);
	/* and the buffer is usable again */
	assert_int_equal(buf_puts(&b, "more", NULL), 0);
	assert_string_equal(buf_str(&b), "more");
	buf_free(&b);
}

static void test_printf(void **state)
{
	struct buf b;
	struct err e;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_printf(&b, &e, "%s=%d", "n", 42), 0);
	assert_int_equal(buf_printf(&b, &e, "&%s", ""), 0);
	assert_int_equal(buf_printf(&b, &e, "%s", ""), 0);
	assert_int_equal(buf_printf(&b, &e, "&x=%05.1f", 2.5), 0);
	assert_string_equal(buf_str(&b), "n=42&&x=002.5");
	assert_int_equal(b.len, strlen("n=42&&x=002.5"));
	buf_free(&b);

	/* long output crosses several growth steps */
	buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, &e, "%04d,", i), 0);
	assert_int_equal(b.len, 5000);
	assert_memory_equal(b.data + 4995, "0999,", 5);
	buf_free(&b);

	/* exactly at the limit via printf */
	buf_init(&b, 4);
	assert_int_equal(buf_printf(&b, &e, "%d", 1234), 0);
	assert_int_equal(buf_printf(&b, &e, "%d", 5), -1);
	assert_string_equal(buf_str(&b), "1234");
	buf_free(&b);
}

static void test_reserved_room_takes_appends_without_allocating(void **state)
{
	struct buf b;
	struct err e = { 0 };
	unsigned long before;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(buf_reserve(&b, 100, &e), 0);
	assert_true(b.alloc >= 101);
	assert_int_equal(b.len, 0);
	before = alloc_count();
	for (int i = 0; i < 10; i++)
		assert_int_equal(buf_append(&b, "0123456789", 10, NULL), 0);
	buf_reset(&b);
	assert_int_equal(buf_append(&b, "again", 5, NULL), 0);
	assert_int_equal(alloc_count(), before);
	assert_string_equal(buf_str(&b), "again");
	/* more than the limit cannot be reserved */
	assert_int_equal(buf_reserve(&b, 96, &e), -1);
	assert_string_equal(e.code, "too_large");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_allocates_nothing),
		cmocka_unit_test(test_growth_keeps_content_and_nul),
		cmocka_unit_test(test_binary_data_with_nul),
		cmocka_unit_test(test_cap_exactly_at_limit),
		cmocka_unit_test(test_over_limit_leaves_buffer_unchanged),
		cmocka_unit_test(test_huge_append_does_not_overflow),
		cmocka_unit_test(test_largest_limit),
		cmocka_unit_test(test_reset_keeps_allocation_and_limit),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_reserved_room_takes_appends_without_allocating),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
