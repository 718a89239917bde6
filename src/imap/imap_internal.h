/*
 * imap_internal.h — contracts shared by the files of the IMAP driver
 * (src/imap). Nothing outside src/imap includes this: the engine sees
 * driver.h, the program sees imap.h. Layers, bottom up:
 *   imap_stream.c   the byte stream under libetpan: TCP with timeouts,
 *                   TLS (GnuTLS, certificate and host name checked) and
 *                   the response guard that caps lines, literals and the
 *                   size of every answer before libetpan allocates;
 *   imap_session.c  one logged-in connection: greeting, STARTTLS,
 *                   CAPABILITY, XOAUTH2 with one fresh-token retry,
 *                   ENABLE, SELECT/EXAMINE, and error classification;
 *   imap_ids.c      message ids, the sync cursor, flag digests;
 *   imap_page.c     pages of mail.h messages and the memory they own;
 *   imap_fetch.c    UID FETCH of metadata, flags, raw messages; SEARCH;
 *   imap_folders.c  LIST, SPECIAL-USE roles or name heuristics, STATUS;
 *   imap_sync.c     rounds and polls (get_changes, poll_changes,
 *                   list_newest);
 *   imap_items.c    single messages: locate, body, MIME, flags, move,
 *                   delete, state, search by Message-ID;
 *   imap_bodies.c   the bodies of many messages in few commands;
 *   imap_send.c     drafts, submission, the Sent copy; smtp_submit.c
 *                   SMTP submission with XOAUTH2 (libcurl);
 *   imap_idle.c     IDLE on a second connection;
 *   imap_driver.c   the driver object and its ops table.
 */
#ifndef INBOXSYNC_IMAP_INTERNAL_H
#define INBOXSYNC_IMAP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libetpan/mailimap.h>
#include <libetpan/mailstream.h>
#include "inboxsync/buf.h"
#include "inboxsync/driver.h"
#include "inboxsync/err.h"
#include "inboxsync/imap.h"

#define IMAP_DEFAULT_PAGE_SIZE 200
#define IMAP_MAX_PAGE_SIZE 1000
#define IMAP_MAX_POLL 64                               /* folders per poll call */
#define IMAP_MAX_LOCATE 50
#define IMAP_MAX_BODIES 200                            /* ids per fetch_bodies call */
#define IMAP_BODY_CHUNK_BYTES ((size_t)8 << 20)        /* raw messages per UID FETCH */
#define IMAP_MAX_CONNECTIONS 2                         /* the main one and IDLE */
#define IMAP_DEFAULT_CONNECT_TIMEOUT_MS 15000
#define IMAP_DEFAULT_IO_TIMEOUT_MS 60000
#define IMAP_DEFAULT_MAX_RESPONSE ((size_t)64 << 20)  /* one answer */
#define IMAP_DEFAULT_MAX_MESSAGE ((size_t)64 << 20)   /* one raw message */
#define IMAP_MAX_LINE ((size_t)8 << 20)               /* one line of an answer */
#define IMAP_SMALL_RESPONSE ((size_t)1 << 20)         /* greeting, login, ... */
#define IMAP_SEARCH_SLACK ((size_t)64 << 10)          /* a SEARCH answer beyond 11 B a message */
#define IMAP_METADATA_LITERAL_MAX ((size_t)1 << 20)   /* header, preview text */
#define IMAP_PREVIEW_BYTES 2048                        /* of the text, for the preview */
#define IMAP_SCAN_BUCKETS 8                            /* flag-scan window per poll */
#define IMAP_BUCKET_SHIFT 10                           /* digest buckets of 1024 UIDs */

/* ---- the stream (imap_stream.c) ----------------------------------------- */

