/*
 * store.h — the storage interface of inboxsync. Everything that must
 * survive a restart goes through here: provider settings, local users,
 * mailbox accounts and their state, sealed credentials, OAuth states,
 * folders with their sync cursors, messages, the outbox, and the
 * append-only change feed.
 *
 * The engine, auth and CLI see only this header; no SQL or driver types
 * leak out, so a PostgreSQL backend can implement the same functions. The
 * SQLite implementation (store_sqlite*.c) runs in WAL mode with foreign
 * keys and a busy timeout. A `struct store` is one connection: use it from
 * one thread at a time (open one per worker thread).
 *
 * Conventions: functions return 0 on success and -1 with `e` filled on
 * failure; "get" functions return 1 when found, 0 when not found. Secrets
 * arrive and leave sealed (vault.h); the store never sees plaintext.
 * Every write that is not inside an explicit store_begin/store_commit runs
 * in its own transaction. Change-feed rows are written in the same
 * transaction as the change they describe.
 */
#ifndef INBOXSYNC_STORE_H
#define INBOXSYNC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/err.h"

struct store;

/* ---- lifecycle and transactions ---------------------------------------- */

/* Open (creating when absent) the store at `location`: a file path for
 * SQLite. Runs pending migrations. Errors: ERR_PERMANENT "store" with the
 * path and the reason (unwritable, not a database, newer schema). */
int store_open(const char *location, struct store **out, struct err *e);
void store_close(struct store *st);

/* Schema version after migrations (for tests and `--version`). */
int store_schema_version(struct store *st);

/* Explicit transactions. Nested begin is an ERR_BUG. store_begin takes the
 * write lock at once (so a later write never fails with "busy" midway). */
int store_begin(struct store *st, struct err *e);
int store_commit(struct store *st, struct err *e);
void store_rollback(struct store *st); /* no-op when no transaction is open */

/* ---- provider settings (administrator) ---------------------------------- */

#define STORE_TRANSPORT_GRAPH 1u
#define STORE_TRANSPORT_IMAP 2u

struct store_provider {
	char name[32];             /* "microsoft" */
	char tenant[256];          /* common | organizations | consumers | tid | domain */
	char client_id[256];
	char *client_secret_sealed; /* heap, sealed; NULL = public client (PKCE only) */
	char login_url[512];
	char graph_url[512];
	char imap_host[256];
	int imap_port;
	char smtp_host[256];
	int smtp_port;
	bool enabled;
	unsigned transports;       /* STORE_TRANSPORT_* bits */
	int64_t updated_at;
};

/* Read the provider `name` into `out` (caller frees with
 * store_provider_clear). Returns 1 found, 0 not configured, -1 error. */
int store_get_provider(struct store *st, const char *name,
		       struct store_provider *out, struct err *e);

/* Insert or replace the provider row (all fields). */
int store_put_provider(struct store *st, const struct store_provider *p,
		       struct err *e);

void store_provider_clear(struct store_provider *p);

/* ---- mailbox accounts --------------------------------------------------- */

/* Account states (DESIGN.md "Status model"). */
#define STORE_STATE_NEW "new"
#define STORE_STATE_AUTHORIZED "authorized"
#define STORE_STATE_CONFIRMED "confirmed"
#define STORE_STATE_SYNCING "syncing"
#define STORE_STATE_IDLE "idle"
#define STORE_STATE_THROTTLED "throttled"
#define STORE_STATE_ERROR "error"
#define STORE_STATE_AUTH_INVALID "auth_invalid"
#define STORE_STATE_STOPPED "stopped"

