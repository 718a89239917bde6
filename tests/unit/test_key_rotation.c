/*
 * test_key_rotation.c — re-encrypting every stored secret under a new key
 * (key_rotation.c with vault.c's two keys): everything ends under the new
 * key and opens to what it was, the old key leaves the disk; killed at
 * every step (crash points, SIGKILL in a child process) every secret
 * still opens and running it again finishes; a secret no key opens stops
 * it with both keys kept; a long-running process follows a rotation done
 * by another. Rotations run in child processes only, so that this one
 * never reads INBOXSYNC_CRASH_AT (crashpoint.c reads it once).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inboxsync/key_rotation.h"
#include "inboxsync/provider.h"
#include "inboxsync/store.h"
#include "inboxsync/timeutil.h"
#include "inboxsync/vault.h"
#include "store_fixture.h"

#define ACCOUNTS 150   /* 300 tokens: more than one batch of 256 */

struct fixture {
	struct store_fixture sf;
	char key_path[256];
	size_t nsecrets;   /* sealed values seeded */
};

static char *seal(struct vault *v, const char *plain)
{
	struct err e = { 0 };
	char *s = vault_seal(v, plain, strlen(plain), &e);

	if (!s)
		fail_msg("seal: %s", e.msg);
	return s;
}

/* A store with a provider secret, ACCOUNTS accounts with a refresh and an
 * access token each, an OAuth state and a webhook; each plaintext is
 * "plain:<kind>:<n>". */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store *st;
	struct vault *v;
	struct store_provider p;
	struct err e = { 0 };
	char plain[64];

	assert_int_equal(store_fixture_new(&f->sf, "rotation"), 0);
	snprintf(f->key_path, sizeof(f->key_path), "%s/secret.key", f->sf.dir);
	assert_int_equal(store_open(f->sf.location, &st, &e), 0);
	v = vault_new(f->sf.dir);
	assert_int_equal(store_begin(st, &e), 0); /* one commit: a quick setup */
	provider_defaults(&p);
	snprintf(p.client_id, sizeof(p.client_id), "app-1");
	p.client_secret_sealed = seal(v, "plain:provider_secret:0");
	assert_int_equal(store_put_provider(st, &p, &e), 0);
	store_provider_clear(&p);
	for (int i = 0; i < ACCOUNTS; i++) {
		struct store_account a = { 0 };
		char *s;

		snprintf(a.name, sizeof(a.name), "acct%d", i);
		snprintf(a.email, sizeof(a.email), "user%d@contoso.com", i);
		snprintf(a.transport, sizeof(a.transport), "graph");
		assert_int_equal(store_add_account(st, &a, &e), 0);
		snprintf(plain, sizeof(plain), "plain:refresh_token:%d", i);
		s = seal(v, plain);
		assert_int_equal(store_put_refresh_token(st, a.id, s, "Mail.Read", &e), 0);
		free(s);
		snprintf(plain, sizeof(plain), "plain:access_token:%d", i);
		s = seal(v, plain);
		assert_int_equal(store_put_access_token(st, a.id, "graph", s, time_now() + 3600, &e), 0);
		free(s);
		if (i == 0) {
			struct store_oauth_state os = { 0 };

			snprintf(os.state, sizeof(os.state), "state-0");
			os.account_id = a.id;
			os.verifier_sealed = seal(v, "plain:oauth_state:0");
			snprintf(os.redirect_uri, sizeof(os.redirect_uri), "http://127.0.0.1:1/cb");
			os.expires_at = time_now() + 600;
			assert_int_equal(store_put_oauth_state(st, &os, &e), 0);
			free(os.verifier_sealed);
		}
	}
	{
		struct store_webhook w = { 0 };

		w.user_id = 1;
		snprintf(w.url, sizeof(w.url), "https://hooks.example.com/in");
		w.secret_sealed = seal(v, "plain:webhook_secret:0");
		assert_int_equal(store_add_webhook(st, &w, &e), 0);
		free(w.secret_sealed);
	}
	assert_int_equal(store_commit(st, &e), 0);
	f->nsecrets = 2 * ACCOUNTS + 3;
	vault_free(v);
	store_close(st);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_fixture_free(&f->sf);
	free(f);
	return 0;
}

