/*
 * imap_stream.c — the byte stream libetpan reads IMAP from: a
 * mailstream_low driver of our own over a socket, with TLS by GnuTLS
 * (certificate chain and host name verified during the handshake, which
 * libetpan's own TLS layer does not do), I/O timeouts on every read and
 * write, and the response guard. The guard watches the bytes on their
 * way to libetpan's parser: it knows where lines end and where a literal
 * "{N}" begins, so an answer that announces a literal over its cap, a
 * line that never ends or an answer over its size fails the read before
 * libetpan allocates anything for it (libetpan allocates a literal's
 * announced size at once). It also keeps the server's last line and BYE
 * text for error messages. It does not parse IMAP beyond line ends and
 * literal markers: that is libetpan's job.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/mailstream_low.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "imap/imap_internal.h"

#define STREAM_BUFFER 65536
#define LINE_KEEP 200
#define TAIL_KEEP 24

struct imap_stream {
	int fd;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	int io_timeout_ms;
	/* the guard */
	size_t max_literal;
	size_t max_response;
	size_t response_bytes;
	size_t line_len;
	uint64_t literal_left;
	char tail[TAIL_KEEP];
	size_t tail_len;
	char head[LINE_KEEP];
	size_t head_len;
	enum imap_stream_failure failure;
	char last_line[LINE_KEEP];
	char bye[LINE_KEEP];
	uint64_t bytes_in;
	uint64_t changes;              /* untagged "* <n> ..." and "* VANISHED" lines */
	uint64_t shrinks;              /* untagged "* <n> EXPUNGE" and "* VANISHED" lines */
};

static struct imap_stream *stream_of(mailstream_low *low)
{
	return low->data;
}

/* ---- the guard ----------------------------------------------------------------- */

/* "{123}" or "{123+}" at the end of the line kept in `tail` (without
 * CRLF): the literal's size, or -1 when the line does not announce one. */
static long long literal_announced(const char *tail, size_t n)
{
	size_t i;
	unsigned long long v = 0;

	if (n && tail[n - 1] == '\r')
		n--;
	if (n < 3 || tail[n - 1] != '}')
		return -1;
	i = n - 1; /* >= 2 */
	if (tail[i - 1] == '+')
		i--;
	while (i && tail[i - 1] >= '0' && tail[i - 1] <= '9')
		i--;
	if (!i || tail[i - 1] != '{' || i == n - 1 || tail[i] == '}' || tail[i] == '+')
		return -1;
	for (size_t k = i; k < n && tail[k] >= '0' && tail[k] <= '9'; k++) {
		if (v > (1ULL << 40))
			return (long long)(1ULL << 41); /* absurd: over any cap */
		v = v * 10 + (unsigned)(tail[k] - '0');
	}
	return (long long)v;
}

static void printable_copy(char *dst, const char *src, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < LINE_KEEP; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\r' || c == '\n')
			break;
		dst[j++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[j] = '\0';
}

/* "* <n> EXPUNGE" or "* VANISHED ...": messages left the selected mailbox
 * (sequence numbers after them moved down). */
static bool is_shrink(const char *line)
{
	size_t i = 2;

	if (strncmp(line, "* ", 2) != 0)
		return false;
	if (strncasecmp(line + 2, "VANISHED", 8) == 0)
		return true;
	while (line[i] >= '0' && line[i] <= '9')
		i++;
	return i > 2 && strncasecmp(line + i, " EXPUNGE", 8) == 0;
}

static void line_complete(struct imap_stream *st)
{
	long long lit = literal_announced(st->tail, st->tail_len);

	printable_copy(st->last_line, st->head, st->head_len);
	if (strncmp(st->last_line, "* ", 2) == 0 &&
	    ((st->last_line[2] >= '0' && st->last_line[2] <= '9') ||
	     strncasecmp(st->last_line + 2, "VANISHED", 8) == 0))
		st->changes++;
	if (is_shrink(st->last_line))
		st->shrinks++;
	if (strncasecmp(st->last_line, "* BYE", 5) == 0)
		snprintf(st->bye, sizeof(st->bye), "%s", st->last_line + (st->last_line[5] ? 6 : 5));
	if (lit >= 0) {
		if ((unsigned long long)lit > st->max_literal)
			st->failure = IMAP_STREAM_LITERAL_TOO_LARGE;
		st->literal_left = (uint64_t)lit;
	}
	st->line_len = st->tail_len = st->head_len = 0;
}

/* Watch `n` bytes on their way to libetpan. Returns 0, or -1 with
 * st->failure set. */
static int guard(struct imap_stream *st, const char *p, size_t n)
{
	st->response_bytes += n;
	st->bytes_in += n;
	if (st->response_bytes > st->max_response) {
		st->failure = IMAP_STREAM_TOO_LARGE;
		return -1;
	}
	while (n) {
		if (st->literal_left) {
			size_t take = st->literal_left < n ? (size_t)st->literal_left : n;

			st->literal_left -= take;
			p += take;
			n -= take;
			continue;
		}
		if (++st->line_len > IMAP_MAX_LINE) {
			st->failure = IMAP_STREAM_LINE_TOO_LONG;
			return -1;
		}
		if (st->head_len < LINE_KEEP)
			st->head[st->head_len++] = *p;
		if (st->tail_len == TAIL_KEEP) {
			memmove(st->tail, st->tail + 1, TAIL_KEEP - 1);
			st->tail_len--;
		}
		st->tail[st->tail_len++] = *p;
		if (*p == '\n') {
			st->tail_len--; /* without the LF */
			line_complete(st);
			if (st->failure)
				return -1;
		}
		p++;
		n--;
	}
	return 0;
}

/* ---- I/O ---------------------------------------------------------------------------- */

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { fd, events, 0 };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r;
}

