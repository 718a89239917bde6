/*
 * service.h — one function per thing a person does with inboxsync: the
 * provider, accounts (add, authorize, test, stop, remove), folders (fetch,
 * select and map), messages (list, open, mark, move, delete), sending and
 * the outbox, and choosing what to sync. Each owns its transaction and
 * its rules (ownership, validation, what a state allows), so every front
 * end — the CLI, the REST API, the web UI — only parses, calls, and
 * renders the result or the error's fix in its own way. The shared
 * objects (ACCOUNT, FOLDER, MESSAGE, outbox entry, EVENT of INTERFACE.md)
 * are rendered here too, so the CLI's --json and the API agree.
 *
 * Errors follow err.h; the codes a front end maps to its statuses are:
 * "not_found" (also for another user's object), "forbidden", "usage"
 * (bad input: a value that is wrong as such), "conflict" (name taken,
 * mailbox connected, idempotency key reused for another request, or what
 * is asked does not fit the object's state now: a folder not selected, an
 * outbox entry that did not fail or is on its way, the local copy of a
 * message being sent), "oauth_not_configured", "auth_required",
 * "auth_invalid", "throttled" (class ERR_THROTTLED), "upstream_error"
 * (a server failure, class ERR_TRANSIENT/ERR_PERMANENT from a driver).
 */
#ifndef INBOXSYNC_SERVICE_H
#define INBOXSYNC_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/auth.h"
#include "inboxsync/buf.h"
#include "inboxsync/jdoc.h"
#include "inboxsync/mime.h"
#include "inboxsync/outbox.h"
#include "inboxsync/store.h"

/* Who is acting. user_id 0 is the operator at the command line, who sees
 * every user's accounts; any other user sees only their own. */
struct service_actor {
	int64_t user_id;
	bool admin;
};

#define SERVICE_OPERATOR ((struct service_actor){ 0, true })

/* Limits of what people may enter. */
#define SERVICE_NAME_MAX 64          /* account names */
#define SERVICE_SUBJECT_MAX 255      /* what Exchange keeps of a subject */
#define SERVICE_LIST_MAX 1000        /* messages per page */
#define SERVICE_SECRET_WARN_DAYS 30   /* warn before the client secret expires */
#define SERVICE_GRANT_IDLE_WARN_DAYS 60 /* of the 90 a refresh token lives unused */

/* ---- provider ------------------------------------------------------------- */

/* Settings as `provider show --json` and GET /api/v1/provider write them
 * (the secret never; `has_client_secret` instead). Admins only. */
int service_provider_get(const struct auth_env *env, const struct service_actor *who,
			 json_t **out, struct err *e);

/* What an administrator may change. NULL / -1 fields keep the stored
 * value; `client_secret` "" removes the secret (public client). */
struct service_provider_change {
	const char *client_id;
	const char *client_secret;       /* plaintext, sealed before storing */
	const char *tenant;
	const char *transports;          /* "graph,imap" */
	const char *login_url;
	const char *graph_url;
	const char *imap;                /* "host:port" */
	const char *smtp;
	int enabled;                     /* 0/1, -1 = keep */
	int64_t secret_expires_at;       /* -1 = keep, 0 = unknown */
};

/* Validate and store (provider.h's rules); clears the provider's recorded
 * problem, so accounts retry at once. */
int service_provider_set(const struct auth_env *env, const struct service_actor *who,
			 const struct service_provider_change *c, struct err *e);

/* The provider check: settings, then (with a secret) a client-credentials
 * token request that proves the app registration, the tenant and the
 * secret; each check {name, ok, message, fix}. `redirect_uri` is the one
 * to register (printed by the check). */
int service_provider_check(const struct auth_env *env, const struct service_actor *who,
			   const char *redirect_uri, json_t **out, struct err *e);

/* ---- accounts ---------------------------------------------------------------- */

/* The account `what` names (its id, or its name) that `who` may see.
 * `owner` (may be NULL) narrows a name to one user's accounts. Another
 * user's account is "not_found", exactly as a missing one. */
int service_account_find(const struct auth_env *env, const struct service_actor *who,
			 const char *what, const char *owner,
			 struct store_account *out, struct err *e);
int service_account_get(const struct auth_env *env, const struct service_actor *who,
			int64_t id, struct store_account *out, struct err *e);

/* Every account `who` may see (caller frees *out). */
int service_account_list(const struct auth_env *env, const struct service_actor *who,
			 struct store_account **out, size_t *n, struct err *e);

