/*
 * test_imap_send_alloc_torture.c — the send allocation torture over the
 * IMAP OAuth2 transport: an account on a real Dovecot (its oauth2 passdb
 * asks m365sim about every XOAUTH2 token) composes and sends through the
 * outbox (draft APPENDed to Drafts, submitted over SMTP to Dovecot's
 * submission service, the Sent copy APPENDed), then syncs Sent, where the
 * server's copy replaces the local entry. The send, and the sync that
 * drains the outbox, abort at their 1st, 2nd, ... allocation in turn,
 * every allocation, until a run completes; after each abort the next runs
 * converge: the relay behind submission took the message exactly once
 * and delivered it once to Bob's Inbox, Sent holds exactly one copy and
 * Drafts none, the outbox entry is confirmed, one local Sent entry has
 * the server's id, nothing is pending and the store equals the server.
 *
 * The runs, the loops and the local half of the check are shared with the
 * Graph torture (tests/support/alloc_torture.c); this file holds the
 * Dovecot half. With --slow (labels slow, long) the Inbox is synced too,
 * and the sync after a completed send and a send with Cc, an attachment
 * and a reply also run.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "inboxsync/alloc.h"
#include "alloc_torture.h"
#include "imap_fixture.h"

#define ADELE FIXTURE_USER
#define BOB "bob@contoso.com"
#define NESTOR "nestor@contoso.com"

static struct imap_fixture fx;
static const char *tmp;      /* the test's directory */
static bool inbox_synced;    /* INBOX selected too (the slow scenario) */
static int accepted_before;  /* messages the relay had taken before the round */
static size_t extra_inbox;   /* messages in Adele's Inbox (the question) */

static const char *const SENT_ONLY[] = { "Sent", NULL };
static const char *const SENT_AND_INBOX[] = { "Sent", "INBOX", NULL };
static const char *const SYNC[] = { "sync", "work", "--until-complete", NULL };

static int setup(bool with_inbox)
{
	static const struct dovecot_opts dv = { 0 };
	char imap[64], smtp[64];

	if (!(tmp = torture_dir_make()) || imap_fixture_start(&fx, &dv, NULL) < 0)
		return -1;
	snprintf(imap, sizeof(imap), "127.0.0.1:%d", fx.dove.imap_port);
	snprintf(smtp, sizeof(smtp), "127.0.0.1:%d", fx.dove.submission_port);
	inbox_synced = with_inbox;
	if (torture_account(&fx.sim, "work", ADELE, (const char *[]){ "--transports",
			    "graph,imap", "--imap", imap, "--smtp", smtp, NULL },
			    (const char *[]){ "--transport", "imap", NULL }) < 0 ||
	    !torture_cli_ok("folders select", NULL, (const char *[]){ "folders", "select",
			    "work", "Sent", NULL }) ||
	    (!with_inbox && !torture_cli_ok("folders unselect", NULL, (const char *[]){ "folders",
					    "unselect", "work", "INBOX", NULL })) ||
	    !torture_cli_ok("first sync", NULL, SYNC))
		return -1;
	accepted_before = smtp_fake_accepted(fx.dove.relay);
	return 0;
}

/* ---- the truth after each abort ------------------------------------------------ */

/* The Message-IDs in `user`'s Inbox, as Dovecot lists them (doveadm):
 * how many, and how many are `imid`. */
static size_t inbox_of(const char *user, const char *imid, size_t *matching)
{
	const char *argv[] = { "-f", "tab", "fetch", "-u", user, "hdr.message-id", "mailbox",
			       "INBOX", NULL };
	char path[192], line[512];
	size_t n = 0;
	FILE *f;

	*matching = 0;
	snprintf(path, sizeof(path), "%s/doveadm.out", tmp);
	remove(path);
	if (dovecot_doveadm_to(&fx.dove, argv, path) != 0 || !(f = fopen(path, "r"))) {
		torture_fail("doveadm fetch of %s's Inbox failed", user);
		return 0;
	}
	/* the first line names the field */
	if (fgets(line, sizeof(line), f))
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\r\n")] = '\0';
			n++;
			*matching += strcmp(line, imid) == 0;
		}
	fclose(f);
	return n;
}

/* `folder` of Adele as the server has it, without messages marked
 * \Deleted; NULL (reported) when it cannot be read. */
static struct imap_truth *truth_of(const char *folder, size_t *n)
{
	struct imap_client *c = imap_fixture_other(&fx);
	struct imap_truth *t = NULL;
	size_t k = 0;

	if (!c || imap_client_truth(c, folder, &t, n) < 0) {
		torture_fail("reading %s from the server failed", folder);
		return NULL;
	}
	for (size_t i = 0; i < *n; i++)
		if (!t[i].deleted)
			t[k++] = t[i];
	*n = k;
	return t;
}

/* Append `folder`'s messages to `arr` as {"id", "folder"} with the ids
 * the driver gives them ("UIDVALIDITY:UID:folder"). */
