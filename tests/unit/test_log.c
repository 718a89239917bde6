/*
 * test_log.c — the redacting logger (log.c): Authorization headers, Bearer
 * tokens, secret JSON and form fields, registered secrets, truncation that
 * never leaks, Graph's JSON "code" left readable, and log files that never
 * hold a secret whatever the line looks like.
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
#include "inboxsync/log.h"

#define OUT_SIZE 4096

/* Redact `in` and compare with `want`. */
static void check(const char *in, const char *want)
{
	char out[OUT_SIZE];
	size_t n = log_redact(in, out, sizeof(out));

	if (strcmp(out, want) != 0)
		fail_msg("redact(%s)\n  got  %s\n  want %s", in, out, want);
	assert_int_equal(n, strlen(out));
}

static void test_authorization_header_line(void **state)
{
	(void)state;
	check("Authorization: Bearer eyJ0eXAi.abc.def",
	      "Authorization: [REDACTED]");
	check("authorization: Basic dXNlcjpwYXNz\r\nHost: x",
	      "authorization: [REDACTED]\r\nHost: x");
	check("> AUTHORIZATION:Bearer abc\nnext line stays",
	      "> AUTHORIZATION: [REDACTED]\nnext line stays");
}

static void test_bearer_anywhere(void **state)
{
	(void)state;
	check("sent Bearer eyJ0eXAi.abc-def_ghi~+/= to graph",
	      "sent Bearer [REDACTED] to graph");
	check("{\"Authorization\":\"Bearer abc.def\"}",
	      "{\"Authorization\":\"Bearer [REDACTED]\"}");
	check("bearer x", "bearer [REDACTED]");
	/* the word alone is not a token */
	check("token type is Bearer.", "token type is Bearer.");
}

static void test_json_secret_fields(void **state)
{
	static const char *const names[] = {
		"access_token", "refresh_token", "id_token", "client_secret",
		"code_verifier", "device_code", "password",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char in[256], want[256];

		snprintf(in, sizeof(in), "{\"%s\":\"s3cr3t-value\",\"x\":1}", names[i]);
		snprintf(want, sizeof(want), "{\"%s\":\"[REDACTED]\",\"x\":1}", names[i]);
		check(in, want);
		/* spaces around the colon */
		snprintf(in, sizeof(in), "{ \"%s\" :\t \"s3cr3t\" }", names[i]);
		snprintf(want, sizeof(want), "{ \"%s\" :\t \"[REDACTED]\" }", names[i]);
		check(in, want);
	}
}

static void test_json_values_with_escapes(void **state)
{
	(void)state;
	/* an escaped quote does not end the value early */
	check("{\"password\":\"pa\\\"ss\\\"word\",\"user\":\"bob\"}",
	      "{\"password\":\"[REDACTED]\",\"user\":\"bob\"}");
	/* an escaped backslash right before the closing quote */
	check("{\"client_secret\":\"abc\\\\\",\"next\":\"visible\"}",
	      "{\"client_secret\":\"[REDACTED]\",\"next\":\"visible\"}");
	check("{\"refresh_token\":\"0.A\\u0041\\/x\"}",
	      "{\"refresh_token\":\"[REDACTED]\"}");
	/* unterminated value at the end of a (cut) line */
	check("{\"access_token\":\"eyJ0eXAiOiJKV1Q",
	      "{\"access_token\":\"[REDACTED]");
	check("{\"access_token\":\"abc\\", "{\"access_token\":\"[REDACTED]");
}

static void test_json_quoted_inside_json(void **state)
{
	(void)state;
	/* a token response quoted as a string inside another JSON document */
	check("{\"body\":\"{\\\"access_token\\\":\\\"eyJ0.abc\\\",\\\"x\\\":1}\"}",
	      "{\"body\":\"{\\\"access_token\\\":\\\"[REDACTED]\\\",\\\"x\\\":1}\"}");
	/* inner escaped quote and inner escaped backslash inside the value */
	check("\\\"password\\\": \\\"a\\\\\\\"b\\\\\\\\c\\\" tail",
	      "\\\"password\\\": \\\"[REDACTED]\\\" tail");
}

