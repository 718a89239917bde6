/*
 * test_notify.c — the service manager's notifications (notify.c): what a
 * Type=notify unit receives on its socket for ready, stopping, status and
 * the watchdog; nothing sent and no error outside systemd; the watchdog
 * interval read from the manager's environment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "inboxsync/notify.h"

struct manager {
	int fd;
	char dir[64];
	char path[96];
};

/* A socket standing in for systemd's notify socket, in $NOTIFY_SOCKET. */
static int setup_manager(void **state)
{
	static struct manager m;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 }; /* a missing message fails, never hangs */

	snprintf(m.dir, sizeof(m.dir), "/tmp/inboxsync-notify.XXXXXX");
	assert_non_null(mkdtemp(m.dir));
	snprintf(m.path, sizeof(m.path), "%s/notify", m.dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", m.path);
	m.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(m.fd >= 0);
	assert_int_equal(bind(m.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(setsockopt(m.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	setenv("NOTIFY_SOCKET", m.path, 1);
	*state = &m;
	return 0;
}

static int teardown_manager(void **state)
{
	struct manager *m = *state;

	unsetenv("NOTIFY_SOCKET");
	close(m->fd);
	unlink(m->path);
	rmdir(m->dir);
	return 0;
}

/* The next message the manager received, as text. */
static const char *received(struct manager *m)
{
	static char buf[1024];
	ssize_t n = recv(m->fd, buf, sizeof(buf) - 1, 0);

	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static void test_ready_with_status(void **state)
{
	struct manager *m = *state;
	struct err e = { 0 };

	assert_int_equal(notify_ready("listening on http://127.0.0.1:8025", &e), 1);
	assert_string_equal(received(m), "READY=1\nSTATUS=listening on http://127.0.0.1:8025");
}

static void test_ready_without_status(void **state)
{
	struct manager *m = *state;
	struct err e = { 0 };

	assert_int_equal(notify_ready(NULL, &e), 1);
	assert_string_equal(received(m), "READY=1");
}

static void test_stopping_and_status(void **state)
{
	struct manager *m = *state;
	struct err e = { 0 };

	assert_int_equal(notify_stopping("finishing 2 sync passes", &e), 1);
	assert_string_equal(received(m), "STOPPING=1\nSTATUS=finishing 2 sync passes");
	assert_int_equal(notify_status("3 accounts, 1 throttled", &e), 1);
	assert_string_equal(received(m), "STATUS=3 accounts, 1 throttled");
}

/* A status with a newline cannot smuggle in another field. */
static void test_status_is_one_line(void **state)
{
	struct manager *m = *state;
	struct err e = { 0 };

	assert_int_equal(notify_status("broken\nREADY=1", &e), 1);
	assert_string_equal(received(m), "STATUS=broken READY=1");
}

static void test_watchdog_keepalive(void **state)
{
	struct manager *m = *state;
	struct err e = { 0 };

	assert_int_equal(notify_watchdog(&e), 1);
	assert_string_equal(received(m), "WATCHDOG=1");
}

/* A socket path that nobody listens on is a transient error, not a crash. */
static void test_unreachable_manager(void **state)
{
	struct err e = { 0 };
	char *saved = strdup(getenv("NOTIFY_SOCKET"));

	(void)state;
	setenv("NOTIFY_SOCKET", "/nonexistent/inboxsync-notify", 1);
	assert_int_equal(notify_ready(NULL, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	assert_string_equal(e.code, "notify");
	assert_non_null(strstr(e.msg, "READY=1"));
	setenv("NOTIFY_SOCKET", saved, 1);
	free(saved);
}

/* Outside systemd nothing is sent and nothing fails. */
static void test_no_manager(void **state)
{
	struct err e = { 0 };

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_ready("x", &e), 0);
	assert_int_equal(notify_stopping(NULL, &e), 0);
	assert_int_equal(notify_watchdog(&e), 0);
	assert_int_equal(e.class, ERR_NONE);
}

static void test_watchdog_interval(void **state)
{
	char pid[32];

	(void)state;
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(), 15000000);
	/* armed for another process (a parent that exec'd us): not ours */
	snprintf(pid, sizeof(pid), "%ld", (long)getppid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ready_with_status, setup_manager, teardown_manager),
		cmocka_unit_test_setup_teardown(test_ready_without_status, setup_manager, teardown_manager),
		cmocka_unit_test_setup_teardown(test_stopping_and_status, setup_manager, teardown_manager),
		cmocka_unit_test_setup_teardown(test_status_is_one_line, setup_manager, teardown_manager),
		cmocka_unit_test_setup_teardown(test_watchdog_keepalive, setup_manager, teardown_manager),
		cmocka_unit_test_setup_teardown(test_unreachable_manager, setup_manager, teardown_manager),
		cmocka_unit_test(test_no_manager),
		cmocka_unit_test(test_watchdog_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
