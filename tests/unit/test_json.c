/*
 * test_json.c — typed JSON access (json.c): parse errors that name the
 * document, line and column; required and optional getters for every type
 * with the missing, null and wrong-type cases, each naming the field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "inboxsync/json.h"

static const char doc[] =
	"{\n"
	"  \"s\": \"text\",\n"
	"  \"i\": 42,\n"
	"  \"neg\": -9007199254740993,\n"
	"  \"r\": 1.5,\n"
	"  \"t\": true,\n"
	"  \"f\": false,\n"
	"  \"o\": {\"inner\": 1},\n"
	"  \"a\": [1, 2, 3],\n"
	"  \"n\": null,\n"
	"  \"esc\": \"caf\\u00e9 \\\"q\\\"\"\n"
	"}";

static int setup(void **state)
{
	struct err e;
	json_t *v = json_parse_object(doc, sizeof(doc) - 1, "test document", &e);

	if (!v)
		return -1;
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	json_decref(*state);
	return 0;
}

static void assert_bad_json(const struct err *e, const char *needle1,
			    const char *needle2)
{
	assert_int_equal(e->class, ERR_PERMANENT);
	assert_string_equal(e->code, "bad_json");
	if (needle1 && !strstr(e->msg, needle1))
		fail_msg("'%s' not in '%s'", needle1, e->msg);
	if (needle2 && !strstr(e->msg, needle2))
		fail_msg("'%s' not in '%s'", needle2, e->msg);
}

/* ---- parsing ---------------------------------------------------------- */

static void test_parse_error_names_document_line_column(void **state)
{
	static const char bad[] = "{\n  \"a\": 1,\n  \"b\": ,\n}";
	struct err e;

	(void)state;
	assert_null(json_parse_object(bad, sizeof(bad) - 1, "token response", &e));
	assert_bad_json(&e, "token response", "line 3");
	assert_non_null(strstr(e.msg, "column"));
}

static void test_parse_empty_and_null(void **state)
{
	struct err e;

	(void)state;
	assert_null(json_parse_text("", 0, "delta page", &e));
	assert_bad_json(&e, "delta page", "empty");
	assert_null(json_parse_text(NULL, 0, "delta page", &e));
	assert_bad_json(&e, "delta page", NULL);
}

static void test_parse_rejects_trailing_garbage(void **state)
{
	static const char text[] = "{\"a\":1} x";
	struct err e;

	(void)state;
	assert_null(json_parse_object(text, sizeof(text) - 1, "doc", &e));
	assert_bad_json(&e, "doc", "column");
	/* a second document counts as garbage too */
	assert_null(json_parse_object("{}{}", 4, "doc", &e));
	assert_bad_json(&e, "doc", NULL);
}

static void test_parse_respects_length(void **state)
{
	/* only the first `len` bytes count */
	static const char text[] = "{\"a\":1}GARBAGE";
	struct err e;
	json_t *v = json_parse_object(text, 7, "doc", &e);

	(void)state;
	assert_non_null(v);
	json_decref(v);
	assert_null(json_parse_object(text, 6, "doc", &e));
	assert_bad_json(&e, "doc", NULL);
}

static void test_parse_object_rejects_other_types(void **state)
{
	struct err e;

	(void)state;
	assert_null(json_parse_object("[1,2]", 5, "folder list", &e));
	assert_bad_json(&e, "folder list", "an array");
	assert_null(json_parse_object("\"str\"", 5, "folder list", &e));
	assert_bad_json(&e, "folder list", NULL);
	assert_null(json_parse_object("42", 2, "folder list", &e));
	assert_bad_json(&e, "folder list", "an integer, expected a JSON object");
}

static void test_parse_text_accepts_any_value(void **state)
{
	struct err e;
	json_t *v;

	(void)state;
	v = json_parse_text("[1,2]", 5, "doc", &e);
	assert_true(json_is_array(v));
	json_decref(v);
	v = json_parse_text("42", 2, "doc", &e);
	assert_non_null(v);
	assert_true(json_is_integer(v));
	json_decref(v);
	v = json_parse_text("\"s\"", 3, "doc", &e);
	assert_true(json_is_string(v));
	json_decref(v);
}

