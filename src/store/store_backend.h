/*
 * store_backend.h — what a storage backend implements: the ops table
 * (one member per line of store_ops.def) and the head every backend's
 * connection struct starts with. Backends register in store.c's table of
 * schemes. Not a public header: only src/store includes it.
 */
#ifndef INBOXSYNC_STORE_BACKEND_H
#define INBOXSYNC_STORE_BACKEND_H

#include "inboxsync/store.h"

struct store_ops {
	const char *name;          /* "sqlite", "postgresql" */
	void (*close)(struct store *st);
	/* a declarator and a parameter list: they cannot take the
	 * parentheses bugprone-macro-parentheses asks for */
	/* NOLINTNEXTLINE(bugprone-macro-parentheses) */
#define STORE_OP(name, params, args) int(*name) params;
	/* NOLINTNEXTLINE(bugprone-macro-parentheses) */
#define STORE_VOID_OP(name, params, args) void(*name) params;
#include "store/store_ops.def"
#undef STORE_OP
#undef STORE_VOID_OP
	/* Optional (NULL: store_begin_redoable runs begin). */
	int (*begin_redoable)(struct store *st, struct err *e);
};

/* store_list_sealed for a backend whose sealed columns are a table of
 * `ncolumns`: `list` appends up to `room` values of column `column` that
 * do not start with `prefix` (never NULL or "": then a prefix no sealed
 * text has) through store_sealed_push. Gathers at most `max` in all and
 * frees what it gathered when a column fails. */
struct store_sealed_list {
	struct store_sealed *items;
	size_t n, cap;
};
int store_list_sealed_columns(struct store *st, size_t ncolumns,
			      int (*list)(struct store *st, size_t column, const char *prefix,
					  size_t room, struct store_sealed_list *out,
					  struct err *e),
			      const char *prefix, size_t max, struct store_sealed **out,
			      size_t *n, struct err *e);

/* Append one value (`row` and `sealed` are taken over; `kind` static). */
void store_sealed_push(struct store_sealed_list *l, const char *kind, char *row,
		       char *sealed);

/* The fence a connection's commits check (store_set_fence). */
struct store_fence {
	int64_t account_id;        /* 0 = no fence */
	char holder[128];
	int64_t generation;
};

/* An event a backend appends in the current transaction (it adds the
 * owner, the time and the seq); `entity_id`, `folder_path`, `from_folder`
 * and `data` may be NULL. */
struct store_event_new {
	int64_t account_id;
	enum store_event_type type;
	const char *entity_id;
	const char *folder_path;
	const char *from_folder;
	bool backfill;
	const char *data;
};

/* Every backend's connection struct starts with this. */
struct store {
	const struct store_ops *ops;
	struct store_fence fence;
};

/* A backend: opens `location` (the part after the scheme for sqlite:,
 * the whole URL for postgresql://) and migrates it. */
struct store_backend {
	const char *const *schemes;  /* NULL-terminated prefixes, "" = a path */
	int (*open)(const char *location, struct store **out, struct err *e);
	/* Optional (NULL: open): never creates what is not there. */
	int (*open_existing)(const char *location, struct store **out, struct err *e);
	int (*migrate)(const char *location, int *from, int *to, struct err *e);
};

extern const struct store_backend store_sqlite_backend;
#ifdef INBOXSYNC_WITH_PG
extern const struct store_backend store_pg_backend;
#endif

/* A backend declares its functions and fills its table from the same
 * list, e.g. for SQLite (functions named sqlite_NAME):
 *   #define STORE_OP(name, params, args) int sqlite_##name params;
 *   #define STORE_VOID_OP(name, params, args) void sqlite_##name params;
 *   #include "store/store_ops.def"
 * and
 *   #define STORE_OP(name, params, args) .name = sqlite_##name,
 * inside the initializer of its struct store_ops. */

#endif