enum imap_stream_failure {
	IMAP_STREAM_OK = 0,
	IMAP_STREAM_TIMEOUT,           /* no data within the I/O timeout */
	IMAP_STREAM_CLOSED,            /* the peer closed the connection */
	IMAP_STREAM_IO,                /* a socket or TLS error */
	IMAP_STREAM_TOO_LARGE,         /* an answer over its cap */
	IMAP_STREAM_LINE_TOO_LONG,     /* one line over IMAP_MAX_LINE */
	IMAP_STREAM_LITERAL_TOO_LARGE, /* a literal announced over its cap */
};

struct imap_stream;

/* Connect to host:port within `connect_timeout_ms` and wrap the socket in
 * a libetpan stream. `tls` true: TLS at once (implicit TLS, port 993),
 * verifying the certificate against `ca_file` (NULL = the system's trust
 * store) and the host name. Plain connections are refused unless the
 * peer address is loopback. On success *out is a mailstream for
 * mailimap_connect (which then owns it) and *st the stream state for the
 * calls below (valid until the mailstream is closed). Errors:
 * ERR_TRANSIENT "network" (resolve, connect, timeout), ERR_PERMANENT
 * "tls" (handshake or certificate), ERR_PERMANENT "plaintext_refused". */
int imap_stream_open(const char *host, int port, bool tls, const char *ca_file,
		     int connect_timeout_ms, int io_timeout_ms, mailstream **out,
		     struct imap_stream **st, struct err *e);

/* Upgrade a plain stream to TLS in place (after the server's OK to
 * STARTTLS). Same checks and errors as imap_stream_open. */
int imap_stream_start_tls(struct imap_stream *st, const char *host,
			  const char *ca_file, struct err *e);

/* Caps for the answer to the next command: any literal over
 * `max_literal` or an answer over `max_response` bytes fails the read
 * before libetpan sees the data. Every write starts a new answer. */
void imap_stream_limits(struct imap_stream *st, size_t max_literal,
			size_t max_response);

/* Change the I/O timeout (IDLE waits longer than a command). */
void imap_stream_set_timeout(struct imap_stream *st, int io_timeout_ms);

/* Why the stream failed (IMAP_STREAM_OK while it works). */
enum imap_stream_failure imap_stream_failure(const struct imap_stream *st);

/* The last line the server sent, printable ASCII, truncated ("" none). */
const char *imap_stream_last_line(const struct imap_stream *st);

/* The text of the server's last "* BYE" ("" none). */
const char *imap_stream_bye(const struct imap_stream *st);

/* Bytes read since the stream was opened. */
uint64_t imap_stream_bytes_in(const struct imap_stream *st);

/* Untagged lines that announce a change of the selected mailbox ("* 5
 * EXISTS", "* 3 EXPUNGE", "* 7 FETCH ...", "* VANISHED ...") seen so far:
 * what IDLE waits for (a "* OK Still here" is not one). */
uint64_t imap_stream_changes(const struct imap_stream *st);

/* Untagged "* <n> EXPUNGE" and "* VANISHED" lines seen so far: messages
 * that left the selected mailbox, shifting sequence numbers. */
uint64_t imap_stream_shrinks(const struct imap_stream *st);

/* The socket, for poll() while idling; -1 when closed. */
int imap_stream_fd(const struct imap_stream *st);

/* TLS records already decrypted and not yet read (poll would not see
 * them). */
bool imap_stream_has_pending(const struct imap_stream *st);

/* True for 127.0.0.0/8, ::1 and "localhost": the only hosts reached
 * without TLS. */
bool imap_host_is_loopback(const char *host);

/* ---- one connection (imap_session.c) --------------------------------------- */

enum imap_tls_mode {
	IMAP_TLS_IMPLICIT,
	IMAP_TLS_STARTTLS,
	IMAP_TLS_NONE,                 /* loopback only */
};

/* What a session needs to connect and log in (borrowed from the driver). */
struct imap_account {
	const char *host;
	int port;
	const char *user;
	enum imap_tls_mode tls;
	const char *ca_file;
	struct driver_auth auth;
	int connect_timeout_ms;
	int io_timeout_ms;
	size_t max_response;
	bool no_qresync;               /* do not ENABLE QRESYNC (tests) */
	bool no_condstore;             /* do not use CONDSTORE (tests) */
};