static ssize_t stream_read(mailstream_low *low, void *buf, size_t count)
{
	struct imap_stream *st = stream_of(low);
	ssize_t got;

	if (st->failure || st->fd < 0)
		return -1;
	if (!(st->tls && gnutls_record_check_pending(st->tls)) &&
	    wait_fd(st->fd, POLLIN, st->io_timeout_ms) <= 0) {
		st->failure = IMAP_STREAM_TIMEOUT;
		return -1;
	}
	if (st->tls) {
		do
			got = gnutls_record_recv(st->tls, buf, count);
		while (got == GNUTLS_E_INTERRUPTED);
		if (got == GNUTLS_E_AGAIN) {
			st->failure = IMAP_STREAM_TIMEOUT;
			return -1;
		}
		if (got < 0) {
			st->failure = got == GNUTLS_E_PREMATURE_TERMINATION ?
				IMAP_STREAM_CLOSED : IMAP_STREAM_IO;
			return -1;
		}
	} else {
		do
			got = recv(st->fd, buf, count, 0);
		while (got < 0 && errno == EINTR);
		if (got < 0) {
			st->failure = errno == EAGAIN ? IMAP_STREAM_TIMEOUT : IMAP_STREAM_IO;
			return -1;
		}
	}
	if (got == 0) {
		st->failure = IMAP_STREAM_CLOSED;
		return -1;
	}
	if (guard(st, buf, (size_t)got) < 0)
		return -1;
	return got;
}

static ssize_t stream_write(mailstream_low *low, const void *buf, size_t count)
{
	struct imap_stream *st = stream_of(low);
	ssize_t put;

	if (st->failure || st->fd < 0)
		return -1;
	/* a new command: a new answer */
	st->response_bytes = 0;
	if (wait_fd(st->fd, POLLOUT, st->io_timeout_ms) <= 0) {
		st->failure = IMAP_STREAM_TIMEOUT;
		return -1;
	}
	if (st->tls) {
		do
			put = gnutls_record_send(st->tls, buf, count);
		while (put == GNUTLS_E_INTERRUPTED);
		if (put == GNUTLS_E_AGAIN)
			return 0;
		if (put < 0) {
			st->failure = IMAP_STREAM_IO;
			return -1;
		}
		return put;
	}
	do
		put = send(st->fd, buf, count, MSG_NOSIGNAL);
	while (put < 0 && errno == EINTR);
	if (put < 0) {
		if (errno == EAGAIN)
			return 0;
		st->failure = errno == EPIPE || errno == ECONNRESET ? IMAP_STREAM_CLOSED
								     : IMAP_STREAM_IO;
		return -1;
	}
	return put;
}

static void tls_end(struct imap_stream *st)
{
	if (st->tls)
		gnutls_deinit(st->tls);
	if (st->cred)
		gnutls_certificate_free_credentials(st->cred);
	st->tls = NULL;
	st->cred = NULL;
}

static int stream_close(mailstream_low *low)
{
	struct imap_stream *st = stream_of(low);

	tls_end(st);
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	return 0;
}

static int stream_get_fd(mailstream_low *low)
{
	return stream_of(low)->fd;
}

static void stream_free(mailstream_low *low)
{
	struct imap_stream *st = stream_of(low);

	stream_close(low);
	free(st);
	free(low);
}

static void stream_cancel(mailstream_low *low)
{
	(void)low;
}