struct store_account {
	int64_t id;
	int64_t user_id;
	char name[128];
	char email[320];
	char sender_name[256];
	char transport[16];        /* "graph" | "imap" */
	char state[24];
	char state_reason[512];
	int auth_failures;         /* consecutive definitive auth failures */
	/* Test & Confirm */
	char incoming_status[24];  /* not_confirmed | confirmed */
	int64_t incoming_last_fetch_at;
	char incoming_error[512];
	char outgoing_status[16];  /* untested | ok | failed */
	char outgoing_error[512];
	/* server settings, filled on authorization, read-only afterwards */
	char identity[320];        /* signed-in address */
	char display_name[256];
	char tenant_id[64];
	char object_id[64];
	char graph_url[512];
	char imap_server[300];     /* host:port */
	char smtp_server[300];
	int64_t authorized_at;
	int64_t folders_scanned_at; /* last folder tree read */
	/* scheduling */
	int64_t next_due_at;
	int64_t throttled_until;
	int backoff_s;
	char last_error[512];
	int64_t created_at;
	int64_t updated_at;
};

/* Add an account (name, email, sender_name, transport, user_id taken from
 * `a`; user_id 0 = the default local user). Fills a->id. Errors: code
 * "duplicate" when the name exists. */
int store_add_account(struct store *st, struct store_account *a, struct err *e);

int store_get_account(struct store *st, int64_t id, struct store_account *out,
		      struct err *e);
int store_get_account_by_name(struct store *st, const char *name,
			      struct store_account *out, struct err *e);

/* Another account (not `except_id`) already connected to the Microsoft
 * identity (tenant_id, object_id)? Returns 1 and fills `out`, 0, or -1. */
int store_find_account_by_identity(struct store *st, const char *tenant_id,
				   const char *object_id, int64_t except_id,
				   struct store_account *out, struct err *e);

/* All accounts ordered by name (caller frees *out with free()). */
int store_list_accounts(struct store *st, struct store_account **out,
			size_t *n, struct err *e);

/* Write every mutable field of `a` (by a->id). Prefer the narrower setters
 * below where they exist: they are atomic against concurrent workers. */
int store_update_account(struct store *st, const struct store_account *a,
			 struct err *e);

/* Set state and reason (and a feed row). */
int store_set_account_state(struct store *st, int64_t id, const char *state,
			    const char *reason, struct err *e);

/* Record one definitive authorization failure: increments auth_failures
 * and, when it reaches `threshold`, sets state auth_invalid with `reason`.
 * Atomic. Stores the new count in *count (may be NULL). */
int store_record_auth_failure(struct store *st, int64_t id, int threshold,
			      const char *reason, int *count, struct err *e);

/* Reset auth_failures to 0 (after any successful token use). */
int store_clear_auth_failures(struct store *st, int64_t id, struct err *e);

/* Test & Confirm results. `status` as in struct store_account; `error`
 * may be NULL/"" on success. last_fetch_at 0 keeps the old value. */
int store_set_incoming_status(struct store *st, int64_t id, const char *status,
			      const char *error, int64_t last_fetch_at,
			      struct err *e);
int store_set_outgoing_status(struct store *st, int64_t id, const char *status,
			      const char *error, struct err *e);

/* Scheduling fields (next_due_at, throttled_until, backoff_s, last_error). */
int store_set_account_schedule(struct store *st, int64_t id, int64_t next_due_at,
			       int64_t throttled_until, int backoff_s,
			       const char *last_error, struct err *e);

/* Stop synchronization: delete credentials and OAuth states, clear server
 * settings, unselect every folder and drop roles and cursors, state
 * "stopped". With `purge` also delete all messages, folders and outbox
 * entries. One transaction. */
int store_stop_account(struct store *st, int64_t id, bool purge,
		       const char *reason, struct err *e);

/* Delete the account and everything local to it (cascade). */
int store_delete_account(struct store *st, int64_t id, struct err *e);

/* Counts for `account show`. */
int store_count_messages(struct store *st, int64_t account_id, long long *n,
			 struct err *e);
int store_count_selected_folders(struct store *st, int64_t account_id,
				 long long *n, struct err *e);

/* ---- credentials (sealed) ------------------------------------------------ */

struct store_credentials {
	int64_t account_id;
	char *refresh_sealed;      /* heap; NULL when absent */
	char *scope;               /* heap; granted scopes */
	int64_t generation;        /* bumped on every refresh-token change */
	int64_t updated_at;
};