#define IMAP_CAP_CONDSTORE   0x0001u
#define IMAP_CAP_QRESYNC     0x0002u
#define IMAP_CAP_UIDPLUS     0x0004u
#define IMAP_CAP_MOVE        0x0008u
#define IMAP_CAP_IDLE        0x0010u
#define IMAP_CAP_SPECIAL_USE 0x0020u
#define IMAP_CAP_ENABLE      0x0040u
#define IMAP_CAP_LITERALPLUS 0x0080u
#define IMAP_CAP_XOAUTH2     0x0100u
#define IMAP_CAP_STARTTLS    0x0200u

struct imap_session {
	mailimap *imap;                /* NULL when not connected */
	struct imap_stream *stream;
	const struct imap_account *acct;
	unsigned caps;
	bool condstore;                /* CONDSTORE in use */
	bool qresync;                  /* QRESYNC enabled */
	char *token;                   /* the token the session logged in with */
	bool token_suspect;            /* the server hinted the token expired */
	/* the selected mailbox */
	char *selected;
	bool readonly;                 /* EXAMINEd rather than SELECTed */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint32_t exists;
	uint64_t highestmodseq;        /* 0 when the server has none */
	uint64_t shrinks_at_open;      /* imap_stream_shrinks when it was opened */
	int logins;                    /* successful logins (tests, logs) */
};

/* Connect and log in (when not connected): TLS as the account says,
 * XOAUTH2 with a token from the auth source; a refused token is replaced
 * by a fresh one once (the source is told which token was refused).
 * Afterwards CAPABILITY and ENABLE QRESYNC when offered. Errors: ERR_AUTH
 * "imap_auth" (refused twice), ERR_PERMANENT "no_xoauth2", the auth
 * source's own errors, network and TLS errors as imap_stream_open. */
int imap_session_ensure(struct imap_session *s, const struct imap_account *a,
			struct err *e);

/* Wipe and free a token (NULL is fine). */
void imap_secret_free(char *s);

/* Log out politely when healthy and free everything. */
void imap_session_close(struct imap_session *s);

/* Drop the connection without LOGOUT (after a failure that leaves the
 * protocol state unknown); the next imap_session_ensure reconnects. */
void imap_session_drop(struct imap_session *s);

/* Open `mailbox`: EXAMINE when `readonly`, else SELECT (with CONDSTORE
 * when in use), refreshing UIDVALIDITY, UIDNEXT, EXISTS and
 * HIGHESTMODSEQ. `fresh` re-opens even when it is already open (for
 * current numbers). Errors: ERR_PERMANENT "folder_gone" when the mailbox
 * does not exist, else as imap_session_fail. */
int imap_session_open(struct imap_session *s, const char *mailbox, bool readonly,
		      bool fresh, struct err *e);

/* True when `mailbox` is the open one and no message has left it since
 * it was opened (no EXPUNGE or VANISHED seen): its sequence numbers up to
 * the EXISTS of the open still name the same messages, though newer ones
 * may have arrived above. */
bool imap_session_numbers_kept(const struct imap_session *s, const char *mailbox);

/* Classify a libetpan result `rc` of an operation (`what`, e.g.
 * "fetching messages of", about `target`, may be NULL): the stream's
 * failure (timeout, closed, caps) or the server's NO/BAD with its
 * response code and text. Connection-level failures drop the session.
 * `is_content`: an answer over its cap is ERR_PERMANENT "too_large"
 * (else ERR_TRANSIENT "bad_response"). Returns -1. */
int imap_session_fail(struct imap_session *s, int rc, const char *what,
		      const char *target, bool is_content, struct err *e);

/* Set the stream caps for the next command (IMAP_METADATA_LITERAL_MAX /
 * the account's max_response when 0). */
void imap_session_limits(struct imap_session *s, size_t max_literal,
			 size_t max_response);