static struct mailstream_cancel *stream_get_cancel(mailstream_low *low)
{
	(void)low;
	return NULL;
}

static carray *stream_certificates(mailstream_low *low)
{
	(void)low;
	return NULL;
}

static mailstream_low_driver guarded_driver = {
	.mailstream_read = stream_read,
	.mailstream_write = stream_write,
	.mailstream_close = stream_close,
	.mailstream_get_fd = stream_get_fd,
	.mailstream_free = stream_free,
	.mailstream_cancel = stream_cancel,
	.mailstream_get_cancel = stream_get_cancel,
	.mailstream_get_certificate_chain = stream_certificates,
};

/* ---- connecting ------------------------------------------------------------------ */

bool imap_host_is_loopback(const char *host)
{
	unsigned char a4[4], a6[16];
	static const unsigned char v6_loopback[16] = { [15] = 1 };

	if (!host)
		return false;
	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return true;
	if (inet_pton(AF_INET, host, a4) == 1)
		return a4[0] == 127;
	return inet_pton(AF_INET6, host, a6) == 1 &&
	       memcmp(a6, v6_loopback, sizeof(a6)) == 0;
}

static bool addr_is_loopback(const struct sockaddr *sa)
{
	static const unsigned char v6_loopback[16] = { [15] = 1 };

	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			      v6_loopback, 16) == 0;
	return false;
}

/* Connect one address within the timeout; the socket stays blocking
 * afterwards (reads and writes wait with poll first). */
static int connect_addr(const struct addrinfo *ai, int timeout_ms, int *err_out)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int flags, soerr = 0, one = 1;
	socklen_t len = sizeof(soerr);

	if (fd < 0) {
		*err_out = errno;
		return -1;
	}
	flags = fcntl(fd, F_GETFL, 0);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			*err_out = errno;
			close(fd);
			return -1;
		}
		if (wait_fd(fd, POLLOUT, timeout_ms) <= 0) {
			*err_out = ETIMEDOUT;
			close(fd);
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
			*err_out = soerr ? soerr : errno;
			close(fd);
			return -1;
		}
	}
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int tcp_connect(const char *host, int port, bool need_tls, int timeout_ms,
		       int *fd_out, struct err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;
	char port_str[16];
	int rc, last_err = 0;
	bool refused_plain = false;

	snprintf(port_str, sizeof(port_str), "%d", port);
	rc = getaddrinfo(host, port_str, &hints, &res);
	if (rc != 0)
		return err_set(e, ERR_TRANSIENT, "network",
			       "the IMAP server %.200s:%d could not be resolved: %s; check "
			       "the server setting and the network", host, port,
			       gai_strerror(rc));
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd;

		if (!need_tls && !addr_is_loopback(ai->ai_addr)) {
			refused_plain = true;
			continue;
		}
		fd = connect_addr(ai, timeout_ms, &last_err);
		if (fd >= 0) {
			freeaddrinfo(res);
			*fd_out = fd;
			return 0;
		}
	}
	freeaddrinfo(res);
	if (refused_plain && !last_err)
		return err_set(e, ERR_PERMANENT, "plaintext_refused",
			       "%.200s:%d is not a loopback address, and IMAP without TLS "
			       "is only allowed on loopback; use port 993 (TLS) or a server "
			       "that offers STARTTLS", host, port);
	return err_set(e, ERR_TRANSIENT, "network",
		       "the IMAP server %.200s:%d could not be reached: %s; check the "
		       "server setting and the network, then try again", host, port,
		       strerror(last_err ? last_err : ECONNREFUSED));
}

/* ---- TLS ---------------------------------------------------------------------------- */