int store_get_credentials(struct store *st, int64_t account_id,
			  struct store_credentials *out, struct err *e);
void store_credentials_clear(struct store_credentials *c);

/* Store a (new) refresh token for the account, bumping the generation, and
 * drop every cached access token (they belong to the old grant). */
int store_put_refresh_token(struct store *st, int64_t account_id,
			    const char *refresh_sealed, const char *scope,
			    struct err *e);

/* Replace the refresh token only if the stored generation still equals
 * `expected_generation` (compare-and-swap for rotation). Returns 1 when
 * written, 0 when someone else rotated it meanwhile. */
int store_rotate_refresh_token(struct store *st, int64_t account_id,
			       int64_t expected_generation,
			       const char *refresh_sealed, struct err *e);

/* Cached access token per resource ("graph", "outlook"). */
int store_get_access_token(struct store *st, int64_t account_id,
			   const char *resource, char **sealed,
			   int64_t *expires_at, struct err *e);
int store_put_access_token(struct store *st, int64_t account_id,
			   const char *resource, const char *sealed,
			   int64_t expires_at, struct err *e);

/* Delete all credentials and access tokens of an account. */
int store_delete_credentials(struct store *st, int64_t account_id,
			     struct err *e);

/* Cross-process single-flight for refreshing: take the lease for `owner`
 * until now+ttl_s. Returns 1 when acquired (or already ours), 0 when held
 * by someone else and not expired; then `holder` (may be NULL, 64 bytes)
 * gets the holder's name. `steal_from` (may be NULL) names a holder known
 * to be dead whose lease may be taken over. */
int store_lock_refresh(struct store *st, int64_t account_id, const char *owner,
		       int ttl_s, const char *steal_from, char *holder,
		       struct err *e);
int store_unlock_refresh(struct store *st, int64_t account_id,
			 const char *owner, struct err *e);

/* ---- OAuth authorization states ----------------------------------------- */

struct store_oauth_state {
	char state[128];
	int64_t account_id;
	char *verifier_sealed;     /* heap */
	char redirect_uri[512];
	int64_t expires_at;
};

int store_put_oauth_state(struct store *st, const struct store_oauth_state *s,
			  struct err *e);

/* Fetch and delete (single use) the state. Expired rows are deleted and
 * reported as not found. Returns 1/0/-1; free with store_oauth_state_clear. */
int store_take_oauth_state(struct store *st, const char *state,
			   struct store_oauth_state *out, struct err *e);
void store_oauth_state_clear(struct store_oauth_state *s);

/* ---- folders --------------------------------------------------------------- */

#define STORE_PHASE_PENDING "pending"
#define STORE_PHASE_NEWEST "newest"
#define STORE_PHASE_BACKFILL "backfill"
#define STORE_PHASE_LIVE "live"

struct store_folder {
	int64_t id;
	int64_t account_id;
	char remote_id[512];
	char parent_remote_id[512];
	char name[256];
	char path[1024];           /* display path "Inbox/Projects" */
	char role[16];             /* inbox sent drafts archive deleted junk custom, or "" */
	char well_known[32];       /* server's well-known name, or "" */
	bool selected;
	long long total;           /* server's count */
	long long unread;
	char phase[16];
	char *cursor;              /* heap; opaque driver cursor (next or delta link) */
	int64_t round_gen;         /* generation of the current/last round */
	bool round_fresh;          /* current round is an initial round (sweep at end) */
	long long synced;          /* messages stored for this folder */
	int64_t oldest_at;         /* oldest receivedDateTime stored */
	int64_t newest_at;         /* newest receivedDateTime stored */
	int64_t last_sync_at;
	int resync_count;          /* re-bootstraps after expired cursors */
	int64_t last_resync_at;
};

void store_folder_clear(struct store_folder *f);

/* Folder as reported by the server during `folders fetch`. */
struct store_folder_in {
	const char *remote_id;
	const char *parent_remote_id;  /* "" for top level */
	const char *name;
	const char *path;
	const char *well_known;        /* "" when none */
	const char *default_role;      /* role for a new row */
	long long total, unread;
};

