/*
 * config.c — the settings table and its readers (see config.h): the
 * configuration file, the INBOXSYNC_* environment and flags all go
 * through config_set, which parses a value by its key's type. Adding a
 * setting is one line in `table` plus its field in struct config. The
 * secrets the settings point to are read here too, never stored in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/config.h"

#define LINE_MAX_BYTES 4096
#define SECRET_MAX_BYTES 4096

struct config_row {
	struct config_key key;
	size_t offset;           /* of the field in struct config */
	const char *secret_of;   /* CONFIG_PATH naming a secret: its credential */
	const char *word;        /* CONFIG_PATH: a word also allowed ("stderr") */
};

#define S(name, type, env, flag, dflt_help, help) \
	{ { #name, type, env, flag, NULL, dflt_help, 0, 0, help }, \
	  offsetof(struct config, name), NULL, NULL }
#define SECRET(name, cred, env, dflt_help, help) \
	{ { #name, CONFIG_PATH, env, NULL, NULL, dflt_help, 0, 0, help }, \
	  offsetof(struct config, name), cred, NULL }
#define I(name, env, flag, dflt, lo, hi, help) \
	{ { #name, CONFIG_INT, env, flag, #dflt, NULL, lo, hi, help }, \
	  offsetof(struct config, name), NULL, NULL }
#define V(name, type, env, flag, dflt, help) \
	{ { #name, type, env, flag, dflt, NULL, 0, 0, help }, \
	  offsetof(struct config, name), NULL, NULL }

static const struct config_row table[] = {
	S(data_dir, CONFIG_PATH, "INBOXSYNC_HOME", "--data-dir",
	  "$XDG_DATA_HOME/inboxsync, else ~/.local/share/inboxsync",
	  "Directory of the SQLite store, the key file and the log."),
	S(database, CONFIG_STRING, "INBOXSYNC_DATABASE", "--database",
	  "DATA_DIR/inboxsync.db",
	  "The store: a SQLite file, or postgresql://USER@HOST/DB for a\n"
	  "PostgreSQL database shared by several nodes. Put no password in\n"
	  "it: use database_password_file."),
	SECRET(database_password_file, "database-password",
	       "INBOXSYNC_DATABASE_PASSWORD_FILE",
	       "the systemd credential database-password, when present",
	       "File holding the PostgreSQL password (one line, not readable\n"
	       "by every user)."),
	S(key_file, CONFIG_PATH, "INBOXSYNC_KEY_FILE", "--key-file",
	  "DATA_DIR/secret.key",
	  "The key that encrypts the stored tokens and secrets (created\n"
	  "mode 0600 on first use; every node of a fleet shares one; back it\n"
	  "up with the store)."),
	SECRET(client_secret_file, "client-secret", "INBOXSYNC_CLIENT_SECRET_FILE",
	       "the systemd credential client-secret when present, else the secret stored by provider set",
	       "File holding the Microsoft app's client secret (one line, not\n"
	       "readable by every user); it takes the place of the stored one."),
	V(listen, CONFIG_STRING, "INBOXSYNC_LISTEN", "serve --listen", "127.0.0.1:8025",
	  "HOST:PORT the server listens on."),
	S(public_url, CONFIG_STRING, "INBOXSYNC_PUBLIC_URL", "serve --public-url",
	  "http:// and the listen address",
	  "How browsers reach the server (behind a reverse proxy: its https://\n"
	  "address); the redirect URI to register is PUBLIC_URL/oauth/callback."),
	S(node_id, CONFIG_STRING, "INBOXSYNC_NODE_ID", "serve --node-id", "HOST:PID",
	  "This node's name among the nodes sharing a database."),
	I(workers, "INBOXSYNC_WORKERS", "serve --workers", 4, 1, 256,
	  "Accounts synchronized at once."),
	I(http_threads, "INBOXSYNC_HTTP_THREADS", "serve --http-threads", 8, 1, 256,
	  "Threads answering HTTP requests."),
	I(poll_interval, "INBOXSYNC_POLL_INTERVAL", "serve --poll-interval", 60, 1, 86400,
	  "Seconds between two polls of an up-to-date mailbox."),
	I(lease_ttl, "INBOXSYNC_LEASE_TTL", "serve --lease-ttl", 30, 5, 3600,
	  "Seconds a node holds an account without renewing; another node\n"
	  "takes it over after that."),
	V(allow_private_webhooks, CONFIG_BOOL, "INBOXSYNC_ALLOW_PRIVATE_WEBHOOKS",
	  "serve --allow-private-webhooks", "false",
	  "Allow webhook URLs on loopback and private addresses (refused by\n"
	  "default, so that a user cannot make the server call the internal\n"
	  "network)."),
	V(log_level, CONFIG_LEVEL, "INBOXSYNC_LOG_LEVEL", "-v (debug)", "info",
	  "What the log keeps: error, warn, info or debug. Secrets are\n"
	  "redacted at every level."),
	{ { "log_file", CONFIG_PATH, "INBOXSYNC_LOG_FILE", NULL, NULL,
	    "DATA_DIR/inboxsync.log; the journal when systemd runs the service",
	    0, 0, "Where log lines go: a file, or stderr." },
	  offsetof(struct config, log_file), NULL, "stderr" },
};

#define NTABLE (sizeof(table) / sizeof(table[0]))
_Static_assert(NTABLE <= CONFIG_MAX_KEYS, "raise CONFIG_MAX_KEYS");

static const char *const level_names[] = { "error", "warn", "info", "debug" };

const struct config_key *config_keys(size_t *n)
{
	static struct config_key keys[NTABLE];

	for (size_t i = 0; i < NTABLE; i++)
		keys[i] = table[i].key;
	*n = NTABLE;
	return keys;
}

static void *field(struct config *c, const struct config_row *r)
{
	return (char *)c + r->offset;
}

static const void *cfield(const struct config *c, const struct config_row *r)
{
	return (const char *)c + r->offset;
}

static const struct config_row *find_row(const char *name, size_t *index)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (strcmp(table[i].key.name, name) == 0) {
			*index = i;
			return &table[i];
		}
	return NULL;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static int parse_level(const char *v, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(v, level_names[i]) == 0)
			return *out = (enum log_level)i, 0;
	return -1;
}

static int parse_int(const char *v, long lo, long hi, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < lo || n > hi)
		return -1;
	*out = (int)n;
	return 0;
}

/* Parse `value` for row `r` into `c`; -1 with what is allowed in `why`. */
static int parse_value(struct config *c, const struct config_row *r,
		       const char *value, enum config_source from, char *why,
		       size_t n)
{
	switch (r->key.type) {
	case CONFIG_PATH:
		/* A system-wide file names absolute paths; log_file also
		 * takes the word "stderr". */
		if (from == CONFIG_FROM_FILE && *value && value[0] != '/' &&
		    !(r->word && strcmp(value, r->word) == 0)) {
			snprintf(why, n, "must be an absolute path%s%s%s",
				 r->word ? " or \"" : "", r->word ? r->word : "",
				 r->word ? "\"" : "");
			return -1;
		}
		/* fall through */
	case CONFIG_STRING: {
		char **slot = field(c, r);

		if (strchr(value, '\n')) {
			snprintf(why, n, "must be one line");
			return -1;
		}
		free(*slot);
		*slot = *value ? xstrdup(value) : NULL;
		return 0;
	}
	case CONFIG_INT:
		if (parse_int(value, r->key.min, r->key.max, field(c, r)) < 0) {
			snprintf(why, n, "must be a whole number from %ld to %ld",
				 r->key.min, r->key.max);
			return -1;
		}
		return 0;
	case CONFIG_BOOL:
		if (parse_bool(value, field(c, r)) < 0) {
			snprintf(why, n, "must be true or false");
			return -1;
		}
		return 0;
	case CONFIG_LEVEL:
		if (parse_level(value, field(c, r)) < 0) {
			snprintf(why, n, "must be error, warn, info or debug");
			return -1;
		}
		return 0;
	}
	snprintf(why, n, "has an unknown type");
	return -1;
}

void config_defaults(struct config *c)
{
	char why[64];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NTABLE; i++)
		if (table[i].key.dflt)
			parse_value(c, &table[i], table[i].key.dflt, CONFIG_FROM_DEFAULT,
				    why, sizeof(why));
}

static void free_strings(struct config *c)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (table[i].key.type == CONFIG_STRING || table[i].key.type == CONFIG_PATH)
			xfree(field(c, &table[i]));
	xfree(&c->file);
}

