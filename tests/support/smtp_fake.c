/*
 * smtp_fake.c — the scripted SMTP server of smtp_fake.h: an accept loop
 * on a thread, one client at a time, line-based commands with a capped
 * line length, DATA collected into a capped buffer and dot-unstuffed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sodium.h>
#include "inboxsync/buf.h"
#include "smtp_fake.h"

#define LINE_MAX_LEN 4096
#define DATA_MAX ((size_t)64 << 20)
#define MAX_RCPTS 64
#define IDLE_TIMEOUT_MS 30000

struct smtp_fake {
	struct smtp_fake_opts o;
	int listen_fd;
	int stop_pipe[2];
	int port;
	pthread_t thread;
	pthread_mutex_t lock;
	enum smtp_fake_fault fault;
	int accepted;
	char *last_mech;
	char *last_auth;
};

/* One client connection: a read buffer for lines. */
struct client {
	struct smtp_fake *f;
	int fd;
	char in[LINE_MAX_LEN * 2];
	size_t in_len;
};

static enum smtp_fake_fault fault_now(struct smtp_fake *f)
{
	enum smtp_fake_fault v;

	pthread_mutex_lock(&f->lock);
	v = f->fault;
	pthread_mutex_unlock(&f->lock);
	return v;
}

static int reply(struct client *c, const char *text)
{
	size_t n = strlen(text);

	return write(c->fd, text, n) == (ssize_t)n ? 0 : -1;
}

/* The next line without CRLF into `line`; -1 on EOF, timeout, stop or an
 * over-long line. */
static int read_line(struct client *c, char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->in_len);
		struct pollfd p[2] = { { c->fd, POLLIN, 0 }, { c->f->stop_pipe[0], POLLIN, 0 } };
		ssize_t got;

		if (nl) {
			size_t n = (size_t)(nl - c->in);
			size_t keep = n && c->in[n - 1] == '\r' ? n - 1 : n;

			if (keep >= cap)
				return -1;
			memcpy(line, c->in, keep);
			line[keep] = '\0';
			memmove(c->in, nl + 1, c->in_len - n - 1);
			c->in_len -= n + 1;
			return 0;
		}
		if (c->in_len == sizeof(c->in))
			return -1;
		if (poll(p, 2, IDLE_TIMEOUT_MS) <= 0 || p[1].revents)
			return -1;
		got = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (got <= 0)
			return -1;
		c->in_len += (size_t)got;
	}
}

