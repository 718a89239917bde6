/*
 * test_imap_probe.c — the XOAUTH2 login probes (imap_probe.c) against
 * scripted servers on loopback: the exact XOAUTH2 initial response, LIST
 * folders counted, SMTP stopping right after AUTH (nothing sent), refusals
 * classified with the server's words and the admin's fix, a server
 * without XOAUTH2, an unreachable server; and server settings parsing.
 * The real-server counterpart is tests/scenarios/test_imap_probe.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <sodium.h>

#include "inboxsync/imap.h"

#define TOKEN "EwB-test-access-token-0123456789"
#define USER "adele@contoso.com"

/* One step of a scripted server: after the client's next line, send
 * `reply` with "$T" replaced by the line's first word (the IMAP tag). */
struct step {
	const char *reply;
};

struct fake_server {
	int listen_fd;
	int port;
	const char *greeting;
	const struct step *steps;
	size_t n_steps;
	char received[8192];   /* every line the client sent */
	pthread_t thread;
};

static void send_reply(int fd, const char *reply, const char *line)
{
	char tag[32] = "", out[2048];
	size_t j = 0;

	sscanf(line, "%31s", tag);
	for (const char *r = reply; *r && j + 40 < sizeof(out); r++) {
		if (r[0] == '$' && r[1] == 'T') {
			j += (size_t)snprintf(out + j, sizeof(out) - j, "%s", tag);
			r++;
		} else {
			out[j++] = *r;
		}
	}
	if (write(fd, out, j) < 0)
		return;
}

/* Read one line (up to LF) into `line`; 0 at EOF or timeout. */
static size_t read_line(int fd, char *line, size_t n)
{
	size_t j = 0;
	char c;

	while (j + 1 < n && read(fd, &c, 1) == 1) {
		line[j++] = c;
		if (c == '\n')
			break;
	}
	line[j] = '\0';
	return j;
}

static void *serve(void *ctx)
{
	struct fake_server *s = ctx;
	struct timeval tv = { 2, 0 };
	char line[2048];
	size_t step = 0;
	int fd = accept(s->listen_fd, NULL, NULL);

	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	send_reply(fd, s->greeting, "");
	while (read_line(fd, line, sizeof(line)) > 0) {
		strncat(s->received, line, sizeof(s->received) - strlen(s->received) - 1);
		if (step < s->n_steps)
			send_reply(fd, s->steps[step++].reply, line);
	}
	close(fd);
	return NULL;
}

static void fake_start(struct fake_server *s, const char *greeting,
		       const struct step *steps, size_t n_steps)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->greeting = greeting;
	s->steps = steps;
	s->n_steps = n_steps;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->listen_fd >= 0);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->listen_fd, 1), 0);
	assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void fake_stop(struct fake_server *s)
{
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
}

/* A loopback port with nothing listening. */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void expected_xoauth2(char *out, size_t n)
{
	static const char raw[] = "user=" USER "\001auth=Bearer " TOKEN "\001\001";

	sodium_bin2base64(out, n, (const unsigned char *)raw, sizeof(raw) - 1,
			  sodium_base64_VARIANT_ORIGINAL);
}

#define IMAP_GREETING "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] fake ready\r\n"
#define IMAP_CAPS "* CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2\r\n$T OK done\r\n"

static void test_imap_login_lists_folders(void **state)
{
	static const struct step steps[] = {
		{ IMAP_CAPS },
		{ "$T OK logged in\r\n" },
		{ "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
		  "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n"
		  "* LIST (\\HasChildren) \"/\" Archive\r\n"
		  "* LIST (\\HasNoChildren) \"/\" Archive/2024\r\n"
		  "$T OK LIST completed\r\n" },
		{ "* BYE bye\r\n$T OK LOGOUT completed\r\n" },
	};
	struct fake_server s;
	struct err e = { 0 };
	char b64[512], want[600];
	int n = -1;

	(void)state;
	fake_start(&s, IMAP_GREETING, steps, 4);
	assert_int_equal(imap_probe_login("127.0.0.1", s.port, USER, TOKEN, &n, &e), 0);
	fake_stop(&s);
	assert_int_equal(n, 4);
	expected_xoauth2(b64, sizeof(b64));
	snprintf(want, sizeof(want), "AUTHENTICATE XOAUTH2 %s\r\n", b64);
	assert_non_null(strstr(s.received, want));
	assert_non_null(strstr(s.received, "LIST \"\" *"));
}

