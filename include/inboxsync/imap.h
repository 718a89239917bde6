/*
 * imap.h — the IMAP OAuth2 transport: IMAP (libetpan) and SMTP submission
 * (libcurl) over SASL XOAUTH2. The mail driver (driver.h) for an account,
 * waiting for new mail with IDLE, and the login probes of Test & Confirm
 * (log in to IMAP and list the folders; log in to SMTP without sending).
 * Tokens are for the outlook.office.com resource. TLS is required
 * (implicit on 993/465, STARTTLS otherwise) except to a loopback host,
 * where a plain connection is allowed for tests. docs/imap-design.md
 * explains message identity, cursors and sending.
 */
#ifndef INBOXSYNC_IMAP_H
#define INBOXSYNC_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include "inboxsync/driver.h"
#include "inboxsync/err.h"

#define IMAP_PORT_IMPLICIT_TLS 993   /* imaps:// */
#define SMTP_PORT_IMPLICIT_TLS 465   /* smtps:// */
#define IMAP_PROBE_CONNECT_TIMEOUT_MS 10000L
#define IMAP_PROBE_TOTAL_TIMEOUT_MS 30000L
#define IMAP_DEFAULT_PORT 993
#define SMTP_DEFAULT_PORT 587                /* STARTTLS */

/* Whether the driver files a copy of what it sends in Sent. Exchange
 * Online files its own copy of every message submitted over SMTP, so
 * appending one would show it twice. */
enum imap_sent_copy {
	IMAP_SENT_COPY_AUTO = 0,   /* by host: Microsoft's servers file their own */
	IMAP_SENT_COPY_SERVER,     /* the server files it: never APPEND */
	IMAP_SENT_COPY_APPEND,     /* APPEND once (after looking for it) */
};

/* Settings beyond the endpoint (0/NULL = the default). */
struct imap_driver_opts {
	const char *ca_file;           /* trust for TLS (NULL = system store) */
	enum imap_sent_copy sent_copy;
	int connect_timeout_ms;        /* default 15 s */
	int io_timeout_ms;             /* default 60 s: one read or write */
	size_t max_response;           /* one IMAP answer, default 64 MiB */
	size_t max_message;            /* one raw message, default 64 MiB */
	bool no_qresync;               /* never ENABLE QRESYNC */
	bool no_condstore;             /* never use CONDSTORE (scan for changes) */
};

/* Open the IMAP driver for an account: IMAP at ep->imap_server (default
 * port 993, implicit TLS; another port uses STARTTLS; plain only to a
 * loopback host), SMTP submission at ep->smtp_server (default 587,
 * STARTTLS), logging in as ep->user with tokens of the "outlook" resource
 * from ep->auth. Nothing is connected until the first operation. Errors:
 * ERR_PERMANENT "bad_server" for an unusable server setting. The driver
 * keeps at most two connections (operations; IDLE). */
int imap_driver_open(const struct driver_endpoint *ep, struct driver **out,
		     struct err *e);

/* The same with settings (tests, other servers). */
int imap_driver_open_with(const struct driver_endpoint *ep,
			  const struct imap_driver_opts *o, struct driver **out,
			  struct err *e);

/* Wait up to `timeout_ms` for the server to announce a change (new mail,
 * flags, expunges) in `folder_remote_id` with IDLE on the driver's second
 * connection (re-issued every 28 minutes, as servers drop an IDLE after
 * 30). Returns 1 when something changed (sync the folder then), 0 when
 * the time passed quietly, -1 with `e` (ERR_PERMANENT "unsupported" when
 * the server has no IDLE: poll instead). `d` must be an IMAP driver.
 * Blocks. */
int imap_driver_wait(struct driver *d, const char *folder_remote_id,
		     int timeout_ms, struct err *e);

/* How many times the driver logged in (both connections), for tests and
 * logs. */
int imap_driver_logins(struct driver *d);

/* Split a server setting "host:port" into `host` (size `host_len`) and
 * *port. IPv6 literals may come bracketed ("[::1]:993") or bare ("::1:993",
 * the last colon separates the port); `host` gets them without brackets.
 * An empty or NULL `server` gives `def_host` and `def_port`. Errors
 * ERR_PERMANENT "bad_server" naming the setting and what is wrong (no
 * port, port out of range, empty or over-long host). */
int imap_parse_server(const char *server, const char *def_host, int def_port,
		      char *host, size_t host_len, int *port, struct err *e);

/* Log in to IMAP at host:port as `user` with the bearer `token` (XOAUTH2)
 * and list the folders; *n_folders gets their count (may be NULL).
 * Errors: ERR_AUTH "imap_auth" when the server refuses the login (message
 * says what usually causes it: IMAP disabled for the mailbox, token for
 * the wrong resource, missing consent); ERR_TRANSIENT "network" when the
 * server cannot be reached; ERR_PERMANENT for TLS problems. Blocks
 * (connect and total timeouts apply). */
int imap_probe_login(const char *host, int port, const char *user,
		     const char *token, int *n_folders, struct err *e);

/* Log in to SMTP submission at host:port (STARTTLS) as `user` with XOAUTH2
 * and quit without sending. Errors: ERR_AUTH "smtp_auth" for a refused
 * login (535; the message names the usual cause: SMTP AUTH disabled for
 * the tenant or mailbox, and the admin command that enables it), others as
 * imap_probe_login. */
int smtp_probe_login(const char *host, int port, const char *user,
		     const char *token, struct err *e);

#endif
