/*
 * imap_peer.c — the misbehaving IMAP server of imap_peer.h: an accept
 * loop on a thread, commands read line by line (tag, command, arguments;
 * literals from the client are not needed by the driver's reads), canned
 * answers and the faults.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sodium.h>
#include "imap_peer.h"

#define LINE_MAX_LEN 8192
#define MAX_TOKENS 256

struct imap_peer {
	int listen_fd, stop_pipe[2], port;
	pthread_t thread;
	pthread_mutex_t lock;
	enum imap_peer_fault fault;
	int connections;
	char *tokens[MAX_TOKENS];
	int n_tokens;
};

struct conn {
	struct imap_peer *p;
	int fd, number;
	char in[LINE_MAX_LEN];
	size_t in_len;
};

static const char message[] =
	"From: Carol <carol@fabrikam.example>\r\nTo: <adele@contoso.com>\r\n"
	"Subject: peer message\r\nMessage-ID: <peer-%u@test.example>\r\n\r\n";

static enum imap_peer_fault fault_of(struct imap_peer *p)
{
	enum imap_peer_fault f;

	pthread_mutex_lock(&p->lock);
	f = p->fault;
	pthread_mutex_unlock(&p->lock);
	return f;
}

static int send_all(struct conn *c, const void *data, size_t n)
{
	const char *s = data;

	while (n) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int say(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say(struct conn *c, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return n < 0 ? -1 : send_all(c, buf, strlen(buf));
}

/* The next line without CRLF; -1 on close, stop or an over-long line. */
static int read_line(struct conn *c, char *line)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->in_len);
		struct pollfd pf[2] = { { c->fd, POLLIN, 0 }, { c->p->stop_pipe[0], POLLIN, 0 } };
		ssize_t got;

		if (nl) {
			size_t n = (size_t)(nl - c->in), keep = n && c->in[n - 1] == '\r' ? n - 1 : n;

			memcpy(line, c->in, keep);
			line[keep] = '\0';
			memmove(c->in, nl + 1, c->in_len - n - 1);
			c->in_len -= n + 1;
			return 0;
		}
		if (c->in_len == sizeof(c->in) || poll(pf, 2, 30000) <= 0 || pf[1].revents)
			return -1;
		got = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (got <= 0)
			return -1;
		c->in_len += (size_t)got;
	}
}