/* Start a folder listing: marks every folder of the account "unseen". */
int store_begin_folder_scan(struct store *st, int64_t account_id,
			    struct err *e);

/* Insert or update (by remote id) a folder seen in the current scan;
 * renames update name and path; selection, role and cursor are kept.
 * *created says whether the row is new (may be NULL). */
int store_put_folder(struct store *st, int64_t account_id,
		     const struct store_folder_in *f, bool *created,
		     struct err *e);

/* End the scan: folders not seen are deleted with their messages (the
 * server deleted them); the account's folders_scanned_at becomes now.
 * *deleted gets their number (may be NULL). */
int store_end_folder_scan(struct store *st, int64_t account_id,
			  long long *deleted, struct err *e);

/* All folders of an account, ordered by path (caller frees with
 * store_folder_list_free). `selected_only` filters. */
int store_list_folders(struct store *st, int64_t account_id,
		       bool selected_only, struct store_folder **out,
		       size_t *n, struct err *e);
void store_folder_list_free(struct store_folder *list, size_t n);

/* Find by display path (case-insensitive), remote id, or local id. */
int store_find_folder(struct store *st, int64_t account_id, const char *what,
		      struct store_folder *out, struct err *e);
int store_get_folder(struct store *st, int64_t folder_id,
		     struct store_folder *out, struct err *e);
/* The folder with `role` (first by path), e.g. "sent". */
int store_find_folder_by_role(struct store *st, int64_t account_id,
			      const char *role, struct store_folder *out,
			      struct err *e);
int store_find_folder_by_remote(struct store *st, int64_t account_id,
				const char *remote_id, struct store_folder *out,
				struct err *e);

/* Select (with `role`, NULL keeps the current one) or unselect a folder.
 * Selecting a folder that was not selected resets it to phase pending
 * with no cursor (its next round is a fresh one, reconciled by sweep). */
int store_select_folder(struct store *st, int64_t folder_id, bool selected,
			const char *role, struct err *e);

/* Sync progress, written inside the engine's page transaction: phase,
 * cursor (NULL clears it), last_sync_at = now. */
int store_set_folder_sync(struct store *st, int64_t folder_id,
			  const char *phase, const char *cursor,
			  struct err *e);

/* Begin a fresh round: round_gen += 1, round_fresh = true, cursor NULL.
 * `is_resync` counts it as a re-bootstrap (resync_count, last_resync_at).
 * Returns the new generation in *gen. */
int store_start_folder_round(struct store *st, int64_t folder_id,
			     bool is_resync, int64_t *gen, struct err *e);

/* End of a fresh round: delete the folder's messages whose seen_gen is
 * older than the round's generation (except pending local entries), clear
 * round_fresh. *swept gets the number deleted (may be NULL). */
int store_sweep_folder(struct store *st, int64_t folder_id, long long *swept,
		       struct err *e);

/* Server counts (from a folder listing or a poll). */
int store_set_folder_counts(struct store *st, int64_t folder_id,
			    long long total, long long unread, struct err *e);

/* ---- messages ------------------------------------------------------------- */

/* Tri-state for fields a server may omit in an update. */
#define STORE_UNKNOWN (-1)

struct store_message_in {
	const char *remote_id;             /* immutable id (required) */
	const char *internet_message_id;   /* NULL = unknown */
	const char *conversation_id;
	const char *subject;
	const char *from_name;
	const char *from_addr;
	const char *to_json;               /* JSON array of {name,address} */
	const char *cc_json;
	const char *categories_json;       /* JSON array of strings */
	const char *preview;
	const char *change_key;
	int64_t received_at;               /* 0 = unknown */
	int64_t sent_at;
	int is_read;                       /* 0/1/STORE_UNKNOWN */
	int is_flagged;
	int is_draft;
	int has_attachments;
};