/* The id of the key in the key file at `path` ("" when absent). */
static void key_file_id(const char *dir, char id[VAULT_KEY_ID_LEN + 1])
{
	struct vault *v = vault_new(dir);
	char prefix[VAULT_PREFIX_LEN + 1];
	struct err e = { 0 };
	char path[256];

	snprintf(path, sizeof(path), "%s/secret.key", dir);
	id[0] = '\0';
	if (access(path, F_OK) == 0 && vault_seal_prefix(v, prefix, &e) == 0)
		snprintf(id, VAULT_KEY_ID_LEN + 1, "%.8s", prefix + 3);
	vault_free(v);
}

/* Every sealed value opens with a fresh vault (what a restarted process
 * reads from the disk) and gives back exactly the seeded plaintexts.
 * Returns how many are sealed with key `id` (NULL: not counted). */
static size_t check_all_open(struct fixture *f, const char *id)
{
	struct store *st;
	struct vault *v = vault_new(f->sf.dir);
	struct store_sealed *list;
	struct err e = { 0 };
	size_t n, under = 0, refresh = 0, access_n = 0, other = 0;

	assert_int_equal(store_open(f->sf.location, &st, &e), 0);
	assert_int_equal(store_list_sealed(st, NULL, 100000, &list, &n, &e), 0);
	assert_int_equal(n, f->nsecrets);
	for (size_t i = 0; i < n; i++) {
		char *plain = vault_unseal(v, list[i].sealed, &e), want[64];

		if (!plain)
			fail_msg("a %s does not open: %s", list[i].kind, e.msg);
		snprintf(want, sizeof(want), "plain:%s:", list[i].kind);
		if (strncmp(plain, want, strlen(want)) != 0)
			fail_msg("a %s opened to '%s'", list[i].kind, plain);
		refresh += strcmp(list[i].kind, "refresh_token") == 0;
		access_n += strcmp(list[i].kind, "access_token") == 0;
		other += strncmp(list[i].kind, "refresh", 7) && strncmp(list[i].kind, "access", 6);
		if (id && strncmp(list[i].sealed + 3, id, VAULT_KEY_ID_LEN) == 0)
			under++;
		vault_free_plain(plain);
	}
	assert_int_equal(refresh, ACCOUNTS);
	assert_int_equal(access_n, ACCOUNTS);
	assert_int_equal(other, 3);
	store_sealed_list_free(list, n);
	store_close(st);
	vault_free(v);
	return under;
}

/* Run a rotation in a child process, crashing at `crash_at` when not
 * NULL. Returns the child's exit status, or 128 + the signal. */