/* A login the scripted server refuses with `reply` (after CAPABILITY). */
static void imap_refused(const char *reply, int *n, struct err *e)
{
	const struct step steps[] = { { IMAP_CAPS }, { reply } };
	struct fake_server s;

	fake_start(&s, IMAP_GREETING, steps, 2);
	assert_int_equal(imap_probe_login("127.0.0.1", s.port, USER, TOKEN, n, e), -1);
	fake_stop(&s);
	assert_string_equal(e->code, "imap_auth");
}

static void test_imap_refusal_quotes_server(void **state)
{
	struct err e = { 0 };
	int n = -1;

	(void)state;
	imap_refused("$T NO AUTHENTICATE failed.\r\n", &n, &e);
	assert_int_equal(n, 0);
	assert_int_equal(e.class, ERR_AUTH);
	assert_non_null(strstr(e.msg, "NO AUTHENTICATE failed."));
	assert_int_equal(e.fix, FIX_ENABLE_MAIL_AUTH);
	assert_string_equal(e.fix_arg, "IMAP");
	assert_null(strstr(e.msg, "Set-CASMailbox")); /* no commands in messages */
	assert_null(strstr(e.msg, TOKEN));
}

/* The server's words are quoted, never replayed: a terminal escape and
 * bytes that are not UTF-8 in its refusal arrive escaped. */
static void test_imap_refusal_is_escaped(void **state)
{
	struct err e = { 0 };

	(void)state;
	imap_refused("$T NO \x1b]0;owned\x07 \xff\xfe failed\r\n", NULL, &e);
	assert_non_null(strstr(e.msg, "NO \\x1b]0;owned\\x07 \\xff\\xfe failed"));
	assert_null(strchr(e.msg, '\x1b'));
	assert_null(strchr(e.msg, '\xff'));
}

static void test_imap_without_xoauth2(void **state)
{
	static const struct step steps[] = {
		{ "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n$T OK done\r\n" },
	};
	struct fake_server s;
	struct err e = { 0 };

	(void)state;
	fake_start(&s, "* OK fake ready\r\n", steps, 1);
	assert_int_equal(imap_probe_login("127.0.0.1", s.port, USER, TOKEN, NULL, &e), -1);
	fake_stop(&s);
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "no_xoauth2");
	/* never falls back to a plain LOGIN with the token as password */
	assert_null(strstr(s.received, "LOGIN"));
	assert_null(strstr(s.received, TOKEN));
}

#define SMTP_EHLO "250-fake.example\r\n250-AUTH LOGIN XOAUTH2\r\n250 SIZE 35882577\r\n"

static void test_smtp_login_stops_after_auth(void **state)
{
	static const struct step steps[] = {
		{ SMTP_EHLO },
		{ "334 \r\n" },
		{ "235 2.7.0 Authentication successful\r\n" },
		{ "221 2.0.0 bye\r\n" },
	};
	struct fake_server s;
	struct err e = { 0 };
	char b64[512];
	const char *after;

	(void)state;
	fake_start(&s, "220 fake ESMTP ready\r\n", steps, 4);
	assert_int_equal(smtp_probe_login("127.0.0.1", s.port, USER, TOKEN, &e), 0);
	fake_stop(&s);
	expected_xoauth2(b64, sizeof(b64));
	assert_non_null(strstr(s.received, "EHLO "));
	assert_non_null(strstr(s.received, "AUTH XOAUTH2\r\n"));
	after = strstr(s.received, b64);
	assert_non_null(after);
	after += strlen(b64);
	/* logged in, then no command at all (a polite QUIT at most) */
	assert_true(strcmp(after, "\r\n") == 0 || strcmp(after, "\r\nQUIT\r\n") == 0);
}

