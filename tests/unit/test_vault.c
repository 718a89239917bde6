/*
 * test_vault.c — secrets at rest (src/auth/vault.c): round trip, the key
 * file created 0600 and refused when others can read it, and the three
 * ways unsealing fails clearly (no key, another key, damaged data) instead
 * of returning garbage.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inboxsync/alloc.h"
#include "inboxsync/vault.h"

#define SECRET "0.AXkAv-refresh-token~with.all/sorts+of=chars"

struct fixture {
	char dir[64];
	char dir2[64];
	char *key_path;
	struct vault *v;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	str_copy(f->dir, sizeof(f->dir), "/tmp/test_vault_XXXXXX");
	str_copy(f->dir2, sizeof(f->dir2), "/tmp/test_vault2_XXXXXX");
	if (!mkdtemp(f->dir) || !mkdtemp(f->dir2))
		return -1;
	f->key_path = xasprintf("%s/secret.key", f->dir);
	f->v = vault_new(f->dir);
	*state = f;
	return 0;
}

static void remove_dir(const char *dir)
{
	char *p = xasprintf("%s/secret.key", dir);

	unlink(p);
	free(p);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vault_free(f->v);
	remove_dir(f->dir);
	remove_dir(f->dir2);
	free(f->key_path);
	free(f);
	return 0;
}

static char *seal_ok(struct vault *v, const char *plain)
{
	struct err e;
	char *s = vault_seal(v, plain, strlen(plain), &e);

	if (!s)
		fail_msg("seal failed: %s", e.msg);
	return s;
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	char *sealed = seal_ok(f->v, SECRET), *again, *plain;
	struct err e;

	assert_memory_equal(sealed, "v1:", 3);
	plain = vault_unseal(f->v, sealed, &e);
	assert_non_null(plain);
	assert_string_equal(plain, SECRET);
	vault_free_plain(plain);

	/* a fresh nonce each time */
	again = seal_ok(f->v, SECRET);
	assert_string_not_equal(sealed, again);

	/* a second vault on the same directory reads the same key */
	{
		struct vault *other = vault_new(f->dir);

		plain = vault_unseal(other, again, &e);
		assert_non_null(plain);
		assert_string_equal(plain, SECRET);
		vault_free_plain(plain);
		vault_free(other);
	}
	free(sealed);
	free(again);
}

static void test_empty_and_long_secrets(void **state)
{
	struct fixture *f = *state;
	size_t n = 100000;
	char *big = xmalloc(n + 1), *sealed, *plain;
	struct err e;

	sealed = seal_ok(f->v, "");
	plain = vault_unseal(f->v, sealed, &e);
	assert_non_null(plain);
	assert_string_equal(plain, "");
	vault_free_plain(plain);
	free(sealed);

	memset(big, 'k', n);
	big[n] = '\0';
	sealed = seal_ok(f->v, big);
	plain = vault_unseal(f->v, sealed, &e);
	assert_non_null(plain);
	assert_string_equal(plain, big);
	vault_free_plain(plain);
	free(sealed);
	free(big);
}

static void test_no_plaintext_in_sealed_string(void **state)
{
	struct fixture *f = *state;
	char *sealed = seal_ok(f->v, SECRET);

	assert_null(strstr(sealed, SECRET));
	assert_null(strstr(sealed, "refresh-token"));
	assert_null(strstr(sealed, "refresh"));
	free(sealed);
}

static void test_key_file_created_0600(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char *sealed;

	assert_int_equal(stat(f->key_path, &st), -1); /* nothing before use */
	sealed = seal_ok(f->v, SECRET);
	assert_int_equal(stat(f->key_path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	assert_string_equal(vault_key_path(f->v), f->key_path);
	free(sealed);
}

static void test_key_file_readable_by_others_refused(void **state)
{
	struct fixture *f = *state;
	char *sealed = seal_ok(f->v, SECRET);
	struct vault *other;
	struct err e;

	assert_int_equal(chmod(f->key_path, 0644), 0);
	other = vault_new(f->dir);
	err_clear(&e);
	assert_null(vault_unseal(other, sealed, &e));
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "vault");
	assert_non_null(strstr(e.msg, f->key_path));
	assert_int_equal(e.fix, FIX_PRIVATE_FILE);
	assert_string_equal(e.fix_arg, f->key_path);
	err_clear(&e);
	assert_null(vault_seal(other, "x", 1, &e));
	assert_string_equal(e.code, "vault");
	vault_free(other);
	free(sealed);
}

static void test_missing_key(void **state)
{
	struct fixture *f = *state;
	char *sealed = seal_ok(f->v, SECRET);
	struct vault *other;
	struct stat st;
	struct err e;

	assert_int_equal(unlink(f->key_path), 0);
	other = vault_new(f->dir);
	assert_null(vault_unseal(other, sealed, &e));
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "vault_no_key");
	assert_non_null(strstr(e.msg, f->key_path));
	/* unsealing never invents a new key */
	assert_int_equal(stat(f->key_path, &st), -1);
	vault_free(other);
	free(sealed);
}

