/*
 * test_config.c — the settings table (config.c): a file's keys, comments
 * and quotes; mistakes named by file and line with nothing applied; the
 * environment over the file and flags over both; passwords masked in what
 * is shown; secrets read from files or systemd credentials, refused when
 * every user can read them; the sample file, read back, gives the
 * defaults.
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
#include "inboxsync/config.h"

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/inboxsync-config.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

/* Write `text` to DIR/name with `mode`; returns the path (static). */
static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* The index of `name` in the table. */
static size_t key_index(const char *name)
{
	size_t n;
	const struct config_key *k = config_keys(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(k[i].name, name) == 0)
			return i;
	fail_msg("no key %s", name);
	return 0;
}

static void test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.listen, "127.0.0.1:8025");
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.poll_interval, 60);
	assert_int_equal(c.lease_ttl, 30);
	assert_false(c.allow_private_webhooks);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_null(c.data_dir);
	assert_null(c.public_url);
	assert_int_equal(c.from[key_index("listen")], CONFIG_FROM_DEFAULT);
	config_free(&c);
}

static void test_file_keys_comments_quotes(void **state)
{
	struct config c;
	struct err e = { 0 };
	const char *path = write_file("a.conf",
		"# the service\n"
		"\n"
		"   # indented comment\n"
		"data_dir = /var/lib/inboxsync\n"
		"listen=0.0.0.0:9000\n"
		"public_url = \"https://mail.example.com\"  \n"
		"poll_interval = 300\r\n"
		"allow_private_webhooks = yes\n"
		"log_level = DEBUG\n"
		"node_id = \"  spaced  \"\n"
		"log_file = stderr", 0644);

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_read_file(&c, path, &e), 0);
	assert_string_equal(c.data_dir, "/var/lib/inboxsync");
	assert_string_equal(c.listen, "0.0.0.0:9000");
	assert_string_equal(c.public_url, "https://mail.example.com");
	assert_int_equal(c.poll_interval, 300);
	assert_true(c.allow_private_webhooks);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_string_equal(c.node_id, "  spaced  ");
	assert_string_equal(c.log_file, "stderr");
	assert_string_equal(c.file, path);
	assert_int_equal(c.from[key_index("listen")], CONFIG_FROM_FILE);
	assert_int_equal(c.from[key_index("workers")], CONFIG_FROM_DEFAULT);
	config_free(&c);
}

/* Each mistake names the file, the line and what is allowed; nothing of
 * the file is applied. */
static void test_file_mistakes(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "listen = 1.2.3.4:1\nworkerz = 3\n", "line 2: unknown setting 'workerz'" },
		{ "workers = 0\n", "line 1: workers must be a whole number from 1 to 256" },
		{ "workers = 4x\n", "line 1: workers must be a whole number" },
		{ "poll_interval = 99999999999999999999\n", "poll_interval must be a whole number" },
		{ "allow_private_webhooks = maybe\n", "must be true or false" },
		{ "log_level = loud\n", "must be error, warn, info or debug" },
		{ "data_dir = var/lib\n", "data_dir must be an absolute path" },
		{ "log_file = journal\n", "must be an absolute path or \"stderr\"" },
		{ "just words\n", "line 1: expected 'key = value'" },
		{ "listen = a:1\n\nlisten = b:2\n", "line 3: 'listen' is set twice" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		struct err e = { 0 };
		const char *path = write_file("bad.conf", cases[i].text, 0644);

		config_defaults(&c);
		assert_int_equal(config_read_file(&c, path, &e), -1);
		assert_int_equal(e.class, ERR_PERMANENT);
		assert_string_equal(e.code, "config");
		if (!strstr(e.msg, cases[i].want) || !strstr(e.msg, path))
			fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, cases[i].want);
		assert_string_equal(c.listen, "127.0.0.1:8025");
		assert_null(c.file);
		config_free(&c);
	}
}

static void test_missing_file(void **state)
{
	struct config c;
	struct err e = { 0 };

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_read_file(&c, "/nonexistent/inboxsync.conf", &e), -1);
	assert_non_null(strstr(e.msg, "cannot read the configuration file /nonexistent/inboxsync.conf"));
	config_free(&c);
}

