/*
 * config.h — inboxsync's settings as one table (name, type, default,
 * environment variable, flag, help), read from the configuration file
 * (`key = value`, default /etc/inboxsync/inboxsync.conf), then from the
 * INBOXSYNC_* environment, then from the command line's flags: each later
 * source overrides the earlier ones. The table also writes the effective
 * settings (secrets never shown), the inboxsync.conf(5) page and the
 * sample file. Secrets are not settings: the client secret and the
 * database password come from files named here or from systemd
 * credentials, read by config_read_secret.
 */
#ifndef INBOXSYNC_CONFIG_H
#define INBOXSYNC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "inboxsync/err.h"
#include "inboxsync/log.h"

#define CONFIG_DEFAULT_PATH "/etc/inboxsync/inboxsync.conf"
#define CONFIG_MAX_KEYS 24

/* Where a setting's value came from, lowest precedence first. */
enum config_source {
	CONFIG_FROM_DEFAULT = 0,
	CONFIG_FROM_FILE,
	CONFIG_FROM_ENV,
	CONFIG_FROM_FLAG,
};

enum config_type {
	CONFIG_STRING,
	CONFIG_PATH,     /* a file or directory name; absolute in a file */
	CONFIG_INT,      /* whole number in [min, max] */
	CONFIG_BOOL,     /* true/false, yes/no, on/off, 1/0 */
	CONFIG_LEVEL,    /* error, warn, info or debug */
};

/* The effective settings. Strings are heap copies or NULL ("not set":
 * the program's own default applies, as the key's help says). */
struct config {
	char *data_dir;
	char *database;
	char *database_password_file;
	char *key_file;
	char *client_secret_file;
	char *listen;
	char *public_url;
	char *node_id;
	int workers;
	int http_threads;
	int poll_interval;
	int lease_ttl;
	bool allow_private_webhooks;
	enum log_level log_level;
	char *log_file;
	char *file;                          /* the file read, or NULL */
	enum config_source from[CONFIG_MAX_KEYS]; /* per key, table order */
};

/* One row of the table, for listings and documentation. */
struct config_key {
	const char *name;        /* "poll_interval" */
	enum config_type type;
	const char *env;         /* "INBOXSYNC_POLL_INTERVAL" */
	const char *flag;        /* "serve --poll-interval", or NULL */
	const char *dflt;        /* the default as text ("60"), or NULL */
	const char *dflt_help;   /* what applies when not set, in words */
	long min, max;           /* CONFIG_INT only */
	const char *help;        /* what it does (may span lines) */
};

/* Every key, in table order; *n gets the count. */
const struct config_key *config_keys(size_t *n);

/* Fill `c` with the defaults (no file read). */
void config_defaults(struct config *c);

/* Free the strings of `c` (not `c` itself). NULL-safe. */
void config_free(struct config *c);

/* Read the file at `path` over `c`: one `key = value` per line, blank
 * lines and lines starting with '#' ignored, a value may be put in double
 * quotes to keep spaces at its ends. An unknown key, a repeated key or a
 * bad value is an error ERR_PERMANENT "config" naming the file, the line
 * and what is allowed; then `c` is unchanged. A missing or unreadable
 * file is an error too (the caller decides whether a file must exist). */
int config_read_file(struct config *c, const char *path, struct err *e);

/* Apply every INBOXSYNC_* variable of the table that is set and not
 * empty. Errors as config_read_file, naming the variable. */
int config_read_env(struct config *c, struct err *e);

/* Set `key` to `value` (text, parsed by its type) as coming from `from`.
 * ERR_PERMANENT "config" for an unknown key or a bad value. */
int config_set(struct config *c, const char *key, const char *value,
	       enum config_source from, struct err *e);

/* The current value of the i-th key as text for people, never a secret:
 * a database URL's password is shown as "****"; "" when not set. */
void config_value_text(const struct config *c, size_t i, char *out, size_t n);

/* "default", "file", "environment" or "flag". */
const char *config_source_name(enum config_source from);

/* Secrets the settings point to. */
enum config_secret {
	CONFIG_SECRET_CLIENT,    /* client_secret_file, credential client-secret */
	CONFIG_SECRET_DATABASE,  /* database_password_file, credential database-password */
};

/* Read a secret: from the file its setting names when set, else from the
 * systemd credential of that name in $CREDENTIALS_DIRECTORY when present.
 * Returns 1 with *out (heap, wipe with xfree_secret) and, when
 * `where` is not NULL, the file it came from (heap); 0 when neither is
 * given; -1 with ERR_PERMANENT "config" when the file cannot be read, is
 * empty, is larger than 4 KiB or can be read by every user. One trailing
 * newline is not part of the secret. */
int config_read_secret(const struct config *c, enum config_secret which,
		       char **out, char **where, struct err *e);

/* Write the sample configuration file: every key commented out with its
 * default and help, ready to be edited. */
void config_write_sample(FILE *out);

#endif
