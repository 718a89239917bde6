/*
 * err.h — classified errors carried as values.
 * A function that fails fills a caller-owned struct err with a class (which
 * decides what the caller does next), an optional short machine code and a
 * message that says what failed and what to do. Library code never prints.
 */
#ifndef INBOXSYNC_ERR_H
#define INBOXSYNC_ERR_H

#include <stdarg.h>

enum err_class {
	ERR_NONE = 0,
	ERR_TRANSIENT,  /* retry with backoff (network, 5xx, timeouts) */
	ERR_THROTTLED,  /* wait retry_after_s, then retry */
	ERR_AUTH,       /* refresh, then count toward auth_invalid */
	ERR_RESYNC,     /* sync cursor gone: start a new round */
	ERR_PERMANENT,  /* surface to the user; retrying will not help */
	ERR_BUG,        /* an internal invariant failed */
};

struct err {
	enum err_class class;
	int retry_after_s;   /* ERR_THROTTLED (and sometimes TRANSIENT): seconds */
	int http_status;     /* HTTP status when the error came from a response */
	char code[64];       /* short machine code: "invalid_grant", "usage", ... */
	char msg[512];       /* human text: what failed and what to do */
};

/* Fill `e` (may be NULL) with `class`, machine code `code` (may be NULL) and a
 * printf-style message. Always returns -1 so callers can `return err_set(...)`.
 * Truncates an over-long message; never fails. */
int err_set(struct err *e, enum err_class class, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Same as err_set with a va_list. Returns -1. */
int err_vset(struct err *e, enum err_class class, const char *code,
	     const char *fmt, va_list ap);

/* Prefix the existing message of `e` with printf-style context ("syncing
 * Inbox: "). Keeps class and code. Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reset `e` to ERR_NONE with empty strings. */
void err_clear(struct err *e);

/* Name of a class as used in logs and JSON: "transient", "throttled", ... */
const char *err_class_name(enum err_class class);

/* True when e->code equals `code` (NULL-safe). */
int err_is(const struct err *e, const char *code);

#endif