static void test_parse_rejects_deep_nesting(void **state)
{
	size_t depth = 100000;
	char *text = malloc(2 * depth + 1);
	struct err e;

	(void)state;
	memset(text, '[', depth);
	memset(text + depth, ']', depth);
	text[2 * depth] = '\0';
	assert_null(json_parse_text(text, 2 * depth, "deep", &e));
	assert_bad_json(&e, "deep", NULL);
	free(text);
}

/* `{"value":[UNIT UNIT ... {}]}` of about `size` bytes (heap). */
static char *dense(const char *unit, size_t size, size_t *len)
{
	size_t ul = strlen(unit), n;
	char *text = malloc(size + 64);

	n = (size_t)snprintf(text, 64, "{\"value\":[");
	while (n + ul + 4 < size) {
		memcpy(text + n, unit, ul);
		n += ul;
	}
	memcpy(text + n, "{}]}", 5);
	*len = n + 4;
	return text;
}

/* An answer the response caps allow (4 MiB) but built to multiply in
 * memory (jansson takes about 70 times the bytes of a run of {}) is
 * refused before it takes more than 16 times its length plus 1 MiB;
 * as many bytes of ordinary messages parse. */
static void test_parse_memory_is_bounded_by_the_text(void **state)
{
	size_t len;
	char *text = dense("{},", (size_t)4 << 20, &len);
	json_t *v;
	struct err e;

	(void)state;
	assert_null(json_parse_text(text, len, "the page", &e));
	assert_bad_json(&e, "the page", "memory");
	free(text);
	text = dense("0,", (size_t)4 << 20, &len);
	assert_null(json_parse_text(text, len, "the page", &e));
	assert_bad_json(&e, "the page", "memory");
	free(text);
	text = dense("{\"id\":\"AAMkAGI2TG93AAA=\",\"subject\":\"Quarterly numbers\","
		     "\"isRead\":false,\"from\":{\"emailAddress\":{\"name\":\"Bob\","
		     "\"address\":\"bob@contoso.com\"}}},", (size_t)4 << 20, &len);
	assert_non_null(v = json_parse_object(text, len, "the page", &e));
	assert_true(json_array_size(json_object_get(v, "value")) > 20000);
	json_decref(v);
	free(text);
	/* the budget ends with the parse */
	assert_non_null(v = json_pack("[{},{},{}]"));
	json_decref(v);
}

static void test_parse_rejects_duplicate_keys(void **state)
{
	static const char text[] = "{\"a\":1,\"a\":2}";
	struct err e;

	(void)state;
	assert_null(json_parse_object(text, sizeof(text) - 1, "doc", &e));
	assert_bad_json(&e, "doc", NULL);
}

/* ---- required getters ------------------------------------------------- */

static void test_req_string(void **state)
{
	json_t *o = *state;
	const char *s = NULL;
	struct err e;

	assert_int_equal(json_req_string(o, "s", &s, &e), 0);
	assert_string_equal(s, "text");
	assert_int_equal(json_req_string(o, "esc", &s, &e), 0);
	assert_string_equal(s, "caf\xc3\xa9 \"q\"");
	assert_int_equal(json_req_string(o, "missing", &s, &e), -1);
	assert_bad_json(&e, "\"missing\"", "missing");
	assert_int_equal(json_req_string(o, "n", &s, &e), -1);
	assert_bad_json(&e, "\"n\"", "is null");
	assert_int_equal(json_req_string(o, "i", &s, &e), -1);
	assert_bad_json(&e, "\"i\"", "an integer");
	assert_non_null(strstr(e.msg, "expected a string"));
}

static void test_req_int(void **state)
{
	json_t *o = *state;
	long long v = 0;
	struct err e;

	assert_int_equal(json_req_int(o, "i", &v, &e), 0);
	assert_int_equal(v, 42);
	assert_int_equal(json_req_int(o, "neg", &v, &e), 0);
	assert_true(v == -9007199254740993LL);
	assert_int_equal(json_req_int(o, "missing", &v, &e), -1);
	assert_bad_json(&e, "\"missing\"", "missing");
	assert_int_equal(json_req_int(o, "n", &v, &e), -1);
	assert_bad_json(&e, "\"n\"", "is null");
	assert_int_equal(json_req_int(o, "r", &v, &e), -1);
	assert_bad_json(&e, "\"r\"", "expected an integer");
	assert_int_equal(json_req_int(o, "s", &v, &e), -1);
	assert_bad_json(&e, "\"s\"", "a string");
}

