/*
 * test_sim_time.c — m365sim's own dates (sim/simtime.c): the formatter
 * against gmtime/strftime, the 7-digit fractions of the date_fractions
 * setting, parsing every form Graph accepts (fractions, offsets, no zone)
 * and refusing the rest; then, over HTTP, pages whose dates carry
 * fractions and $filter bounds with fractions and offsets that select
 * exactly the messages a real Graph would.
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
#include <sodium.h>
#include "sim_harness.h"
#include "simtime.h"

/* The four formats, written by the C library. */
enum fmt { FMT_GRAPH, FMT_HTTP, FMT_OAUTH, FMT_INNER };

static void strftime_utc(int64_t t, enum fmt f, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	switch (f) {
	case FMT_GRAPH:
		strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
		break;
	case FMT_HTTP:
		strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		break;
	case FMT_OAUTH:
		strftime(out, n, "%Y-%m-%d %H:%M:%SZ", &tm);
		break;
	case FMT_INNER:
		strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
		break;
	}
}

static void test_format_matches_strftime(void **state)
{
	const int64_t edges[] = {
		0, 59, 86399, 86400, 951782400 /* 2000-02-29 */, 951868800,
		4107542400LL /* 2100-03-01 */, 1748736000, 253402300799LL,
		-1, -86401, -30610224000LL /* 1000-01-01 */
	};
	char want[SIMTIME_LEN], got[SIMTIME_LEN];
	uint64_t r;

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		strftime_utc(edges[i], FMT_GRAPH, want, sizeof(want));
		simtime_format(edges[i], false, got);
		assert_string_equal(got, want);
	}
	simtime_format(-62135596800LL, false, got);   /* strftime writes "1-01-01" */
	assert_string_equal(got, "0001-01-01T00:00:00Z");
	for (int i = 0; i < 200000; i++) {
		int64_t t;

		randombytes_buf(&r, sizeof(r));
		t = (int64_t)(r % 253402300800ULL);
		strftime_utc(t, FMT_GRAPH, want, sizeof(want));
		simtime_format(t, false, got);
		assert_string_equal(got, want);
		if (i % 1000 == 0) {
			strftime_utc(t, FMT_HTTP, want, sizeof(want));
			simtime_format_http(t, got);
			assert_string_equal(got, want);
			strftime_utc(t, FMT_OAUTH, want, sizeof(want));
			simtime_format_oauth(t, got);
			assert_string_equal(got, want);
			strftime_utc(t, FMT_INNER, want, sizeof(want));
			simtime_format_graph_inner(t, got);
			assert_string_equal(got, want);
		}
	}
}

static void test_fractions_are_seven_digits_and_round_trip(void **state)
{
	char text[SIMTIME_LEN];
	int64_t t, back;
	uint32_t ticks;

	(void)state;
	for (t = 1714557600; t < 1714557600 + 5000; t += 7) {
		simtime_format(t, true, text);
		assert_int_equal(strlen(text), 28);   /* 2024-05-01T10:00:00.1234567Z */
		assert_int_equal(text[19], '.');
		assert_int_equal(text[27], 'Z');
		assert_true(simtime_fraction(t) > 0 && simtime_fraction(t) < SIMTIME_TICKS_PER_S);
		assert_int_equal(simtime_parse(text, &back, &ticks), 0);
		assert_int_equal(back, t);
		assert_int_equal(ticks, simtime_fraction(t));
	}
	simtime_format(1714557600, false, text);
	assert_string_equal(text, "2024-05-01T10:00:00Z");
}