static void test_different_key(void **state)
{
	struct fixture *f = *state;
	struct vault *other = vault_new(f->dir2);
	char *sealed = seal_ok(f->v, SECRET);
	char *theirs = seal_ok(other, "their own secret");
	struct err e;

	assert_null(vault_unseal(other, sealed, &e));
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "vault_wrong_key");
	assert_null(strstr(e.msg, SECRET));
	assert_null(vault_unseal(f->v, theirs, &e));
	assert_string_equal(e.code, "vault_wrong_key");
	vault_free(other);
	free(sealed);
	free(theirs);
}

static void test_tampered_ciphertext(void **state)
{
	struct fixture *f = *state;
	char *sealed = seal_ok(f->v, SECRET), *bad;
	size_t len = strlen(sealed), mid = 12 + (len - 12) / 2;
	struct err e;

	bad = xstrdup(sealed);
	bad[mid] = bad[mid] == 'A' ? 'B' : 'A';
	assert_null(vault_unseal(f->v, bad, &e));
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "vault_corrupt");
	free(bad);

	/* cut short: still valid base64, but too short / fails the MAC */
	bad = xstrndup(sealed, len - 8);
	assert_null(vault_unseal(f->v, bad, &e));
	assert_string_equal(e.code, "vault_corrupt");
	free(bad);

	bad = xstrndup(sealed, 12 + 8);
	assert_null(vault_unseal(f->v, bad, &e));
	assert_string_equal(e.code, "vault_corrupt");
	free(bad);

	bad = xasprintf("%.*s!!!not-base64!!!", 12, sealed);
	assert_null(vault_unseal(f->v, bad, &e));
	assert_string_equal(e.code, "vault_corrupt");
	free(bad);
	free(sealed);
}

static void test_not_a_sealed_string(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"", "plain text secret", "v1:", "v1:abcd", "v1:abcdefgh",
		"v1:abcdefgh-xyz", "v2:abcdefgh:AAAA",
	};
	struct err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		assert_null(vault_unseal(f->v, bad[i], &e));
		assert_string_equal(e.code, "vault_corrupt");
	}
	assert_null(vault_unseal(f->v, NULL, &e));
	assert_string_equal(e.code, "vault_corrupt");
}

static void test_damaged_key_file(void **state)
{
	struct fixture *f = *state;
	char *sealed = seal_ok(f->v, SECRET);
	struct vault *other;
	struct err e;

	assert_int_equal(truncate(f->key_path, 10), 0);
	other = vault_new(f->dir);
	assert_null(vault_unseal(other, sealed, &e));
	assert_string_equal(e.code, "vault");
	assert_non_null(strstr(e.msg, "damaged"));
	vault_free(other);

	/* a directory where the key file should be */
	assert_int_equal(unlink(f->key_path), 0);
	assert_int_equal(mkdir(f->key_path, 0700), 0);
	other = vault_new(f->dir);
	assert_null(vault_seal(other, "x", 1, &e));
	assert_string_equal(e.code, "vault");
	vault_free(other);
	assert_int_equal(rmdir(f->key_path), 0);
	free(sealed);
}

static void test_unwritable_data_dir(void **state)
{
	struct vault *v = vault_new("/nonexistent-dir-for-vault-test");
	struct err e;

	(void)state;
	assert_null(vault_seal(v, "x", 1, &e));
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "vault");
	assert_non_null(strstr(e.msg, "/nonexistent-dir-for-vault-test/secret.key"));
	vault_free(v);
	vault_free(NULL);
	vault_free_plain(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_round_trip),
		T(test_empty_and_long_secrets),
		T(test_no_plaintext_in_sealed_string),
		T(test_key_file_created_0600),
		T(test_key_file_readable_by_others_refused),
		T(test_missing_key),
		T(test_different_key),
		T(test_tampered_ciphertext),
		T(test_not_a_sealed_string),
		T(test_damaged_key_file),
		cmocka_unit_test(test_unwritable_data_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