/* Insert or update the message `m->remote_id` so that it is in `folder_id`
 * (a move when it was elsewhere: one row changes folder, local fields such
 * as a cached body stay). Unknown fields keep their stored values. Sets
 * seen_gen to `seen_gen` and clears the orphan mark. When no row has this
 * remote id but a pending local entry in the same folder has the same
 * internet_message_id, that entry becomes this message (the server copy
 * replaces the local Sent entry). *outcome (may be NULL) gets 'c'reated,
 * 'u'pdated, 'm'oved or 'r'eplaced-local. */
int store_put_message(struct store *st, int64_t account_id, int64_t folder_id,
		      const struct store_message_in *m, int64_t seen_gen,
		      char *outcome, struct err *e);

/* Insert the local Sent entry of an outbox message (m->remote_id is
 * "local:<key>"): shown at once, marked pending until the server's copy
 * with the same internet_message_id replaces it (store_put_message). Never
 * swept. */
int store_put_local_message(struct store *st, int64_t account_id,
			    int64_t folder_id, const struct store_message_in *m,
			    struct err *e);

/* The server says `remote_id` left `folder_id`. When the row is still in
 * that folder it is marked orphan (kept, fate decided later by
 * store_list_orphans + store_move/delete). No-op when absent or elsewhere. */
int store_mark_message_removed(struct store *st, int64_t account_id,
			       int64_t folder_id, const char *remote_id,
			       struct err *e);

/* Up to `max` orphaned remote ids of the account (caller frees each and the
 * array). */
int store_list_orphans(struct store *st, int64_t account_id, size_t max,
		       char ***ids, size_t *n, struct err *e);

/* Move a message to another folder (clears orphan; the row counts as seen
 * by the destination folder's current round). */
int store_move_message(struct store *st, int64_t account_id,
		       const char *remote_id, int64_t folder_id, struct err *e);

/* Delete a message by remote id (no-op when absent). */
int store_delete_message(struct store *st, int64_t account_id,
			 const char *remote_id, struct err *e);

/* Message as read back. Strings are owned by the store and valid only
 * during the callback (list) or until store_message_clear (get). */
struct store_message {
	int64_t id;
	int64_t folder_id;
	const char *folder_path;
	const char *remote_id;
	const char *internet_message_id;
	const char *conversation_id;
	const char *subject;
	const char *from_name;
	const char *from_addr;
	const char *to_json;
	const char *cc_json;
	const char *categories_json;
	const char *preview;
	int64_t received_at;
	int64_t sent_at;
	bool is_read;
	bool is_flagged;
	bool is_draft;
	bool has_attachments;
	bool pending;              /* local Sent entry awaiting the server copy */
	bool body_fetched;
	const char *body_type;     /* "text" | "html" when fetched */
	const char *body;
	size_t body_len;
	void *owned;               /* internal: storage behind the strings */
};

struct store_message_query {
	int64_t account_id;
	int64_t folder_id;         /* 0 = all selected folders */
	int64_t before_received;   /* 0 = no bound; keyset: (received, id) < (this, before_id) */
	int64_t before_id;
	size_t limit;              /* 0 = 100 */
	bool include_orphans;      /* default false */
};

typedef int (*store_message_cb)(void *ctx, const struct store_message *m);

/* Newest first (received_at desc, id desc). Stops early when `cb` returns
 * non-zero (that value is returned). Bodies are not loaded. */
int store_list_messages(struct store *st, const struct store_message_query *q,
			store_message_cb cb, void *ctx, struct err *e);

/* One message by remote id (or "local:..." id), with its body when cached.
 * Returns 1/0/-1; free with store_message_clear. */
int store_get_message(struct store *st, int64_t account_id,
		      const char *remote_id, struct store_message *out,
		      struct err *e);
void store_message_clear(struct store_message *m);

/* Cache a fetched body. */
int store_put_body(struct store *st, int64_t account_id, const char *remote_id,
		   const char *body_type, const char *body, size_t len,
		   struct err *e);

/* Remote ids of the newest `limit` messages of a folder without a cached
 * body (for prefetch). Caller frees each and the array. */
int store_list_missing_bodies(struct store *st, int64_t folder_id, size_t limit,
			      char ***ids, size_t *n, struct err *e);

