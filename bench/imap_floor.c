/*
 * imap_floor.c — the IMAP benchmark's floor: the least any client can do
 * to get an answer. Logs in on a plain loopback connection with XOAUTH2,
 * selects INBOX, sends one command (e.g. "UID FETCH 1:* (BODY.PEEK[])")
 * and reads the answer as fast as the socket gives it until the tagged
 * completion, counting the bytes and keeping none. Not a client: it does
 * not parse the answer beyond finding its end.
 * Usage: imap_floor PORT USER TOKEN COMMAND  → prints "<bytes> <ms>".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#define WINDOW 4096

static char buf[1 << 20];

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Read until a line starting with `tag` followed by a space; 0 when it
 * says OK. *bytes counts what was read. The tagged line ends the answer,
 * so only the last 4 KiB (a tagged line with its capabilities is long)
 * are looked at. */
static int until_tagged(int fd, const char *tag, long long *bytes)
{
	char want[16], tail[WINDOW + 1] = "\n", joined[2 * WINDOW + 1];
	size_t wl = (size_t)snprintf(want, sizeof(want), "\n%s ", tag), tl = 1;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		size_t take = (size_t)n < WINDOW ? (size_t)n : WINDOW;
		char *hit;

		if (n <= 0)
			return -1;
		*bytes += n;
		memcpy(joined, tail, tl);
		memcpy(joined + tl, buf + n - (ssize_t)take, take);
		joined[tl + take] = '\0';
		hit = strstr(joined, want);
		if (hit)
			return strncmp(hit + wl, "OK", 2) == 0 ? 0 : -1;
		if (strncmp(buf, "+ ", 2) == 0) {
			/* a refused XOAUTH2 token: the server waits for an empty line */
			fprintf(stderr, "imap_floor: the login was refused (%.*s)\n",
				(int)strcspn(buf, "\r\n"), buf);
			return -1;
		}
		/* keep the last WINDOW bytes seen */
		if (tl + take > WINDOW) {
			memmove(joined, joined + tl + take - WINDOW, WINDOW);
			tl = WINDOW;
		} else {
			tl += take;
		}
		memcpy(tail, joined, tl);
	}
}

static int say(int fd, const char *s)
{
	size_t n = strlen(s);

	return write(fd, s, n) == (ssize_t)n ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char sasl[4096], b64[6000], line[8192];
	long long bytes = 0, t0;
	int fd;

	if (argc != 5 || sodium_init() < 0) {
		fprintf(stderr, "usage: imap_floor PORT USER TOKEN COMMAND\n");
		return 2;
	}
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("connect");
		return 1;
	}
	snprintf(sasl, sizeof(sasl), "user=%s\001auth=Bearer %s\001\001", argv[2], argv[3]);
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)sasl, strlen(sasl),
			  sodium_base64_VARIANT_ORIGINAL);
	if (read(fd, buf, sizeof(buf)) <= 0)
		return 1;
	snprintf(line, sizeof(line), "a1 AUTHENTICATE XOAUTH2 %s\r\n", b64);
	if (say(fd, line) < 0 || until_tagged(fd, "a1", &bytes) < 0 ||
	    say(fd, "a2 EXAMINE INBOX\r\n") < 0 || until_tagged(fd, "a2", &bytes) < 0) {
		fprintf(stderr, "imap_floor: login or EXAMINE failed\n");
		return 1;
	}
	bytes = 0;
	t0 = now_ms();
	snprintf(line, sizeof(line), "a3 %s\r\n", argv[4]);
	if (say(fd, line) < 0 || until_tagged(fd, "a3", &bytes) < 0) {
		fprintf(stderr, "imap_floor: the command failed\n");
		return 1;
	}
	printf("%lld %lld\n", bytes, now_ms() - t0);
	say(fd, "a4 LOGOUT\r\n");
	close(fd);
	return 0;
}
