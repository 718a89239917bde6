/*
 * imap.h — IMAP and SMTP submission over SASL XOAUTH2, as far as Test &
 * Confirm needs them for the IMAP OAuth2 transport: log in to IMAP and
 * list the folders (incoming), log in to SMTP submission without sending
 * anything (outgoing). Tokens are for the outlook.office.com resource.
 * TLS is required (implicit on 993/465, STARTTLS otherwise) except to a
 * loopback host, where a plain connection is allowed for tests.
 */
#ifndef INBOXSYNC_IMAP_H
#define INBOXSYNC_IMAP_H

#include <stddef.h>
#include "inboxsync/err.h"

#define IMAP_PORT_IMPLICIT_TLS 993   /* imaps:// */
#define SMTP_PORT_IMPLICIT_TLS 465   /* smtps:// */
#define IMAP_PROBE_CONNECT_TIMEOUT_MS 10000L
#define IMAP_PROBE_TOTAL_TIMEOUT_MS 30000L

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
