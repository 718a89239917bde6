/*
 * test_send_alloc_torture.c — a recorded send scenario (compose, send
 * through the outbox to m365sim, the sync that replaces the local Sent
 * entry with the server's copy by internetMessageId) made to abort at its
 * 1st, 2nd, ... allocation in turn, every allocation it makes, until a run
 * completes: after each abort the next runs converge with the message sent
 * exactly once (the simulator's mailbox, sent log and the recipient's
 * Inbox), its outbox entry confirmed and one local Sent entry with the
 * server's id, nothing else pending and the store equal to the server.
 *
 * Each step is the real command line (cli_main) in a forked child
 * (tests/support/alloc_torture.c runs them, the loops and the local half
 * of the check; this file holds the simulator's half): no exec per run, so the roughly 900 aborted runs of the default scenario
 * (Sent Items synced) cost about half a minute of CPU. With --slow (ctest
 * label slow) Inbox is synced too, and the sync after a completed send
 * and a send with Cc, an attachment and a reply also run.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <jansson.h>
#include "inboxsync/alloc.h"
#include "alloc_torture.h"
#include "sim_harness.h"

#define ADELE "adele@contoso.com"
#define BOB "bob@contoso.com"

static struct sim_harness sim;
static const char *tmp;      /* the test's directory */
static bool inbox_synced;    /* Inbox selected too (the slow scenario) */

static const char *const SENT_ONLY[] = { "Sent Items", NULL };
static const char *const SENT_AND_INBOX[] = { "Sent Items", "Inbox", NULL };
static const char *const SYNC[] = { "sync", "work", "--until-complete", NULL };

static int setup(bool with_inbox)
{
	static const char *const none[] = { NULL };

	if (!(tmp = torture_dir_make()) ||
	    sim_start(&sim, (const char *[]){ "--messages", "0", NULL }) < 0 ||
	    torture_account(&sim, "work", ADELE, none, none) < 0 ||
	    (!(inbox_synced = with_inbox) &&
	     !torture_cli_ok("folders unselect", NULL, (const char *[]){ "folders", "unselect",
			     "work", "Inbox", NULL })) ||
	    !torture_cli_ok("first sync", NULL, SYNC))
		return -1;
	return 0;
}

/* ---- the truth after each abort ------------------------------------------------ */

static json_t *sim_json(const char *path)
{
	struct sim_http h;
	json_t *doc = NULL;

	if (sim_admin(&sim, "GET", path, NULL, &h) == 0 && h.status == 200 && h.json)
		doc = json_incref(h.json);
	else
		torture_fail("GET %s: status %ld", path, h.status);
	sim_http_free(&h);
	return doc;
}

/* What a round leaves behind, removed before the next (clean_up). */
struct round {
	char *server_id;         /* Adele's sent copy */
	char *bob_id;            /* Bob's copy */
};

static struct round this_round;

/* Messages in Adele's mailbox that are not a round's (Bob's question). */
static size_t extra_adele;

/* The simulator's side (torture_scenario.check_server): one sent copy in
 * Adele's Sent Items and no draft, one send in the sent log and nothing
 * else, one delivery to Bob's Inbox. */
