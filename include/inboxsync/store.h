/*
 * store.h — the storage interface of inboxsync. Everything that must
 * survive a restart goes through here: provider settings, users with their
 * API tokens and sessions, mailbox accounts and their state, sealed
 * credentials, OAuth states, sync leases, folders with their sync cursors,
 * messages, the outbox, the event feed, webhooks and their deliveries.
 *
 * The interface is a table of operations (struct store_ops, see
 * src/store/store_backend.h) chosen by store_open from the location's
 * scheme: a file path (or sqlite:PATH) opens the embedded SQLite store,
 * postgresql://... (or postgres://...) the PostgreSQL store. Callers see
 * only these functions and types; no SQL or library types leak out, so a
 * backend can be added without touching a caller. A `struct store` is one
 * connection: use it from one thread at a time (open one per thread).
 *
 * Conventions: functions return 0 on success and -1 with `e` filled on
 * failure; "get"/"find" functions return 1 when found, 0 when not found.
 * Secrets arrive and leave sealed (vault.h); the store never sees
 * plaintext (password and token hashes are one-way). Every write that is
 * not inside an explicit store_begin/store_commit runs in its own
 * transaction. Events (the change feed) are written in the same
 * transaction as the change they describe. Times are Unix seconds.
 */
#ifndef INBOXSYNC_STORE_H
#define INBOXSYNC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/err.h"
#include "inboxsync/mail.h"

struct store;

/* ---- lifecycle and transactions ---------------------------------------- */

/* Open the store at `location` (see the file comment for the schemes).
 * SQLite: created when absent, pending migrations applied; a file that is
 * not writable is opened read-only (reads work, writes fail with
 * "store_readonly" naming the path and the permission needed).
 * PostgreSQL: the schema must be current (else "store_schema" with
 * FIX_MIGRATE: an administrator runs 'inboxsync migrate'; FIX_UPGRADE for
 * a newer schema). Errors: ERR_PERMANENT "store" with the location
 * (passwords masked) and the reason. */
int store_open(const char *location, struct store **out, struct err *e);

/* Same as store_open, but a SQLite file that is not there is not made
 * again: ERR_PERMANENT "store_gone" naming it (FIX_RESTORE_BACKUP). For
 * every connection a process opens after its first (workers, threads),
 * so that a store deleted underneath a running process is never
 * replaced by an empty one. */
int store_open_existing(const char *location, struct store **out, struct err *e);
void store_close(struct store *st);

/* Create or upgrade the schema at `location`; *from and *to (may be NULL)
 * get the versions before and after. Refuses a schema newer than this
 * program knows ("store_schema", FIX_UPGRADE). */
int store_migrate(const char *location, int *from, int *to, struct err *e);

/* Schema version (for tests and diagnostics); -1 on error. */
int store_schema_version(struct store *st);

/* "sqlite" or "postgresql". */
const char *store_backend_name(const struct store *st);

/* Explicit transactions. Nested begin is an ERR_BUG. store_begin takes the
 * write lock at once where the backend has one (so a later write never
 * fails with "busy" midway). A commit on a connection with a fence (see
 * store_set_fence) fails with "lease_lost" when the fence no longer
 * holds, and nothing of the transaction is kept. */
int store_begin(struct store *st, struct err *e);
int store_commit(struct store *st, struct err *e);
void store_rollback(struct store *st); /* no-op when no transaction is open */

/* store_begin for a transaction that can be redone from the server should
 * a power failure lose it (a page of a sync round with the cursor before
 * it stays, so the page is fetched again): the store may commit it
 * without waiting for the disk. A crash of the process still loses
 * nothing committed, and the transaction is atomic as any other. SQLite:
 * synchronous = NORMAL for it (FULL otherwise); a backend without such a
 * mode runs a plain store_begin. */
int store_begin_redoable(struct store *st, struct err *e);

/* Online copy of the whole store into `dest` (a new SQLite file), safe
 * while other processes write. PostgreSQL answers "unsupported" (use
 * pg_dump). */
int store_backup(struct store *st, const char *dest, struct err *e);

/* ---- every sealed value (key rotation) ------------------------------------ */

/* One vault-sealed value anywhere in the store: what it is, the row that
 * holds it (the backend's own identity, opaque to callers) and the sealed
 * text. */
struct store_sealed {
	const char *kind;   /* static: "provider_secret", "refresh_token",
			       "access_token", "oauth_state", "webhook_secret" */
	char *row;          /* heap */
	char *sealed;       /* heap */
};

/* Up to `max` sealed values whose text does not start with `prefix` (a
 * key's "v1:<key id>:"; NULL or "" matches none, so all are listed), in
 * no particular order. Covers every column that holds a sealed value: the
 * provider's client secret, refresh and access tokens, the verifiers of
 * OAuth states and webhook secrets (a backend or migration that adds one
 * adds it here). Caller frees with store_sealed_list_free. */
int store_list_sealed(struct store *st, const char *prefix, size_t max,
		      struct store_sealed **out, size_t *n, struct err *e);

