/*
 * notify_listen.c — stands in for systemd's notification socket in the
 * package tests: binds a datagram socket at PATH and appends every message
 * a service sends there (READY=1, STATUS=..., WATCHDOG=1, STOPPING=1) to
 * OUT, one line per message, until it is sent SIGTERM.
 *   notify_listen PATH OUT
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction act = { .sa_handler = on_term };
	char msg[4096];
	FILE *out;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify_listen SOCKET_PATH OUT_FILE\n");
		return 2;
	}
	sigaction(SIGTERM, &act, NULL);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("notify_listen: bind");
		return 1;
	}
	/* The service runs as another user: let it send. */
	chmod(argv[1], 0666);
	out = fopen(argv[2], "a");
	if (!out) {
		perror("notify_listen: open");
		return 1;
	}
	setvbuf(out, NULL, _IOLBF, 0);
	while (!stop) {
		ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("notify_listen: recv");
			return 1;
		}
		msg[n] = '\0';
		for (char *p = msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		fprintf(out, "%s\n", msg);
	}
	fclose(out);
	unlink(argv[1]);
	return 0;
}
