/*
 * imap_peer.h — a small misbehaving IMAP server on 127.0.0.1 for tests,
 * in a thread of the test: it greets, takes CAPABILITY and AUTHENTICATE
 * XOAUTH2 (recording the tokens it was given), answers EXAMINE/SELECT of
 * a three-message INBOX (the only folder LIST shows), FETCH and SEARCH
 * (none found), and misbehaves on cue where the driver
 * must stay safe: malformed or truncated answers, a literal announced
 * far over any cap, a line that never ends, an answer over the size cap,
 * silence, a dropped connection, a BYE saying the token expired. One
 * connection at a time; a fault applies to every connection until
 * changed, except IMAP_PEER_BYE_TOKEN, which hits the first one only.
 */
#ifndef INBOXSYNC_TEST_IMAP_PEER_H
#define INBOXSYNC_TEST_IMAP_PEER_H

#include <stddef.h>

enum imap_peer_fault {
	IMAP_PEER_OK = 0,
	IMAP_PEER_MALFORMED,         /* FETCH: unparsable attributes */
	IMAP_PEER_TRUNCATED,         /* FETCH: a literal cut short, then close */
	IMAP_PEER_HUGE_LITERAL,      /* FETCH: "{999999999999}" and then data */
	IMAP_PEER_ENDLESS_LINE,      /* FETCH: 9 MiB without a line end */
	IMAP_PEER_LARGE_ANSWER,      /* FETCH: 4 MiB of valid untagged lines */
	IMAP_PEER_SILENT,            /* EXAMINE: never answered */
	IMAP_PEER_DROP,              /* EXAMINE: the connection is closed */
	IMAP_PEER_BYE_TOKEN,         /* EXAMINE on the first connection: BYE
					"Session invalidated - AccessTokenExpired" */
	IMAP_PEER_REFUSE_LOGIN,      /* AUTHENTICATE: NO [AUTHENTICATIONFAILED] */
	IMAP_PEER_LARGE_SEARCH,      /* SEARCH: 4 MiB of "1 1 1 ..." in one line */
};

struct imap_peer;

struct imap_peer *imap_peer_start(void);
int imap_peer_port(const struct imap_peer *p);
void imap_peer_set_fault(struct imap_peer *p, enum imap_peer_fault f);
/* Connections accepted so far. */
int imap_peer_connections(struct imap_peer *p);
/* The bearer token of the n-th successful or refused login (0-based),
 * heap, or NULL. */
char *imap_peer_token(struct imap_peer *p, int n);
void imap_peer_stop(struct imap_peer *p);

#endif