/* Put `sealed` in the place of the value `s` names, only if that place
 * still holds s->sealed (compare and swap); *replaced says whether it did.
 * A value rewritten meanwhile (a refreshed token) is left as it is. No
 * other column changes and no event is written. */
int store_replace_sealed(struct store *st, const struct store_sealed *s,
			 const char *sealed, bool *replaced, struct err *e);

void store_sealed_list_free(struct store_sealed *list, size_t n);

/* ---- enumerations --------------------------------------------------------- */

/* Account states (DESIGN.md "Status model"). */
enum store_state {
	STORE_STATE_NEW = 0,
	STORE_STATE_AUTHORIZED,
	STORE_STATE_CONFIRMED,
	STORE_STATE_SYNCING,
	STORE_STATE_IDLE,
	STORE_STATE_THROTTLED,
	STORE_STATE_ERROR,
	STORE_STATE_AUTH_INVALID,
	STORE_STATE_STOPPED,
};
#define STORE_STATE_COUNT 9

/* Folder sync phases. */
enum store_phase {
	STORE_PHASE_PENDING = 0,
	STORE_PHASE_NEWEST,
	STORE_PHASE_BACKFILL,
	STORE_PHASE_LIVE,
};
#define STORE_PHASE_COUNT 4

/* Test & Confirm results. */
enum store_incoming {
	STORE_INCOMING_NOT_CONFIRMED = 0,
	STORE_INCOMING_CONFIRMED,
};
enum store_outgoing {
	STORE_OUTGOING_UNTESTED = 0,
	STORE_OUTGOING_OK,
	STORE_OUTGOING_FAILED,
};

/* Outbox states (outbox.h explains the walk). */
enum store_outbox_state {
	STORE_OUTBOX_QUEUED = 0,   /* accepted locally, nothing sent */
	STORE_OUTBOX_DRAFTED,      /* draft exists on the server */
	STORE_OUTBOX_SENDING,      /* send requested, outcome unknown */
	STORE_OUTBOX_SUBMITTED,    /* send accepted */
	STORE_OUTBOX_CONFIRMED,    /* server's Sent copy synced */
	STORE_OUTBOX_FAILED,       /* permanent failure, kept */
};
#define STORE_OUTBOX_STATE_COUNT 6

/* Event types of the change feed (INTERFACE.md "Events"). */
enum store_event_type {
	STORE_EVENT_MESSAGE_CREATED = 0,
	STORE_EVENT_MESSAGE_UPDATED,
	STORE_EVENT_MESSAGE_MOVED,
	STORE_EVENT_MESSAGE_DELETED,
	STORE_EVENT_FOLDER_CREATED,
	STORE_EVENT_FOLDER_UPDATED,
	STORE_EVENT_FOLDER_DELETED,
	STORE_EVENT_ACCOUNT_STATE_CHANGED,
	STORE_EVENT_SEND_CONFIRMED,
	STORE_EVENT_SEND_FAILED,
};
#define STORE_EVENT_TYPE_COUNT 10
#define STORE_EVENT_BIT(t) (1u << (t))
#define STORE_EVENT_ALL ((1u << STORE_EVENT_TYPE_COUNT) - 1u)

/* Names as INTERFACE.md spells them ("idle", "backfill", "sending",
 * "message.created", ...). Never NULL ("?" when out of range). */
const char *store_state_name(enum store_state s);
const char *store_phase_name(enum store_phase p);
const char *store_incoming_name(enum store_incoming s);
const char *store_outgoing_name(enum store_outgoing s);
const char *store_outbox_state_name(enum store_outbox_state s);
const char *store_event_type_name(enum store_event_type t);

/* Parse those names back. Return 0, or -1 for an unknown name. */
int store_state_parse(const char *name, enum store_state *out);
int store_phase_parse(const char *name, enum store_phase *out);
int store_incoming_parse(const char *name, enum store_incoming *out);
int store_outgoing_parse(const char *name, enum store_outgoing *out);
int store_outbox_state_parse(const char *name, enum store_outbox_state *out);
int store_event_type_parse(const char *name, enum store_event_type *out);

/* ---- provider settings (administrator) ---------------------------------- */

#define STORE_TRANSPORT_GRAPH 1u
#define STORE_TRANSPORT_IMAP 2u

struct store_provider {
	char name[32];             /* "microsoft" */
	char tenant[256];          /* common | organizations | consumers | tid | domain */
	char client_id[256];
	char *client_secret_sealed; /* heap, sealed; NULL = public client (PKCE only) */
	int64_t secret_expires_at; /* entered by the admin; 0 = unknown */
	char login_url[512];
	char graph_url[512];
	char imap_host[256];
	int imap_port;
	char smtp_host[256];
	int smtp_port;
	bool enabled;
	unsigned transports;       /* STORE_TRANSPORT_* bits */
	/* The app registration's last failure (a wrong or expired secret,
	 * missing consent...): the provider's problem, not a mailbox's. */
	char problem_code[64];     /* "" = none */
	char problem[512];
	int64_t problem_at;
	int64_t updated_at;
};