static int rotate_in_child(struct fixture *f, const char *crash_at)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *st;
		struct vault *v = vault_new(f->sf.dir);
		struct key_rotation_report r;
		struct err e = { 0 };
		int rc;

		if (crash_at)
			setenv("INBOXSYNC_CRASH_AT", crash_at, 1);
		if (store_open(f->sf.location, &st, &e) < 0)
			_exit(3);
		rc = key_rotation_run(st, v, &r, &e);
		if (rc < 0)
			fprintf(stderr, "rotation: %s\n", e.msg);
		store_close(st);
		vault_free(v);
		_exit(rc < 0 ? (strcmp(e.code, "vault_unreadable") == 0 ? 4 : 1) : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int exists(struct fixture *f, const char *suffix)
{
	char path[300];

	snprintf(path, sizeof(path), "%s%s", f->key_path, suffix);
	return access(path, F_OK) == 0;
}

static void test_rotates_every_secret(void **state)
{
	struct fixture *f = *state;
	char before[VAULT_KEY_ID_LEN + 1], after[VAULT_KEY_ID_LEN + 1];
	struct stat st;

	key_file_id(f->sf.dir, before);
	assert_int_equal(check_all_open(f, before), f->nsecrets);
	assert_int_equal(rotate_in_child(f, NULL), 0);
	key_file_id(f->sf.dir, after);
	assert_string_not_equal(before, after);
	assert_int_equal(check_all_open(f, after), f->nsecrets);
	assert_false(exists(f, ".next"));
	assert_false(exists(f, ".next.tmp"));
	assert_int_equal(stat(f->key_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* again: a second rotation moves on to a third key */
	assert_int_equal(rotate_in_child(f, NULL), 0);
	key_file_id(f->sf.dir, before);
	assert_string_not_equal(before, after);
	assert_int_equal(check_all_open(f, before), f->nsecrets);
}

/* Killed anywhere: every secret opens, and the next run finishes. */
static void test_killed_anywhere_loses_nothing(void **state)
{
	static const char *const points[] = {
		"vault:before_next_rename", "vault:after_next_key", "vault:after_reseal:1",
		"vault:after_reseal:200", "vault:after_batch:1", "vault:after_reseal:290",
		"vault:before_finish",
		"vault:after_finish",
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		char old_id[VAULT_KEY_ID_LEN + 1], new_id[VAULT_KEY_ID_LEN + 1];

		key_file_id(f->sf.dir, old_id);
		if (rotate_in_child(f, points[i]) != 128 + SIGKILL)
			fail_msg("crash point %s not reached", points[i]);
		check_all_open(f, NULL);
		assert_int_equal(rotate_in_child(f, NULL), 0);
		key_file_id(f->sf.dir, new_id);
		if (strcmp(old_id, new_id) == 0)
			fail_msg("after a crash at %s the key did not change", points[i]);
		assert_int_equal(check_all_open(f, new_id), f->nsecrets);
		assert_false(exists(f, ".next"));
		assert_false(exists(f, ".next.tmp"));
	}
}

/* While a rotation is under way, what any process seals uses the new key. */
static void test_sealing_during_rotation_uses_the_new_key(void **state)
{
	struct fixture *f = *state;
	struct vault *v = vault_new(f->sf.dir);
	char prefix[VAULT_PREFIX_LEN + 1], old_id[VAULT_KEY_ID_LEN + 1];
	struct err e = { 0 };
	char *s, *plain;

	key_file_id(f->sf.dir, old_id);
	assert_int_equal(vault_seal_prefix(v, prefix, &e), 0); /* loaded before */
	assert_int_equal(rotate_in_child(f, "vault:after_reseal:5"), 128 + SIGKILL);
	assert_true(exists(f, ".next"));
	assert_int_equal(vault_rotation_pending(v), 1);
	s = seal(v, "plain:new");
	assert_int_equal(strncmp(s + 3, old_id, VAULT_KEY_ID_LEN) != 0, 1);
	/* a backup of the key alone is refused now: the store needs both */
	{
		char dest[300];

		snprintf(dest, sizeof(dest), "%s/backup.key", f->sf.dir);
		assert_int_equal(vault_export_key(v, dest, &e), -1);
		assert_string_equal(e.code, "vault_rotating");
		assert_int_equal(access(dest, F_OK), -1);
	}
	assert_int_equal(rotate_in_child(f, NULL), 0);
	/* the same vault still opens it after the rotation finished */
	plain = vault_unseal(v, s, &e);
	assert_non_null(plain);
	assert_string_equal(plain, "plain:new");
	vault_free_plain(plain);
	free(s);
	vault_free(v);
}

/* A process that loaded the key long before follows a rotation another
 * process finished: it opens the new values and seals with the new key. */
static void test_long_running_process_follows(void **state)
{
	struct fixture *f = *state;
	struct vault *v = vault_new(f->sf.dir);
	char prefix[VAULT_PREFIX_LEN + 1], new_id[VAULT_KEY_ID_LEN + 1];
	struct store *st;
	struct store_sealed *list;
	struct err e = { 0 };
	char *s, *plain;
	size_t n;

	assert_int_equal(vault_seal_prefix(v, prefix, &e), 0);
	assert_int_equal(rotate_in_child(f, NULL), 0);
	key_file_id(f->sf.dir, new_id);
	assert_int_equal(store_open(f->sf.location, &st, &e), 0);
	assert_int_equal(store_list_sealed(st, NULL, 1, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	plain = vault_unseal(v, list[0].sealed, &e);
	if (!plain)
		fail_msg("the old vault cannot open a new value: %s", e.msg);
	vault_free_plain(plain);
	store_sealed_list_free(list, n);
	s = seal(v, "plain:after");
	assert_int_equal(strncmp(s + 3, new_id, VAULT_KEY_ID_LEN), 0);
	free(s);
	store_close(st);
	vault_free(v);
}

/* A secret sealed with a key that is gone stops the rotation before the
 * old key is dropped; once it is gone, the rotation finishes. */
static void test_unreadable_secret_keeps_both_keys(void **state)
{
	struct fixture *f = *state;
	char other_dir[300], new_id[VAULT_KEY_ID_LEN + 1];
	struct vault *foreign;
	struct store *st;
	struct store_oauth_state os = { 0 }, taken;
	struct err e = { 0 };

	snprintf(other_dir, sizeof(other_dir), "%s/other", f->sf.dir);
	assert_int_equal(mkdir(other_dir, 0700), 0);
	foreign = vault_new(other_dir);
	assert_int_equal(store_open(f->sf.location, &st, &e), 0);
	snprintf(os.state, sizeof(os.state), "state-foreign");
	os.account_id = 1;
	os.verifier_sealed = seal(foreign, "plain:oauth_state:foreign");
	snprintf(os.redirect_uri, sizeof(os.redirect_uri), "http://127.0.0.1:1/cb");
	os.expires_at = time_now() + 600;
	assert_int_equal(store_put_oauth_state(st, &os, &e), 0);
	free(os.verifier_sealed);
	assert_int_equal(rotate_in_child(f, NULL), 4);
	assert_true(exists(f, ".next"));
	{
		struct store_sealed *list;
		struct vault *v = vault_new(f->sf.dir);
		size_t n, opened = 0;

		assert_int_equal(store_list_sealed(st, NULL, 100000, &list, &n, &e), 0);
		for (size_t i = 0; i < n; i++) {
			char *plain = vault_unseal(v, list[i].sealed, &e);

			opened += plain != NULL;
			vault_free_plain(plain);
		}
		assert_int_equal(n, f->nsecrets + 1);
		assert_int_equal(opened, f->nsecrets);
		store_sealed_list_free(list, n);
		vault_free(v);
	}
	assert_int_equal(store_take_oauth_state(st, "state-foreign", &taken, &e), 1);
	store_oauth_state_clear(&taken);
	assert_int_equal(rotate_in_child(f, NULL), 0);
	key_file_id(f->sf.dir, new_id);
	assert_int_equal(check_all_open(f, new_id), f->nsecrets);
	store_close(st);
	vault_free(foreign);
}

/* No key and nothing sealed: nothing to rotate, and no key is made. */
static void test_nothing_to_rotate(void **state)
{
	struct store_fixture sf;
	struct store *st;
	struct vault *v;
	struct key_rotation_report r;
	struct err e = { 0 };
	char path[300];

	(void)state;
	assert_int_equal(store_fixture_new(&sf, "empty"), 0);
	assert_int_equal(store_open(sf.location, &st, &e), 0);
	v = vault_new(sf.dir);
	/* (in this process: no crash point is selected) */
	assert_int_equal(key_rotation_run(st, v, &r, &e), 0);
	assert_true(r.no_key);
	snprintf(path, sizeof(path), "%s/secret.key", sf.dir);
	assert_int_equal(access(path, F_OK), -1);
	vault_free(v);
	store_close(st);
	store_fixture_free(&sf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rotates_every_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_anywhere_loses_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sealing_during_rotation_uses_the_new_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_running_process_follows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_secret_keeps_both_keys, setup, teardown),
		cmocka_unit_test(test_nothing_to_rotate),
	};

	unsetenv("INBOXSYNC_CRASH_AT");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
