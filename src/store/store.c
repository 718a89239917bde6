/*
 * store.c — the store interface's front: store_open choosing a backend by
 * the location's scheme, the public functions dispatching through the
 * backend's ops table (generated from store_ops.def), the fence, the
 * names of states, phases and event types, and freeing what the store
 * hands out (the same for every backend).
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "store/store_backend.h"

/* ---- choosing a backend ------------------------------------------------ */

static const struct store_backend *const backends[] = {
#ifdef INBOXSYNC_WITH_PG
	&store_pg_backend,
#endif
	&store_sqlite_backend,
};

static bool is_pg_url(const char *location)
{
	return strncmp(location, "postgresql://", 13) == 0 ||
	       strncmp(location, "postgres://", 11) == 0;
}

/* The backend for `location`, and where its own location starts. */
static const struct store_backend *backend_for(const char *location,
					       const char **rest, struct err *e)
{
	if (!location || !*location) {
		err_set(e, ERR_PERMANENT, "store", "no store location given");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		for (const char *const *s = backends[i]->schemes; *s; s++) {
			size_t n = strlen(*s);

			if (n == 0 || strncmp(location, *s, n) == 0) {
				/* A bare path: anything that is no URL. */
				if (n == 0 && is_pg_url(location))
					continue;
				*rest = location + n;
				return backends[i];
			}
		}
	}
	err_set(e, ERR_PERMANENT, "store", "PostgreSQL stores are not available in "
		"this build of inboxsync (it was built without libpq)");
	err_set_fix(e, FIX_UPGRADE, NULL);
	return NULL;
}

int store_open(const char *location, struct store **out, struct err *e)
{
	const char *rest = NULL;
	const struct store_backend *b = backend_for(location, &rest, e);

	*out = NULL;
	if (!b)
		return -1;
	return b->open(rest, out, e);
}

int store_open_existing(const char *location, struct store **out, struct err *e)
{
	const char *rest = NULL;
	const struct store_backend *b = backend_for(location, &rest, e);

	*out = NULL;
	if (!b)
		return -1;
	return (b->open_existing ? b->open_existing : b->open)(rest, out, e);
}