/* Read the provider `name` into `out` (caller frees with
 * store_provider_clear). Returns 1 found, 0 not configured, -1 error. */
int store_get_provider(struct store *st, const char *name,
		       struct store_provider *out, struct err *e);

/* Insert or replace the provider row (all fields; the problem is cleared:
 * new settings deserve a new try). */
int store_put_provider(struct store *st, const struct store_provider *p,
		       struct err *e);

/* Record (code non-empty) or clear (code NULL or "") the provider's
 * problem. Clearing an absent problem writes nothing. */
int store_set_provider_problem(struct store *st, const char *name,
			       const char *code, const char *problem,
			       struct err *e);

void store_provider_clear(struct store_provider *p);

/* ---- users, API tokens, sessions ----------------------------------------- */

#define STORE_LOCAL_USER_ID 1      /* the built-in administrator "local" */

struct store_user {
	int64_t id;
	char name[128];
	bool admin;
	char *password_hash;       /* heap: crypto_pwhash_str output; NULL = none */
	int64_t created_at;
};
void store_user_clear(struct store_user *u);

/* Add a user (fills u->id). Errors "duplicate" when the name exists. */
int store_add_user(struct store *st, struct store_user *u, struct err *e);
int store_get_user(struct store *st, int64_t id, struct store_user *out,
		   struct err *e);
int store_get_user_by_name(struct store *st, const char *name,
			   struct store_user *out, struct err *e);
/* All users by name (caller frees with store_user_list_free). */
int store_list_users(struct store *st, struct store_user **out, size_t *n,
		     struct err *e);
void store_user_list_free(struct store_user *list, size_t n);
/* Replace the password hash (NULL removes the password) and end the
 * user's sessions. */
int store_set_user_password(struct store *st, int64_t id, const char *hash,
			    struct err *e);
/* Delete a user with everything they own (accounts and their mail,
 * tokens, sessions, webhooks). The local user cannot be deleted
 * ("forbidden"). */
int store_delete_user(struct store *st, int64_t id, struct err *e);

struct store_token {
	int64_t id;
	int64_t user_id;
	char label[128];
	char hash[96];             /* hex of a keyed hash of the token */
	int64_t created_at;
	int64_t last_used_at;
};

/* Add a token (fills t->id). The token itself is never stored. */
int store_add_token(struct store *st, struct store_token *t, struct err *e);
int store_get_token(struct store *st, int64_t id, struct store_token *out,
		    struct err *e);
/* Tokens of a user (0 = every user), newest first; caller frees. */
int store_list_tokens(struct store *st, int64_t user_id,
		      struct store_token **out, size_t *n, struct err *e);
int store_delete_token(struct store *st, int64_t id, struct err *e);
/* Note a use (at most once a minute is enough; writes only when older). */
int store_touch_token(struct store *st, int64_t id, int64_t at, struct err *e);

struct store_session {
	char id_hash[96];          /* hex hash of the cookie value */
	int64_t user_id;
	char csrf[96];             /* the CSRF token given to this session */
	int64_t created_at;
	int64_t expires_at;
};

int store_put_session(struct store *st, const struct store_session *s,
		      struct err *e);
/* A live session by hash (expired ones answer 0 and are deleted). */
int store_get_session(struct store *st, const char *id_hash,
		      struct store_session *out, struct err *e);
int store_delete_session(struct store *st, const char *id_hash,
			 struct err *e);

/* ---- mailbox accounts --------------------------------------------------- */

struct store_account {
	int64_t id;
	int64_t user_id;           /* owner */
	char name[128];            /* unique per owner */
	char email[320];
	char sender_name[256];
	char transport[16];        /* "graph" | "imap" (driver registry names) */
	enum store_state state;
	char state_reason[512];    /* plain words: what happened */
	enum err_fix state_fix;    /* what the owner or admin should do */
	char state_fix_arg[320];
	int auth_failures;         /* consecutive definitive auth failures */
	/* Test & Confirm */
	enum store_incoming incoming_status;
	int64_t incoming_last_fetch_at;
	char incoming_error[512];
	enum store_outgoing outgoing_status;
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
	int64_t throttled_until;   /* Retry-After: no request before this */
	int backoff_s;
	/* the latest failure of any action on the account */
	char last_error_code[64];  /* "" = none */
	char last_error[512];
	int64_t last_error_at;
	int64_t created_at;
	int64_t updated_at;
};

/* Add an account (user_id, name, email, sender_name, transport taken from
 * `a`; user_id 0 = the local user). Fills a->id. Errors: "duplicate" when
 * the owner already has an account of that name. */
int store_add_account(struct store *st, struct store_account *a, struct err *e);

int store_get_account(struct store *st, int64_t id, struct store_account *out,
		      struct err *e);
/* By owner and name (user_id 0 = any owner: 1 when exactly one account
 * has the name; "ambiguous" error when several do). */