/* Run `op` on a logged-in session; when the connection fails on the way
 * (BYE, dropped, timeout) and `idempotent`, reconnect once (with a fresh
 * token when the server said the token expired) and run it again. The
 * op returns 0 or -1 with `e` (from imap_session_fail). */
typedef int (*imap_session_op)(struct imap_session *s, void *ctx, struct err *e);
int imap_session_run(struct imap_session *s, const struct imap_account *a,
		     bool idempotent, imap_session_op op, void *ctx,
		     struct err *e);

/* ---- message ids, cursors, digests (imap_ids.c) -------------------------- */

/* "<uidvalidity>:<uid>:<mailbox>" (heap). The mailbox as on the wire. */
char *imap_id_format(const char *mailbox, uint32_t uidvalidity, uint32_t uid);

/* Split an id made above: *mailbox (heap), *uidvalidity, *uid. Returns
 * 0, or -1 (nothing allocated) when the id is not one of ours. */
int imap_id_parse(const char *id, char **mailbox, uint32_t *uidvalidity,
		  uint32_t *uid);

/* Flag digests: for every bucket of 1024 UIDs, the count of messages and
 * the sum of a hash of (uid, flags) over them. A bucket whose digest
 * changed holds a message whose flags changed, or one that came or went.
 * `with_flags` false: the hash covers the UID only (presence). */
struct imap_digest {
	uint32_t bucket;
	uint32_t count;
	uint64_t sum;
};

struct imap_digests {
	struct imap_digest *d;
	size_t n, cap;
};

void imap_digests_init(struct imap_digests *g);
void imap_digests_free(struct imap_digests *g);
void imap_digests_clear(struct imap_digests *g);
void imap_digests_add(struct imap_digests *g, uint32_t uid, unsigned flags);
/* The digest of `bucket` (count 0, sum 0 when absent). */
struct imap_digest imap_digests_get(const struct imap_digests *g, uint32_t bucket);
/* Replace (or, with count 0, remove) one bucket's digest. */
void imap_digests_put(struct imap_digests *g, struct imap_digest d);
/* Messages over all buckets. */
uint64_t imap_digests_total(const struct imap_digests *g);

enum imap_cursor_kind {
	IMAP_CURSOR_ROUND = 'R',       /* a round, newest first, going down */
	IMAP_CURSOR_LIVE = 'L',        /* changes after the round */
};

/* How changes of a folder are found (fixed when its round begins). */
enum imap_change_mode {
	IMAP_MODE_QRESYNC = 'q',       /* CHANGEDSINCE + VANISHED */
	IMAP_MODE_CONDSTORE = 'c',     /* CHANGEDSINCE; expunges by presence digests */
	IMAP_MODE_SCAN = 's',          /* flags and expunges by (uid, flags) digests */
};

struct imap_cursor {
	enum imap_cursor_kind kind;
	enum imap_change_mode mode;
	uint32_t uidvalidity;
	uint32_t uidnext;              /* ROUND: its upper bound; LIVE: every
					  uid below it has been reported */
	uint64_t modseq;               /* changes are since this HIGHESTMODSEQ */
	uint32_t low;                  /* ROUND: lowest uid reported so far */
	uint32_t seq;                  /* ROUND: sequence number `low` had */
	uint32_t scan;                 /* LIVE (scan mode): next bucket to scan */
	struct imap_digests digests;   /* what was reported (not QRESYNC) */
};

void imap_cursor_init(struct imap_cursor *c);
void imap_cursor_free(struct imap_cursor *c);
/* Text form (heap): "imap1;R;q;v=..;n=..;m=..;l=..;s=..;k=..;d=b:c:h,..". */
char *imap_cursor_format(const struct imap_cursor *c);
/* Parse; anything malformed is ERR_RESYNC "bad_cursor" (the folder is
 * synchronized again from the start). */
int imap_cursor_parse(struct imap_cursor *c, const char *text, struct err *e);

/* ---- pages (imap_page.c) ---------------------------------------------------- */

