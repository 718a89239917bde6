/*
 * imap_fixture.h — what the IMAP scenario tests share: m365sim and a
 * private Dovecot whose oauth2 passdb asks m365sim about every token,
 * a mailbox owner signed in for the outlook.office.com resource, a token
 * source for the driver (cached access token, refreshed at m365sim's
 * token endpoint when the server refuses it, counting both), the driver
 * opened on the Dovecot, and a second client for changes behind its back.
 */
#ifndef INBOXSYNC_TEST_IMAP_FIXTURE_H
#define INBOXSYNC_TEST_IMAP_FIXTURE_H

#include <stdbool.h>
#include "inboxsync/driver.h"
#include "inboxsync/imap.h"
#include "dovecot_harness.h"
#include "imap_client.h"
#include "sim_harness.h"

#define FIXTURE_USER "adele@contoso.com"
#define FIXTURE_SCOPE "https://outlook.office.com/IMAP.AccessAsUser.All " \
	"https://outlook.office.com/SMTP.Send offline_access"

struct imap_fixture {
	struct sim_harness sim;
	struct dovecot dove;
	char *access, *refresh;
	int token_calls;               /* get_token calls */
	int refreshes;                 /* tokens refreshed after a refusal */
	struct driver *d;
	struct imap_client *other;     /* another client of the same mailbox */
};

/* Start m365sim and Dovecot (`dopts`: the variant; its introspection URL
 * is filled in), sign the owner in, open the driver with `o` (may be
 * NULL) and the other client. Returns 0, or -1 after printing why. */
int imap_fixture_start(struct imap_fixture *f, const struct dovecot_opts *dopts,
		       const struct imap_driver_opts *o);
void imap_fixture_stop(struct imap_fixture *f);

/* Open another driver on the same mailbox (same token source). */
int imap_fixture_open(struct imap_fixture *f, const struct imap_driver_opts *o,
		      struct driver **out);

/* The token source handed to drivers (driver.h's driver_auth). */
int imap_fixture_token(void *ctx, const char *resource, const char *rejected,
		       char **token, struct err *e);

/* The server ends every session of the mailbox (doveadm kick: a BYE),
 * the other client's too; it connects again when next needed. */
int imap_fixture_kick(struct imap_fixture *f);

/* The other client, connected (again) with the current token. */
struct imap_client *imap_fixture_other(struct imap_fixture *f);

/* Seed `n` generated messages (dovecot_sample_message numbers first..)
 * into `folder` through the other client (APPEND: ordered UIDs). */
int imap_fixture_seed(struct imap_fixture *f, const char *folder, int first, int n);

/* Run one full round of `folder` through the driver from `cursor` (NULL:
 * a new round) until its done cursor; every item is handed to `each`
 * (may be NULL). *done gets the done cursor (heap). Returns 0 or -1
 * with `e`. */
typedef void (*fixture_item_cb)(void *ctx, const struct mail_message *m);
int imap_fixture_round(struct imap_fixture *f, struct driver *d, const char *folder,
		       const char *cursor, size_t page_size, fixture_item_cb each,
		       void *ctx, char **done, struct err *e);

/* What a store would hold after applying the driver's items: per remote
 * id its folder, Message-ID and flags (a removal drops the row, an item
 * with unknown fields keeps the stored ones). */
struct mirror_row {
	char *id, *folder, *imid;
	int seen, flagged;
};

struct mirror {
	struct mirror_row *rows;
	size_t n, cap;
	long long created, updated, removed;
};

void mirror_apply(void *mirror, const struct mail_message *m);
struct mirror_row *mirror_find(struct mirror *mr, const char *id);
void mirror_free(struct mirror *mr);
/* Rows in `folder`. */
size_t mirror_count(const struct mirror *mr, const char *folder);

/* Does the mirror hold exactly the messages of `folder` on the server
 * (ids, Message-IDs, \Seen and \Flagged)? Prints the first difference. */
bool mirror_matches(struct imap_fixture *f, struct mirror *mr, const char *folder);

#endif