static void test_parse_accepts_what_graph_accepts(void **state)
{
	static const struct {
		const char *text;
		int64_t secs;
		uint32_t ticks;
	} ok[] = {
		{ "2024-05-01T10:00:00Z", 1714557600, 0 },
		{ "2024-05-01T10:00:00.1234567Z", 1714557600, 1234567 },
		{ "2024-05-01T10:00:00.5Z", 1714557600, 5000000 },
		{ "2024-05-01T10:00:00.123456789Z", 1714557600, 1234567 },
		{ "2024-05-01T12:00:00+02:00", 1714557600, 0 },
		{ "2024-05-01T12:00:00.1234567+02:00", 1714557600, 1234567 },
		{ "2024-05-01T04:30:00-05:30", 1714557600, 0 },
		{ "2024-05-01T04:30:00-0530", 1714557600, 0 },
		{ "2024-05-01T10:00:00", 1714557600, 0 },          /* no zone: UTC */
	};
	static const char *const bad[] = {
		"", "2024-05-01", "2024-W18-3T10:00:00Z", "2024-122T10:00:00Z",
		"2024-13-01T10:00:00Z", "2024-05-01T25:00:00Z", "2024-05-01T10:00:00+", 
		"yesterday", "2024-05-01 10:00:00Z x",
	};
	int64_t secs;
	uint32_t ticks;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ticks = 99;
		assert_int_equal(simtime_parse(ok[i].text, &secs, &ticks), 0);
		assert_int_equal(secs, ok[i].secs);
		assert_int_equal(ticks, ok[i].ticks);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(simtime_parse(bad[i], &secs, NULL), -1);
	assert_int_equal(simtime_parse(NULL, &secs, NULL), -1);
}

static void test_bounds_with_fractions(void **state)
{
	const int64_t t = 1714557600;
	const uint32_t f = simtime_fraction(t);

	(void)state;
	/* whole-second dates: a bound of t.x includes t only from below */
	assert_true(simtime_bound_inclusive(t, 0, false, 1, true));         /* ge t */
	assert_false(simtime_bound_inclusive(t, 0, false, 1, false));       /* gt t */
	assert_false(simtime_bound_inclusive(t, 5000000, false, 1, true));  /* ge t.5 */
	assert_true(simtime_bound_inclusive(t, 5000000, false, -1, true));  /* le t.5 */
	assert_true(simtime_bound_inclusive(t, 5000000, false, -1, false)); /* lt t.5 */
	assert_false(simtime_bound_inclusive(t, 0, false, -1, false));      /* lt t */
	/* dates with fractions: t.f against the bound's fraction */
	assert_true(simtime_bound_inclusive(t, f, true, 1, true));
	assert_false(simtime_bound_inclusive(t, f, true, 1, false));
	assert_true(simtime_bound_inclusive(t, f - 1, true, 1, false));
	assert_true(simtime_bound_inclusive(t, 0, true, 1, false));         /* gt t.0 */
	assert_false(simtime_bound_inclusive(t, 0, true, -1, true));        /* le t.0 */
	assert_true(simtime_bound_inclusive(t, f, true, -1, true));
	assert_false(simtime_bound_inclusive(t, f, true, -1, false));
}

/* ---- over HTTP ---- */

static int setup(void **state)
{
	*state = sim_session_start((const char *[]){ "--quiet", "--messages", "60", "--seed", "3", NULL });
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	assert_int_equal(sim_session_stop(*state), 0);
	return 0;
}

/* receivedDateTime of every Inbox message, newest first. */
static json_t *inbox_dates(struct sim_session *s, const char *filter)
{
	struct sim_http r;
	char *url, *enc = filter ? sim_urlencode(filter) : NULL;
	json_t *out = json_array(), *v;
	size_t i;

	assert_true(asprintf(&url, "/v1.0/me/mailFolders/inbox/messages?$top=1000&$select=receivedDateTime%s%s",
			     enc ? "&$filter=" : "", enc ? enc : "") > 0);
	sim_get(&s->h, s->at, url, NULL, &r);
	assert_int_equal(r.status, 200);
	json_array_foreach(json_object_get(r.json, "value"), i, v)
		json_array_append(out, json_object_get(v, "receivedDateTime"));
	sim_http_free(&r);
	free(url);
	free(enc);
	return out;
}

