/*
 * pg_connection.c — the PostgreSQL store's connection: opening a
 * postgresql:// URL with keepalives and timeouts (the URL may override
 * them), the password kept out of every message and log line, the
 * session set-up (schema check, server-side timeouts, the staging table
 * of the change feed), reconnecting after a loss, versioned migrations
 * (run by `inboxsync migrate` only), and the backend's ops table. How
 * statements are sent is pg_exec.c's; the schema is migrations/.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "store/pg/pg_internal.h"

extern const char *const pg_migrations[];
extern const size_t pg_migrations_count;

/* Serializes concurrent `inboxsync migrate` runs on one database. */
#define MIGRATE_LOCK "7231470120"

/* ---- the URL -------------------------------------------------------------- */

void pg_scrub(const struct pg_store *q, const char *msg, char *out, size_t n)
{
	const char *pw = q->password;
	size_t used = 0, plen = pw ? strlen(pw) : 0;

	if (!msg)
		msg = "";
	while (*msg && used + 1 < n) {
		if (plen && strncmp(msg, pw, plen) == 0) {
			for (const char *m = "***"; *m && used + 1 < n; m++)
				out[used++] = *m;
			msg += plen;
			continue;
		}
		/* libpq's multi-line messages become one line */
		if (*msg == '\n' || *msg == '\t') {
			if (used && out[used - 1] != ' ')
				out[used++] = ' ';
			msg++;
			continue;
		}
		out[used++] = *msg++;
	}
	out[used] = '\0';
	/* libpq ends its messages with a newline */
	while (used && (out[used - 1] == '\n' || out[used - 1] == ' '))
		out[--used] = '\0';
}

/* Read the URL's parts through libpq: the password to hide, and a
 * location to show ("postgresql://user@host:port/db"). */
static void describe_url(struct pg_store *q, const char *url)
{
	const char *user = "", *host = "", *port = "", *db = "";
	char *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &errmsg);

	if (!opts) {
		PQfreemem(errmsg);
		str_copy(q->where, sizeof(q->where), "(a postgresql:// URL libpq cannot read)");
		return;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val || !*o->val)
			continue;
		if (strcmp(o->keyword, "password") == 0)
			q->password = xstrdup(o->val);
		else if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
	}
	snprintf(q->where, sizeof(q->where), "postgresql://%s%s%s%s%s/%s", user,
		 *user ? "@" : "", host[0] == '/' ? "" : host, *port ? ":" : "", port, db);
	if (host[0] == '/') {
		size_t len = strlen(q->where);

		snprintf(q->where + len, sizeof(q->where) - len, "?host=%s", host);
	}
	if (q->password)
		log_add_secret(q->password);
	PQconninfoFree(opts);
}

/* The server's notices ("relation already exists, skipping" while
 * migrating...) go to the debug log, not to stderr. */
static void notice_to_log(void *arg, const char *message)
{
	(void)arg;
	log_debug("store", "postgresql: %.*s", (int)strcspn(message, "\n"), message);
}

/* Connect with our defaults in front of the URL (so the URL wins). */
static PGconn *connect_url(const char *url)
{
	static const char *const keys[] = {
		"connect_timeout", "keepalives", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "tcp_user_timeout",
		"application_name", "dbname", NULL,
	};
	const char *vals[] = { "10", "1", "10", "5", "3", "30000", "inboxsync", url, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c)
		PQsetNoticeProcessor(c, notice_to_log, NULL);
	return c;
}

static int fail_connect(struct pg_store *q, PGconn *c, enum err_class class,
			const char *code, struct err *e)
{
	char clean[400];

	pg_scrub(q, c ? PQerrorMessage(c) : "out of memory", clean, sizeof(clean));
	err_set(e, class, code, "cannot connect to the PostgreSQL store %s: %s",
		q->where, clean);
	if (class == ERR_TRANSIENT)
		return err_set_fix(e, FIX_RETRY, NULL);
	return err_set_fix(e, FIX_CHECK_INPUT, "check the database URL, and that its "
			   "PostgreSQL server is running and accepts this user");
}