static void test_req_bool(void **state)
{
	json_t *o = *state;
	bool v = false;
	struct err e;

	assert_int_equal(json_req_bool(o, "t", &v, &e), 0);
	assert_true(v);
	assert_int_equal(json_req_bool(o, "f", &v, &e), 0);
	assert_false(v);
	assert_int_equal(json_req_bool(o, "missing", &v, &e), -1);
	assert_bad_json(&e, "\"missing\"", "missing");
	assert_int_equal(json_req_bool(o, "n", &v, &e), -1);
	assert_bad_json(&e, "\"n\"", "is null");
	assert_int_equal(json_req_bool(o, "i", &v, &e), -1);
	assert_bad_json(&e, "\"i\"", "expected a boolean");
}

static void test_req_object(void **state)
{
	json_t *o = *state, *v = NULL;
	long long inner;
	struct err e;

	assert_int_equal(json_req_object(o, "o", &v, &e), 0);
	assert_int_equal(json_req_int(v, "inner", &inner, &e), 0);
	assert_int_equal(inner, 1);
	assert_int_equal(json_req_object(o, "missing", &v, &e), -1);
	assert_bad_json(&e, "\"missing\"", "missing");
	assert_int_equal(json_req_object(o, "n", &v, &e), -1);
	assert_bad_json(&e, "\"n\"", "is null");
	assert_int_equal(json_req_object(o, "a", &v, &e), -1);
	assert_bad_json(&e, "\"a\"", "an array, expected an object");
}

static void test_req_array(void **state)
{
	json_t *o = *state, *v = NULL;
	struct err e;

	assert_int_equal(json_req_array(o, "a", &v, &e), 0);
	assert_int_equal(json_array_size(v), 3);
	assert_int_equal(json_req_array(o, "missing", &v, &e), -1);
	assert_bad_json(&e, "\"missing\"", "missing");
	assert_int_equal(json_req_array(o, "n", &v, &e), -1);
	assert_bad_json(&e, "\"n\"", "is null");
	assert_int_equal(json_req_array(o, "o", &v, &e), -1);
	assert_bad_json(&e, "\"o\"", "an object, expected an array");
}

/* ---- optional getters ------------------------------------------------- */

static void test_opt_string(void **state)
{
	json_t *o = *state;
	const char *s = "junk";
	struct err e;

	assert_int_equal(json_opt_string(o, "s", &s, &e), 0);
	assert_string_equal(s, "text");
	s = "junk";
	assert_int_equal(json_opt_string(o, "missing", &s, &e), 0);
	assert_null(s);
	s = "junk";
	assert_int_equal(json_opt_string(o, "n", &s, &e), 0);
	assert_null(s);
	assert_int_equal(json_opt_string(o, "t", &s, &e), -1);
	assert_bad_json(&e, "\"t\"", "a boolean, expected a string");
}

static void test_opt_int(void **state)
{
	json_t *o = *state;
	long long v = 0;
	struct err e;

	assert_int_equal(json_opt_int(o, "i", 7, &v, &e), 0);
	assert_int_equal(v, 42);
	assert_int_equal(json_opt_int(o, "missing", 7, &v, &e), 0);
	assert_int_equal(v, 7);
	assert_int_equal(json_opt_int(o, "n", -3, &v, &e), 0);
	assert_int_equal(v, -3);
	assert_int_equal(json_opt_int(o, "a", 7, &v, &e), -1);
	assert_bad_json(&e, "\"a\"", "an array, expected an integer");
}

static void test_opt_bool(void **state)
{
	json_t *o = *state;
	bool v = false;
	struct err e;

	assert_int_equal(json_opt_bool(o, "t", false, &v, &e), 0);
	assert_true(v);
	assert_int_equal(json_opt_bool(o, "missing", true, &v, &e), 0);
	assert_true(v);
	assert_int_equal(json_opt_bool(o, "n", false, &v, &e), 0);
	assert_false(v);
	assert_int_equal(json_opt_bool(o, "s", false, &v, &e), -1);
	assert_bad_json(&e, "\"s\"", "a string, expected a boolean");
}