/* The documented order: defaults, file, environment, flags. */
static void test_precedence(void **state)
{
	struct config c;
	struct err e = { 0 };
	const char *path = write_file("p.conf", "workers = 2\npoll_interval = 30\n"
				      "listen = 127.0.0.1:1\n", 0644);

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_read_file(&c, path, &e), 0);
	setenv("INBOXSYNC_POLL_INTERVAL", "45", 1);
	setenv("INBOXSYNC_LISTEN", "127.0.0.1:2", 1);
	setenv("INBOXSYNC_WORKERS", "", 1); /* empty: not set */
	assert_int_equal(config_read_env(&c, &e), 0);
	assert_int_equal(config_set(&c, "listen", "127.0.0.1:3", CONFIG_FROM_FLAG, &e), 0);
	assert_int_equal(c.workers, 2);
	assert_int_equal(c.from[key_index("workers")], CONFIG_FROM_FILE);
	assert_int_equal(c.poll_interval, 45);
	assert_int_equal(c.from[key_index("poll_interval")], CONFIG_FROM_ENV);
	assert_string_equal(c.listen, "127.0.0.1:3");
	assert_int_equal(c.from[key_index("listen")], CONFIG_FROM_FLAG);
	setenv("INBOXSYNC_WORKERS", "many", 1);
	assert_int_equal(config_read_env(&c, &e), -1);
	assert_non_null(strstr(e.msg, "environment variable INBOXSYNC_WORKERS: workers must"));
	unsetenv("INBOXSYNC_POLL_INTERVAL");
	unsetenv("INBOXSYNC_LISTEN");
	unsetenv("INBOXSYNC_WORKERS");
	/* relative paths are fine from the environment or a flag */
	assert_int_equal(config_set(&c, "data_dir", "here", CONFIG_FROM_FLAG, &e), 0);
	assert_string_equal(c.data_dir, "here");
	assert_int_equal(config_set(&c, "nope", "1", CONFIG_FROM_FLAG, &e), -1);
	assert_string_equal(config_source_name(CONFIG_FROM_ENV), "environment");
	config_free(&c);
}

static void test_shown_values_mask_passwords(void **state)
{
	static const struct {
		const char *location, *shown;
	} cases[] = {
		{ "postgresql://ibx:hunter2secret@db.example/inboxsync",
		  "postgresql://ibx:****@db.example/inboxsync" },
		{ "postgresql://db.example/inboxsync?user=ibx&password=hunter2secret&sslmode=require",
		  "postgresql://db.example/inboxsync?user=ibx&password=****&sslmode=require" },
		{ "postgresql://ibx@db.example/inboxsync", "postgresql://ibx@db.example/inboxsync" },
		{ "/var/lib/inboxsync/inboxsync.db", "/var/lib/inboxsync/inboxsync.db" },
	};
	char out[256];
	size_t db = key_index("database");

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		struct err e = { 0 };

		config_defaults(&c);
		assert_int_equal(config_set(&c, "database", cases[i].location,
					    CONFIG_FROM_FLAG, &e), 0);
		config_value_text(&c, db, out, sizeof(out));
		assert_string_equal(out, cases[i].shown);
		config_free(&c);
	}
	{
		struct config c;

		config_defaults(&c);
		config_value_text(&c, key_index("workers"), out, sizeof(out));
		assert_string_equal(out, "4");
		config_value_text(&c, key_index("allow_private_webhooks"), out, sizeof(out));
		assert_string_equal(out, "false");
		config_value_text(&c, key_index("public_url"), out, sizeof(out));
		assert_string_equal(out, "");
		config_free(&c);
	}
}