static void test_smtp_auth_disabled(void **state)
{
	static const struct step steps[] = {
		{ SMTP_EHLO },
		{ "334 \r\n" },
		{ "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
		  "is disabled for the Tenant.\r\n" },
		{ "221 2.0.0 bye\r\n" },
	};
	struct fake_server s;
	struct err e = { 0 };

	(void)state;
	fake_start(&s, "220 fake ESMTP ready\r\n", steps, 4);
	assert_int_equal(smtp_probe_login("127.0.0.1", s.port, USER, TOKEN, &e), -1);
	fake_stop(&s);
	assert_int_equal(e.class, ERR_AUTH);
	assert_string_equal(e.code, "smtp_auth");
	assert_non_null(strstr(e.msg, "535 5.7.139 Authentication unsuccessful"));
	assert_non_null(strstr(e.msg, "SMTP AUTH is disabled"));
	assert_int_equal(e.fix, FIX_ENABLE_MAIL_AUTH);
	assert_string_equal(e.fix_arg, "SMTP");
	assert_null(strstr(e.msg, "Set-CASMailbox"));
	assert_null(strstr(s.received, "MAIL FROM"));
}

static void test_unreachable_is_transient(void **state)
{
	struct err e = { 0 };
	int port = closed_port();

	(void)state;
	assert_int_equal(imap_probe_login("127.0.0.1", port, USER, TOKEN, NULL, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	assert_string_equal(e.code, "network");
	assert_int_equal(smtp_probe_login("localhost", port, USER, TOKEN, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	assert_string_equal(e.code, "network");
}

static void test_missing_token_or_host(void **state)
{
	struct err e = { 0 };

	(void)state;
	assert_int_equal(imap_probe_login("127.0.0.1", 1, USER, "", NULL, &e), -1);
	assert_int_equal(e.class, ERR_AUTH);
	assert_int_equal(smtp_probe_login("127.0.0.1", 1, NULL, TOKEN, &e), -1);
	assert_int_equal(e.class, ERR_AUTH);
	assert_int_equal(imap_probe_login(NULL, 993, USER, TOKEN, NULL, &e), -1);
	assert_string_equal(e.code, "bad_server");
	assert_int_equal(smtp_probe_login("bad host/name", 587, USER, TOKEN, &e), -1);
	assert_string_equal(e.code, "bad_server");
}

static void test_parse_server(void **state)
{
	struct {
		const char *in;
		const char *host;
		int port;
	} good[] = {
		{ "outlook.office365.com:993", "outlook.office365.com", 993 },
		{ "127.0.0.1:1143", "127.0.0.1", 1143 },
		{ "[::1]:143", "::1", 143 },
		{ "::1:587", "::1", 587 },
		{ "", "smtp.office365.com", 587 },
		{ NULL, "smtp.office365.com", 587 },
	};
	const char *bad[] = { "host", "host:", ":993", "host:0", "host:65536",
			      "host:99x", "[]:993" };
	char host[64];
	struct err e;
	int port;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(imap_parse_server(good[i].in, "smtp.office365.com", 587,
						   host, sizeof(host), &port, &e), 0);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(imap_parse_server(bad[i], "x", 1, host, sizeof(host),
						   &port, &e), -1);
		assert_string_equal(e.code, "bad_server");
	}
	assert_int_equal(imap_parse_server("a-very-long-host-name-that-does-not-fit:1",
					   "x", 1, host, 8, &port, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imap_login_lists_folders),
		cmocka_unit_test(test_imap_refusal_quotes_server),
		cmocka_unit_test(test_imap_refusal_is_escaped),
		cmocka_unit_test(test_imap_without_xoauth2),
		cmocka_unit_test(test_smtp_login_stops_after_auth),
		cmocka_unit_test(test_smtp_auth_disabled),
		cmocka_unit_test(test_unreachable_is_transient),
		cmocka_unit_test(test_missing_token_or_host),
		cmocka_unit_test(test_parse_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