int store_migrate(const char *location, int *from, int *to, struct err *e)
{
	const char *rest = NULL;
	const struct store_backend *b = backend_for(location, &rest, e);

	return b ? b->migrate(rest, from, to, e) : -1;
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

const char *store_backend_name(const struct store *st)
{
	return st->ops->name;
}

void store_set_fence(struct store *st, int64_t account_id, const char *holder,
		     int64_t gen)
{
	st->fence.account_id = account_id;
	str_copy(st->fence.holder, sizeof(st->fence.holder), holder ? holder : "");
	st->fence.generation = gen;
}

/* ---- dispatch ------------------------------------------------------------ */

#define STORE_OP(name, params, args) \
	int store_##name params { return st->ops->name args; }
#define STORE_VOID_OP(name, params, args) \
	void store_##name params { st->ops->name args; }
#include "store/store_ops.def"
#undef STORE_OP
#undef STORE_VOID_OP

int store_begin_redoable(struct store *st, struct err *e)
{
	return st->ops->begin_redoable ? st->ops->begin_redoable(st, e)
				       : st->ops->begin(st, e);
}

int store_put_message(struct store *st, int64_t account_id, int64_t folder_id,
		      const struct mail_message *m, int64_t seen_gen,
		      char *outcome, struct err *e)
{
	struct store_page_result r = { 0 };
	int rc = store_put_messages(st, account_id, folder_id, m, 1, seen_gen,
				    false, &r, e);

	if (outcome)
		*outcome = (char)(r.created ? 'c' : r.moved ? 'm' : r.removed ? 'o'
				  : r.replaced ? 'r' : r.updated ? 'u' : 0);
	return rc;
}

/* ---- names ------------------------------------------------------------- */

static const char *const state_names[STORE_STATE_COUNT] = {
	"new", "authorized", "confirmed", "syncing", "idle", "throttled",
	"error", "auth_invalid", "stopped",
};
static const char *const phase_names[STORE_PHASE_COUNT] = {
	"pending", "newest", "backfill", "live",
};
static const char *const incoming_names[] = { "not_confirmed", "confirmed" };
static const char *const outgoing_names[] = { "untested", "ok", "failed" };
static const char *const outbox_names[STORE_OUTBOX_STATE_COUNT] = {
	"queued", "drafted", "sending", "submitted", "confirmed", "failed",
};
static const char *const event_names[STORE_EVENT_TYPE_COUNT] = {
	"message.created", "message.updated", "message.moved", "message.deleted",
	"folder.created", "folder.updated", "folder.deleted",
	"account.state_changed", "send.confirmed", "send.failed",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, unsigned v)
{
	return v < n ? names[v] : "?";
}

static int parse_name(const char *const *names, size_t n, const char *name,
		      unsigned *out)
{
	for (unsigned i = 0; name && i < n; i++) {
		if (strcmp(names[i], name) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

#define NAME_FUNCS(kind, type, table) \
	const char *store_##kind##_name(type v) \
	{ \
		return name_of(table, COUNT(table), (unsigned)v); \
	} \
	/* `type` is a type: no parentheses (bugprone-macro-parentheses) */ \
	int store_##kind##_parse(const char *name, type *out) /* NOLINT(bugprone-macro-parentheses) */ \
	{ \
		unsigned v; \
		if (parse_name(table, COUNT(table), name, &v) < 0) \
			return -1; \
		*out = (type)v; \
		return 0; \
	}

NAME_FUNCS(state, enum store_state, state_names)
NAME_FUNCS(phase, enum store_phase, phase_names)
NAME_FUNCS(incoming, enum store_incoming, incoming_names)
NAME_FUNCS(outgoing, enum store_outgoing, outgoing_names)
NAME_FUNCS(outbox_state, enum store_outbox_state, outbox_names)
NAME_FUNCS(event_type, enum store_event_type, event_names)

/* ---- freeing what the store hands out ------------------------------------ */

void store_provider_clear(struct store_provider *p)
{
	free(p->client_secret_sealed);
	p->client_secret_sealed = NULL;
}

void store_sealed_push(struct store_sealed_list *l, const char *kind, char *row,
		       char *sealed)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->n].kind = kind;
	l->items[l->n].row = row;
	l->items[l->n].sealed = sealed;
	l->n++;
}

int store_list_sealed_columns(struct store *st, size_t ncolumns,
			      int (*list)(struct store *st, size_t column, const char *prefix,
					  size_t room, struct store_sealed_list *out,
					  struct err *e),
			      const char *prefix, size_t max, struct store_sealed **out,
			      size_t *n, struct err *e)
{
	struct store_sealed_list l = { 0 };

	*out = NULL;
	*n = 0;
	/* An empty prefix would be a prefix of every value: use one that no
	 * sealed text starts with, so that everything is listed. */
	if (!prefix || !*prefix)
		prefix = "\x01";
	for (size_t i = 0; i < ncolumns && l.n < max; i++) {
		if (list(st, i, prefix, max - l.n, &l, e) < 0) {
			store_sealed_list_free(l.items, l.n);
			return -1;
		}
	}
	*out = l.items;
	*n = l.n;
	return 0;
}

void store_sealed_list_free(struct store_sealed *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].row);
		free(list[i].sealed);
	}
	free(list);
}

void store_user_clear(struct store_user *u)
{
	free(u->password_hash);
	u->password_hash = NULL;
}

void store_user_list_free(struct store_user *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_user_clear(&list[i]);
	free(list);
}

void store_credentials_clear(struct store_credentials *c)
{
	free(c->refresh_sealed);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

void store_oauth_state_clear(struct store_oauth_state *s)
{
	free(s->verifier_sealed);
	memset(s, 0, sizeof(*s));
}

void store_message_clear(struct store_message *m)
{
	free(m->owned);
	memset(m, 0, sizeof(*m));
}

void store_folder_clear(struct store_folder *f)
{
	free(f->cursor);
	f->cursor = NULL;
}

void store_folder_list_free(struct store_folder *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_folder_clear(&list[i]);
	free(list);
}

void store_outbox_clear(struct store_outbox *o)
{
	free(o->request_json);
	free(o->mime);
	free(o->draft_remote_id);
	free(o->reply_to_remote_id);
	memset(o, 0, sizeof(*o));
}

void store_outbox_list_free(struct store_outbox *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_outbox_clear(&list[i]);
	free(list);
}

void store_webhook_clear(struct store_webhook *w)
{
	free(w->secret_sealed);
	w->secret_sealed = NULL;
}

void store_webhook_list_free(struct store_webhook *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_webhook_clear(&list[i]);
	free(list);
}