struct service_account_new {
	const char *owner;               /* user name, NULL = the actor (or local) */
	const char *name;
	const char *email;
	const char *sender_name;         /* may be NULL */
	const char *transport;           /* NULL = "graph" */
};

/* Create an account. Refuses a bad name or address ("usage"), a transport
 * the administrator has not enabled ("oauth_not_configured"), a name the
 * owner already uses or an address already connected ("conflict").
 * `notice` (may be NULL, 256 bytes) gets a warning worth showing ("" when
 * none), e.g. that the transport cannot sync mail in this version. */
int service_account_add(const struct auth_env *env, const struct service_actor *who,
			const struct service_account_new *in,
			struct store_account *out, char *notice, struct err *e);

/* Change what the owner may change (sender_name; NULL keeps). */
int service_account_update(const struct auth_env *env, struct store_account *a,
			   const char *sender_name, struct err *e);

/* Start authorizing: *url (heap) is where the browser goes; Microsoft
 * returns to `redirect_uri` with the state; `return_to` (may be NULL) is
 * remembered for the front end to send the browser to afterwards. */
int service_authorize_begin(const struct auth_env *env, const struct store_account *a,
			    const char *redirect_uri, const char *return_to,
			    char **url, struct err *e);

/* Finish with what the redirect carried (state, code, or error and its
 * description). Finds the account by the state (`who` must be allowed to
 * see it when not NULL), redeems the code, checks the signed-in identity,
 * stores the grant, fills the server settings and runs Test & Confirm. A
 * failure (wrong account, consent cancelled, ...) is recorded as the
 * account's last error before it is returned. `out` (may be NULL) gets
 * the account as it is afterwards; `return_to` (may be NULL, 512 bytes)
 * what service_authorize_begin was given. */
int service_authorize_finish(const struct auth_env *env, const struct service_actor *who,
			     const char *state, const char *code, const char *error,
			     const char *error_description, struct store_account *out,
			     char *return_to, struct err *e);

/* Device code flow for machines without a browser (see auth.h). */
int service_authorize_device(const struct auth_env *env, struct store_account *a,
			     void (*show)(void *ctx, const char *message,
					  const char *uri, const char *code),
			     void *ctx, struct err *e);

/* Test & Confirm incoming and/or outgoing; results are recorded on the
 * account (and returned in `a`, re-read). Needs the grant. */
int service_account_test(const struct auth_env *env, struct store_account *a,
			 bool incoming, bool outgoing, struct err *e);

/* Stop synchronization (grant, server settings, mappings removed; mail
 * kept unless `purge`). */
int service_account_stop(const struct auth_env *env, struct store_account *a,
			 bool purge, struct err *e);

/* Remove the account and everything local to it. */
int service_account_remove(const struct auth_env *env, const struct store_account *a,
			   struct err *e);

/* Ask for a sync of this account as soon as possible (next_due_at now).
 * Needs the grant. */
int service_account_sync_now(const struct auth_env *env, const struct store_account *a,
			     struct err *e);

/* ---- folders ----------------------------------------------------------------- */

/* Read the folder tree from the server (see engine_fetch_folders). */
int service_folders_fetch(const struct auth_env *env, const struct store_account *a,
			  int *n_folders, struct err *e);

/* The account's folders (caller frees with store_folder_list_free). */
int service_folders_list(const struct auth_env *env, const struct store_account *a,
			 struct store_folder **out, size_t *n, struct err *e);

/* The folder `what` names (display path, case-insensitive, or id):
 * "not_found" naming the account when there is none. */
int service_folder_find(const struct auth_env *env, const struct store_account *a,
			const char *what, struct store_folder *out, struct err *e);

/* Select or unselect folders, mapping a role. `role` NULL keeps the
 * folder's role (a folder selected without one takes the server's role,
 * else custom); a role goes only with selecting. All or nothing: one
 * transaction. `out` (may be NULL, n entries) gets each folder as it is
 * afterwards (caller clears each). */
int service_folders_select(const struct auth_env *env, const struct store_account *a,
			   const char *const *what, size_t n, bool selected,
			   const char *role, struct store_folder *out,
			   struct err *e);

/* ---- messages ---------------------------------------------------------------- */