void config_free(struct config *c)
{
	if (c)
		free_strings(c);
}

/* A deep copy, so that a failed read leaves the original untouched. */
static void config_copy(struct config *dst, const struct config *src)
{
	*dst = *src;
	for (size_t i = 0; i < NTABLE; i++)
		if (table[i].key.type == CONFIG_STRING || table[i].key.type == CONFIG_PATH) {
			char **slot = field(dst, &table[i]);

			*slot = xstrdup(*slot);
		}
	dst->file = xstrdup(src->file);
}

int config_set(struct config *c, const char *key, const char *value,
	       enum config_source from, struct err *e)
{
	const struct config_row *r;
	char why[128];
	size_t i;

	if (!(r = find_row(key, &i)))
		return err_set(e, ERR_PERMANENT, "config", "unknown setting '%s'", key);
	if (parse_value(c, r, value, from, why, sizeof(why)) < 0)
		return err_set(e, ERR_PERMANENT, "config", "%s %s (not '%.100s')",
			       key, why, value);
	c->from[i] = from;
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* One line of the file into `c`; -1 with `e` (without the place). */
static int read_line(struct config *c, char *line, bool seen[], struct err *e)
{
	char *eq, *key, *value;
	size_t len, i;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	if (!(eq = strchr(line, '=')))
		return err_set(e, ERR_PERMANENT, "config",
			       "expected 'key = value', not '%.100s'", line);
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	len = strlen(value);
	if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
		value[len - 1] = '\0';
		value++;
	}
	if (!find_row(key, &i))
		return err_set(e, ERR_PERMANENT, "config", "unknown setting '%.64s'", key);
	if (seen[i])
		return err_set(e, ERR_PERMANENT, "config", "'%s' is set twice", key);
	seen[i] = true;
	return config_set(c, key, value, CONFIG_FROM_FILE, e);
}

