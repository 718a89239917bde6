/*
 * imap_client.h — "another client" of a test mailbox: a plain libetpan
 * IMAP session to a loopback Dovecot, logged in with XOAUTH2, that
 * appends, flags, moves and expunges messages behind the driver's back,
 * and reads a folder's truth (UIDs, Message-IDs, flags) for comparing
 * with what the driver reported. Every call aborts the test on failure
 * (returns -1 after printing why).
 */
#ifndef INBOXSYNC_TEST_IMAP_CLIENT_H
#define INBOXSYNC_TEST_IMAP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_client;

/* One message as the server has it. */
struct imap_truth {
	uint32_t uid;
	char message_id[200];
	bool seen, flagged, deleted;
};

struct imap_client *imap_client_connect(int port, const char *user, const char *token);
void imap_client_close(struct imap_client *c);

/* APPEND; *uid (may be NULL) gets its UID. `flags` like "\\Seen". */
int imap_client_append(struct imap_client *c, const char *mailbox, const char *mime,
		       size_t len, bool seen, bool flagged, uint32_t *uid);
/* STORE +FLAGS / -FLAGS (\Seen with `seen`, else \Flagged). */
int imap_client_flag(struct imap_client *c, const char *mailbox, uint32_t uid,
		     bool seen, bool add);
/* UID MOVE; *new_uid gets its UID there. */
int imap_client_move(struct imap_client *c, const char *from, uint32_t uid,
		     const char *to, uint32_t *new_uid);
/* \Deleted + UID EXPUNGE. */
int imap_client_expunge(struct imap_client *c, const char *mailbox, uint32_t uid);
/* Every message of `mailbox` (caller frees *out). */
int imap_client_truth(struct imap_client *c, const char *mailbox,
		      struct imap_truth **out, size_t *n);
/* UIDVALIDITY of `mailbox`. */
uint32_t imap_client_uidvalidity(struct imap_client *c, const char *mailbox);

#endif