int store_get_account_by_name(struct store *st, int64_t user_id,
			      const char *name, struct store_account *out,
			      struct err *e);

/* Another account (not `except_id`) already connected to the Microsoft
 * identity (tenant_id, object_id)? Returns 1 and fills `out`, 0, or -1. */
int store_find_account_by_identity(struct store *st, const char *tenant_id,
				   const char *object_id, int64_t except_id,
				   struct store_account *out, struct err *e);

/* Another account (not `except_id`) with this address (case-insensitive)
 * as its e-mail or signed-in identity? Returns 1 and fills `out`, 0, -1. */
int store_find_account_by_email(struct store *st, const char *email,
				int64_t except_id, struct store_account *out,
				struct err *e);

/* Accounts of a user (0 = every user) ordered by name (caller frees *out
 * with free()). */
int store_list_accounts(struct store *st, int64_t user_id,
			struct store_account **out, size_t *n, struct err *e);

/* Write the owner-editable fields of `a` (sender_name, email before
 * authorization) and the server settings (by a->id). State, failures and
 * schedule have their own setters, which are atomic against workers. */
int store_update_account(struct store *st, const struct store_account *a,
			 struct err *e);

/* Set state, reason and fix (an event when any of them changed). */
int store_set_account_state(struct store *st, int64_t id, enum store_state state,
			    const char *reason, enum err_fix fix,
			    const char *fix_arg, struct err *e);

/* Record one definitive authorization failure: increments auth_failures
 * and, when it reaches `threshold`, sets state auth_invalid with `reason`
 * (fix FIX_REAUTHORIZE). Atomic. Stores the new count in *count (may be
 * NULL). */
int store_record_auth_failure(struct store *st, int64_t id, int threshold,
			      const char *reason, int *count, struct err *e);

/* Reset auth_failures to 0 (after any successful token use). */
int store_clear_auth_failures(struct store *st, int64_t id, struct err *e);

/* Test & Confirm results. `error` may be NULL/"" on success.
 * last_fetch_at 0 keeps the old value. */
int store_set_incoming_status(struct store *st, int64_t id,
			      enum store_incoming status, const char *error,
			      int64_t last_fetch_at, struct err *e);
int store_set_outgoing_status(struct store *st, int64_t id,
			      enum store_outgoing status, const char *error,
			      struct err *e);

/* Scheduling fields (next_due_at, throttled_until, backoff_s). */
int store_set_account_schedule(struct store *st, int64_t id, int64_t next_due_at,
			       int64_t throttled_until, int backoff_s,
			       struct err *e);

/* The latest failure of an action on the account (code NULL or "" clears
 * it), also kept in the account's error history with the server's request
 * id (may be NULL) — the last 20 are kept. */
int store_note_account_error(struct store *st, int64_t id, const struct err *err,
			     const char *request_id, struct err *e);
int store_clear_account_error(struct store *st, int64_t id, struct err *e);

struct store_account_error {
	int64_t at;
	char class_name[16];
	char code[64];
	char message[512];
	char request_id[64];
};
/* The error history, newest first, at most `max` (caller frees). */
int store_list_account_errors(struct store *st, int64_t id, size_t max,
			      struct store_account_error **out, size_t *n,
			      struct err *e);

/* Stop synchronization: delete credentials and OAuth states, clear server
 * settings, unselect every folder and drop roles and cursors (the server's
 * own role of each folder is kept, so authorizing again maps and
 * preselects as the first time), release the lease, state "stopped". With
 * `purge` also delete all messages, folders and outbox entries. One
 * transaction. */
int store_stop_account(struct store *st, int64_t id, bool purge,
		       const char *reason, struct err *e);

/* Delete the account and everything local to it, its events included,
 * and give the space back. */
int store_delete_account(struct store *st, int64_t id, struct err *e);

/* Counts for `account show`. */
int store_count_messages(struct store *st, int64_t account_id, long long *n,
			 struct err *e);
int store_count_selected_folders(struct store *st, int64_t account_id,
				 long long *n, struct err *e);

/* Counts for metrics: accounts by state, folders (selected) by phase,
 * outbox entries by state, the newest event seq. */
struct store_stats {
	long long accounts[STORE_STATE_COUNT];
	long long folders[STORE_PHASE_COUNT];
	long long outbox[STORE_OUTBOX_STATE_COUNT];
	long long messages;
	int64_t last_event_seq;
};
int store_get_stats(struct store *st, struct store_stats *out, struct err *e);

/* ---- sync leases (one process or node syncs an account at a time) ------- */

struct store_lease {
	int64_t account_id;
	char holder[128];          /* "" = nobody */
	int64_t generation;        /* bumped whenever the lease changes hands */
	int64_t expires_at;
};

/* Take or renew the sync lease of an account for `holder` until
 * now + ttl_s. Returns 1 with *gen set (the generation, unchanged when
 * renewing), 0 when another holder's lease is still live (then `current`,
 * if not NULL, describes it), -1 on error. */