int config_read_file(struct config *c, const char *path, struct err *e)
{
	struct config next;
	bool seen[NTABLE] = { false };
	char line[LINE_MAX_BYTES + 2];
	FILE *f = fopen(path, "re");
	int lineno = 0, rc = 0;

	if (!f)
		return err_set(e, ERR_PERMANENT, "config",
			       "cannot read the configuration file %s: %s", path,
			       strerror(errno));
	config_copy(&next, c);
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		lineno++;
		if (len > LINE_MAX_BYTES) {
			rc = err_set(e, ERR_PERMANENT, "config", "the line is longer "
				     "than %d characters", LINE_MAX_BYTES);
			break;
		}
		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		rc = read_line(&next, line, seen, e);
	}
	if (rc == 0 && ferror(f))
		rc = err_set(e, ERR_PERMANENT, "config", "cannot read %s: %s", path,
			     strerror(errno));
	else if (rc < 0)
		err_prefix(e, "%s line %d: ", path, lineno);
	fclose(f);
	if (rc < 0) {
		config_free(&next);
		return -1;
	}
	free(next.file);
	next.file = xstrdup(path);
	config_free(c);
	*c = next;
	return 0;
}

int config_read_env(struct config *c, struct err *e)
{
	for (size_t i = 0; i < NTABLE; i++) {
		const char *v = getenv(table[i].key.env);

		if (!v || !*v)
			continue;
		if (config_set(c, table[i].key.name, v, CONFIG_FROM_ENV, e) < 0)
			return err_prefix(e, "environment variable %s: ", table[i].key.env);
	}
	return 0;
}

const char *config_source_name(enum config_source from)
{
	static const char *const names[] = { "default", "file", "environment", "flag" };

	return (size_t)from < sizeof(names) / sizeof(names[0]) ? names[from] : "?";
}

/* A location with any password in it replaced by "****": the password of
 * a URL's user part and a password= parameter. */
static void mask_location(const char *loc, char *out, size_t n)
{
	const char *scheme = strstr(loc, "://");
	const char *auth, *at, *colon, *param;
	size_t len = 0;

	snprintf(out, n, "%s", loc);
	if (!scheme)
		return;
	auth = scheme + 3;
	at = memchr(auth, '@', strcspn(auth, "/?"));
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon)
		len = (size_t)snprintf(out, n, "%.*s****%s", (int)(colon + 1 - loc), loc, at);
	if (len >= n)
		return;
	if ((param = strstr(out, "password=")) != NULL) {
		size_t head = (size_t)(param - out) + 9;
		char rest[512];

		snprintf(rest, sizeof(rest), "%s", out + head + strcspn(out + head, "&"));
		snprintf(out + head, n - head, "****%s", rest);
	}
}