static void test_pages_carry_fractions_when_asked(void **state)
{
	struct sim_session *s = *state;
	struct sim_http r;
	json_t *plain, *frac, *v;
	size_t i;
	const char *date;

	plain = inbox_dates(s, NULL);
	assert_true(json_array_size(plain) > 10);
	json_array_foreach(plain, i, v)
		assert_int_equal(strlen(json_string_value(v)), 20);
	sim_admin(&s->h, "POST", "/_sim/config", "{\"date_fractions\":true}", &r);
	assert_int_equal(r.status, 200);
	assert_true(json_is_true(json_object_get(r.json, "date_fractions")));
	sim_http_free(&r);
	frac = inbox_dates(s, NULL);
	assert_int_equal(json_array_size(frac), json_array_size(plain));
	json_array_foreach(frac, i, v) {
		const char *p = json_string_value(json_array_get(plain, i));

		/* same second, seven digits more */
		assert_int_equal(strlen(json_string_value(v)), 28);
		assert_memory_equal(json_string_value(v), p, 19);
	}
	/* every date property of a message, and of its attachments */
	sim_get(&s->h, s->at, "/v1.0/me/mailFolders/inbox/messages?$top=1&$select=createdDateTime,lastModifiedDateTime,receivedDateTime,sentDateTime", NULL, &r);
	assert_int_equal(r.status, 200);
	v = json_array_get(json_object_get(r.json, "value"), 0);
	for (const char *const *k = (const char *const[]){ "createdDateTime", "lastModifiedDateTime",
							  "receivedDateTime", "sentDateTime", NULL }; *k; k++) {
		date = json_string_value(json_object_get(v, *k));
		assert_non_null(date);
		assert_int_equal(strlen(date), 28);
	}
	sim_http_free(&r);
	/* a $filter bound equal to a message's own date includes it with ge,
	 * excludes it with gt; the same instant written with an offset is the
	 * same bound */
	{
		const char *d = json_string_value(json_array_get(frac, 5));
		char f1[120], f2[120], off[40];
		json_t *ge, *gt, *ge_off;
		int64_t secs;
		uint32_t ticks;
		char local[SIMTIME_LEN];

		snprintf(f1, sizeof(f1), "receivedDateTime ge %s", d);
		snprintf(f2, sizeof(f2), "receivedDateTime gt %s", d);
		ge = inbox_dates(s, f1);
		gt = inbox_dates(s, f2);
		assert_int_equal(json_array_size(ge), 6);
		assert_int_equal(json_array_size(gt), 5);
		assert_int_equal(simtime_parse(d, &secs, &ticks), 0);
		simtime_format(secs + 2 * 3600, false, local);
		snprintf(off, sizeof(off), "%.19s.%07u+02:00", local, ticks);
		snprintf(f1, sizeof(f1), "receivedDateTime ge %s", off);
		ge_off = inbox_dates(s, f1);
		assert_true(json_equal(ge_off, ge));
		json_decref(ge);
		json_decref(gt);
		json_decref(ge_off);
	}
	json_decref(plain);
	json_decref(frac);
	sim_admin(&s->h, "POST", "/_sim/config", "{\"date_fractions\":false}", &r);
	sim_http_free(&r);
}

static void test_filter_fractions_on_whole_second_dates(void **state)
{
	struct sim_session *s = *state;
	json_t *all = inbox_dates(s, NULL), *ge, *le;
	const char *d = json_string_value(json_array_get(all, 3));
	char f[120];

	/* d.5 lies after d: ge excludes the message of second d, le keeps it */
	snprintf(f, sizeof(f), "receivedDateTime ge %.19s.5Z", d);
	ge = inbox_dates(s, f);
	assert_int_equal(json_array_size(ge), 3);
	snprintf(f, sizeof(f), "receivedDateTime le %.19s.5000000Z", d);
	le = inbox_dates(s, f);
	assert_int_equal(json_array_size(le), json_array_size(all) - 3);
	json_decref(ge);
	json_decref(le);
	json_decref(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_matches_strftime),
		cmocka_unit_test(test_fractions_are_seven_digits_and_round_trip),
		cmocka_unit_test(test_parse_accepts_what_graph_accepts),
		cmocka_unit_test(test_bounds_with_fractions),
		cmocka_unit_test_setup_teardown(test_pages_carry_fractions_when_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_fractions_on_whole_second_dates, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
