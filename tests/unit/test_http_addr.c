/*
 * test_http_addr.c — which addresses a user-given URL may reach
 * (http_addr.c): loopback, private, link-local, CGNAT, multicast,
 * reserved and their IPv4-in-IPv6 forms are refused; public addresses of
 * both families pass; http_check_public_url refuses literal private hosts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "inboxsync/http.h"

static bool private_addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &a->sin_addr), 1);
	}
	return http_addr_is_private((struct sockaddr *)&ss);
}

static void test_private_and_reserved_addresses(void **state)
{
	static const char *const refused[] = {
		"127.0.0.1", "127.255.0.9", "10.0.0.1", "172.16.0.1", "172.31.255.255",
		"192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
		"255.255.255.255", "198.18.0.1", "192.0.2.1", "::", "::1", "fd00::1",
		"fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
		"64:ff9b::a9fe:a9fe", "2001:db8::1",
	};
	static const char *const allowed[] = {
		"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "52.96.0.1",
		"2606:4700:4700::1111", "::ffff:8.8.8.8",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (!private_addr(refused[i]))
			fail_msg("%s should be refused", refused[i]);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (private_addr(allowed[i]))
			fail_msg("%s should be allowed", allowed[i]);
}

static void test_check_public_url_literals(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(http_check_public_url("http://127.0.0.1:8080/x", &e), -1);
	assert_string_equal(e.code, "private_address");
	assert_int_equal(http_check_public_url("https://[::1]/x", &e), -1);
	assert_string_equal(e.code, "private_address");
	assert_int_equal(http_check_public_url("http://10.9.8.7/hook", &e), -1);
	assert_int_equal(http_check_public_url("https://8.8.8.8/hook", &e), 0);
	assert_int_equal(http_check_public_url("not a url", &e), -1);
	assert_string_equal(e.code, "bad_url");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_and_reserved_addresses),
		cmocka_unit_test(test_check_public_url_literals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