/* ---- the session ------------------------------------------------------------- */

/* Timeouts only where the administrator set none (0 = unset): a
 * statement that runs for minutes, a lock waited for past a minute, or a
 * client that stops in the middle of a transaction (SIGSTOP, a network
 * cut) must not hold the account's rows for longer than a lease. */
static const char set_timeouts[] =
	"SELECT set_config(n, v, false) FROM (VALUES "
	"('statement_timeout', '300s'), ('lock_timeout', '60s'), "
	"('idle_in_transaction_session_timeout', '30s')) s(n, v) "
	"WHERE current_setting(n) = '0'";

/* Where a transaction's events wait for their seq (see inboxsync_commit). */
static const char staging_table[] =
	"CREATE TEMP TABLE IF NOT EXISTS staged_events ("
	"id bigint GENERATED ALWAYS AS IDENTITY, account_id bigint NOT NULL, "
	"user_id bigint NOT NULL, type integer NOT NULL, "
	"entity_id text NOT NULL DEFAULT '', folder_path text NOT NULL DEFAULT '', "
	"from_folder text NOT NULL DEFAULT '', backfill boolean NOT NULL DEFAULT false, "
	"data text NOT NULL DEFAULT '', at bigint NOT NULL) ON COMMIT DELETE ROWS";

static int schema_error(struct pg_store *q, int version, struct err *e)
{
	if (version < 0) {
		err_set(e, ERR_PERMANENT, "store_schema", "the database %s has no "
			"inboxsync schema yet", q->where);
		return err_set_fix(e, FIX_MIGRATE, NULL);
	}
	if ((size_t)version > pg_migrations_count) {
		err_set(e, ERR_PERMANENT, "store_schema", "the database %s has schema "
			"version %d, newer than this inboxsync understands (%zu)",
			q->where, version, pg_migrations_count);
		return err_set_fix(e, FIX_UPGRADE, NULL);
	}
	err_set(e, ERR_PERMANENT, "store_schema", "the database %s has schema "
		"version %d, older than this inboxsync needs (%zu)", q->where, version,
		pg_migrations_count);
	return err_set_fix(e, FIX_MIGRATE, NULL);
}

/* Connect and set the session up in one round trip: the schema must be
 * the one this program knows. `class` classifies a failure to connect. */
static int connect_session(struct pg_store *q, enum err_class class,
			   struct err *e)
{
	const char *setup[] = {
		"SELECT version FROM inboxsync_schema", set_timeouts, staging_table,
		"LISTEN inboxsync_events",
	};
	PGresult *r = NULL;
	int version = -1, rc;

	q->conn = connect_url(q->url);
	if (!q->conn || PQstatus(q->conn) != CONNECTION_OK) {
		rc = fail_connect(q, q->conn, class, class == ERR_TRANSIENT
				  ? "store_unavailable" : "store", e);
		PQfinish(q->conn);
		q->conn = NULL;
		return rc;
	}
	if (!PQenterPipelineMode(q->conn)) {
		rc = fail_connect(q, q->conn, class, "store", e);
		PQfinish(q->conn);
		q->conn = NULL;
		return rc;
	}
	q->nprepared = 0;
	q->nqueued = 0;
	rc = pg_run(&q->base, setup, q->listening ? 4 : 3, &r, "opening the store", e);
	if (r && PQntuples(r) == 1)
		version = (int)pg_int(r, 0, 0);
	PQclear(r);
	if (rc < 0 && pg_failed_with(&q->base, "42P01"))
		rc = schema_error(q, -1, e);
	else if (rc == 0 && (size_t)version != pg_migrations_count)
		rc = schema_error(q, version, e);
	if (rc < 0) {
		pg_lost(&q->base);
		return -1;
	}
	return 0;
}

/* The server closed this idle connection (a restart, a failover,
 * pg_terminate_backend): it said so and hung up, so the socket is
 * readable and reading finds the end. Looked at before a transaction or
 * a lone statement is sent, so that the first call after a restart does
 * not fail for a loss that had already happened. Readable for a
 * notification only (LISTEN) is not a loss: libpq keeps it for later. */