void config_value_text(const struct config *c, size_t i, char *out, size_t n)
{
	const struct config_row *r;

	out[0] = '\0';
	if (i >= NTABLE || !n)
		return;
	r = &table[i];
	switch (r->key.type) {
	case CONFIG_STRING:
	case CONFIG_PATH: {
		const char *v = *(char *const *)cfield(c, r);

		if (v && strcmp(r->key.name, "database") == 0)
			mask_location(v, out, n);
		else
			snprintf(out, n, "%s", v ? v : "");
		break;
	}
	case CONFIG_INT:
		snprintf(out, n, "%d", *(const int *)cfield(c, r));
		break;
	case CONFIG_BOOL:
		snprintf(out, n, "%s", *(const bool *)cfield(c, r) ? "true" : "false");
		break;
	case CONFIG_LEVEL:
		snprintf(out, n, "%s", level_names[*(const enum log_level *)cfield(c, r)]);
		break;
	}
}

/* ---- secrets --------------------------------------------------------------- */

static int read_secret_file(const char *path, char **out, struct err *e)
{
	struct stat st;
	char buf[SECRET_MAX_BYTES + 1];
	ssize_t got;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return err_set(e, ERR_PERMANENT, "config", "cannot read the secret "
			       "file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SECRET_MAX_BYTES) {
		close(fd);
		return err_set(e, ERR_PERMANENT, "config", "the secret file %s must be "
			       "a regular file of at most %d bytes", path, SECRET_MAX_BYTES);
	}
	if (st.st_mode & S_IROTH) {
		close(fd);
		return err_set(e, ERR_PERMANENT, "config", "the secret file %s can be "
			       "read by every user (mode %03o); make it readable by the "
			       "service only (chmod 640, group of the service)", path,
			       (unsigned)(st.st_mode & 0777));
	}
	while (len < SECRET_MAX_BYTES &&
	       (got = read(fd, buf + len, SECRET_MAX_BYTES - len)) > 0)
		len += (size_t)got;
	close(fd);
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (!len || strchr(buf, '\n')) {
		sodium_memzero(buf, sizeof(buf));
		return err_set(e, ERR_PERMANENT, "config", "the secret file %s must "
			       "hold the secret on one line", path);
	}
	*out = xstrdup(buf);
	sodium_memzero(buf, sizeof(buf));
	return 1;
}

int config_read_secret(const struct config *c, enum config_secret which,
		       char **out, char **where, struct err *e)
{
	const char *name = which == CONFIG_SECRET_CLIENT ? "client_secret_file"
							 : "database_password_file";
	const struct config_row *r;
	const char *path, *creds;
	char *cred_path = NULL;
	size_t i;
	int rc;

	*out = NULL;
	if (where)
		*where = NULL;
	r = find_row(name, &i);
	path = *(char *const *)cfield(c, r);
	creds = getenv("CREDENTIALS_DIRECTORY");
	if (!path && creds && *creds) {
		cred_path = xasprintf("%s/%s", creds, r->secret_of);
		if (access(cred_path, F_OK) == 0)
			path = cred_path;
	}
	if (!path) {
		free(cred_path);
		return 0;
	}
	rc = read_secret_file(path, out, e);
	if (rc > 0 && where)
		*where = xstrdup(path);
	free(cred_path);
	return rc;
}

/* ---- the sample file --------------------------------------------------------- */

/* Write `text` with each line prefixed by `prefix`. */
static void write_lines(FILE *out, const char *prefix, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		fprintf(out, "%s%.*s\n", prefix, (int)n, text);
		text += n + (text[n] == '\n');
	}
}

void config_write_sample(FILE *out)
{
	fputs("# inboxsync.conf — settings of every inboxsync command and of the\n"
	      "# server (see inboxsync.conf(5)). One 'key = value' per line; lines\n"
	      "# starting with '#' are comments. The environment variable named with\n"
	      "# each key overrides the file, and a command's flag overrides both.\n", out);
	for (size_t i = 0; i < NTABLE; i++) {
		const struct config_key *k = &table[i].key;

		fputc('\n', out);
		write_lines(out, "# ", k->help);
		fprintf(out, "# Environment: %s%s%s.\n", k->env, k->flag ? "; flag: " : "",
			k->flag ? k->flag : "");
		if (k->dflt_help)
			write_lines(out, "# Default: ", k->dflt_help);
		if (k->dflt)
			fprintf(out, "#%s = %s\n", k->name, k->dflt);
		else
			fprintf(out, "#%s =\n", k->name);
	}
}
