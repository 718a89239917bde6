/*
 * log.c — leveled, redacting logger (see log.h).
 * Redaction is a single left-to-right pass over the line: at each position
 * the rules in `rules[]` are tried in order; the first that matches copies
 * its prefix and replaces the secret part with "[REDACTED]". The redacted
 * line is then quoted (quote.h), so a log line is always one line of
 * printable UTF-8.
 */
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sodium.h>
#include <unistd.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/quote.h"
#include "inboxsync/timeutil.h"

#define REDACTED "[REDACTED]"
#define MAX_SECRETS 64
#define LINE_MAX_BYTES 8192

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int current_level = LOG_WARN; /* read by every thread */
static FILE *log_file;
static atomic_bool to_journal;          /* stderr is the journal */
/* Registered secrets are kept as what finds them again, not as text: the
 * first bytes (a token's prefix says nothing), the length, and a keyed
 * hash of the whole. The key is random per process. */
#define SECRET_PREFIX 6
#define SECRET_HASH 16

struct secret_mark {
	size_t len;                       /* 0 = free slot */
	char prefix[SECRET_PREFIX];
	unsigned char hash[SECRET_HASH];
};

static struct secret_mark secrets[MAX_SECRETS];
static size_t secret_next;
static unsigned char secret_key[32];    /* crypto_generichash key */
static bool secret_key_made;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
/* sd-daemon.h's SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG for each level. */
static const int journal_priorities[] = { 3, 4, 6, 7 };

/* Field names whose values are secrets, in JSON ("name": "v") and in
 * form/query strings (name=v). `code` is only secret in form/query form:
 * in JSON it is Graph's error code, which logs need. */
static const struct secret_field {
	const char *name;
	int in_json;
} secret_fields[] = {
	{ "access_token", 1 },   { "refresh_token", 1 }, { "id_token", 1 },
	{ "client_secret", 1 },  { "code_verifier", 1 }, { "device_code", 1 },
	{ "client_assertion", 1 }, { "password", 1 },    { "code", 0 },
	{ "sealed", 1 },
};

void log_set_level(enum log_level level)
{
	atomic_store(&current_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&current_level);
}

int log_set_file(const char *path)
{
	FILE *f = NULL;

	if (path) {
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		f = fdopen(fd, "a");
		if (!f) {
			close(fd);
			return -1;
		}
		setvbuf(f, NULL, _IOLBF, 0);
	}
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = f;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

int log_use_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (!stream || !*stream)
		return 0;
	dev = strtoull(stream, &end, 10);
	if (end == stream || *end != ':')
		return 0;
	stream = end + 1;
	ino = strtoull(stream, &end, 10);
	if (end == stream || *end || fstat(STDERR_FILENO, &st) < 0 ||
	    (unsigned long long)st.st_dev != dev || (unsigned long long)st.st_ino != ino)
		return 0;
	log_set_file(NULL);
	atomic_store(&to_journal, true);
	return 1;
}

/* The keyed hash of n bytes at p. Lock held. */
static void secret_hash(const char *p, size_t n, unsigned char out[SECRET_HASH])
{
	if (!secret_key_made) {
		if (sodium_init() < 0)
			abort();
		randombytes_buf(secret_key, sizeof(secret_key));
		secret_key_made = true;
	}
	crypto_generichash(out, SECRET_HASH, (const unsigned char *)p, n, secret_key,
			   sizeof(secret_key));
}

void log_add_secret(const char *secret)
{
	struct secret_mark m = { 0 };

	if (!secret || (m.len = strlen(secret)) < 8)
		return;
	memcpy(m.prefix, secret, SECRET_PREFIX);
	pthread_mutex_lock(&log_lock);
	secret_hash(secret, m.len, m.hash);
	for (size_t i = 0; i < MAX_SECRETS; i++) {
		if (secrets[i].len == m.len && sodium_memcmp(secrets[i].hash, m.hash,
							     SECRET_HASH) == 0) {
			pthread_mutex_unlock(&log_lock);
			return;
		}
	}
	secrets[secret_next] = m;
	secret_next = (secret_next + 1) % MAX_SECRETS;
	pthread_mutex_unlock(&log_lock);
	sodium_memzero(&m, sizeof(m));
}

struct out {
	char *p;
	size_t n, len;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	while (n-- && o->len + 1 < o->n)
		o->p[o->len++] = *s++;
	o->p[o->len] = '\0';
}

static int is_token_char(int c)
{
	return isalnum(c) || strchr("-._~+/=%!*$", c);
}

/* "Authorization: ..." up to the end of the line. */
static size_t rule_authorization(const char *s, struct out *o)
{
	static const char key[] = "authorization:";
	size_t k = sizeof(key) - 1, i;

	if (strncasecmp(s, key, k) != 0)
		return 0;
	out_put(o, s, k);
	out_put(o, " " REDACTED, sizeof(REDACTED));
	for (i = k; s[i] && s[i] != '\n' && s[i] != '\r'; i++)
		;
	return i;
}

/* "Bearer <token>" anywhere. */
static size_t rule_bearer(const char *s, struct out *o)
{
	size_t i = 7;

	if (strncasecmp(s, "bearer ", 7) != 0 || !is_token_char((unsigned char)s[7]))
		return 0;
	while (s[i] && is_token_char((unsigned char)s[i]))
		i++;
	out_put(o, s, 7);
	out_put(o, REDACTED, sizeof(REDACTED) - 1);
	return i;
}

/* "name" : "value" — copy up to the opening quote of the value, replace
 * the value (honouring backslash escapes). */