static bool closed_while_idle(struct pg_store *q)
{
	struct pollfd pfd = { PQsocket(q->conn), POLLIN, 0 };

	if (q->in_tx || q->nqueued || pfd.fd < 0)
		return false;
	/* The goodbye (FATAL 57P01) is read first and only noted; the end
	 * of the stream is found by the read after it. */
	for (int i = 0; i < 4; i++) {
		if (poll(&pfd, 1, 0) <= 0)
			return false;
		if (!PQconsumeInput(q->conn) || PQstatus(q->conn) == CONNECTION_BAD)
			return true;
	}
	return false;
}

int pg_ensure(struct store *st, struct err *e)
{
	struct pg_store *q = PG(st);

	if (q->conn && (PQstatus(q->conn) == CONNECTION_BAD || closed_while_idle(q)))
		pg_lost(st);
	if (q->conn)
		return 0;
	if (q->in_tx) {
		err_set(e, ERR_TRANSIENT, "store_unavailable", "the connection to the "
			"PostgreSQL store %s was lost inside a transaction; nothing of "
			"it was kept", q->where);
		return err_set_fix(e, FIX_RETRY, NULL);
	}
	if (connect_session(q, ERR_TRANSIENT, e) < 0)
		return -1;
	log_info("store", "reconnected to the PostgreSQL store %s", q->where);
	return 0;
}

void pg_lost(struct store *st)
{
	struct pg_store *q = PG(st);

	PQfinish(q->conn);
	q->conn = NULL;
	q->nqueued = 0;
	q->nprepared = 0;
}

/* ---- open, close, migrate --------------------------------------------------- */

static void pg_close(struct store *st);
static const struct store_ops pg_ops;

static struct pg_store *new_store(const char *location)
{
	struct pg_store *q = xcalloc(1, sizeof(*q));

	q->base.ops = &pg_ops;
	q->url = xstrdup(location);
	describe_url(q, location);
	return q;
}

static int pg_open(const char *location, struct store **out, struct err *e)
{
	struct pg_store *q = new_store(location);

	*out = NULL;
	if (connect_session(q, ERR_PERMANENT, e) < 0) {
		pg_close(&q->base);
		return -1;
	}
	*out = &q->base;
	return 0;
}

static void pg_close(struct store *st)
{
	struct pg_store *q = PG(st);

	pg_rollback(st);
	if (q->conn)
		log_debug("store", "%s: %lld round trips, %lld statements", q->where,
			  q->round_trips, q->statements);
	PQfinish(q->conn);
	free(q->url);
	free(q->password);
	free(q->scratch);
	free(q);
}

/* One simple-protocol command on the migration connection. */
static int migrate_exec(struct pg_store *q, const char *sql, const char *what,
			PGresult **out, struct err *e)
{
	PGresult *r = PQexec(q->conn, sql);
	ExecStatusType s = PQresultStatus(r);
	char clean[400];

	if (out)
		*out = NULL;
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
		if (out)
			*out = r;
		else
			PQclear(r);
		return 0;
	}
	pg_scrub(q, r ? PQresultErrorMessage(r) : PQerrorMessage(q->conn), clean,
		 sizeof(clean));
	PQclear(r);
	return err_set(e, ERR_PERMANENT, "store", "store %s: %s failed: %s", q->where,
		       what, clean);
}

/* Apply every migration newer than the recorded version, each in its own
 * transaction together with the version bump, under a session lock so
 * that two runs at once do not both apply one. */