int store_claim_lease(struct store *st, int64_t account_id, const char *holder,
		      int ttl_s, int64_t *gen, struct store_lease *current,
		      struct err *e);

/* Give the lease back (no-op when `holder` does not hold it). */
int store_release_lease(struct store *st, int64_t account_id,
			const char *holder, struct err *e);

/* The current lease (holder "" when none or expired). Returns 0/-1. */
int store_get_lease(struct store *st, int64_t account_id,
		    struct store_lease *out, struct err *e);

/* For a node: claim up to `max` accounts that nobody holds (or whose lease
 * expired) and that are due (next_due_at <= now), skipping rows another
 * node is claiming at the same moment. *ids (caller frees) gets them. */
int store_claim_due_accounts(struct store *st, const char *holder, int ttl_s,
			     size_t max, int64_t **ids, size_t *n,
			     struct err *e);

/* How many live leases each holder has (for balancing), `max` holders. */
struct store_holder_count {
	char holder[128];
	long long leases;
};
int store_count_leases(struct store *st, struct store_holder_count *out,
		       size_t max, size_t *n, struct err *e);

/* Extend the live leases that `holder` holds among ids[0..n) to
 * now + ttl_s, at their generation; renewed[i] says whether ids[i]'s was
 * (false: expired, released, or another holder's). One round trip on
 * PostgreSQL. Returns 0/-1. */
int store_renew_leases(struct store *st, const char *holder, int ttl_s,
		       const int64_t *ids, size_t n, bool *renewed, struct err *e);

/* Which of ids[0..n) are due (next_due_at <= now) and to be synced
 * (authorized, not auth_invalid or stopped): into due[0..*n_due) (room
 * for n), the longest due first. Returns 0/-1. */
int store_due_among(struct store *st, const int64_t *ids, size_t n, int64_t *due,
		    size_t *n_due, struct err *e);

/* The nodes of a fleet (for the fair share of each, see sched_service.c). */
struct store_fleet {
	long long nodes;           /* alive (heartbeat not expired), the caller included */
	long long accounts;        /* to be synced: authorized, not auth_invalid or stopped */
};

/* Heartbeat of `node`: alive until now + ttl_s; *out gets the fleet as
 * it is now. On SQLite (one machine) nodes are not recorded and
 * out->nodes is 1. Returns 0/-1. */
int store_node_beat(struct store *st, const char *node, int ttl_s,
		    struct store_fleet *out, struct err *e);

/* `node` stops: it no longer counts as alive. Returns 0/-1. */
int store_node_leave(struct store *st, const char *node, struct err *e);

/* Fence this connection: from now on every commit checks that `holder`
 * still holds the lease of `account_id` with generation `gen`, and fails
 * with ERR_PERMANENT "lease_lost" (keeping nothing) when it does not.
 * account_id 0 removes the fence. */
void store_set_fence(struct store *st, int64_t account_id, const char *holder,
		     int64_t gen);

/* ---- credentials (sealed) ------------------------------------------------ */