/* "<addr>" of MAIL FROM:<addr> / RCPT TO:<addr> (heap). */
static char *path_of(const char *arg)
{
	const char *lt = strchr(arg, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (!lt || !gt)
		return strdup(arg);
	return strndup(lt + 1, (size_t)(gt - lt - 1));
}

static void remember_auth(struct smtp_fake *f, const char *mech, const char *b64)
{
	unsigned char raw[4096];
	size_t raw_len = 0;

	pthread_mutex_lock(&f->lock);
	free(f->last_mech);
	free(f->last_auth);
	f->last_mech = strdup(mech);
	f->last_auth = NULL;
	if (b64 && sodium_base642bin(raw, sizeof(raw) - 1, b64, strlen(b64), NULL,
				     &raw_len, NULL, sodium_base64_VARIANT_ORIGINAL) == 0) {
		raw[raw_len] = '\0';
		f->last_auth = strndup((const char *)raw, raw_len);
	}
	pthread_mutex_unlock(&f->lock);
}

/* AUTH <mech> [initial-response]: a 334 challenge when the response is
 * not inline; then 235 or the fault's 535. */
static int do_auth(struct client *c, const char *args, bool *authed)
{
	char mech[64] = "", line[LINE_MAX_LEN];
	const char *sp = strchr(args, ' ');
	enum smtp_fake_fault fault = fault_now(c->f);

	snprintf(mech, sizeof(mech), "%.*s", sp ? (int)(sp - args) : (int)strlen(args), args);
	if (sp) {
		remember_auth(c->f, mech, sp + 1);
	} else {
		if (reply(c, "334 \r\n") < 0 || read_line(c, line, sizeof(line)) < 0)
			return -1;
		remember_auth(c->f, mech, line);
	}
	if (fault == SMTP_FAKE_AUTH_DISABLED)
		return reply(c, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
			     "is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled "
			     "for more information. [fake.prod.outlook.com]\r\n");
	if (fault == SMTP_FAKE_AUTH_DENIED)
		return reply(c, "535 5.7.3 Authentication unsuccessful [fake.prod.outlook.com]\r\n");
	*authed = true;
	return reply(c, "235 2.7.0 Authentication successful\r\n");
}

/* DATA: collect until ".", dot-unstuffed; deliver; 250 (or drop). */
static int do_data(struct client *c, const char *from, char **rcpts, size_t n)
{
	char line[LINE_MAX_LEN];
	struct smtp_fake_msg m;
	struct buf data;
	int rc = -1;

	buf_init(&data, DATA_MAX);
	if (reply(c, "354 Start mail input; end with <CRLF>.<CRLF>\r\n") < 0)
		goto out;
	for (;;) {
		const char *l = line;

		if (read_line(c, line, sizeof(line)) < 0)
			goto out;
		if (strcmp(line, ".") == 0)
			break;
		if (line[0] == '.')
			l++;
		if (buf_puts(&data, l, NULL) < 0 || buf_puts(&data, "\r\n", NULL) < 0)
			goto out;
	}
	if (fault_now(c->f) == SMTP_FAKE_DROP_AFTER_DATA)
		goto out; /* the caller closes: no answer to the message */
	m.from = from;
	m.rcpts = (const char *const *)rcpts;
	m.n_rcpts = n;
	m.data = buf_str(&data);
	m.len = data.len;
	if (c->f->o.deliver)
		c->f->o.deliver(c->f->o.ctx, &m);
	pthread_mutex_lock(&c->f->lock);
	c->f->accepted++;
	pthread_mutex_unlock(&c->f->lock);
	rc = reply(c, "250 2.0.0 OK queued\r\n");
out:
	buf_free(&data);
	return rc;
}

static void reset_envelope(char **from, char **rcpts, size_t *n)
{
	free(*from);
	*from = NULL;
	for (size_t i = 0; i < *n; i++)
		free(rcpts[i]);
	*n = 0;
}

static void serve_client(struct client *c)
{
	char line[LINE_MAX_LEN], *from = NULL, *rcpts[MAX_RCPTS];
	size_t n_rcpts = 0;
	bool authed = !c->f->o.auth;
	const char *mechs = c->f->o.auth_mechanisms ? c->f->o.auth_mechanisms : "XOAUTH2";

	if (reply(c, "220 fake.prod.outlook.com Microsoft ESMTP MAIL Service ready\r\n") < 0)
		return;
	while (read_line(c, line, sizeof(line)) == 0) {
		int rc = 0;

		if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
			char text[512];

			snprintf(text, sizeof(text), "250-fake.prod.outlook.com Hello\r\n"
				 "250-SIZE 37748736\r\n250-8BITMIME\r\n%s%s%s250 ENHANCEDSTATUSCODES\r\n",
				 c->f->o.auth ? "250-AUTH " : "", c->f->o.auth ? mechs : "",
				 c->f->o.auth ? "\r\n" : "");
			rc = reply(c, text);
		} else if (strncasecmp(line, "AUTH ", 5) == 0) {
			rc = do_auth(c, line + 5, &authed);
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			reset_envelope(&from, rcpts, &n_rcpts);
			if (!authed)
				rc = reply(c, "530 5.7.57 Client not authenticated to send mail\r\n");
			else if (fault_now(c->f) == SMTP_FAKE_TEMPFAIL_MAIL)
				rc = reply(c, "451 4.3.0 Temporary server error, try again later\r\n");
			else {
				from = path_of(line + 10);
				rc = reply(c, "250 2.1.0 Sender OK\r\n");
			}
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			if (!from)
				rc = reply(c, "503 5.5.1 Need MAIL first\r\n");
			else if (fault_now(c->f) == SMTP_FAKE_REJECT_RCPT)
				rc = reply(c, "550 5.1.1 Recipient address rejected: no such user\r\n");
			else if (n_rcpts == MAX_RCPTS)
				rc = reply(c, "452 4.5.3 Too many recipients\r\n");
			else {
				rcpts[n_rcpts++] = path_of(line + 8);
				rc = reply(c, "250 2.1.5 Recipient OK\r\n");
			}
		} else if (strcasecmp(line, "DATA") == 0) {
			if (!from || n_rcpts == 0)
				rc = reply(c, "503 5.5.1 Need RCPT first\r\n");
			else
				rc = do_data(c, from, rcpts, n_rcpts);
			reset_envelope(&from, rcpts, &n_rcpts);
		} else if (strcasecmp(line, "RSET") == 0) {
			reset_envelope(&from, rcpts, &n_rcpts);
			rc = reply(c, "250 2.0.0 OK\r\n");
		} else if (strcasecmp(line, "NOOP") == 0) {
			rc = reply(c, "250 2.0.0 OK\r\n");
		} else if (strcasecmp(line, "QUIT") == 0) {
			reply(c, "221 2.0.0 Bye\r\n");
			break;
		} else {
			rc = reply(c, "500 5.3.3 Unrecognized command\r\n");
		}
		if (rc < 0)
			break;
	}
	reset_envelope(&from, rcpts, &n_rcpts);
}