/* Owns what a page's items point to: blocks of memory freed together.
 * `release` stays first (driver_page_free calls it). */
struct imap_arena {
	void (*release)(void *);
	struct imap_arena_block *blocks;
};

struct imap_arena *imap_arena_new(void);
void imap_arena_free(struct imap_arena *a);
void *imap_arena_alloc(struct imap_arena *a, size_t n);
/* Copies (NULL stays NULL). */
const char *imap_arena_strdup(struct imap_arena *a, const char *s);
const char *imap_arena_strndup(struct imap_arena *a, const char *s, size_t n);

/* A page being built: items grow, strings go to the arena. */
struct imap_page {
	struct driver_page *page;
	struct imap_arena *arena;
	size_t cap;
};

void imap_page_init(struct imap_page *b, struct driver_page *page);
/* A new item with every field unknown. The pointer is valid until the
 * next imap_page_add. */
struct mail_message *imap_page_add(struct imap_page *b);
/* Drop the last `n` items. */
void imap_page_truncate(struct imap_page *b, size_t n);
/* Hand the arena to the page (call once, at the end; also on failure,
 * then with `ok` false the items are dropped). */
void imap_page_finish(struct imap_page *b, bool ok);

/* Items sorted by UID, highest first (`uids` parallel to the items). */
void imap_page_sort_desc(struct imap_page *b, uint32_t *uids);

/* ---- fetching (imap_fetch.c) ----------------------------------------------- */

#define IMAP_FLAG_SEEN     0x01u
#define IMAP_FLAG_FLAGGED  0x02u
#define IMAP_FLAG_DRAFT    0x04u
#define IMAP_FLAG_DELETED  0x08u
#define IMAP_FLAG_ANSWERED 0x10u

/* What came back per message, besides the item. */
struct imap_fetched {
	uint32_t uid;
	uint32_t seq;
	unsigned flags;
	int64_t internaldate;
	uint64_t modseq;
	bool built;                    /* an item was added for it */
};

/* Metadata of the messages in `set` of the open mailbox (`by_uid`: UIDs,
 * else sequence numbers): one full item per message appended to `b`
 * (remote ids of the open mailbox), except for messages marked \Deleted,
 * which count as gone; every message's numbers are appended to *got
 * (caller frees; *n_got counts; `built` tells which have an item, in
 * item order). Errors as imap_session_fail. */
int imap_fetch_metadata(struct imap_session *s, struct mailimap_set *set,
			bool by_uid, struct imap_page *b, struct imap_fetched **got,
			size_t *n_got, struct err *e);

/* UID, FLAGS (and MODSEQ when `changedsince` > 0, with VANISHED into
 * `vanished` when it is not NULL: QRESYNC) of the UIDs in `set`; or with
 * `by_uid` false, sequence numbers, with INTERNALDATE. *got is
 * allocated (caller frees). */
int imap_fetch_flags(struct imap_session *s, struct mailimap_set *set,
		     bool by_uid, uint64_t changedsince, struct imap_fetched **got,
		     size_t *n_got, struct mailimap_set **vanished, struct err *e);

/* The raw message `uid` of the open mailbox (BODY.PEEK[]) into `out`
 * (replaced), at most `cap` bytes (ERR_PERMANENT "too_large" above);
 * *found false when there is no such message. */
int imap_fetch_raw(struct imap_session *s, uint32_t uid, size_t cap,
		   struct buf *out, bool *found, struct err *e);

/* UID SEARCH of `key` (consumed) in the open mailbox: the UIDs in
 * ascending order (caller frees). */
int imap_search(struct imap_session *s, struct mailimap_search_key *key,
		uint32_t **uids, size_t *n, struct err *e);

/* UIDs >= `from` of the open mailbox, ascending. */
int imap_search_from(struct imap_session *s, uint32_t from, uint32_t **uids,
		     size_t *n, struct err *e);