static void test_opt_object(void **state)
{
	json_t *o = *state, *v = NULL;
	struct err e;

	assert_int_equal(json_opt_object(o, "o", &v, &e), 0);
	assert_true(json_is_object(v));
	assert_int_equal(json_opt_object(o, "missing", &v, &e), 0);
	assert_null(v);
	assert_int_equal(json_opt_object(o, "n", &v, &e), 0);
	assert_null(v);
	assert_int_equal(json_opt_object(o, "r", &v, &e), -1);
	assert_bad_json(&e, "\"r\"", "a number, expected an object");
}

static void test_opt_array(void **state)
{
	json_t *o = *state, *v = NULL;
	struct err e;

	assert_int_equal(json_opt_array(o, "a", &v, &e), 0);
	assert_true(json_is_array(v));
	assert_int_equal(json_opt_array(o, "missing", &v, &e), 0);
	assert_null(v);
	assert_int_equal(json_opt_array(o, "n", &v, &e), 0);
	assert_null(v);
	assert_int_equal(json_opt_array(o, "s", &v, &e), -1);
	assert_bad_json(&e, "\"s\"", "a string, expected an array");
}

static void test_getters_on_non_object(void **state)
{
	json_t *arr = json_array();
	const char *s;
	long long i;
	struct err e;

	(void)state;
	assert_int_equal(json_req_string(arr, "x", &s, &e), -1);
	assert_bad_json(&e, "\"x\"", NULL);
	assert_int_equal(json_req_int(NULL, "x", &i, &e), -1);
	assert_int_equal(json_opt_string(NULL, "x", &s, &e), 0);
	assert_null(s);
	assert_int_equal(json_opt_int(arr, "x", 5, &i, &e), 0);
	assert_int_equal(i, 5);
	json_decref(arr);
}

static void test_str_or_null(void **state)
{
	json_t *o = *state;

	assert_string_equal(json_str_or_null(o, "s"), "text");
	assert_null(json_str_or_null(o, "i"));
	assert_null(json_str_or_null(o, "n"));
	assert_null(json_str_or_null(o, "missing"));
	assert_null(json_str_or_null(NULL, "s"));
}

static void test_dump_compact(void **state)
{
	json_t *o = *state, *v;
	char *s;

	assert_int_equal(json_req_object(o, "o", &v, NULL), 0);
	s = json_dump_compact(v);
	assert_string_equal(s, "{\"inner\":1}");
	free(s);
	v = json_string("x");
	s = json_dump_compact(v);
	assert_string_equal(s, "\"x\"");
	free(s);
	json_decref(v);
	s = json_dump_compact(json_null());
	assert_string_equal(s, "null");
	free(s);
}

static void test_null_err_pointer(void **state)
{
	json_t *o = *state;
	const char *s;

	assert_int_equal(json_req_string(o, "missing", &s, NULL), -1);
	assert_int_equal(json_req_string(o, "i", &s, NULL), -1);
	assert_null(json_parse_text("{", 1, "doc", NULL));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_error_names_document_line_column),
		cmocka_unit_test(test_parse_empty_and_null),
		cmocka_unit_test(test_parse_rejects_trailing_garbage),
		cmocka_unit_test(test_parse_respects_length),
		cmocka_unit_test(test_parse_object_rejects_other_types),
		cmocka_unit_test(test_parse_text_accepts_any_value),
		cmocka_unit_test(test_parse_rejects_deep_nesting),
		cmocka_unit_test(test_parse_memory_is_bounded_by_the_text),
		cmocka_unit_test(test_parse_rejects_duplicate_keys),
		T(test_req_string),
		T(test_req_int),
		T(test_req_bool),
		T(test_req_object),
		T(test_req_array),
		T(test_opt_string),
		T(test_opt_int),
		T(test_opt_bool),
		T(test_opt_object),
		T(test_opt_array),
		cmocka_unit_test(test_getters_on_non_object),
		T(test_str_or_null),
		T(test_dump_compact),
		T(test_null_err_pointer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
