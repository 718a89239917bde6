/*
 * log.h — leveled logging with redaction.
 * Every line written goes through log_redact(): Authorization headers,
 * Bearer tokens, token/secret/code fields in JSON and form bodies, and any
 * string registered with log_add_secret() are replaced by "[REDACTED]".
 * Logging goes to stderr by default, or to a file chosen by the program.
 */
#ifndef INBOXSYNC_LOG_H
#define INBOXSYNC_LOG_H

#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above `level` are dropped. Default LOG_WARN. Thread-safe. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Send log lines to `path` (appended, created 0600), keeping stderr quiet;
 * NULL returns to stderr. Returns 0 or -1 if the file cannot be opened. */
int log_set_file(const char *path);

/* When stderr is the systemd journal (the manager sets $JOURNAL_STREAM to
 * its "device:inode"), write log lines to stderr with the journal's
 * priority prefix ("<3>" for errors ... "<7>" for debug) and without a
 * time (the journal keeps its own), and return 1; otherwise change
 * nothing and return 0. */
int log_use_journal(void);

/* Remember a secret value so that it is redacted wherever it appears in a
 * later log line (tokens in flight, the client secret). Short strings (< 8
 * bytes) are ignored. Keeps at most a bounded number (oldest dropped), and
 * never a copy of the secret: only its length, first bytes and a keyed
 * hash (random key per process). */
void log_add_secret(const char *secret);

/* Write one line "time level subsystem: message" after redaction, with
 * control characters and invalid UTF-8 escaped (quote.h). */
void log_msg(enum log_level level, const char *subsystem, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Redact `in` into `out` (size `n`, always NUL-terminated, truncated if
 * needed). Returns the length written. Safe for any input bytes. */
size_t log_redact(const char *in, char *out, size_t n);

#define log_error(sub, ...) log_msg(LOG_ERROR, sub, __VA_ARGS__)
#define log_warn(sub, ...)  log_msg(LOG_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...)  log_msg(LOG_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...) log_msg(LOG_DEBUG, sub, __VA_ARGS__)

#endif
