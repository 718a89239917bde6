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

#include "inboxsync/err.h"

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
