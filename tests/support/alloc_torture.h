/*
 * alloc_torture.h — the machinery of the allocation tortures of sending:
 * the real command line (cli_main) run in forked children with the
 * allocation hook set to abort at the n-th allocation, and the two loops
 * (a send aborted at each of its allocations in turn, the sync that
 * drains the outbox likewise) that let the next runs converge and then
 * have the test check the outcome against its server. What the truth is
 * and how a round is undone belong to the test (Graph against m365sim,
 * IMAP + SMTP against Dovecot); the local side (outbox, store) is checked
 * here, the same for both.
 */
#ifndef INBOXSYNC_TEST_ALLOC_TORTURE_H
#define INBOXSYNC_TEST_ALLOC_TORTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "sim_harness.h"

/* Failures reported so far (torture_fail). */
extern int torture_failures;

/* Report a failure ("FAIL: ..." on stderr) and count it. */
void torture_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Make the test's private directory (on /dev/shm where there is one: an
 * abort kills a process, not the machine, and a thousand rounds of
 * durable commits then cost no disk flushes) with the data dir in it,
 * and point INBOXSYNC_HOME there. Returns it, or NULL. */
const char *torture_dir_make(void);
/* The end of the test: the directory removed, the failures counted out.
 * Returns main's exit code (0 when none failed). */
int torture_finish(void);

/* How a child run ended. */
struct torture_run {
	int status;              /* waitpid's */
	bool aborted;            /* SIGABRT after "out of memory": the hook's abort */
	bool completed;          /* exited (any code): the command ran to its end */
	int code;                /* exit code when completed */
	unsigned long allocs;    /* allocations counted, when completed */
};

/* Run `inboxsync ARGS...` (NULL-terminated) in a forked child with the
 * allocation hook set to `fail_at` (0 = off) and, when `crash_at` is not
 * NULL, INBOXSYNC_CRASH_AT. Its stdout goes to `out_path` (NULL: nowhere),
 * its stderr to a file of the test's directory. A run still going after
 * the time set with torture_run_timeout is ended by SIGALRM (neither
 * aborted nor completed). */
struct torture_run torture_cli_run(unsigned long fail_at, const char *crash_at,
				   const char *out_path, const char *const *args);
/* End each run after `seconds` (0, the default: no limit), so that a run
 * waiting for good (a send whose outcome is never known) fails the test
 * instead of stalling it. Not for Graph, whose runs may rightly wait
 * minutes (Retry-After from a throttled mailbox). */
void torture_run_timeout(unsigned seconds);

/* Run ARGS to completion without failures; false (reported with the
 * child's stderr) unless it exits 0. */
bool torture_cli_ok(const char *what, const char *out_path, const char *const *args);
/* `inboxsync ARGS...` (which include --json) parsed, or NULL (reported). */
json_t *torture_cli_json(const char *what, const char *const *args);

/* `account authorize ACCOUNT --print-url` in a child; m365sim (`sim`)
 * approves `email` at once and the URL printed is followed as a browser
 * would. Returns 0, or -1 (reported). */
int torture_authorize(struct sim_harness *sim, const char *account, const char *email);

/* The scenario's account `account` of `email` against m365sim (`sim`):
 * `provider set microsoft` with its client (the secret in a file) and
 * `provider_args`, `account add` with `account_args` (both
 * NULL-terminated, may be empty), authorized, its folders fetched.
 * Returns 0, or -1 (reported). */
int torture_account(struct sim_harness *sim, const char *account, const char *email,
		    const char *const *provider_args, const char *const *account_args);

/* Is o[key] the string `want`? */
bool torture_str_is(json_t *o, const char *key, const char *want);
/* Entries of `arr` whose `key` is `value`; the first in *first (may be NULL). */
size_t torture_count_where(json_t *arr, const char *key, const char *value, json_t **first);
/* "id\tfolder" lines of the entries of `arr` in one of `folders`
 * (NULL-terminated), sorted and joined: a set to compare (heap). */
char *torture_id_set(json_t *arr, const char *id_key, const char *folder_key,
		     const char *const *folders);

/* What the scenario sends and where, and what the test does after the
 * runs that follow an abort. */
struct torture_scenario {
	const char *account;             /* the account's name */
	const char *to, *cc;             /* recipients of every send, of a rich one */
	const char *sent_folder;         /* the local name of Sent ("Sent Items") */
	const char *inbox_folder;        /* the local name of the Inbox */
	const char *const *folders;      /* the synced folders (NULL-terminated) */
	/* The server's side: the message with Message-ID `imid` was sent
	 * exactly once (reported with torture_fail otherwise). Returns the
	 * server's id of the sender's Sent copy (heap) and in *server_set the
	 * synced folders' torture_id_set as the server has them (heap); NULL
	 * when it cannot tell. */
	char *(*check_server)(void *ctx, const char *step, const char *imid,
			      char **server_set);
	/* Undo the round on the server: the copies deleted for good (the
	 * next sync removes the local ones), so that each round sees only
	 * its own message. The outbox entry is removed already. */
	void (*clean_up)(void *ctx);
	/* Put a message from Bob with the subject "numbers?" into the
	 * sender's Inbox (what the rich send replies to). Returns 0, or -1
	 * (reported). */
	int (*deliver_question)(void *ctx);
	void *ctx;
};

/* The whole scenario: torture_send, then torture_sync; with `slow` also
 * torture_sync after a completed send and a rich send (an attachment
 * written into the test's directory) replying to the question, once it
 * is delivered and synced. */
void torture_run(const struct torture_scenario *sc, bool slow);

/* Abort `send` at its 1st, 2nd, ... allocation until a run completes;
 * after each abort a sync, the same send again (same idempotency key), a
 * sync, then the check: exactly one outbox entry with the key and every
 * entry confirmed, the server's check, one local entry in Sent with the
 * server's id and not pending, nothing pending, the synced folders equal
 * to the server's. A rich send has Cc, an attachment and, with
 * `reply_to`, answers a synced message. */
void torture_send(const struct torture_scenario *sc, bool rich, const char *attach,
		  const char *reply_to);

/* The message is accepted (and, with `delivered`, sent), then the sync
 * that delivers it and replaces the local Sent entry aborts at its 1st,
 * 2nd, ... allocation until a run completes; after each, a sync and the
 * same check. */
void torture_sync(const struct torture_scenario *sc, bool delivered);

#endif