/* Messages of the open mailbox whose Message-ID is exactly `imid` (a
 * header search, then a check of the header itself): UIDs, flags and
 * sizes (caller frees). */
struct imap_found {
	uint32_t uid;
	unsigned flags;
	int64_t size;
};
int imap_search_message_id(struct imap_session *s, const char *imid,
			   struct imap_found **found, size_t *n, struct err *e);

/* UID and RFC822.SIZE of the UIDs in `set` of the open mailbox (the
 * server's size, which Exchange only approximates): one entry per message
 * there, flags left 0 (caller frees *got). Errors as imap_session_fail. */
int imap_fetch_sizes(struct imap_session *s, struct mailimap_set *set,
		     struct imap_found **got, size_t *n, struct err *e);

/* The raw messages of the UIDs in `set` of the open mailbox, one UID
 * FETCH (BODY.PEEK[]): `cb` once per message in the answer with its UID
 * and bytes (borrowed for the call). A literal over `max_literal`, or an
 * answer over the account's max_response, fails the whole command with
 * ERR_PERMANENT "too_large" (the session is dropped, as for every
 * answer cut short); other errors as imap_session_fail. Holds the whole
 * answer in memory: callers size `set` by imap_fetch_sizes. */
typedef void (*imap_raw_cb)(void *ctx, uint32_t uid, const char *raw, size_t len);
int imap_fetch_raw_set(struct imap_session *s, struct mailimap_set *set,
		       size_t max_literal, imap_raw_cb cb, void *ctx, struct err *e);

/* Flags, size and the identifying header fields (Message-ID,
 * References, In-Reply-To) of `uid` in the open mailbox, read into `sum`
 * (caller frees with mime_summary_free when *found). *found false when
 * there is no such message (or it is marked \Deleted). */
struct mime_summary;
int imap_fetch_summary(struct imap_session *s, uint32_t uid, bool *found,
		       struct imap_found *info, struct mime_summary *sum,
		       struct err *e);

/* IMAP flags of libetpan's flag list as IMAP_FLAG_* bits. */
unsigned imap_flags_of(const struct mailimap_msg_att_dynamic *dyn);

/* Fill the flag fields of `m` from IMAP_FLAG_* bits, and its change key
 * (which both full and flag-only items compute the same way). */
void imap_message_set_flags(struct imap_arena *a, struct mail_message *m,
			    unsigned flags);

/* libetpan sets: one UID, a range, a list of UIDs (ascending). */
struct mailimap_set *imap_set_range(uint32_t lo, uint32_t hi);
struct mailimap_set *imap_set_of(const uint32_t *uids, size_t n);

/* ---- folders (imap_folders.c) ----------------------------------------------- */

struct imap_folder {
	char *name;                    /* as on the wire (modified UTF-7) */
	char *display;                 /* last component, UTF-8 */
	char *parent;                  /* nearest selectable ancestor, "" at the top */
	enum mail_role role;
};

struct imap_folder_list {
	struct imap_folder *f;
	size_t n;
	char delimiter;
};

/* LIST "" "*" of the session into `out` (replaced), selectable folders
 * only, parents before children: roles from SPECIAL-USE attributes when
 * the server has SPECIAL-USE, else from the names (INBOX, Sent Items,
 * Deleted Items, Drafts, Archive, Junk Email and common variants); a role
 * goes to one folder only. */
int imap_folders_list(struct imap_session *s, struct imap_folder_list *out,
		      struct err *e);
void imap_folder_list_free(struct imap_folder_list *l);
/* The folder with `role`, or NULL. */
const struct imap_folder *imap_folder_by_role(const struct imap_folder_list *l,
					      enum mail_role role);
const struct imap_folder *imap_folder_by_name(const struct imap_folder_list *l,
					      const char *name);
/* Modified UTF-7 (RFC 3501 5.1.3) to UTF-8 (heap); a name that does not
 * decode is returned as is. */
char *imap_mailbox_decode(const char *name);

/* ---- libcurl for the probes and SMTP (imap_curl.c) -------------------------- */