static void add_ids(json_t *arr, const char *folder, const struct imap_truth *t, size_t n)
{
	uint32_t validity = imap_client_uidvalidity(imap_fixture_other(&fx), folder);

	for (size_t i = 0; i < n; i++) {
		char *id = xasprintf("%u:%u:%s", validity, t[i].uid, folder);

		json_array_append_new(arr, json_pack("{s:s,s:s}", "id", id, "folder", folder));
		free(id);
	}
}

/* Dovecot's side (torture_scenario.check_server): the relay took one
 * message, Bob got it once, Sent holds its one copy and Drafts nothing,
 * the Inbox (when synced) only what was there. */
static char *check_server(void *ctx, const char *step, const char *imid, char **server_set)
{
	struct imap_truth *sent = NULL, *drafts = NULL, *inbox = NULL;
	size_t n_sent = 0, n_drafts = 0, n_inbox = 0, n, k;
	int accepted = smtp_fake_accepted(fx.dove.relay) - accepted_before;
	json_t *arr = json_array();
	char *server_id = NULL;

	(void)ctx;
	*server_set = NULL;
	if (accepted != 1)
		torture_fail("%s: %s: the relay took %d messages (want exactly this one)", step,
			     imid, accepted);
	n = inbox_of(BOB, imid, &k);
	if (n != 1 || k != 1)
		torture_fail("%s: %s: %zu deliveries to Bob of %zu messages in his Inbox", step,
			     imid, k, n);
	if (!(sent = truth_of("Sent", &n_sent)) || !(drafts = truth_of("Drafts", &n_drafts)) ||
	    (inbox_synced && !(inbox = truth_of("INBOX", &n_inbox))))
		goto out;
	if (n_sent != 1 || strcmp(sent[0].message_id, imid) != 0 || n_drafts != 0) {
		torture_fail("%s: %s: Sent holds %zu messages (first %s), Drafts %zu (want one "
			     "copy in Sent, no draft)", step, imid, n_sent,
			     n_sent ? sent[0].message_id : "none", n_drafts);
		goto out;
	}
	if (inbox_synced && n_inbox != extra_inbox)
		torture_fail("%s: Adele's Inbox holds %zu messages, want %zu", step, n_inbox,
			     extra_inbox);
	add_ids(arr, "Sent", sent, n_sent);
	server_id = xstrdup(json_string_value(json_object_get(json_array_get(arr, 0), "id")));
	if (inbox_synced)
		add_ids(arr, "INBOX", inbox, n_inbox);
	*server_set = torture_id_set(arr, "id", "folder", inbox_synced ? SENT_AND_INBOX
									: SENT_ONLY);
out:
	free(sent);
	free(drafts);
	free(inbox);
	json_decref(arr);
	return server_id;
}

/* Expunge every message of `folder` of `user` (doveadm). */
static void expunge_all(const char *user, const char *folder)
{
	const char *argv[] = { "expunge", "-u", user, "mailbox", folder, "all", NULL };

	if (dovecot_doveadm(&fx.dove, argv) != 0)
		torture_fail("doveadm expunge of %s's %s failed", user, folder);
}

/* Leave the next round an empty Sent and Drafts and empty Inboxes for the
 * recipients (the next sync removes the local copy), and count the
 * relay's messages from here. */
static void clean_up(void *ctx)
{
	(void)ctx;
	expunge_all(ADELE, "Sent");
	expunge_all(ADELE, "Drafts");
	expunge_all(BOB, "INBOX");
	if (inbox_synced)
		expunge_all(NESTOR, "INBOX");
	accepted_before = smtp_fake_accepted(fx.dove.relay);
}

/* ---- the scenario -------------------------------------------------------------- */

/* Bob's question in Adele's Inbox (torture_scenario.deliver_question). */
static int deliver_question(void *ctx)
{
	static const char question[] =
		"From: Bob <" BOB ">\r\nTo: <" ADELE ">\r\nSubject: numbers?\r\n"
		"Message-ID: <question@contoso.com>\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\n"
		"\r\nWhere are they?\r\n";
	struct imap_client *c = imap_fixture_other(&fx);

	(void)ctx;
	if (!c || imap_client_append(c, "INBOX", question, sizeof(question) - 1, false, false,
				     NULL) < 0) {
		torture_fail("delivering Bob's question failed");
		return -1;
	}
	extra_inbox = 1;
	return 0;
}

int main(int argc, char **argv)
{
	bool slow = argc > 1 && strcmp(argv[1], "--slow") == 0;
	struct torture_scenario sc = {
		.account = "work", .to = "Bob <" BOB ">", .cc = NESTOR,
		.sent_folder = "Sent", .inbox_folder = "INBOX",
		.folders = slow ? SENT_AND_INBOX : SENT_ONLY, .check_server = check_server,
		.clean_up = clean_up, .deliver_question = deliver_question,
	};

	signal(SIGPIPE, SIG_IGN);
	/* nothing here waits (no throttling, no sent copy lagging): a run
	 * still going after two minutes is stuck */
	torture_run_timeout(120);
	if (setup(slow) < 0)
		torture_fail("setting up the IMAP account against Dovecot and m365sim");
	else
		torture_run(&sc, slow);
	imap_fixture_stop(&fx);
	return torture_finish();
}
