/*
 * store_fixture.h — a fresh, empty store for one test, on whichever
 * backend the test run asks for: a SQLite file in a new temporary
 * directory by default; with $INBOXSYNC_TEST_STORE_URL set (a PostgreSQL
 * server the run started, as "postgresql://USER:PASSWORD@HOST:PORT"
 * without a database: tests/pg/with_pg.sh sets it), a new, migrated
 * database on it. Tests written against store.h run unchanged on every
 * backend this way.
 */
#ifndef INBOXSYNC_TEST_STORE_FIXTURE_H
#define INBOXSYNC_TEST_STORE_FIXTURE_H

#include <stdint.h>
#include "inboxsync/store.h"

struct store_fixture {
	char dir[128];           /* a temporary directory (always made) */
	char location[512];      /* what store_open takes */
	char name[64];           /* the database name on a server backend */
};

/* Make the directory and an empty store location named after `tag`.
 * Returns 0, or -1 (printed) when the backend cannot be prepared. */
int store_fixture_new(struct store_fixture *f, const char *tag);

/* Add (or update) a folder of `account` and return its row id; -1 (printed)
 * on error. */
int64_t store_fixture_folder(struct store *st, int64_t account, const char *remote,
			     const char *path, enum mail_role role);

/* Drop the store and the directory. */
void store_fixture_free(struct store_fixture *f);

#endif