int imap_stream_start_tls(struct imap_stream *st, const char *host,
			  const char *ca_file, struct err *e)
{
	unsigned char a[16];
	bool is_ip = inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
	int r;

	if (gnutls_certificate_allocate_credentials(&st->cred) < 0)
		return err_set(e, ERR_BUG, "tls", "GnuTLS could not allocate credentials");
	r = ca_file && *ca_file ?
		gnutls_certificate_set_x509_trust_file(st->cred, ca_file, GNUTLS_X509_FMT_PEM) :
		gnutls_certificate_set_x509_system_trust(st->cred);
	if (r <= 0) {
		tls_end(st);
		return err_set(e, ERR_PERMANENT, "tls",
			       "no trusted certificates could be loaded from %s (%s)",
			       ca_file && *ca_file ? ca_file : "the system trust store",
			       r < 0 ? gnutls_strerror(r) : "none found");
	}
	if (gnutls_init(&st->tls, GNUTLS_CLIENT) < 0 ||
	    gnutls_set_default_priority(st->tls) < 0 ||
	    gnutls_credentials_set(st->tls, GNUTLS_CRD_CERTIFICATE, st->cred) < 0) {
		tls_end(st);
		return err_set(e, ERR_BUG, "tls", "GnuTLS could not set up a session");
	}
	if (!is_ip)
		gnutls_server_name_set(st->tls, GNUTLS_NAME_DNS, host, strlen(host));
	gnutls_session_set_verify_cert(st->tls, host, 0);
	gnutls_transport_set_int(st->tls, st->fd);
	gnutls_handshake_set_timeout(st->tls, (unsigned)st->io_timeout_ms);
	do
		r = gnutls_handshake(st->tls);
	while (r < 0 && !gnutls_error_is_fatal(r) && r != GNUTLS_E_AGAIN);
	if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		gnutls_datum_t why = { NULL, 0 };
		unsigned status = gnutls_session_get_verify_cert_status(st->tls);

		gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0);
		err_set(e, ERR_PERMANENT, "tls",
			"the certificate of the IMAP server %.200s is not trusted: %s; "
			"the server must present a certificate for that name from a "
			"trusted authority", host, why.data ? (const char *)why.data : "?");
		gnutls_free(why.data);
		tls_end(st);
		return -1;
	}
	if (r < 0) {
		tls_end(st);
		return err_set(e, r == GNUTLS_E_AGAIN || r == GNUTLS_E_TIMEDOUT ? ERR_TRANSIENT
			       : ERR_PERMANENT, r == GNUTLS_E_AGAIN ? "timeout" : "tls",
			       "the TLS handshake with the IMAP server %.200s failed: %s",
			       host, gnutls_strerror(r));
	}
	return 0;
}

int imap_stream_open(const char *host, int port, bool tls, const char *ca_file,
		     int connect_timeout_ms, int io_timeout_ms, mailstream **out,
		     struct imap_stream **st_out, struct err *e)
{
	struct imap_stream *st;
	mailstream_low *low;
	struct timeval tv = { io_timeout_ms / 1000, (io_timeout_ms % 1000) * 1000 };
	int fd = -1;

	*out = NULL;
	*st_out = NULL;
	if (tcp_connect(host, port, tls, connect_timeout_ms, &fd, e) < 0)
		return -1;
	/* blocking I/O inside GnuTLS times out too */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	st = xcalloc(1, sizeof(*st));
	st->fd = fd;
	st->io_timeout_ms = io_timeout_ms;
	st->max_literal = IMAP_METADATA_LITERAL_MAX;
	st->max_response = IMAP_DEFAULT_MAX_RESPONSE;
	if (tls && imap_stream_start_tls(st, host, ca_file, e) < 0) {
		close(fd);
		free(st);
		return -1;
	}
	low = mailstream_low_new(st, &guarded_driver);
	if (!low) {
		fprintf(stderr, "inboxsync: out of memory (mailstream_low_new)\n");
		abort();
	}
	*out = mailstream_new(low, STREAM_BUFFER);
	if (!*out) {
		fprintf(stderr, "inboxsync: out of memory (mailstream_new)\n");
		abort();
	}
	*st_out = st;
	return 0;
}

void imap_stream_limits(struct imap_stream *st, size_t max_literal,
			size_t max_response)
{
	st->max_literal = max_literal;
	st->max_response = max_response;
}

void imap_stream_set_timeout(struct imap_stream *st, int io_timeout_ms)
{
	struct timeval tv = { io_timeout_ms / 1000, (io_timeout_ms % 1000) * 1000 };

	st->io_timeout_ms = io_timeout_ms;
	setsockopt(st->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(st->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

enum imap_stream_failure imap_stream_failure(const struct imap_stream *st)
{
	return st ? st->failure : IMAP_STREAM_CLOSED;
}

const char *imap_stream_last_line(const struct imap_stream *st)
{
	return st ? st->last_line : "";
}

const char *imap_stream_bye(const struct imap_stream *st)
{
	return st ? st->bye : "";
}

uint64_t imap_stream_bytes_in(const struct imap_stream *st)
{
	return st ? st->bytes_in : 0;
}

uint64_t imap_stream_changes(const struct imap_stream *st)
{
	return st ? st->changes : 0;
}

uint64_t imap_stream_shrinks(const struct imap_stream *st)
{
	return st ? st->shrinks : 0;
}

int imap_stream_fd(const struct imap_stream *st)
{
	return st ? st->fd : -1;
}

bool imap_stream_has_pending(const struct imap_stream *st)
{
	return st && st->tls && gnutls_record_check_pending(st->tls) > 0;
}