static char *check_server(void *ctx, const char *step, const char *imid, char **server_set)
{
	struct round *out = ctx;
	json_t *adele = sim_json("/_sim/mailboxes/" ADELE "/dump");
	json_t *bob = sim_json("/_sim/mailboxes/" BOB "/dump");
	json_t *sent = sim_json("/_sim/sent");
	json_t *copy, *it;
	char *server_id = NULL;
	size_t n;

	*server_set = NULL;
	if (!adele || !bob || !sent)
		goto out;
	/* Each round starts from empty mailboxes and sent log (clean_up), so
	 * what is there is this message's and nothing else. */
	n = torture_count_where(json_object_get(adele, "messages"), "internetMessageId", imid,
				&copy);
	if (n != 1 || json_array_size(json_object_get(adele, "messages")) != extra_adele + 1 ||
	    !torture_str_is(copy, "folderPath", "Sent Items") ||
	    json_is_true(json_object_get(copy, "isDraft"))) {
		torture_fail("%s: %s: %zu copies in Adele's mailbox of %zu messages (want one "
			     "sent copy in Sent Items, no draft)", step, imid, n,
			     json_array_size(json_object_get(adele, "messages")));
		goto out;
	}
	server_id = xstrdup(json_string_value(json_object_get(copy, "id")));
	out->server_id = xstrdup(server_id);
	n = torture_count_where(json_object_get(sent, "value"), "internetMessageId", imid, NULL);
	if (n != 1 || json_array_size(json_object_get(sent, "value")) != 1)
		torture_fail("%s: %s: %zu sends of %zu in the simulator's sent log (want "
			     "exactly this one)", step, imid, n,
			     json_array_size(json_object_get(sent, "value")));
	n = torture_count_where(json_object_get(bob, "messages"), "internetMessageId", imid, &it);
	if (n != 1 || json_array_size(json_object_get(bob, "messages")) != 1 ||
	    !torture_str_is(it, "folderPath", "Inbox"))
		torture_fail("%s: %s: %zu deliveries to Bob", step, imid, n);
	else
		out->bob_id = xstrdup(json_string_value(json_object_get(it, "id")));
	*server_set = torture_id_set(json_object_get(adele, "messages"), "id", "folderPath",
				     inbox_synced ? SENT_AND_INBOX : SENT_ONLY);
out:
	json_decref(adele);
	json_decref(bob);
	json_decref(sent);
	return server_id;
}

/* Leave the next round empty mailboxes and an empty sent log, so each
 * check sees only its own message and costs the same: the copies deleted
 * for good on the server (the next sync removes the local one), the sent
 * log cleared. */
static void clean_up(void *ctx)
{
	struct round *r = ctx;
	struct sim_http h;
	char path[512];

	for (int i = 0; i < 2; i++) {
		const char *id = i ? r->bob_id : r->server_id;

		if (!id)
			continue;
		snprintf(path, sizeof(path), "/_sim/mailboxes/%s/messages/%s?permanent=true",
			 i ? BOB : ADELE, id);
		if (sim_admin(&sim, "DELETE", path, NULL, &h) < 0 || h.status >= 300)
			torture_fail("DELETE %s: status %ld", path, h.status);
		sim_http_free(&h);
	}
	if (sim_admin(&sim, "DELETE", "/_sim/sent", NULL, &h) < 0 || h.status >= 300)
		torture_fail("clearing the sent log: status %ld", h.status);
	sim_http_free(&h);
	free(r->server_id);
	free(r->bob_id);
	r->server_id = r->bob_id = NULL;
}

/* ---- the scenario -------------------------------------------------------------- */

/* Bob's question in Adele's Inbox (torture_scenario.deliver_question). */
static int deliver_question(void *ctx)
{
	const char *question = "{\"folder\":\"Inbox\",\"from\":\"" BOB "\","
			       "\"subject\":\"numbers?\",\"body\":\"Where are they?\"}";
	struct sim_http h;
	int rc;

	(void)ctx;
	rc = sim_admin(&sim, "POST", "/_sim/mailboxes/" ADELE "/messages", question, &h) < 0 ||
	     h.status >= 300 ? -1 : 0;
	if (rc < 0)
		torture_fail("delivering Bob's question: status %ld: %s", h.status, h.body);
	sim_http_free(&h);
	extra_adele = 1;
	return rc;
}

int main(int argc, char **argv)
{
	bool slow = argc > 1 && strcmp(argv[1], "--slow") == 0;
	struct torture_scenario sc = {
		.account = "work", .to = "Bob <" BOB ">", .cc = "nestor@contoso.com",
		.sent_folder = "Sent Items", .inbox_folder = "Inbox",
		.folders = slow ? SENT_AND_INBOX : SENT_ONLY, .check_server = check_server,
		.clean_up = clean_up, .deliver_question = deliver_question, .ctx = &this_round,
	};

	signal(SIGPIPE, SIG_IGN);
	if (setup(slow) < 0)
		torture_fail("setting up the account against m365sim");
	else
		torture_run(&sc, slow);
	if (sim.pid > 0 && sim_stop(&sim) != 0)
		torture_fail("m365sim did not stop cleanly");
	json_decref(sim.info);
	return torture_finish();
}
