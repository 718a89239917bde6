/*
 * test_store_sealed.c — every sealed value of the store, listed and
 * rewritten for key rotation (store_list_sealed, store_replace_sealed),
 * whichever backend is behind store.h: all five kinds are found, values
 * already under a key are left out, the limit holds, and a rewrite is a
 * compare and swap that never overwrites a value changed meanwhile nor
 * touches the row's other columns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inboxsync/provider.h"
#include "inboxsync/store.h"
#include "inboxsync/timeutil.h"
#include "store_fixture.h"

#define OLD "v1:0000aaaa:"
#define NEW "v1:1111bbbb:"

struct fixture {
	struct store_fixture sf;
	struct store *st;
	int64_t account;
};

/* A store holding one sealed value of each kind, all under OLD. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_account a = { 0 };
	struct store_provider p;
	struct store_oauth_state os = { 0 };
	struct store_webhook w = { 0 };
	struct err e = { 0 };

	assert_int_equal(store_fixture_new(&f->sf, "sealed"), 0);
	assert_int_equal(store_open(f->sf.location, &f->st, &e), 0);
	provider_defaults(&p);
	snprintf(p.client_id, sizeof(p.client_id), "app-1");
	p.client_secret_sealed = strdup(OLD "client-secret");
	assert_int_equal(store_put_provider(f->st, &p, &e), 0);
	store_provider_clear(&p);
	snprintf(a.name, sizeof(a.name), "work");
	snprintf(a.email, sizeof(a.email), "adele@contoso.com");
	snprintf(a.transport, sizeof(a.transport), "graph");
	assert_int_equal(store_add_account(f->st, &a, &e), 0);
	f->account = a.id;
	assert_int_equal(store_put_refresh_token(f->st, a.id, OLD "refresh", "Mail.Read", &e), 0);
	assert_int_equal(store_put_access_token(f->st, a.id, "graph", OLD "access",
						time_now() + 3600, &e), 0);
	snprintf(os.state, sizeof(os.state), "state-1");
	os.account_id = a.id;
	os.verifier_sealed = OLD "verifier";
	snprintf(os.redirect_uri, sizeof(os.redirect_uri), "http://127.0.0.1:1/callback");
	os.expires_at = time_now() + 600;
	assert_int_equal(store_put_oauth_state(f->st, &os, &e), 0);
	w.user_id = 1;
	snprintf(w.url, sizeof(w.url), "https://hooks.example.com/in");
	w.secret_sealed = OLD "webhook";
	assert_int_equal(store_add_webhook(f->st, &w, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	store_fixture_free(&f->sf);
	free(f);
	return 0;
}

/* The entry of `kind` in a list, or NULL. */
static const struct store_sealed *find(const struct store_sealed *list, size_t n,
				       const char *kind)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].kind, kind) == 0)
			return &list[i];
	return NULL;
}

static void test_lists_every_kind(void **state)
{
	static const struct {
		const char *kind, *sealed;
	} want[] = {
		{ "provider_secret", OLD "client-secret" }, { "refresh_token", OLD "refresh" },
		{ "access_token", OLD "access" }, { "oauth_state", OLD "verifier" },
		{ "webhook_secret", OLD "webhook" },
	};
	struct fixture *f = *state;
	struct store_sealed *list;
	struct err e = { 0 };
	size_t n;

	assert_int_equal(store_list_sealed(f->st, NULL, 100, &list, &n, &e), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct store_sealed *s = find(list, n, want[i].kind);

		if (!s)
			fail_msg("no %s listed", want[i].kind);
		assert_string_equal(s->sealed, want[i].sealed);
		assert_non_null(s->row);
	}
	store_sealed_list_free(list, n);
	/* the limit */
	assert_int_equal(store_list_sealed(f->st, "", 2, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	store_sealed_list_free(list, n);
	/* everything under OLD: nothing outside it */
	assert_int_equal(store_list_sealed(f->st, OLD, 100, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	store_sealed_list_free(list, n);
}

/* Rewriting moves a value out of the list of those not under NEW, and
 * leaves the row's other columns as they were. */
static void test_replace_is_compare_and_swap(void **state)
{
	struct fixture *f = *state;
	struct store_sealed *list, *more;
	struct store_credentials before, after;
	struct err e = { 0 };
	bool replaced;
	size_t n, m;

	assert_int_equal(store_get_credentials(f->st, f->account, &before, &e), 1);
	assert_int_equal(store_list_sealed(f->st, NEW, 100, &list, &n, &e), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		char *next = NULL;

		assert_true(asprintf(&next, NEW "%s", list[i].sealed + strlen(OLD)) > 0);
		assert_int_equal(store_replace_sealed(f->st, &list[i], next, &replaced, &e), 0);
		assert_true(replaced);
		/* the same swap again: the place no longer holds the old text */
		assert_int_equal(store_replace_sealed(f->st, &list[i], "v1:ffffffff:x", &replaced, &e), 0);
		assert_false(replaced);
		free(next);
	}
	assert_int_equal(store_list_sealed(f->st, NEW, 100, &more, &m, &e), 0);
	assert_int_equal(m, 0);
	store_sealed_list_free(more, m);
	assert_int_equal(store_get_credentials(f->st, f->account, &after, &e), 1);
	assert_string_equal(after.refresh_sealed, NEW "refresh");
	assert_int_equal(after.generation, before.generation);
	assert_string_equal(after.scope, before.scope);
	store_credentials_clear(&before);
	store_credentials_clear(&after);
	{
		char *sealed = NULL;
		int64_t exp = 0;

		assert_int_equal(store_get_access_token(f->st, f->account, "graph", &sealed,
							&exp, &e), 1);
		assert_string_equal(sealed, NEW "access");
		free(sealed);
	}
	store_sealed_list_free(list, n);
}

/* A value changed by someone else between the listing and the swap (a
 * refresh) is kept. */
static void test_changed_meanwhile_is_kept(void **state)
{
	struct fixture *f = *state;
	struct store_sealed *list;
	const struct store_sealed *rt;
	struct store_credentials c;
	struct err e = { 0 };
	bool replaced = true;
	size_t n;

	assert_int_equal(store_list_sealed(f->st, NEW, 100, &list, &n, &e), 0);
	rt = find(list, n, "refresh_token");
	assert_non_null(rt);
	assert_int_equal(store_put_refresh_token(f->st, f->account, NEW "refreshed",
						 "Mail.Read", &e), 0);
	assert_int_equal(store_replace_sealed(f->st, rt, NEW "stale", &replaced, &e), 0);
	assert_false(replaced);
	assert_int_equal(store_get_credentials(f->st, f->account, &c, &e), 1);
	assert_string_equal(c.refresh_sealed, NEW "refreshed");
	store_credentials_clear(&c);
	store_sealed_list_free(list, n);
}

static void test_foreign_value_is_a_bug(void **state)
{
	struct fixture *f = *state;
	struct store_sealed bogus = { "no_such_kind", "1", OLD "x" };
	struct err e = { 0 };
	bool replaced;

	assert_int_equal(store_replace_sealed(f->st, &bogus, NEW "x", &replaced, &e), -1);
	assert_int_equal(e.class, ERR_BUG);
	assert_false(replaced);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lists_every_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_is_compare_and_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_meanwhile_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_value_is_a_bug, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