/* Local copy of a folder's contents for comparison in tests: calls `cb`
 * for every message of the account in any folder (orphans included). */
int store_each_message(struct store *st, int64_t account_id,
		       store_message_cb cb, void *ctx, struct err *e);

/* ---- outbox ---------------------------------------------------------------- */

#define STORE_OUTBOX_QUEUED "queued"        /* accepted locally, nothing sent */
#define STORE_OUTBOX_DRAFTED "drafted"      /* draft exists on the server */
#define STORE_OUTBOX_SENDING "sending"      /* send requested, outcome unknown */
#define STORE_OUTBOX_SUBMITTED "submitted"  /* send accepted (202) */
#define STORE_OUTBOX_CONFIRMED "confirmed"  /* server's Sent copy synced */
#define STORE_OUTBOX_FAILED "failed"        /* permanent failure, kept */

struct store_outbox {
	int64_t id;
	int64_t account_id;
	char idem_key[80];
	char state[16];
	char internet_message_id[256];
	char *request_json;        /* heap: what to send (recipients, subject, body...) */
	char *mime;                /* heap: MIME document when built, else NULL */
	size_t mime_len;
	char *draft_remote_id;     /* heap or NULL */
	char *reply_to_remote_id;  /* heap or NULL */
	int attempts;
	char last_error[512];
	int64_t next_attempt_at;
	int64_t created_at;
	int64_t updated_at;
};

void store_outbox_clear(struct store_outbox *o);

/* Add an entry in state queued (fills o->id). Fails with "duplicate" when
 * the idempotency key exists; then o->id, state, internet_message_id and
 * created_at describe the existing entry (other fields are untouched). */
int store_outbox_add(struct store *st, struct store_outbox *o, struct err *e);

int store_outbox_get(struct store *st, int64_t id, struct store_outbox *out,
		     struct err *e);
/* By idempotency key, within an account. Returns 1/0/-1. */
int store_outbox_find(struct store *st, int64_t account_id, const char *key,
		      struct store_outbox *out, struct err *e);
/* Delete an entry (and the change-feed row saying so). */
int store_outbox_delete(struct store *st, const struct store_outbox *o,
			struct err *e);

/* Entries of the account still to be delivered (queued, drafted, sending),
 * oldest first, due at `now` (next_attempt_at <= now); now = INT64_MAX
 * lists every open entry. Caller frees with store_outbox_list_free. */
int store_outbox_list_open(struct store *st, int64_t account_id, int64_t now,
			   struct store_outbox **out, size_t *n, struct err *e);
/* Every entry of the account (for listing), newest first. */
int store_outbox_list_all(struct store *st, int64_t account_id,
			  struct store_outbox **out, size_t *n, struct err *e);
void store_outbox_list_free(struct store_outbox *list, size_t n);

/* Record a state transition (and draft id / error / retry time / attempts). */
int store_outbox_update(struct store *st, const struct store_outbox *o,
			struct err *e);

/* Mark every entry whose internet_message_id now has a synced, non-pending
 * message as confirmed: submitted ones, and also sending/failed ones whose
 * outcome was unknown when they were given up (the copy proves they went
 * out). *n gets how many (may be NULL). */
int store_outbox_confirm_synced(struct store *st, int64_t account_id,
				long long *n, struct err *e);

/* ---- change feed ------------------------------------------------------------ */

struct store_change {
	int64_t seq;
	int64_t account_id;
	const char *entity;        /* "message" | "folder" | "account" | "outbox" */
	const char *entity_id;
	const char *op;            /* "created" | "updated" | "moved" | "deleted" | "state" */
	int64_t at;
};

typedef int (*store_change_cb)(void *ctx, const struct store_change *c);

/* Changes with seq > after_seq (all accounts when account_id is 0), oldest
 * first, at most `limit`. */
int store_read_changes(struct store *st, int64_t account_id, int64_t after_seq,
		       size_t limit, store_change_cb cb, void *ctx,
		       struct err *e);

#endif