static void remember_token(struct imap_peer *p, const char *b64)
{
	unsigned char raw[4096];
	size_t n = 0;
	const char *bearer;

	if (sodium_base642bin(raw, sizeof(raw) - 1, b64, strlen(b64), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return;
	raw[n] = '\0';
	bearer = strstr((const char *)raw, "auth=Bearer ");
	pthread_mutex_lock(&p->lock);
	if (bearer && p->n_tokens < MAX_TOKENS)
		p->tokens[p->n_tokens++] = strndup(bearer + 12, strcspn(bearer + 12, "\001"));
	pthread_mutex_unlock(&p->lock);
}

static int fetch_answer(struct conn *c, const char *tag, enum imap_peer_fault f)
{
	char msg[512];

	switch (f) {
	case IMAP_PEER_MALFORMED:
		return say(c, "* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE ((((\r\n%s OK done\r\n",
			   tag);
	case IMAP_PEER_TRUNCATED:
		return say(c, "* 1 FETCH (UID 1 BODY[HEADER] {500}\r\nFrom: someone") < 0 ? -1 : -1;
	case IMAP_PEER_HUGE_LITERAL: {
		static char junk[65536];

		if (say(c, "* 1 FETCH (UID 1 BODY[HEADER] {999999999999}\r\n") < 0)
			return -1;
		memset(junk, 'x', sizeof(junk));
		for (int i = 0; i < 64; i++)
			if (send_all(c, junk, sizeof(junk)) < 0)
				return -1;
		return -1;
	}
	case IMAP_PEER_ENDLESS_LINE: {
		static char junk[65536];

		memset(junk, 'y', sizeof(junk));
		if (say(c, "* 1 FETCH (UID 1 FLAGS (") < 0)
			return -1;
		for (int i = 0; i < 144; i++)
			if (send_all(c, junk, sizeof(junk)) < 0)
				return -1;
		return -1;
	}
	case IMAP_PEER_LARGE_ANSWER:
		for (unsigned i = 0; i < 40000; i++)
			if (say(c, "* %u FETCH (UID %u FLAGS (\\Seen) RFC822.SIZE 1234567 "
				"INTERNALDATE \"01-Dec-2026 10:00:00 +0000\")\r\n", i % 3 + 1,
				i % 3 + 1) < 0)
				return -1;
		return say(c, "%s OK done\r\n", tag);
	default:
		break;
	}
	for (unsigned uid = 1; uid <= 3; uid++) {
		snprintf(msg, sizeof(msg), message, uid);
		if (say(c, "* %u FETCH (UID %u FLAGS () INTERNALDATE \"01-Dec-2026 10:00:0%u "
			"+0000\" RFC822.SIZE %zu BODY[HEADER] {%zu}\r\n%s BODY[TEXT]<0> {4}\r\n"
			"hi\r\n)\r\n", uid, uid, uid, strlen(msg), strlen(msg), msg) < 0)
			return -1;
	}
	return say(c, "%s OK FETCH done\r\n", tag);
}

static int search_answer(struct conn *c, const char *tag, enum imap_peer_fault f)
{
	if (f == IMAP_PEER_LARGE_SEARCH) {
		static char ones[65536];

		for (size_t i = 0; i < sizeof(ones); i += 2)
			memcpy(ones + i, " 1", 2);
		if (say(c, "* SEARCH") < 0)
			return -1;
		for (int i = 0; i < 64; i++)
			if (send_all(c, ones, sizeof(ones)) < 0)
				return -1;
		return say(c, "\r\n%s OK SEARCH done\r\n", tag);
	}
	return say(c, "* SEARCH\r\n%s OK SEARCH done\r\n", tag);
}

static int examine_answer(struct conn *c, const char *tag, enum imap_peer_fault f)
{
	if (f == IMAP_PEER_SILENT) {
		char line[LINE_MAX_LEN];

		return read_line(c, line) < 0 ? -1 : -1;
	}
	if (f == IMAP_PEER_DROP)
		return -1;
	if (f == IMAP_PEER_BYE_TOKEN && c->number == 1)
		return say(c, "* BYE Session invalidated - AccessTokenExpired\r\n") < 0 ? -1 : -1;
	return say(c, "* FLAGS (\\Seen \\Flagged \\Draft \\Deleted \\Answered)\r\n"
		   "* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] ok\r\n"
		   "* OK [UIDNEXT 4] ok\r\n%s OK [READ-ONLY] done\r\n", tag);
}

static void serve(struct conn *c)
{
	char line[LINE_MAX_LEN], tag[64], cmd[64];

	if (say(c, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 IDLE UIDPLUS] peer "
		"ready\r\n") < 0)
		return;
	while (read_line(c, line) == 0) {
		enum imap_peer_fault f = fault_of(c->p);
		const char *args;
		int rc = 0;

		if (sscanf(line, "%63s %63s", tag, cmd) != 2)
			break;
		args = line + strlen(tag) + 1 + strlen(cmd);
		if (strcasecmp(cmd, "UID") == 0 && sscanf(args, " %63s", cmd) == 1)
			args += 1 + strlen(cmd);
		if (strcasecmp(cmd, "CAPABILITY") == 0)
			rc = say(c, "* CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 IDLE UIDPLUS\r\n"
				 "%s OK done\r\n", tag);
		else if (strcasecmp(cmd, "AUTHENTICATE") == 0) {
			const char *sp = strrchr(line, ' ');

			remember_token(c->p, sp ? sp + 1 : "");
			rc = f == IMAP_PEER_REFUSE_LOGIN
				? say(c, "%s NO [AUTHENTICATIONFAILED] AUTHENTICATE failed\r\n", tag)
				: say(c, "%s OK logged in\r\n", tag);
		} else if (strcasecmp(cmd, "EXAMINE") == 0 || strcasecmp(cmd, "SELECT") == 0)
			rc = examine_answer(c, tag, f);
		else if (strcasecmp(cmd, "FETCH") == 0)
			rc = fetch_answer(c, tag, f);
		else if (strcasecmp(cmd, "SEARCH") == 0)
			rc = search_answer(c, tag, f);
		else if (strcasecmp(cmd, "LIST") == 0)
			rc = say(c, "* LIST () \"/\" INBOX\r\n%s OK done\r\n", tag);
		else if (strcasecmp(cmd, "LOGOUT") == 0) {
			say(c, "* BYE bye\r\n%s OK done\r\n", tag);
			break;
		} else
			rc = say(c, "%s OK done\r\n", tag);
		if (rc < 0)
			break;
	}
}

static void *peer_thread(void *arg)
{
	struct imap_peer *p = arg;

	for (;;) {
		struct pollfd pf[2] = { { p->listen_fd, POLLIN, 0 }, { p->stop_pipe[0], POLLIN, 0 } };
		struct conn *c;
		int fd;

		if (poll(pf, 2, -1) < 0 || pf[1].revents)
			break;
		if ((fd = accept(p->listen_fd, NULL, NULL)) < 0)
			continue;
		c = calloc(1, sizeof(*c));
		c->p = p;
		c->fd = fd;
		pthread_mutex_lock(&p->lock);
		c->number = ++p->connections;
		pthread_mutex_unlock(&p->lock);
		serve(c);
		close(fd);
		free(c);
	}
	return NULL;
}

struct imap_peer *imap_peer_start(void)
{
	struct imap_peer *p = calloc(1, sizeof(*p));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(p->listen_fd, 4) < 0 ||
	    getsockname(p->listen_fd, (struct sockaddr *)&a, &alen) < 0 || pipe(p->stop_pipe) < 0) {
		perror("imap_peer_start");
		free(p);
		return NULL;
	}
	p->port = ntohs(a.sin_port);
	pthread_mutex_init(&p->lock, NULL);
	pthread_create(&p->thread, NULL, peer_thread, p);
	return p;
}

int imap_peer_port(const struct imap_peer *p)
{
	return p->port;
}

void imap_peer_set_fault(struct imap_peer *p, enum imap_peer_fault f)
{
	pthread_mutex_lock(&p->lock);
	p->fault = f;
	p->connections = 0;
	pthread_mutex_unlock(&p->lock);
}

int imap_peer_connections(struct imap_peer *p)
{
	int n;

	pthread_mutex_lock(&p->lock);
	n = p->connections;
	pthread_mutex_unlock(&p->lock);
	return n;
}

char *imap_peer_token(struct imap_peer *p, int n)
{
	char *t = NULL;

	pthread_mutex_lock(&p->lock);
	if (n >= 0 && n < p->n_tokens)
		t = strdup(p->tokens[n]);
	pthread_mutex_unlock(&p->lock);
	return t;
}

void imap_peer_stop(struct imap_peer *p)
{
	if (!p)
		return;
	if (write(p->stop_pipe[1], "x", 1) != 1)
		perror("imap_peer_stop");
	pthread_join(p->thread, NULL);
	close(p->listen_fd);
	close(p->stop_pipe[0]);
	close(p->stop_pipe[1]);
	for (int i = 0; i < p->n_tokens; i++)
		free(p->tokens[i]);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