static int migrate_locked(struct pg_store *q, int *from, int *to, struct err *e)
{
	PGresult *r;
	int version;

	if (migrate_exec(q, "SET statement_timeout = 0; SET lock_timeout = 0",
			 "preparing to migrate", NULL, e) < 0 ||
	    migrate_exec(q, "CREATE TABLE IF NOT EXISTS inboxsync_schema "
			 "(version integer NOT NULL); INSERT INTO inboxsync_schema "
			 "SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM inboxsync_schema)",
			 "recording the schema version", NULL, e) < 0 ||
	    migrate_exec(q, "SELECT version FROM inboxsync_schema",
			 "reading the schema version", &r, e) < 0)
		return -1;
	version = PQntuples(r) ? (int)pg_int(r, 0, 0) : 0;
	PQclear(r);
	if (from)
		*from = version;
	if (to)
		*to = version;
	if ((size_t)version > pg_migrations_count)
		return schema_error(q, version, e);
	for (size_t i = (size_t)version; i < pg_migrations_count; i++) {
		char bump[80];

		snprintf(bump, sizeof(bump), "UPDATE inboxsync_schema SET version = %zu",
			 i + 1);
		if (migrate_exec(q, "BEGIN", "migrating the schema", NULL, e) < 0)
			return -1;
		if (migrate_exec(q, pg_migrations[i], "migrating the schema", NULL, e) < 0 ||
		    migrate_exec(q, bump, "recording the schema version", NULL, e) < 0 ||
		    migrate_exec(q, "COMMIT", "committing the migration", NULL, e) < 0) {
			PQclear(PQexec(q->conn, "ROLLBACK"));
			err_prefix(e, "migration %zu: ", i + 1);
			return -1;
		}
		if (to)
			*to = (int)i + 1;
	}
	return 0;
}

static int pg_migrate(const char *location, int *from, int *to, struct err *e)
{
	struct pg_store *q = new_store(location);
	int rc;

	q->conn = connect_url(location);
	if (!q->conn || PQstatus(q->conn) != CONNECTION_OK) {
		rc = fail_connect(q, q->conn, ERR_PERMANENT, "store", e);
	} else if ((rc = migrate_exec(q, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")",
				      "waiting for other migrations", NULL, e)) == 0) {
		rc = migrate_locked(q, from, to, e);
		PQclear(PQexec(q->conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")"));
	}
	PQfinish(q->conn);
	q->conn = NULL;
	pg_close(&q->base);
	return rc;
}

int pg_schema_version(struct store *st)
{
	struct err e;
	int64_t v = -1;

	if (pg_query_int(st, "SELECT version FROM inboxsync_schema",
			 "reading the schema version", &v, &e, 0) < 0)
		return -1;
	return (int)v;
}

int pg_backup(struct store *st, const char *dest, struct err *e)
{
	(void)dest;
	err_set(e, ERR_PERMANENT, "unsupported", "the PostgreSQL store %s is backed "
		"up with PostgreSQL's own tools (pg_dump, or the server's base "
		"backups), not by inboxsync", PG(st)->where);
	return err_set_fix(e, FIX_CHECK_INPUT, "back the database up with pg_dump");
}

static const char *const pg_schemes[] = { "postgresql://", "postgres://", NULL };

/* The whole URL is libpq's, scheme included. */
static int pg_open_url(const char *rest, struct store **out, struct err *e);
static int pg_migrate_url(const char *rest, int *from, int *to, struct err *e);

const struct store_backend store_pg_backend = {
	.schemes = pg_schemes,
	.open = pg_open_url,
	.migrate = pg_migrate_url,
};

/* store.c hands a backend what follows its scheme; libpq wants the URL. */
static char *whole_url(const char *rest)
{
	return xasprintf("postgresql://%s", rest);
}

static int pg_open_url(const char *rest, struct store **out, struct err *e)
{
	char *url = whole_url(rest);
	int rc = pg_open(url, out, e);

	free(url);
	return rc;
}

static int pg_migrate_url(const char *rest, int *from, int *to, struct err *e)
{
	char *url = whole_url(rest);
	int rc = pg_migrate(url, from, to, e);

	free(url);
	return rc;
}

static const struct store_ops pg_ops = {
	.name = "postgresql",
	.close = pg_close,
#define STORE_OP(name, params, args) .name = pg_##name,
#define STORE_VOID_OP(name, params, args) .name = pg_##name,
#include "store/store_ops.def"
#undef STORE_OP
#undef STORE_VOID_OP
};