struct service_message_query {
	const char *folder;              /* path or id; NULL = every selected folder */
	size_t limit;                    /* 1..SERVICE_LIST_MAX, 0 = 100 */
	const char *cursor;              /* from a previous page, or NULL */
};

/* A page of messages, newest first: `cb` per message; *next_cursor (heap,
 * caller frees) is NULL on the last page. A folder that is not selected is
 * refused ("conflict", FIX_SELECT_FOLDERS): its mail is kept but not shown. */
int service_messages_list(const struct auth_env *env, const struct store_account *a,
			  const struct service_message_query *q,
			  store_message_cb cb, void *ctx, char **next_cursor,
			  struct err *e);

/* One message with its body, fetched from the server when it is not local
 * yet (free with store_message_clear). */
int service_message_open(const struct auth_env *env, const struct store_account *a,
			 const char *id, struct store_message *out, struct err *e);

/* The raw MIME of a message (from the server), capped at out->limit. */
int service_message_mime(const struct auth_env *env, const struct store_account *a,
			 const char *id, struct buf *out, struct err *e);

/* The attachments of a message, read from its MIME on the server (see
 * mime_list_attachments; *out caller frees, NULL when none). */
int service_message_attachments(const struct auth_env *env, const struct store_account *a,
				const char *id, struct mime_part_info **out, size_t *n,
				struct err *e);

/* Attachment number `index` (1-based, as listed) of a message, decoded
 * into `out` (its limit applies: "too_large"); `info` (may be NULL)
 * describes it. "not_found" for a message or attachment that is not
 * there. */
int service_message_attachment(const struct auth_env *env, const struct store_account *a,
			       const char *id, size_t index, struct buf *out,
			       struct mime_part_info *info, struct err *e);

/* Write-back: the mailbox changes first, then the store, as the same
 * message (a move stays one message; the next delta never undoes it).
 * is_read 0/1, or MAIL_UNKNOWN to leave; `folder` (path or id; NULL =
 * stay). *new_id (may be NULL; heap) gets the message's id afterwards. */
int service_message_change(const struct auth_env *env, const struct store_account *a,
			   const char *id, int is_read, const char *folder,
			   char **new_id, struct err *e);

/* Move to Deleted Items. */
int service_message_delete(const struct auth_env *env, const struct store_account *a,
			   const char *id, struct err *e);

/* ---- sending and the outbox --------------------------------------------------- */

/* Accept a message into the outbox (it shows in Sent at once when Sent
 * Items is synced): the subject is at most SERVICE_SUBJECT_MAX characters;
 * a repeated idempotency key with the same request answers as the first
 * did (code "duplicate"), with another request it is "conflict". The
 * message goes out with the next sync of the account, or at once with
 * service_send_now. *sent_entry says whether a local Sent entry exists. */
int service_send(const struct auth_env *env, const struct store_account *a,
		 const struct outbox_request *r, struct store_outbox *out,
		 bool *sent_entry, struct err *e);

/* Deliver one outbox entry now, retrying throttling or temporary failures
 * up to `tries` times as long as each wait is at most `max_wait_s`.
 * `on_wait` (may be NULL) hears about each wait. */
int service_send_now(const struct auth_env *env, const struct store_account *a,
		     struct store_outbox *o, int tries, int max_wait_s,
		     void (*on_wait)(void *ctx, int seconds, const struct err *why),
		     void *ctx, struct err *e);

/* The account's outbox, newest first (caller frees). */
int service_outbox_list(const struct auth_env *env, const struct store_account *a,
			struct store_outbox **out, size_t *n, struct err *e);

/* Put a failed entry back in the queue ("conflict" when it did not fail). */
int service_outbox_retry(const struct auth_env *env, const struct store_account *a,
			 const char *key, struct store_outbox *out, struct err *e);

/* Remove a failed or finished (submitted, confirmed) entry from the
 * outbox. Entries still on their way cannot be removed ("conflict"). */
int service_outbox_remove(const struct auth_env *env, const struct store_account *a,
			  const char *key, struct err *e);

/* ---- syncing ------------------------------------------------------------------- */

/* Why an account is not synced now. */
struct service_skip {
	const struct store_account *account;
	struct err why;                  /* code, message and fix */
};

/* The accounts to sync: one (`what`, refused with its reason when it
 * cannot sync now: not authorized, auth_invalid, throttled until a time
 * (unless SERVICE_SYNC_WAIT_THROTTLED), provider problem) or every account `who` may see (those that cannot
 * sync are reported to `skipped` and left out). Accounts without a
 * selected folder are left out too (reported with FIX_SELECT_FOLDERS)
 * unless they have mail waiting in the outbox. *accounts (caller frees)
 * gets the whole list read, *ids (caller frees) the ones to sync. */
