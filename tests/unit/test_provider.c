/*
 * test_provider.c — provider settings: defaults, transport lists, the
 * validation messages, and the "OAuth not configured" gate naming what
 * the administrator must do (missing, disabled, transport disabled).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "inboxsync/provider.h"

static void test_transport_lists(void **state)
{
	struct err e = { 0 };
	unsigned mask;

	(void)state;
	assert_int_equal(provider_parse_transports("graph,imap", &mask, &e), 0);
	assert_int_equal(mask, STORE_TRANSPORT_GRAPH | STORE_TRANSPORT_IMAP);
	assert_int_equal(provider_parse_transports("imap", &mask, &e), 0);
	assert_string_equal(provider_transports_str(mask), "imap");
	assert_int_equal(provider_parse_transports("graph,pop3", &mask, &e), -1);
	assert_string_equal(e.code, "usage");
	assert_non_null(strstr(e.msg, "pop3"));
	assert_int_equal(provider_parse_transports(",", &mask, &e), -1);
	assert_int_equal(provider_parse_transports("", &mask, &e), -1);
}

static void test_validate(void **state)
{
	struct store_provider p;
	struct err e = { 0 };

	(void)state;
	provider_defaults(&p);
	assert_int_equal(provider_validate(&p, &e), -1); /* no client id */
	assert_non_null(strstr(e.msg, "client id"));
	snprintf(p.client_id, sizeof(p.client_id), "app");
	assert_int_equal(provider_validate(&p, &e), 0);
	snprintf(p.graph_url, sizeof(p.graph_url), "http://graph.example.com/v1.0");
	assert_int_equal(provider_validate(&p, &e), -1);
	assert_string_equal(e.code, "usage");
	snprintf(p.graph_url, sizeof(p.graph_url), "http://127.0.0.1:8080/v1.0");
	assert_int_equal(provider_validate(&p, &e), 0);
	snprintf(p.tenant, sizeof(p.tenant), "bad/tenant");
	assert_int_equal(provider_validate(&p, &e), -1);
	snprintf(p.tenant, sizeof(p.tenant), "common");
	p.imap_port = 70000;
	assert_int_equal(provider_validate(&p, &e), -1);
}

static void test_require_names_what_is_missing(void **state)
{
	char dir[] = "/tmp/inboxsync-prov-XXXXXX", path[64];
	struct store_provider p;
	struct store *st;
	struct err e = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.db", dir);
	assert_int_equal(store_open(path, &st, &e), 0);
	assert_int_equal(provider_require(st, "graph", NULL, &e), -1);
	assert_string_equal(e.code, "oauth_not_configured");
	assert_non_null(strstr(e.msg, "OAuth not configured"));
	assert_int_equal(e.fix, FIX_CONFIGURE_PROVIDER);
	assert_non_null(strstr(e.fix_arg, "client ID"));
	provider_defaults(&p);
	snprintf(p.client_id, sizeof(p.client_id), "app");
	p.transports = STORE_TRANSPORT_GRAPH;
	assert_int_equal(store_put_provider(st, &p, &e), 0);
	assert_int_equal(provider_require(st, "graph", NULL, &e), 0);
	assert_int_equal(provider_require(st, "imap", NULL, &e), -1);
	assert_non_null(strstr(e.msg, "IMAP OAuth2 transport is not enabled"));
	assert_int_equal(e.fix, FIX_ENABLE_TRANSPORT);
	assert_string_equal(e.fix_arg, "imap");
	p.enabled = false;
	assert_int_equal(store_put_provider(st, &p, &e), 0);
	assert_int_equal(provider_require(st, "graph", NULL, &e), -1);
	assert_non_null(strstr(e.msg, "disabled"));
	assert_int_equal(e.fix, FIX_ENABLE_PROVIDER);
	store_close(st);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transport_lists),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_require_names_what_is_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