static void test_form_fields(void **state)
{
	(void)state;
	check("grant_type=refresh_token&refresh_token=0.AAA-bbb&client_id=app",
	      "grant_type=refresh_token&refresh_token=[REDACTED]&client_id=app");
	check("client_secret=s3cr3t&code_verifier=verif&password=hunter22",
	      "client_secret=[REDACTED]&code_verifier=[REDACTED]&password=[REDACTED]");
	check("device_code=DAQABAAEAAAD&grant_type=device",
	      "device_code=[REDACTED]&grant_type=device");
	check("GET /callback?code=M.R3_BAY.c0de&state=xyz HTTP/1.1",
	      "GET /callback?code=[REDACTED]&state=xyz HTTP/1.1");
	check("grant_type=authorization_code&code=0.AXYZ",
	      "grant_type=authorization_code&code=[REDACTED]");
	/* only whole field names count */
	check("postcode=12345 error_code=7 zipcode=1",
	      "postcode=12345 error_code=7 zipcode=1");
	check("code review and a password prompt", "code review and a password prompt");
}

static void test_graph_json_code_is_kept(void **state)
{
	static const char err[] =
		"{\"error\":{\"code\":\"ErrorItemNotFound\",\"message\":"
		"\"The specified object was not found in the store.\"}}";

	(void)state;
	check(err, err);
	check("{\"error\":\"invalid_grant\",\"error_codes\":[70000],"
	      "\"error_description\":\"AADSTS70000: code expired\"}",
	      "{\"error\":\"invalid_grant\",\"error_codes\":[70000],"
	      "\"error_description\":\"AADSTS70000: code expired\"}");
}

static void test_registered_secrets(void **state)
{
	(void)state;
	log_add_secret("Xy7~client-secret-value.Q");
	log_add_secret("short"); /* < 8 bytes: ignored */
	log_add_secret(NULL);
	log_add_secret("Xy7~client-secret-value.Q"); /* duplicate: once */
	check("config: secret is Xy7~client-secret-value.Q, ok",
	      "config: secret is [REDACTED], ok");
	check("twice Xy7~client-secret-value.QXy7~client-secret-value.Q",
	      "twice [REDACTED][REDACTED]");
	check("a short secret stays", "a short secret stays");
	/* a prefix of a secret alone is not the secret */
	check("Xy7~client", "Xy7~client");
}

static void test_many_registered_secrets_keep_newest(void **state)
{
	char s[64], line[128], out[256];

	(void)state;
	for (int i = 0; i < 200; i++) {
		snprintf(s, sizeof(s), "rotating-secret-%04d", i);
		log_add_secret(s);
	}
	snprintf(line, sizeof(line), "value rotating-secret-0199 here");
	log_redact(line, out, sizeof(out));
	assert_string_equal(out, "value [REDACTED] here");
}

static const char *const secret_needles[] = {
	"eyJ0eXAi", "0.AAA-refresh", "s3cr3t-cs", "verifier-123",
	"M.R3_BAY.c0de", "hunter22", "Xy7~client-secret-value.Q",
};

static const char mixed_line[] =
	"POST /token Authorization: Bearer eyJ0eXAi.x\n"
	"body: grant_type=refresh_token&refresh_token=0.AAA-refresh&"
	"client_secret=s3cr3t-cs&code_verifier=verifier-123 "
	"cb=/cb?code=M.R3_BAY.c0de&state=1 "
	"{\"password\":\"hunter22\",\"error\":{\"code\":\"ErrorItemNotFound\"}} "
	"also Xy7~client-secret-value.Q and Bearer eyJ0eXAi.y";

static void assert_no_secret(const char *text)
{
	for (size_t i = 0; i < sizeof(secret_needles) / sizeof(secret_needles[0]); i++)
		if (strstr(text, secret_needles[i]))
			fail_msg("secret '%s' leaked into: %s", secret_needles[i], text);
}

static void test_truncation_never_leaks_or_overflows(void **state)
{
	char full[OUT_SIZE], *out;
	size_t full_len;

	(void)state;
	log_add_secret("Xy7~client-secret-value.Q");
	full_len = log_redact(mixed_line, full, sizeof(full));
	assert_no_secret(full);
	assert_non_null(strstr(full, "ErrorItemNotFound"));
	for (size_t n = 1; n <= full_len + 2; n++) {
		size_t got;

		out = xmalloc(n); /* exact size, so ASan sees any overflow */
		got = log_redact(mixed_line, out, n);
		assert_int_equal(got, strlen(out));
		assert_true(got < n);
		assert_memory_equal(out, full, got); /* a prefix of the whole */
		assert_no_secret(out);
		free(out);
	}
	assert_int_equal(log_redact(mixed_line, NULL, 0), 0);
}

