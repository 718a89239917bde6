/*
 * sqlite_sealed.c — every vault-sealed column of the SQLite store as one
 * table, listed and rewritten in place for key rotation (store.h's
 * store_list_sealed, store_replace_sealed). A row is named by its rowid;
 * a rewrite is a compare and swap on the sealed text, so a value another
 * process changed meanwhile is never overwritten.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "store/sqlite/sqlite_internal.h"

/* One sealed column: how to list the values not under a key prefix (?1,
 * up to ?2 rows) and how to swap one (?1 new, ?2 rowid, ?3 old). A new
 * sealed column is one line here. */
static const struct sealed_column {
	const char *kind;
	const char *list_sql;
	const char *replace_sql;
} columns[] = {
	{ "provider_secret",
	  "SELECT rowid, client_secret_sealed FROM providers WHERE client_secret_sealed "
	  "IS NOT NULL AND substr(client_secret_sealed, 1, length(?1)) <> ?1 LIMIT ?2",
	  "UPDATE providers SET client_secret_sealed = ?1 WHERE rowid = ?2 AND "
	  "client_secret_sealed = ?3" },
	{ "refresh_token",
	  "SELECT rowid, refresh_sealed FROM credentials WHERE refresh_sealed IS NOT NULL "
	  "AND substr(refresh_sealed, 1, length(?1)) <> ?1 LIMIT ?2",
	  "UPDATE credentials SET refresh_sealed = ?1 WHERE rowid = ?2 AND refresh_sealed = ?3" },
	{ "access_token",
	  "SELECT rowid, sealed FROM access_tokens WHERE "
	  "substr(sealed, 1, length(?1)) <> ?1 LIMIT ?2",
	  "UPDATE access_tokens SET sealed = ?1 WHERE rowid = ?2 AND sealed = ?3" },
	{ "oauth_state",
	  "SELECT rowid, verifier_sealed FROM oauth_states WHERE "
	  "substr(verifier_sealed, 1, length(?1)) <> ?1 LIMIT ?2",
	  "UPDATE oauth_states SET verifier_sealed = ?1 WHERE rowid = ?2 AND verifier_sealed = ?3" },
	{ "webhook_secret",
	  "SELECT rowid, secret_sealed FROM webhooks WHERE "
	  "substr(secret_sealed, 1, length(?1)) <> ?1 LIMIT ?2",
	  "UPDATE webhooks SET secret_sealed = ?1 WHERE rowid = ?2 AND secret_sealed = ?3" },
};

#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

/* Append up to `room` values of column `column` not under `prefix`. */
static int list_column(struct store *st, size_t column, const char *prefix, size_t room,
		       struct store_sealed_list *out, struct err *e)
{
	const struct sealed_column *c = &columns[column];
	sqlite3_stmt *s = sq_prepare(st, c->list_sql, e);
	int rc;

	if (!s)
		return -1;
	sq_text(s, 1, prefix);
	sq_int(s, 2, (int64_t)room);
	while ((rc = sq_row(st, s, "listing sealed values", e)) == 1)
		store_sealed_push(out, c->kind, xasprintf("%lld", (long long)sq_col_int(s, 0)),
				  sq_col_dup(s, 1));
	sqlite3_reset(s);
	return rc;
}

int sqlite_list_sealed(struct store *st, const char *prefix, size_t max,
		       struct store_sealed **out, size_t *n, struct err *e)
{
	return store_list_sealed_columns(st, NCOLUMNS, list_column, prefix, max, out, n, e);
}

int sqlite_replace_sealed(struct store *st, const struct store_sealed *v,
			  const char *sealed, bool *replaced, struct err *e)
{
	const struct sealed_column *c = NULL;
	sqlite3_stmt *s;
	char *end;
	long long row;

	*replaced = false;
	for (size_t i = 0; i < NCOLUMNS; i++)
		if (strcmp(columns[i].kind, v->kind) == 0)
			c = &columns[i];
	errno = 0;
	row = v->row ? strtoll(v->row, &end, 10) : 0;
	if (!c || !v->row || *end || errno || !v->sealed || !sealed)
		return err_set(e, ERR_BUG, "store", "not a sealed value of this store "
			       "(%s %s)", v->kind ? v->kind : "?", v->row ? v->row : "?");
	if (!(s = sq_prepare(st, c->replace_sql, e)))
		return -1;
	sq_text(s, 1, sealed);
	sq_int(s, 2, row);
	sq_text(s, 3, v->sealed);
	if (sq_done(st, s, "rewriting a sealed value", e) < 0)
		return -1;
	*replaced = sqlite3_changes(sq_db(st)) > 0;
	return 0;
}