static size_t rule_json_field(const char *s, struct out *o,
			      const struct secret_field *f)
{
	size_t k = strlen(f->name), i;

	if (!f->in_json || s[0] != '"' || strncmp(s + 1, f->name, k) != 0 ||
	    s[k + 1] != '"')
		return 0;
	i = k + 2;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (s[i] != ':')
		return 0;
	i++;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (s[i] != '"')
		return 0;
	out_put(o, s, i + 1);
	out_put(o, REDACTED, sizeof(REDACTED) - 1);
	for (i++; s[i] && s[i] != '"'; i++)
		if (s[i] == '\\' && s[i + 1])
			i++;
	return i; /* the closing quote is copied by the main loop */
}

/* The same inside a JSON string, as when a response body is quoted in
 * another JSON document: \"name\":\"value\". Inside, an escaped
 * backslash (\\) escapes the next inner character, so \\\" is a quote
 * within the value, and a lone \" closes it. */
static size_t rule_json_field_quoted(const char *s, struct out *o,
				     const struct secret_field *f)
{
	size_t k = strlen(f->name), i;

	if (!f->in_json || s[0] != '\\' || s[1] != '"' ||
	    strncmp(s + 2, f->name, k) != 0 || s[k + 2] != '\\' ||
	    s[k + 3] != '"')
		return 0;
	i = k + 4;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (s[i] != ':')
		return 0;
	i++;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (s[i] != '\\' || s[i + 1] != '"')
		return 0;
	out_put(o, s, i + 2);
	out_put(o, REDACTED, sizeof(REDACTED) - 1);
	for (i += 2; s[i]; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == '"')
			return i; /* the closing \" is copied by the main loop */
		if (s[i + 1] == '\\' && s[i + 2] == '\\' && s[i + 3])
			i += 2; /* inner backslash + the inner char it escapes */
		if (s[i + 1])
			i++;
	}
	return i;
}

/* name=value in a form body or query string. */
static size_t rule_form_field(const char *s, const char *line,
			      struct out *o, const struct secret_field *f)
{
	size_t k = strlen(f->name), i;

	if (s > line && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
		return 0;
	if (strncmp(s, f->name, k) != 0 || s[k] != '=')
		return 0;
	i = k + 1;
	out_put(o, s, i);
	out_put(o, REDACTED, sizeof(REDACTED) - 1);
	while (s[i] && s[i] != '&' && s[i] != '"' && s[i] != '\'' &&
	       !isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* A registered secret starting at s: the prefix finds candidates, the
 * keyed hash of the window confirms. Lock held. */
static size_t rule_registered(const char *s, struct out *o)
{
	for (size_t i = 0; i < MAX_SECRETS; i++) {
		const struct secret_mark *m = &secrets[i];
		unsigned char h[SECRET_HASH];

		/* strncmp stops at the line's end (the prefix holds no NUL);
		 * only a candidate pays for the length check and the hash */
		if (!m->len || strncmp(s, m->prefix, SECRET_PREFIX) != 0 ||
		    strnlen(s, m->len) < m->len)
			continue;
		secret_hash(s, m->len, h);
		if (sodium_memcmp(h, m->hash, SECRET_HASH) == 0) {
			out_put(o, REDACTED, sizeof(REDACTED) - 1);
			return m->len;
		}
	}
	return 0;
}

static size_t redact_at(const char *s, const char *line, struct out *o)
{
	size_t used;

	if ((used = rule_authorization(s, o)) || (used = rule_bearer(s, o)) ||
	    (used = rule_registered(s, o)))
		return used;
	for (size_t i = 0; i < sizeof(secret_fields) / sizeof(secret_fields[0]); i++) {
		const struct secret_field *f = &secret_fields[i];

		if ((used = rule_json_field(s, o, f)) ||
		    (used = rule_json_field_quoted(s, o, f)) ||
		    (used = rule_form_field(s, line, o, f)))
			return used;
	}
	return 0;
}

size_t log_redact(const char *in, char *outbuf, size_t n)
{
	struct out o = { outbuf, n, 0 };
	const char *s = in;

	if (!n)
		return 0;
	outbuf[0] = '\0';
	pthread_mutex_lock(&log_lock);
	while (*s && o.len + 1 < o.n) {
		size_t used = redact_at(s, in, &o);

		if (used) {
			s += used;
			continue;
		}
		out_put(&o, s, 1);
		s++;
	}
	pthread_mutex_unlock(&log_lock);
	return o.len;
}

void log_msg(enum log_level level, const char *subsystem, const char *fmt, ...)
{
	char raw[LINE_MAX_BYTES], clean[LINE_MAX_BYTES], shown[LINE_MAX_BYTES];
	char when[TIME_RFC3339_LEN];
	char *whole = NULL;
	va_list ap;
	int n;

	if ((int)level > atomic_load(&current_level))
		return;
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* Redact the whole message, then cut: cutting first could split a
	 * registered secret so that its first part no longer matches. */
	if (n >= (int)sizeof(raw)) {
		whole = xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(whole, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	log_redact(whole ? whole : raw, clean, sizeof(clean));
	free(whole);
	/* one line, whatever a server put into the message */
	quote_str(shown, sizeof(shown), clean);
	time_format_rfc3339(time_now(), when);
	pthread_mutex_lock(&log_lock);
	if (!log_file && atomic_load(&to_journal))
		fprintf(stderr, "<%d>%s: %s\n", journal_priorities[level],
			subsystem ? subsystem : "-", shown);
	else
		fprintf(log_file ? log_file : stderr, "%s %s %s: %s\n", when,
			level_names[level], subsystem ? subsystem : "-", shown);
	pthread_mutex_unlock(&log_lock);
}