static void test_secret_from_file(void **state)
{
	struct config c;
	struct err e = { 0 };
	char *secret, *where, file[128];

	(void)state;
	config_defaults(&c);
	snprintf(file, sizeof(file), "%s", write_file("client-secret", "s3cr3t~value\n", 0640));
	assert_int_equal(config_set(&c, "client_secret_file", file, CONFIG_FROM_FILE, &e), 0);
	assert_int_equal(config_read_secret(&c, CONFIG_SECRET_CLIENT, &secret, &where, &e), 1);
	assert_string_equal(secret, "s3cr3t~value");
	assert_string_equal(where, file);
	xfree_secret(secret);
	free(where);
	/* not asked for: nothing */
	assert_int_equal(config_read_secret(&c, CONFIG_SECRET_DATABASE, &secret, NULL, &e), 0);
	assert_null(secret);
	/* readable by everyone: refused, naming the mode */
	chmod(file, 0644);
	assert_int_equal(config_read_secret(&c, CONFIG_SECRET_CLIENT, &secret, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "can be read by every user (mode 644)"));
	assert_null(secret);
	/* empty, or more than one line */
	write_file("client-secret", "\n", 0600);
	assert_int_equal(config_read_secret(&c, CONFIG_SECRET_CLIENT, &secret, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "on one line"));
	write_file("client-secret", "one\ntwo\n", 0600);
	assert_int_equal(config_read_secret(&c, CONFIG_SECRET_CLIENT, &secret, NULL, &e), -1);
	unlink(file);
	assert_int_equal(config_read_secret(&c, CONFIG_SECRET_CLIENT, &secret, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "cannot read the secret file"));
	config_free(&c);
}

/* Without a file setting, systemd's credential of the documented name. */
static void test_secret_from_credentials(void **state)
{
	struct config c;
	struct err e = { 0 };
	char *secret, *where;

	(void)state;
	config_defaults(&c);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	assert_int_equal(config_read_secret(&c, CONFIG_SECRET_DATABASE, &secret, NULL, &e), 0);
	write_file("database-password", "pg-pass-123", 0400);
	assert_int_equal(config_read_secret(&c, CONFIG_SECRET_DATABASE, &secret, &where, &e), 1);
	assert_string_equal(secret, "pg-pass-123");
	assert_non_null(strstr(where, "/database-password"));
	xfree_secret(secret);
	free(where);
	/* the file setting wins over the credential */
	write_file("other", "from-the-file", 0600);
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/other", dir);
		assert_int_equal(config_set(&c, "database_password_file", path,
					    CONFIG_FROM_FILE, &e), 0);
	}
	assert_int_equal(config_read_secret(&c, CONFIG_SECRET_DATABASE, &secret, NULL, &e), 1);
	assert_string_equal(secret, "from-the-file");
	xfree_secret(secret);
	config_free(&c);
}

/* The sample, every line uncommented, is a valid file giving the
 * defaults; it documents every key. */
static void test_sample_round_trip(void **state)
{
	struct config c, d;
	struct err e = { 0 };
	char path[128], line[1024];
	FILE *in, *out;
	size_t n;
	const struct config_key *keys = config_keys(&n);

	(void)state;
	snprintf(path, sizeof(path), "%s/sample.conf", dir);
	out = fopen(path, "w");
	assert_non_null(out);
	{
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);

		config_write_sample(mem);
		fclose(mem);
		for (size_t i = 0; i < n; i++) {
			char want[128];

			snprintf(want, sizeof(want), "\n#%s =", keys[i].name);
			if (!strstr(text, want))
				fail_msg("sample lacks %s", keys[i].name);
			snprintf(want, sizeof(want), "# Environment: %s", keys[i].env);
			assert_non_null(strstr(text, want));
		}
		in = fmemopen(text, len, "r");
		while (fgets(line, sizeof(line), in)) {
			/* uncomment settings that have a value */
			if (line[0] == '#' && strchr(line, '=') && line[1] != ' ' &&
			    line[strlen(line) - 2] != '=')
				fputs(line + 1, out);
		}
		fclose(in);
		free(text);
	}
	fclose(out);
	config_defaults(&c);
	config_defaults(&d);
	assert_int_equal(config_read_file(&c, path, &e), 0);
	for (size_t i = 0; i < n; i++) {
		char a[256], b[256];

		config_value_text(&c, i, a, sizeof(a));
		config_value_text(&d, i, b, sizeof(b));
		assert_string_equal(a, b);
	}
	config_free(&c);
	config_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_keys_comments_quotes),
		cmocka_unit_test(test_file_mistakes),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_shown_values_mask_passwords),
		cmocka_unit_test(test_secret_from_file),
		cmocka_unit_test(test_secret_from_credentials),
		cmocka_unit_test(test_sample_round_trip),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