struct store_credentials {
	int64_t account_id;
	char *refresh_sealed;      /* heap; NULL when absent */
	char *scope;               /* heap; granted scopes */
	int64_t generation;        /* bumped on every refresh-token change */
	int64_t updated_at;        /* when the refresh token last changed */
	int64_t used_at;           /* when it was last redeemed */
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
 * written, 0 when someone else rotated it meanwhile. Notes the use. */
int store_rotate_refresh_token(struct store *st, int64_t account_id,
			       int64_t expected_generation,
			       const char *refresh_sealed, struct err *e);

/* Note that the refresh token was redeemed now (without rotation). */
int store_touch_refresh_token(struct store *st, int64_t account_id,
			      struct err *e);

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

/* Accounts whose refresh token was not redeemed since `before` (early
 * warning: Microsoft's refresh tokens lapse after 90 days unused). */
int store_list_stale_grants(struct store *st, int64_t before, int64_t **ids,
			    size_t *n, struct err *e);

/* ---- OAuth authorization states ----------------------------------------- */

struct store_oauth_state {
	char state[128];
	int64_t account_id;
	char *verifier_sealed;     /* heap */
	char redirect_uri[512];
	char return_to[512];       /* where the browser goes afterwards ("" = none) */
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

struct store_folder {
	int64_t id;
	int64_t account_id;
	char remote_id[512];
	char parent_remote_id[512];
	char name[256];
	char path[1024];           /* display path "Inbox/Projects" */
	enum mail_role role;       /* the mapping chosen (NONE when unmapped) */
	enum mail_role server_role; /* what the server says the folder is */
	bool selected;
	long long total;           /* server's count */
	long long unread;
	enum store_phase phase;
	char *cursor;              /* heap; opaque driver cursor */
	int64_t round_gen;         /* generation of the current/last round */
	bool round_fresh;          /* current round is an initial round (sweep at end) */
	bool first_round;          /* the folder's very first round since selection */
	long long synced;          /* messages stored for the folder */
	int64_t oldest_at;         /* oldest receivedDateTime stored */
	int64_t newest_at;         /* newest receivedDateTime stored */
	int64_t last_sync_at;
	int resync_count;          /* re-bootstraps after expired cursors */
	int64_t last_resync_at;
};

void store_folder_clear(struct store_folder *f);

/* A folder as a listing reports it, with its display path. */
struct store_folder_in {
	struct mail_folder f;
	const char *path;
};

/* Start a folder listing: marks every folder of the account "unseen". */
int store_begin_folder_scan(struct store *st, int64_t account_id,
			    struct err *e);

/* Insert or update (by remote id) a folder seen in the current scan;
 * renames update name and path, counts are refreshed (unless the listing
 * says -1); the server role is refreshed; selection, the chosen role and
 * the cursor are kept, but a folder without a chosen role (a new row, or
 * one whose mapping a stop removed) takes the server's. *created says whether the row is new (may be
 * NULL). Events folder.created / folder.updated (rename). */
int store_put_folder(struct store *st, int64_t account_id,
		     const struct store_folder_in *f, bool *created,
		     struct err *e);

/* End the scan: folders not seen are deleted with their messages (the
 * server deleted them); the account's folders_scanned_at becomes now.
 * *deleted gets their number (may be NULL). Event folder.deleted. */
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
/* The folder with `role` (first by path; the chosen role first, else the
 * server's). */
int store_find_folder_by_role(struct store *st, int64_t account_id,
			      enum mail_role role, struct store_folder *out,
			      struct err *e);
int store_find_folder_by_remote(struct store *st, int64_t account_id,
				const char *remote_id, struct store_folder *out,
				struct err *e);

/* Select (with `role`; MAIL_ROLE_NONE keeps the current one) or unselect
 * a folder. Selecting a folder that was not selected resets it to phase
 * pending with no cursor and first_round (its next round is a fresh one,
 * reconciled by sweep). Event folder.updated. */
int store_select_folder(struct store *st, int64_t folder_id, bool selected,
			enum mail_role role, struct err *e);

/* Sync progress, written inside the engine's page transaction: phase,
 * cursor (NULL clears it), last_sync_at = now. A folder reaching live
 * ends its first round. */
int store_set_folder_sync(struct store *st, int64_t folder_id,
			  enum store_phase phase, const char *cursor,
			  struct err *e);

/* Begin a fresh round: round_gen += 1, round_fresh = true, cursor NULL.
 * `is_resync` counts it as a re-bootstrap (resync_count, last_resync_at).
 * Returns the new generation in *gen. */
int store_start_folder_round(struct store *st, int64_t folder_id,
			     bool is_resync, int64_t *gen, struct err *e);

/* How many messages the sweep at the end of the current fresh round would
 * delete (seen_gen older than the round, pending local entries excepted). */
int store_count_unswept(struct store *st, int64_t folder_id, long long *n,
			struct err *e);

/* End of a fresh round: delete the folder's messages whose seen_gen is
 * older than the round's generation (except pending local entries), clear
 * round_fresh. *swept gets the number deleted (may be NULL). */
int store_sweep_folder(struct store *st, int64_t folder_id, long long *swept,
		       struct err *e);

/* Server counts (from a folder listing or a poll). */
int store_set_folder_counts(struct store *st, int64_t folder_id,
			    long long total, long long unread, struct err *e);

/* ---- messages ------------------------------------------------------------- */

/* What a page did. */
struct store_page_result {
	long long created;         /* new rows */
	long long updated;         /* changed rows */
	long long replaced;        /* local Sent entries the server's copy replaced */
	long long moved;           /* rows that came from another folder */
	long long unchanged;       /* seen again with the same change key */
	long long removed;         /* marked orphan (left this folder) */
};

/* Apply `n` messages of a page to `folder_id`: an item with `removed` set
 * marks the row orphan when it is still in that folder (its fate is
 * decided later, see store_list_orphans); any other item is inserted or
 * updated by remote id so that it is in `folder_id` (a move when it was
 * elsewhere: one row changes folder, local fields such as a cached body
 * stay), unknown fields keeping their stored values, with seen_gen set to
 * `seen_gen` and the orphan mark cleared. When no row has the remote id
 * but a pending local entry in the same folder has the same
 * internet_message_id, that entry becomes the message (the server copy
 * replaces the local Sent entry: message.updated, not created). Events:
 * message.created (with backfill = `backfill`), .updated, .moved. Runs in
 * the caller's transaction or its own; one backend round trip where the
 * backend allows. `r` (may be NULL) is added to, not reset. */
int store_put_messages(struct store *st, int64_t account_id, int64_t folder_id,
		       const struct mail_message *items, size_t n,
		       int64_t seen_gen, bool backfill,
		       struct store_page_result *r, struct err *e);

/* One message (a convenience over store_put_messages): *outcome (may be
 * NULL) gets 'c'reated, 'u'pdated, 'm'oved, 'r'eplaced-local, 'o'rphaned
 * or 0 (unchanged). */
int store_put_message(struct store *st, int64_t account_id, int64_t folder_id,
		      const struct mail_message *m, int64_t seen_gen,
		      char *outcome, struct err *e);

/* Insert the local Sent entry of an outbox message (m->remote_id is
 * "local:<key>"): shown at once, marked pending until the server's copy
 * with the same internet_message_id replaces it. Never swept. */
int store_put_local_message(struct store *st, int64_t account_id,
			    int64_t folder_id, const struct mail_message *m,
			    struct err *e);

/* Up to `max` orphaned remote ids of the account (caller frees each and the
 * array). */
int store_list_orphans(struct store *st, int64_t account_id, size_t max,
		       char ***ids, size_t *n, struct err *e);

/* Move a message to another folder (clears orphan; the row counts as seen
 * by the destination folder's current round). `new_remote_id` (may be
 * NULL) replaces the remote id when the transport gives a moved message a
 * new one (IMAP). Event message.moved. */
int store_move_message(struct store *st, int64_t account_id,
		       const char *remote_id, int64_t folder_id,
		       const char *new_remote_id, struct err *e);

/* Delete a message by remote id (no-op when absent). Event
 * message.deleted. */
int store_delete_message(struct store *st, int64_t account_id,
			 const char *remote_id, struct err *e);

/* Change flags locally after a write-back (0/1 or MAIL_UNKNOWN to keep).
 * Event message.updated when something changed. */
int store_set_message_flags(struct store *st, int64_t account_id,
			    const char *remote_id, int is_read, int is_flagged,
			    struct err *e);

/* A message as read back: the mail metadata plus what the store knows.
 * Strings are owned by the store and valid only during the callback
 * (list) or until store_message_clear (get). Address and category lists
 * are always `known`. */
struct store_message {
	struct mail_message m;
	int64_t id;
	int64_t folder_id;
	const char *folder_path;
	bool pending;              /* local Sent entry awaiting the server copy */
	bool orphan;
	bool body_fetched;
	const char *body_type;     /* "text" | "html" when fetched */
	const char *body;
	size_t body_len;
	void *owned;               /* internal: one heap block behind the strings */
};

struct store_message_query {
	int64_t account_id;
	int64_t folder_id;         /* 0 = all selected folders */
	/* Keyset: (received, id) < (before_received, before_id); both 0 = no
	 * bound, before_id 0 = no bound on the id (received at or before
	 * before_received); (0, id) = the undated messages below that id. */
	int64_t before_received;
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

/* Every message of the account in any folder (orphans included), by row
 * id, for comparisons in tests. */
int store_each_message(struct store *st, int64_t account_id,
		       store_message_cb cb, void *ctx, struct err *e);

/* ---- outbox ---------------------------------------------------------------- */

struct store_outbox {
	int64_t id;
	int64_t account_id;
	char idem_key[80];
	char request_hash[96];     /* fingerprint of what was asked (same key,
				      different request → conflict) */
	enum store_outbox_state state;
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
 * the idempotency key exists in the account; then o->id, state,
 * request_hash, internet_message_id and created_at describe the existing
 * entry (other fields are untouched). */
int store_outbox_add(struct store *st, struct store_outbox *o, struct err *e);

int store_outbox_get(struct store *st, int64_t id, struct store_outbox *out,
		     struct err *e);
/* By idempotency key, within an account. Returns 1/0/-1. */
int store_outbox_find(struct store *st, int64_t account_id, const char *key,
		      struct store_outbox *out, struct err *e);
/* Delete an entry. */
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

/* Record a state transition (and draft id / error / retry time / attempts).
 * Reaching failed writes the event send.failed. */
int store_outbox_update(struct store *st, const struct store_outbox *o,
			struct err *e);

/* Mark every entry whose internet_message_id now has a synced, non-pending
 * message as confirmed: submitted ones, and also sending/failed ones whose
 * outcome was unknown when they were given up (the copy proves they went
 * out). Events send.confirmed. *n gets how many (may be NULL). */
int store_outbox_confirm_synced(struct store *st, int64_t account_id,
				long long *n, struct err *e);

/* ---- events (the change feed) ----------------------------------------------- */

/* One event as stored. Message events name the message by remote id and
 * the folder it was in at the time; the message object itself is read
 * when the event is rendered (store_get_message), so a feed row stays
 * small on the bootstrap path. Strings are valid during the callback. */
struct store_event {
	int64_t seq;               /* strictly growing for readers */
	int64_t account_id;
	int64_t user_id;           /* the account's owner */
	enum store_event_type type;
	const char *entity_id;     /* message or folder remote id, outbox key, "" */
	const char *folder_path;   /* message.*, folder.*: the folder ("" else) */
	const char *from_folder;   /* message.moved: where it came from */
	bool backfill;             /* message.created by a folder's first sync */
	const char *data_json;     /* extra fields as a JSON object text, "" */
	int64_t at;
};

struct store_event_query {
	int64_t user_id;           /* 0 = every user */
	int64_t account_id;        /* 0 = every account (of the user) */
	int64_t after_seq;
	unsigned types;            /* STORE_EVENT_BIT mask, 0 = all */
	bool include_backfill;     /* false: leave out backfill message.created */
	size_t limit;              /* 0 = 100 */
};

typedef int (*store_event_cb)(void *ctx, const struct store_event *ev);

/* Events matching `q` with seq > after_seq, oldest first, at most limit.
 * A reader that saw seq N never later sees an event with seq <= N
 * (commit-order safe on every backend). Stops early when `cb` returns
 * non-zero (that value is returned). */
int store_read_events(struct store *st, const struct store_event_query *q,
		      store_event_cb cb, void *ctx, struct err *e);

/* The highest seq a reader may see now (0 when there are none). */
int store_last_event_seq(struct store *st, int64_t *seq, struct err *e);

/* Add an event that no other store call writes (e.g. account-level data
 * the caller builds), in the caller's transaction or its own. */
int store_add_event(struct store *st, int64_t account_id,
		    enum store_event_type type, const char *entity_id,
		    const char *data_json, struct err *e);

/* Block up to `timeout_ms` until an event newer than `after_seq` may
 * exist (PostgreSQL: LISTEN/NOTIFY; SQLite: polling the seq). Returns 1
 * when there may be news, 0 on timeout, -1 on error. */
int store_wait_events(struct store *st, int64_t after_seq, int timeout_ms,
		      struct err *e);

/* ---- webhooks ------------------------------------------------------------------ */

struct store_webhook {
	int64_t id;
	int64_t user_id;
	char url[2048];
	unsigned events;           /* STORE_EVENT_BIT mask; 0 = all */
	char *secret_sealed;       /* heap, sealed */
	bool include_backfill;
	int64_t after_seq;         /* receives events with seq > this */
	bool disabled;
	char disabled_reason[256];
	int64_t failing_since;     /* 0 = not failing */
	int64_t created_at;
};
void store_webhook_clear(struct store_webhook *w);
void store_webhook_list_free(struct store_webhook *list, size_t n);

/* Add a webhook (fills w->id; after_seq = the last seq now). */
int store_add_webhook(struct store *st, struct store_webhook *w, struct err *e);
int store_get_webhook(struct store *st, int64_t id, struct store_webhook *out,
		      struct err *e);
/* Webhooks of a user (0 = all), by id; caller frees. */
int store_list_webhooks(struct store *st, int64_t user_id,
			struct store_webhook **out, size_t *n, struct err *e);
/* Write disabled, disabled_reason, failing_since, url, events,
 * include_backfill (by w->id). */
int store_update_webhook(struct store *st, const struct store_webhook *w,
			 struct err *e);
int store_delete_webhook(struct store *st, int64_t id, struct err *e);

/* Delivery state of one webhook for one account: events of an account go
 * out in seq order, one at a time; a failing one holds back that
 * account's later events only. */
struct store_delivery_slot {
	int64_t webhook_id;
	int64_t account_id;
	int64_t delivered_seq;     /* everything up to here is delivered */
	int attempts;              /* failed attempts of the next event */
	int64_t next_attempt_at;
};

/* Claim up to `max` (webhook, account) slots that have an undelivered
 * event and are due, for `holder` until now + ttl_s (so each slot is
 * worked by one node). `out` gets them, with the next event of each in
 * `events` (same index; strings valid until the next call on `st`). */
int store_claim_deliveries(struct store *st, const char *holder, int ttl_s,
			   size_t max, struct store_delivery_slot *out,
			   struct store_event *events, size_t *n,
			   struct err *e);

/* Finish an attempt of `slot` at event `seq`: delivered → delivered_seq
 * = seq and attempts 0; else attempts+1 and next_attempt_at. Releases the
 * claim. One row of the delivery log is kept per attempt (the last 100
 * per webhook). */
struct store_delivery_attempt {
	int64_t webhook_id;
	int64_t seq;
	int64_t account_id;
	int64_t at;
	bool ok;
	int http_status;           /* 0 = no answer */
	int duration_ms;
	char error[256];
};
int store_finish_delivery(struct store *st, const struct store_delivery_slot *slot,
			  const struct store_delivery_attempt *attempt,
			  int64_t next_attempt_at, struct err *e);

/* The delivery log of a webhook, newest first (caller frees). */
int store_list_deliveries(struct store *st, int64_t webhook_id, size_t max,
			  struct store_delivery_attempt **out, size_t *n,
			  struct err *e);

/* Undelivered events of a webhook (queue depth). */
int store_count_undelivered(struct store *st, int64_t webhook_id,
			    long long *n, struct err *e);

/* Make every delivery slot of a webhook due now with its attempts count
 * reset (after its owner re-enabled it: the backlog goes out at once
 * instead of after the backoff it had reached). Claims are kept. */
int store_retry_deliveries_now(struct store *st, int64_t webhook_id,
			       struct err *e);

#endif