/* service_sync_targets: a throttled account is taken (the scheduler
 * waits out its Retry-After) instead of refused. */
#define SERVICE_SYNC_WAIT_THROTTLED 0x1u

int service_sync_targets(const struct auth_env *env, const struct service_actor *who,
			 const char *what, unsigned flags, struct store_account **accounts,
			 size_t *n_accounts, int64_t **ids, size_t *n_ids,
			 void (*skipped)(void *ctx, const struct service_skip *s),
			 void *ctx, struct err *e);

/* Whether `a` may be synced now (the rules of service_sync_targets for
 * one account): 0, or -1 with the reason. */
int service_sync_allowed(const struct auth_env *env, const struct store_account *a,
			 struct err *e);

/* ---- users, API tokens, sign-in and sessions ------------------------------------ */

#define SERVICE_USER_MAX 64          /* user names */
#define SERVICE_PASSWORD_MIN 8       /* bytes */
#define SERVICE_PASSWORD_MAX 1024
#define SERVICE_LABEL_MAX 100        /* token labels */
#define SERVICE_SECRET_LEN 128       /* room for a token, cookie or CSRF value */
#define SERVICE_SESSION_LIFETIME_S (12 * 3600)

/* A user as the API and `user list --json` write it: {username, admin,
 * has_password, created_at}. */
json_t *service_user_json(const struct store_user *u);

/* The user named `name` ("not_found" when there is none). Admins (and
 * the operator) may look up anyone, others only themselves. */
int service_user_find(const struct auth_env *env, const struct service_actor *who,
		      const char *name, struct store_user *out, struct err *e);

/* Every user, by name (admins only; caller frees with
 * store_user_list_free). */
int service_user_list(const struct auth_env *env, const struct service_actor *who,
		      struct store_user **out, size_t *n, struct err *e);

/* Add a user (admins only): a name of letters, digits and . _ - @
 * ("usage" otherwise, "conflict" when taken) with a password of
 * SERVICE_PASSWORD_MIN..MAX bytes, stored as an argon2id hash
 * (crypto_pwhash_str); `password` NULL adds a user who cannot sign in
 * until one is set. Fills `out` (caller clears; no hash in it). */
int service_user_add(const struct auth_env *env, const struct service_actor *who,
		     const char *name, const char *password, bool admin,
		     struct store_user *out, struct err *e);

/* Replace a user's password (admins, or the user themself) and end their
 * sessions. */
int service_user_passwd(const struct auth_env *env, const struct service_actor *who,
			const char *name, const char *password, struct err *e);

/* Remove a user with everything they own (admins only; never 'local',
 * "forbidden"). */
int service_user_remove(const struct auth_env *env, const struct service_actor *who,
			const char *name, struct err *e);

/* A token as listed: {id, label, username, created_at, last_used_at};
 * never the token or its hash. */
json_t *service_token_json(const struct store_token *t, const char *username);

/* Create an API token for `user` (NULL = the actor; another user's only
 * for admins): a random secret (libsodium) of which only a hash is kept.
 * `token` (SERVICE_SECRET_LEN bytes) gets the token, to be shown once.
 * Fills `out`. */
int service_token_create(const struct auth_env *env, const struct service_actor *who,
			 const char *user, const char *label, struct store_token *out,
			 char *token, struct err *e);

/* Tokens of `user` (NULL = the actor's own; the operator's NULL = every
 * user's), newest first (caller frees). `names` (may be NULL) gets each
 * token's user name (caller frees the array). */
int service_token_list(const struct auth_env *env, const struct service_actor *who,
		       const char *user, struct store_token **out, size_t *n,
		       char (**names)[128], struct err *e);

/* Revoke token `id`: the actor's own (the operator's: any); another
 * user's token is "not_found". */
int service_token_revoke(const struct auth_env *env, const struct service_actor *who,
			 int64_t id, struct err *e);

/* Who presents `token` (from an Authorization header): the hash compared
 * in constant time; notes its use. "unauthenticated" for anything that is
 * not a live token. `user` (may be NULL) gets the user (caller clears). */
int service_token_authenticate(const struct auth_env *env, const char *token,
			       struct service_actor *who, struct store_user *user,
			       struct err *e);