static void test_arbitrary_bytes_are_safe(void **state)
{
	char in[512], out[600];

	(void)state;
	srand(7);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand() % (int)(sizeof(in) - 1));

		for (size_t i = 0; i < n; i++) {
			in[i] = (char)(rand() % 255 + 1);
			if (rand() % 8 == 0) /* sprinkle rule triggers */
				in[i] = "\"=:\\&Bb"[rand() % 7];
		}
		in[n] = '\0';
		assert_true(log_redact(in, out, sizeof(out)) < sizeof(out));
	}
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = xmalloc((size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static void test_log_file_never_holds_a_secret(void **state)
{
	char path[] = "/tmp/test_log_XXXXXX";
	char *long_line, *text;
	struct stat st;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path); /* log_set_file creates it */
	log_add_secret("Xy7~client-secret-value.Q");
	assert_int_equal(log_set_file(path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	log_set_level(LOG_DEBUG);

	log_error("oauth", "%s", mixed_line);
	log_info("graph", "token response %s",
		 "{\"access_token\":\"eyJ0eXAi.z\",\"refresh_token\":\"0.AAA-refresh\"}");
	log_debug("http", "form %s", "client_secret=s3cr3t-cs&code=M.R3_BAY.c0de");
	/* a line longer than the logger's line buffer, cut in the middle of
	 * a registered secret: no part of the secret's tail may survive */
	for (size_t pad = 8150; pad < 8200; pad++) {
		long_line = xmalloc(pad + 64);
		memset(long_line, 'p', pad);
		snprintf(long_line + pad, 64, " Xy7~client-secret-value.Q end");
		log_warn("test", "%s", long_line);
		free(long_line);
	}
	log_set_level(LOG_WARN);
	log_debug("http", "dropped at warn level: %s", "visible-only-at-debug");
	log_set_file(NULL);

	text = read_file(path);
	unlink(path);
	assert_non_null(strstr(text, " error oauth: "));
	assert_non_null(strstr(text, " debug http: form client_secret=[REDACTED]"));
	assert_non_null(strstr(text, "ErrorItemNotFound"));
	assert_null(strstr(text, "visible-only-at-debug"));
	assert_no_secret(text);
	/* not even the first half of the registered secret at a cut */
	assert_null(strstr(text, "Xy7~client-sec"));
	free(text);
}

/* A server's text in a log line cannot start a second line or send the
 * terminal an escape sequence. */
static void test_log_line_is_one_printable_line(void **state)
{
	char path[] = "/tmp/test_log_XXXXXX";
	char *text;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_set_file(path), 0);
	log_warn("graph", "server said: %s",
		 "bad\n2099-01-01T00:00:00Z error auth: forged\x1b[2J\xff");
	log_set_file(NULL);
	text = read_file(path);
	unlink(path);
	assert_non_null(strstr(text, "server said: bad\\n2099-01-01T00:00:00Z "
			       "error auth: forged\\x1b[2J\\xff\n"));
	assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
	assert_null(strchr(text, '\x1b'));
	free(text);
}

static void test_levels(void **state)
{
	(void)state;
	assert_int_equal(log_get_level(), LOG_WARN);
	log_set_level(LOG_ERROR);
	assert_int_equal(log_get_level(), LOG_ERROR);
	log_set_level(LOG_WARN);
	assert_int_equal(log_set_file("/nonexistent-dir/x.log"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_authorization_header_line),
		cmocka_unit_test(test_bearer_anywhere),
		cmocka_unit_test(test_json_secret_fields),
		cmocka_unit_test(test_json_values_with_escapes),
		cmocka_unit_test(test_json_quoted_inside_json),
		cmocka_unit_test(test_form_fields),
		cmocka_unit_test(test_graph_json_code_is_kept),
		cmocka_unit_test(test_registered_secrets),
		cmocka_unit_test(test_many_registered_secrets_keep_newest),
		cmocka_unit_test(test_truncation_never_leaks_or_overflows),
		cmocka_unit_test(test_arbitrary_bytes_are_safe),
		cmocka_unit_test(test_log_file_never_holds_a_secret),
		cmocka_unit_test(test_log_line_is_one_printable_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