/* Where a curl session goes: implicit TLS on `tls_port` (scheme `tls`),
 * STARTTLS required elsewhere (scheme `plain`); plain only to loopback. */
struct imap_curl_target {
	const char *proto;             /* "IMAP" / "SMTP", for messages */
	const char *plain, *tls;       /* "imap"/"imaps", "smtp"/"smtps" */
	int tls_port;
	const char *host;
	int port;
	const char *ca_file;           /* NULL = the system's trust store */
	long total_timeout_ms;         /* 0 = IMAP_PROBE_TOTAL_TIMEOUT_MS */
};

/* One curl session and what it collects. */
struct imap_curl {
	const char *proto;
	const char *host;
	int port;
	void *easy;                    /* CURL * */
	void *url;                     /* CURLU * */
	struct buf body;               /* the answer's data (capped) */
	bool body_too_large;
	struct buf server_lines;       /* what the server said, most recent */
	char errbuf[256];
};

/* Set up `p` for `t`, logging in as `user` with XOAUTH2 and `token`
 * (registered as a secret for the log). Errors ERR_AUTH "auth_required"
 * without user or token, ERR_PERMANENT "bad_server", ERR_BUG when
 * libcurl lacks a feature. imap_curl_end frees (also after a failure). */
int imap_curl_begin(struct imap_curl *p, const struct imap_curl_target *t,
		    const char *user, const char *token, struct err *e);
void imap_curl_end(struct imap_curl *p);

/* The server's refusal among its recent lines (the last tagged NO/BAD,
 * 4xx/5xx reply, or decoded SASL continuation), printable, "" if none. */
void imap_curl_refusal(const struct imap_curl *p, char *out, size_t out_len);

/* Fill `e` for a failed transfer (`cc` a CURLcode): a refused login is
 * ERR_AUTH `auth_code` with `advice` (what usually causes it) and the fix
 * FIX_ENABLE_MAIL_AUTH for the protocol; no XOAUTH2 offered, network and
 * TLS failures as imap_probe_login says. Returns -1. */
int imap_curl_fail(const struct imap_curl *p, int cc, const char *auth_code,
		   const char *advice, struct err *e);

/* An SMTP XOAUTH2 login at `t` that stops before MAIL FROM (imap_probe.c).
 * Errors as smtp_probe_login. */
int smtp_login_check(const struct imap_curl_target *t, const char *user,
		     const char *token, struct err *e);

/* imap_curl_fail for SMTP: a refused login is ERR_AUTH "smtp_auth" with
 * FIX_ENABLE_MAIL_AUTH "SMTP", and says so plainly when the answer is
 * Exchange's "SMTP AUTH disabled" (535 5.7.139 / 5.7.3). Returns -1. */
int smtp_fail(const struct imap_curl *p, int cc, struct err *e);

/* ---- SMTP submission (smtp_submit.c) --------------------------------------- */

/* Submit `mime` (len bytes) from `from` to `rcpts` (n addresses) at
 * host:port with XOAUTH2 as `user` (STARTTLS, or implicit TLS on 465;
 * plain only to loopback). *ambiguous is set when the message was handed
 * over completely but no final answer came (it may have been sent).
 * Errors: ERR_AUTH "smtp_auth" (refused login; SMTP AUTH disabled gives
 * the administrator's fix), ERR_PERMANENT "rejected" (recipient or
 * message refused, 5xx), ERR_TRANSIENT "network"/"smtp_tempfail".
 * `last_step` (may be NULL) runs when everything the transaction
 * allocates is allocated, just before it starts; from there until it
 * returns nothing is allocated through alloc.h, so running out of memory
 * cannot cut the submission short. Its failure is returned as is. */
struct smtp_last_step {
	int (*run)(void *ctx, struct err *e);
	void *ctx;
};
int smtp_submit(const char *host, int port, const char *ca_file, const char *user,
		const char *token, const char *from, const char *const *rcpts,
		size_t n, const char *mime, size_t len,
		const struct smtp_last_step *last_step, bool *ambiguous, struct err *e);