/* Check a user name and password (argon2id verify). Every failure is the
 * same "unauthenticated" (unknown user, no password, wrong password) and
 * takes about as long. Fills `out` (caller clears). */
int service_sign_in(const struct auth_env *env, const char *name,
		    const char *password, struct store_user *out, struct err *e);

/* Start a web session for `u`: `cookie` and `csrf` (SERVICE_SECRET_LEN
 * bytes each) get fresh random values; only the cookie's hash is stored,
 * with the CSRF token, for SERVICE_SESSION_LIFETIME_S. */
int service_session_create(const struct auth_env *env, const struct store_user *u,
			   char *cookie, char *csrf, struct err *e);

/* The live session a cookie value names: the actor, and `csrf`
 * (SERVICE_SECRET_LEN bytes, may be NULL) its CSRF token.
 * "unauthenticated" when there is none. */
int service_session_check(const struct auth_env *env, const char *cookie,
			  struct service_actor *who, char *csrf, struct err *e);

/* End the session a cookie value names (no-op when there is none). */
int service_session_end(const struct auth_env *env, const char *cookie,
			struct err *e);

/* ---- the shared objects as JSON (INTERFACE.md) ---------------------------------- */

/* ACCOUNT (account show --json, the API), with `owner` named and
 * `warnings` [{code, message}]: client_secret_expiring (within
 * SERVICE_SECRET_WARN_DAYS of the date the administrator entered),
 * grant_unused (no refresh for SERVICE_GRANT_IDLE_WARN_DAYS). */
json_t *service_account_json(const struct auth_env *env, const struct store_account *a);
/* FOLDER */
json_t *service_folder_json(const struct store_folder *f);
/* MESSAGE; with_body adds body {content_type, content} when fetched. */
json_t *service_message_json(const struct store_message *m, bool with_body);
/* An outbox entry {key, state, reason, internet_message_id, created_at,
 * subject, to}. */
json_t *service_outbox_json(const struct store_outbox *o);
/* EVENT {id, seq, type, account_id, created_at, data}; message events
 * carry the message as it is now (or id and folder when it is gone). */
json_t *service_event_json(const struct auth_env *env, const struct store_event *ev);
/* Attachments as listed: [{index, name, content_type, size, inline}]. */
json_t *service_attachments_json(const struct mime_part_info *list, size_t n);
/* An error {code, message, fix, fix_code} as the API writes it. */
json_t *service_error_json(const struct err *e);

/* A time as the shared objects write it: RFC 3339 UTC, or null for 0. */
json_t *service_time_json(int64_t t);
/* A string from stored or remote data as the shared objects write it:
 * null for NULL, and text that is not UTF-8 kept as its ASCII with
 * U+FFFD for every other byte (never NULL). */
json_t *service_text_json(const char *s);

/* ---- the message page as text (service_message_text.c) -------------------------- */

/* Rendered messages remembered by row id and content (see
 * service_text_cache.c): at most `slots` of them and `max_bytes` of text
 * and content. Shared by threads; freed with service_text_cache_free. */
struct service_text_cache;
struct service_text_cache *service_text_cache_new(size_t slots, size_t max_bytes);
void service_text_cache_free(struct service_text_cache *c);

/* Append MESSAGE `m` without its body to `out`: exactly the bytes of
 * json_dumps(service_message_json(m, false), JSON_COMPACT). `cache` (NULL
 * = none) gives and keeps texts. Returns 0, or -1 with `e` (too_large:
 * out's cap; `out` then unchanged). */
int service_message_text(const struct store_message *m, struct service_text_cache *cache,
			 struct buf *out, struct err *e);

/* Append the API's page {"messages": [MESSAGE...], "next_cursor": ...} of
 * service_messages_list(env, a, q) to `out`, the bytes json_dumps writes
 * for that document (compact). Errors as service_messages_list's, or
 * too_large (out's cap; `out` then holds a part of the page). */
int service_message_page_text(const struct auth_env *env, const struct store_account *a,
			      const struct service_message_query *q,
			      struct service_text_cache *cache, struct buf *out,
			      struct err *e);

/* A message list cursor (received time and row id) as text and back. */
void service_cursor_format(int64_t received_at, int64_t id, char out[48]);
int service_cursor_parse(const char *text, int64_t *received_at, int64_t *id,
			 struct err *e);

#endif