static void *server_thread(void *arg)
{
	struct smtp_fake *f = arg;

	for (;;) {
		struct pollfd p[2] = { { f->listen_fd, POLLIN, 0 }, { f->stop_pipe[0], POLLIN, 0 } };
		struct client *c;
		int fd;

		if (poll(p, 2, -1) < 0 || p[1].revents)
			break;
		fd = accept(f->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		c = calloc(1, sizeof(*c));
		c->f = f;
		c->fd = fd;
		serve_client(c);
		close(fd);
		free(c);
	}
	return NULL;
}

struct smtp_fake *smtp_fake_start(const struct smtp_fake_opts *o)
{
	struct smtp_fake *f = calloc(1, sizeof(*f));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int one = 1;

	f->o = *o;
	pthread_mutex_init(&f->lock, NULL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(f->listen_fd, 8) < 0 ||
	    getsockname(f->listen_fd, (struct sockaddr *)&a, &alen) < 0 ||
	    pipe(f->stop_pipe) < 0) {
		perror("smtp_fake_start");
		free(f);
		return NULL;
	}
	f->port = ntohs(a.sin_port);
	pthread_create(&f->thread, NULL, server_thread, f);
	return f;
}

int smtp_fake_port(const struct smtp_fake *f)
{
	return f->port;
}

void smtp_fake_set_fault(struct smtp_fake *f, enum smtp_fake_fault fault)
{
	pthread_mutex_lock(&f->lock);
	f->fault = fault;
	pthread_mutex_unlock(&f->lock);
}

int smtp_fake_accepted(struct smtp_fake *f)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->accepted;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static char *locked_copy(struct smtp_fake *f, char **field)
{
	char *v;

	pthread_mutex_lock(&f->lock);
	v = *field ? strdup(*field) : NULL;
	pthread_mutex_unlock(&f->lock);
	return v;
}

char *smtp_fake_last_mechanism(struct smtp_fake *f)
{
	return locked_copy(f, &f->last_mech);
}

char *smtp_fake_last_auth_response(struct smtp_fake *f)
{
	return locked_copy(f, &f->last_auth);
}

void smtp_fake_stop(struct smtp_fake *f)
{
	if (!f)
		return;
	if (write(f->stop_pipe[1], "x", 1) != 1)
		perror("smtp_fake_stop");
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	pthread_mutex_destroy(&f->lock);
	free(f->last_mech);
	free(f->last_auth);
	free(f);
}