/* ---- the driver object (imap_driver.c) ---------------------------------------- */

/* A move this driver made: old id → new id (COPYUID). */
struct imap_moved {
	char *from, *to;
};

struct imap_driver {
	struct driver base;            /* first: driver.h casts to it */
	struct imap_account acct;
	char *host, *user, *ca_file;
	char *smtp_host;
	int smtp_port;
	enum imap_sent_copy sent_copy;
	size_t max_message;
	struct imap_session main;      /* the connection every operation uses */
	struct imap_session idle;      /* the second one: IDLE */
	struct imap_folder_list folders;
	bool folders_loaded;
	struct imap_moved *moved;
	size_t n_moved, cap_moved;
};

struct imap_driver *imap_of(struct driver *d);

/* The folder list, LISTed on first use (or again with `refresh`). */
int imap_driver_folders(struct imap_driver *g, bool refresh, struct err *e);

/* A logged-in main session. */
int imap_driver_session(struct imap_driver *g, struct err *e);

/* The main session with `mailbox` open (see imap_session_open), logging
 * in and reconnecting once when the connection was lost. */
int imap_driver_open_mailbox(struct imap_driver *g, const char *mailbox,
			     bool readonly, bool fresh, struct err *e);

/* Remember / look up a move this driver made. */
void imap_driver_remember_move(struct imap_driver *g, const char *from,
			       const char *to);
const char *imap_driver_moved_to(const struct imap_driver *g, const char *from);

/* A token for SMTP (the source's, or a fresh one after `rejected`). */
int imap_driver_token(struct imap_driver *g, const char *rejected, char **token,
		      struct err *e);

/* ---- operations ------------------------------------------------------------ */

int imap_op_whoami(struct driver *d, struct driver_identity *out, struct err *e);
int imap_op_list_folders(struct driver *d, driver_folder_cb cb, void *ctx,
			 struct err *e);
int imap_op_get_changes(struct driver *d, const char *folder, const char *cursor,
			size_t page_size, struct driver_page *page, struct err *e);
int imap_op_poll_changes(struct driver *d, struct driver_poll *polls, size_t n,
			 size_t page_size, struct err *e);
int imap_op_list_newest(struct driver *d, const char *folder,
			int64_t received_after, size_t limit,
			struct driver_page *page, struct err *e);
int imap_op_locate_messages(struct driver *d, struct driver_locate *items,
			    size_t n, struct err *e);
int imap_op_count_messages(struct driver *d, const char *folder, long long *total,
			   struct err *e);
int imap_op_fetch_body(struct driver *d, const char *id, struct driver_body *out,
		       struct err *e);
int imap_op_fetch_bodies(struct driver *d, struct driver_body_fetch *items,
			 size_t n, struct err *e);
int imap_op_fetch_mime(struct driver *d, const char *id, struct buf *out,
		       struct err *e);
int imap_op_set_flags(struct driver *d, const char *id, int is_read,
		      int is_flagged, struct err *e);
int imap_op_move_message(struct driver *d, const char *id, const char *dest,
			 char **new_id, struct err *e);
int imap_op_delete_message(struct driver *d, const char *id, struct err *e);
int imap_op_create_draft(struct driver *d, const char *mime, size_t len,
			 char **draft_id, struct err *e);
int imap_op_send_draft(struct driver *d, const char *draft_id, struct err *e);
int imap_op_get_state(struct driver *d, const char *id, struct driver_state *out,
		      struct err *e);
int imap_op_find_by_message_id(struct driver *d, const char *imid,
			       driver_found_cb cb, void *ctx, struct err *e);
int imap_op_test_send(struct driver *d, struct err *e);

/* Parse an id of ours into its parts, or ERR_PERMANENT "not_found". */
int imap_item_parse(const char *id, char **mailbox, uint32_t *uidvalidity,
		    uint32_t *uid, struct err *e);

#endif
