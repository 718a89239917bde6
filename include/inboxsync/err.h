/*
 * err.h — classified errors carried as values.
 * A function that fails fills a caller-owned struct err with a class (which
 * decides what the caller does next), an optional short machine code, a
 * message that says what failed, and a structured fix: what the person
 * must do next, which each front end renders its own way (the CLI as a
 * command, the API as `error.fix` text, the web UI as a button). Library
 * code never prints and never names a command line.
 */
#ifndef INBOXSYNC_ERR_H
#define INBOXSYNC_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include "inboxsync/banned.h"

enum err_class {
	ERR_NONE = 0,
	ERR_TRANSIENT,  /* retry with backoff (network, 5xx, timeouts) */
	ERR_THROTTLED,  /* wait retry_after_s, then retry */
	ERR_AUTH,       /* refresh, then count toward auth_invalid */
	ERR_RESYNC,     /* sync cursor gone: start a new round */
	ERR_PERMANENT,  /* surface to the user; retrying will not help */
	ERR_BUG,        /* an internal invariant failed */
};

/* What the person must do next. `fix_arg` carries the one argument the
 * fix names (in brackets below). */
enum err_fix {
	FIX_NONE = 0,
	FIX_AUTHORIZE,          /* [account] never authorized (or stopped): authorize */
	FIX_REAUTHORIZE,        /* [account] the grant is gone: the owner signs in again */
	FIX_SIGN_IN_AS,         /* [address] the wrong Microsoft account signed in */
	FIX_CONFIGURE_PROVIDER, /* [what] the administrator sets up the Microsoft app */
	FIX_ENABLE_PROVIDER,    /* the administrator enables the provider */
	FIX_ENABLE_TRANSPORT,   /* [transport] the administrator enables a transport */
	FIX_ADMIN_CONSENT,      /* a tenant administrator grants consent */
	FIX_ENABLE_MAIL_AUTH,   /* [protocol] the tenant admin enables IMAP/SMTP AUTH */
	FIX_RETRY_AT,           /* [unix seconds] wait until then; it resumes itself */
	FIX_RETRY,              /* temporary: it is retried (or try again later) */
	FIX_FETCH_FOLDERS,      /* [account] read the folder list */
	FIX_SELECT_FOLDERS,     /* [account] choose folders to sync */
	FIX_REMOVE_ACCOUNT,     /* [account] the mailbox is connected there: remove it first */
	FIX_SHOW_OUTBOX,        /* [account] look at the outbox entry's reason */
	FIX_CHECK_INPUT,        /* [what] correct the request */
	FIX_UPGRADE,            /* install a newer inboxsync */
	FIX_STORAGE,            /* [path] free disk space / fix permissions of the store */
	FIX_MIGRATE,            /* an administrator creates or upgrades the store's schema */
	FIX_RESTORE_BACKUP,     /* [path] the file is gone or damaged: restore it from a backup */
	FIX_PRIVATE_DIR,        /* [path] the directory is open to others: mode 0700 */
	FIX_PRIVATE_FILE,       /* [path] the file is readable by others: mode 0600 */
};

struct err {
	enum err_class class;
	int retry_after_s;   /* ERR_THROTTLED (and sometimes TRANSIENT): seconds */
	int http_status;     /* HTTP status when the error came from a response */
	char code[64];       /* short machine code: "invalid_grant", "usage", ... */
	char msg[512];       /* human text: what failed (and why) */
	enum err_fix fix;    /* what to do next (FIX_NONE: nothing to suggest) */
	char fix_arg[320];   /* the fix's argument (see enum err_fix) */
};

/* Fill `e` (may be NULL) with `class`, machine code `code` (may be NULL) and a
 * printf-style message; the fix is cleared. Always returns -1 so callers can
 * `return err_set(...)`. Truncates an over-long message; never fails. */
int err_set(struct err *e, enum err_class class, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Same as err_set with a va_list. Returns -1. */
int err_vset(struct err *e, enum err_class class, const char *code,
	     const char *fmt, va_list ap);

/* Prefix the existing message of `e` with printf-style context ("syncing
 * Inbox: "). Keeps class and code. Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Attach the fix `fix` with its argument `arg` (may be NULL) to `e` (may be
 * NULL). Returns -1, so `return err_set(...), err_set_fix(...)` reads well. */
int err_set_fix(struct err *e, enum err_fix fix, const char *arg);

/* Same with an integer argument (FIX_RETRY_AT's time). */
int err_set_fix_at(struct err *e, enum err_fix fix, long long arg);

/* Machine name of a fix as the API writes it ("reauthorize", ...); "" for
 * FIX_NONE. Parse it back with err_fix_parse (FIX_NONE when unknown). */
const char *err_fix_name(enum err_fix fix);
enum err_fix err_fix_parse(const char *name);

/* The fix in plain words for people without a shell (the API's
 * `error.fix`, the web UI): "Authorize the mailbox again: sign in to
 * Microsoft as the mailbox owner." Writes "" for FIX_NONE. Returns `out`. */
const char *err_fix_text(enum err_fix fix, const char *arg, char *out, size_t n);

/* Reset `e` to ERR_NONE with empty strings. */
void err_clear(struct err *e);

/* Name of a class as used in logs and JSON: "transient", "throttled", ... */
const char *err_class_name(enum err_class class);

/* True when e->code equals `code` (NULL-safe). */
int err_is(const struct err *e, const char *code);

/* The static analyzers (clang-tidy's clang-analyzer-*, scan-build) read
 * one file at a time and cannot see that the setters above always return
 * -1: without this they follow `return err_set(...)` as if it could
 * succeed and report the uninitialised outputs of paths that never run.
 * Spelling the contract out for them changes nothing else. */
#if defined(__clang_analyzer__) && !defined(INBOXSYNC_ERR_IMPL)
#define err_set(...) (err_set(__VA_ARGS__), -1)
#define err_prefix(...) (err_prefix(__VA_ARGS__), -1)
#define err_set_fix(...) (err_set_fix(__VA_ARGS__), -1)
#define err_set_fix_at(...) (err_set_fix_at(__VA_ARGS__), -1)
#endif

#endif
