/*
 * store_fixture.c — fresh stores for tests (see store_fixture.h). The
 * SQLite case needs nothing but a file. With $INBOXSYNC_TEST_STORE_URL
 * (a PostgreSQL server the run started, tests/pg/with_pg.sh) each store
 * is a new database copied from a template database that is migrated
 * once per server, so a test costs a CREATE DATABASE, not a migration.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "inboxsync/store.h"
#include "store_fixture.h"
#ifdef INBOXSYNC_WITH_PG
#include <libpq-fe.h>
#endif

#define TEMPLATE_DB "inboxsync_template"

#ifdef INBOXSYNC_WITH_PG
/* Run `sql` on the maintenance connection; prints and returns -1 on error. */
static int admin_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "store_fixture: %s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

static int template_exists(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT 1 FROM pg_database WHERE datname = '" TEMPLATE_DB "'");
	int found = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;

	PQclear(r);
	return found;
}

/* Create the migrated template database once (under a lock: tests run in
 * parallel), then the test's database from it. */
static int make_database(const char *base, const char *name)
{
	char url[512], sql[256];
	struct err e = { 0 };
	PGconn *c;
	int rc = -1;

	snprintf(url, sizeof(url), "%s/postgres", base);
	c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "store_fixture: cannot connect to the test server: %s",
			PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	if (admin_exec(c, "SELECT pg_advisory_lock(4242)") < 0)
		goto out;
	if (!template_exists(c)) {
		snprintf(url, sizeof(url), "%s/" TEMPLATE_DB, base);
		if (admin_exec(c, "CREATE DATABASE " TEMPLATE_DB) < 0)
			goto unlock;
		if (store_migrate(url, NULL, NULL, &e) < 0) {
			fprintf(stderr, "store_fixture: migrating the template: %s\n", e.msg);
			admin_exec(c, "DROP DATABASE " TEMPLATE_DB);
			goto unlock;
		}
	}
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE " TEMPLATE_DB, name);
	rc = admin_exec(c, sql);
unlock:
	admin_exec(c, "SELECT pg_advisory_unlock(4242)");
out:
	PQfinish(c);
	return rc;
}

static void drop_database(const char *base, const char *name)
{
	char url[512], sql[256];
	PGconn *c;

	snprintf(url, sizeof(url), "%s/postgres", base);
	c = PQconnectdb(url);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	if (PQstatus(c) == CONNECTION_OK)
		admin_exec(c, sql);
	PQfinish(c);
}
#endif

int store_fixture_new(struct store_fixture *f, const char *tag)
{
	const char *url = getenv("INBOXSYNC_TEST_STORE_URL");

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/inboxsync-%s-XXXXXX", tag);
	if (!mkdtemp(f->dir)) {
		perror("mkdtemp");
		return -1;
	}
	if (!url || !*url) {
		snprintf(f->location, sizeof(f->location), "%s/store.db", f->dir);
		return 0;
	}
#ifdef INBOXSYNC_WITH_PG
	{
		static int counter;
		size_t n;

		/* A name PostgreSQL takes without quoting: t_<tag>_<pid>_<n>. */
		snprintf(f->name, sizeof(f->name), "t_%.24s_%ld_%d", tag, (long)getpid(),
			 ++counter);
		for (n = 0; f->name[n]; n++)
			f->name[n] = isalnum((unsigned char)f->name[n])
				     ? (char)tolower((unsigned char)f->name[n]) : '_';
		if (make_database(url, f->name) < 0) {
			f->name[0] = '\0';
			return -1;
		}
		snprintf(f->location, sizeof(f->location), "%s/%s", url, f->name);
		return 0;
	}
#else
	fprintf(stderr, "store_fixture: INBOXSYNC_TEST_STORE_URL is set, but this "
		"build has no PostgreSQL store (no libpq)\n");
	return -1;
#endif
}

void store_fixture_free(struct store_fixture *f)
{
	char cmd[256];

	if (!f->dir[0])
		return;
#ifdef INBOXSYNC_WITH_PG
	if (f->name[0])
		drop_database(getenv("INBOXSYNC_TEST_STORE_URL"), f->name);
#endif
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "store_fixture: could not remove %s\n", f->dir);
	memset(f, 0, sizeof(*f));
}

int64_t store_fixture_folder(struct store *st, int64_t account, const char *remote,
			     const char *path, enum mail_role role)
{
	struct store_folder_in in = { { remote, "", path, role, 10, 2 }, path };
	struct store_folder out;
	struct err e = { 0 };

	if (store_put_folder(st, account, &in, NULL, &e) < 0 ||
	    store_find_folder_by_remote(st, account, remote, &out, &e) != 1) {
		fprintf(stderr, "store_fixture: folder %s: %s\n", path, e.msg);
		return -1;
	}
	store_folder_clear(&out);
	return out.id;
}
