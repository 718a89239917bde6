/*
 * pg_sealed.c — every vault-sealed column of the PostgreSQL store as one
 * table, listed and rewritten in place for key rotation (store.h's
 * store_list_sealed, store_replace_sealed), as sqlite_sealed.c does for
 * SQLite. A row is named by its ctid; a rewrite is a compare and swap on
 * the row and the sealed text, so a value another node changed meanwhile
 * (which also moves the row to another ctid) is never overwritten: the
 * rotation lists it again and rewrites the new value.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "store/pg/pg_internal.h"

/* One sealed column: how to list the values not under a key prefix ($1,
 * up to $2 rows) and how to swap one ($1 new, $2 ctid, $3 old). A new
 * sealed column is one line here. */
static const struct sealed_column {
	const char *kind;
	const char *list_sql;
	const char *replace_sql;
} columns[] = {
	{ "provider_secret",
	  "SELECT ctid::text, client_secret_sealed FROM providers WHERE "
	  "client_secret_sealed IS NOT NULL AND NOT starts_with(client_secret_sealed, $1) "
	  "LIMIT $2",
	  "UPDATE providers SET client_secret_sealed = $1 WHERE ctid = $2::tid AND "
	  "client_secret_sealed = $3" },
	{ "refresh_token",
	  "SELECT ctid::text, refresh_sealed FROM credentials WHERE refresh_sealed IS NOT "
	  "NULL AND NOT starts_with(refresh_sealed, $1) LIMIT $2",
	  "UPDATE credentials SET refresh_sealed = $1 WHERE ctid = $2::tid AND "
	  "refresh_sealed = $3" },
	{ "access_token",
	  "SELECT ctid::text, sealed FROM access_tokens WHERE NOT starts_with(sealed, $1) "
	  "LIMIT $2",
	  "UPDATE access_tokens SET sealed = $1 WHERE ctid = $2::tid AND sealed = $3" },
	{ "oauth_state",
	  "SELECT ctid::text, verifier_sealed FROM oauth_states WHERE "
	  "NOT starts_with(verifier_sealed, $1) LIMIT $2",
	  "UPDATE oauth_states SET verifier_sealed = $1 WHERE ctid = $2::tid AND "
	  "verifier_sealed = $3" },
	{ "webhook_secret",
	  "SELECT ctid::text, secret_sealed FROM webhooks WHERE "
	  "NOT starts_with(secret_sealed, $1) LIMIT $2",
	  "UPDATE webhooks SET secret_sealed = $1 WHERE ctid = $2::tid AND "
	  "secret_sealed = $3" },
};

#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

/* Append up to `room` values of column `column` not under `prefix`. */
static int list_column(struct store *st, size_t column, const char *prefix, size_t room,
		       struct store_sealed_list *out, struct err *e)
{
	const struct sealed_column *c = &columns[column];
	struct pg_params p = { 0 };
	PGresult *r;

	pgp_text(&p, prefix);
	pgp_int(&p, (int64_t)room);
	if (!(r = pg_query(st, c->list_sql, &p, "listing sealed values", e)))
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		store_sealed_push(out, c->kind, pg_dup(r, i, 0), pg_dup(r, i, 1));
	PQclear(r);
	return 0;
}

int pg_list_sealed(struct store *st, const char *prefix, size_t max,
		   struct store_sealed **out, size_t *n, struct err *e)
{
	return store_list_sealed_columns(st, NCOLUMNS, list_column, prefix, max, out, n, e);
}

int pg_replace_sealed(struct store *st, const struct store_sealed *v,
		      const char *sealed, bool *replaced, struct err *e)
{
	const struct sealed_column *c = NULL;
	struct pg_params p = { 0 };
	long long affected = 0;

	*replaced = false;
	for (size_t i = 0; i < NCOLUMNS; i++)
		if (v->kind && strcmp(columns[i].kind, v->kind) == 0)
			c = &columns[i];
	if (!c || !v->row || !*v->row || !v->sealed || !sealed)
		return err_set(e, ERR_BUG, "store", "not a sealed value of this store "
			       "(%s %s)", v->kind ? v->kind : "?", v->row ? v->row : "?");
	pgp_text(&p, sealed);
	pgp_text(&p, v->row);
	pgp_text(&p, v->sealed);
	if (pg_exec(st, c->replace_sql, &p, "rewriting a sealed value", &affected, e) < 0)
		return -1;
	*replaced = affected > 0;
	return 0;
}
