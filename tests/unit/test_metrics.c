/*
 * test_metrics.c — the metric registry (metrics.c): counters add up per
 * label set, label values are escaped, histograms count into the right
 * buckets, families get one # HELP/# TYPE each, and the output is the
 * Prometheus text format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "inboxsync/metrics.h"

static char *render(void)
{
	struct buf b;
	struct err e;

	buf_init(&b, 1 << 20);
	assert_int_equal(metrics_render(&b, &e), 0);
	return buf_detach(&b, NULL);
}

static void test_counters_add_up_per_label_set(void **state)
{
	char *text;

	(void)state;
	metrics_reset();
	metrics_describe("x_total", "counter", "things");
	metrics_add("x_total", 1, "outcome", "ok", NULL);
	metrics_add("x_total", 2, "outcome", "ok", NULL);
	metrics_add("x_total", 1, "outcome", "failed", NULL);
	metrics_add("y_total", 5, NULL);
	text = render();
	assert_non_null(strstr(text, "# HELP x_total things\n# TYPE x_total counter\n"));
	assert_non_null(strstr(text, "x_total{outcome=\"ok\"} 3\n"));
	assert_non_null(strstr(text, "x_total{outcome=\"failed\"} 1\n"));
	assert_non_null(strstr(text, "\ny_total 5\n"));
	/* one header per family */
	assert_null(strstr(strstr(text, "# TYPE x_total") + 1, "# TYPE x_total"));
	free(text);
}

static void test_label_values_are_escaped(void **state)
{
	char out[64], *text;

	(void)state;
	metrics_escape("a\"b\\c\nd", out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	metrics_reset();
	metrics_add("z_total", 1, "route", "/x\"y", "status", "2xx", NULL);
	text = render();
	assert_non_null(strstr(text, "z_total{route=\"/x\\\"y\",status=\"2xx\"} 1\n"));
	free(text);
}

static void test_histogram_buckets(void **state)
{
	char *text;

	(void)state;
	metrics_reset();
	metrics_observe("lat_seconds", 0.003, "route", "/a", NULL);
	metrics_observe("lat_seconds", 0.2, "route", "/a", NULL);
	metrics_observe("lat_seconds", 30, "route", "/a", NULL);
	text = render();
	assert_non_null(strstr(text, "lat_seconds_bucket{route=\"/a\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(text, "lat_seconds_bucket{route=\"/a\",le=\"0.25\"} 2\n"));
	assert_non_null(strstr(text, "lat_seconds_bucket{route=\"/a\",le=\"10\"} 2\n"));
	assert_non_null(strstr(text, "lat_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(text, "lat_seconds_count{route=\"/a\"} 3\n"));
	assert_non_null(strstr(text, "lat_seconds_sum{route=\"/a\"} 30.203"));
	free(text);
	metrics_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_add_up_per_label_set),
		cmocka_unit_test(test_label_values_are_escaped),
		cmocka_unit_test(test_histogram_buckets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
