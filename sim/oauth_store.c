/*
 * oauth_store.c — the identity platform's state: authorization codes,
 * access tokens, refresh-token chains, device codes, browser sessions and
 * sign-in transactions, each in a world hash map keyed by its secret
 * string (see oauth.h). Expired entries are pruned every few hundred
 * operations; refresh tokens are kept until they expire so that a reused,
 * rotated-out RT can be told apart from a garbled one.
 */
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "oauth.h"

static void tick(struct sim_world *w)
{
	if (++w->store_ops % 512 == 0)
		oa_store_prune(w);
}

struct oa_code *oa_code_new(struct sim_world *w, struct sim_user *u,
			    const struct oa_txn *t)
{
	struct oa_code *c = xcalloc(1, sizeof(*c));

	/* Real codes are long opaque strings starting "0.A" or "1.A". */
	char *rnd = sim_random_token(48);

	c->code = xasprintf("0.A%s", rnd);
	free(rnd);
	c->user = u;
	c->client_id = xstrdup(t->client_id);
	c->redirect_uri = xstrdup(t->redirect_uri);
	c->scopes = json_deep_copy(t->scopes);
	c->challenge = xstrdup(t->challenge);
	c->plain = t->plain;
	c->nonce = xstrdup(t->nonce);
	c->full_uris = t->full_uris;
	c->expires = simtime_now() + w->cfg.code_lifetime;
	smap_put(&w->codes, c->code, c);
	tick(w);
	return c;
}

struct oa_access *oa_access_new(struct sim_world *w, struct sim_user *u,
				const char *client_id, enum oa_resource res,
				json_t *scopes, bool public_client)
{
	struct oa_access *a = xcalloc(1, sizeof(*a));
	char *rnd = sim_random_token(40);

	a->token = xasprintf("EwB%s", rnd);
	free(rnd);
	a->user = u;
	a->client_id = xstrdup(client_id);
	a->res = res;
	a->scopes = scopes;
	a->expires = simtime_now() + w->cfg.access_token_lifetime;
	a->token_epoch = u->token_epoch;
	a->public_client = public_client;
	smap_put(&w->access, a->token, a);
	tick(w);
	return a;
}

struct oa_refresh *oa_refresh_new(struct sim_world *w, struct sim_user *u,
				  const char *client_id, struct oa_chain *chain,
				  enum oa_resource res, const json_t *oidc,
				  const char *nonce)
{
	struct oa_refresh *r = xcalloc(1, sizeof(*r));
	char *rnd = sim_random_token(64);

	r->token = xasprintf("1.A%s", rnd);
	free(rnd);
	if (!chain)
		chain = xcalloc(1, sizeof(*chain));
	chain->refs++;
	r->chain = chain;
	r->n = ++chain->issued;
	r->user = u;
	r->client_id = xstrdup(client_id);
	r->grant_epoch = u->grant_epoch;
	r->expires = simtime_now() + w->cfg.refresh_token_lifetime;
	r->res = res;
	r->oidc = oidc ? json_deep_copy(oidc) : json_array();
	r->nonce = xstrdup(nonce);
	smap_put(&w->refresh, r->token, r);
	tick(w);
	return r;
}

struct oa_device *oa_device_new(struct sim_world *w, const char *client_id,
				json_t *scopes)
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	struct oa_device *d = xcalloc(1, sizeof(*d));
	char uc[10];
	char *rnd;

	do {
		char *r = sim_random_token(16);

		for (int i = 0; i < 9; i++)
			uc[i] = alphabet[(unsigned char)r[i] % (sizeof(alphabet) - 1)];
		uc[9] = '\0';
		free(r);
	} while (smap_get(&w->user_codes, uc));
	rnd = sim_random_token(48);
	d->device_code = xasprintf("DAQABAAEAAAD%s", rnd);
	free(rnd);
	d->user_code = xstrdup(uc);
	d->client_id = xstrdup(client_id);
	d->scopes = scopes;
	d->expires = simtime_now() + w->cfg.device_code_lifetime;
	d->interval = w->cfg.device_code_interval;
	smap_put(&w->device_codes, d->device_code, d);
	smap_put(&w->user_codes, d->user_code, d);
	tick(w);
	return d;
}

struct oa_device *oa_device_by_user_code(struct sim_world *w, const char *uc)
{
	char norm[16];
	size_t n = 0;

	for (const char *c = uc ? uc : ""; *c && n + 1 < sizeof(norm); c++)
		if (*c != '-' && *c != ' ')
			norm[n++] = (char)((*c >= 'a' && *c <= 'z') ? *c - 32 : *c);
	norm[n] = '\0';
	return smap_get(&w->user_codes, norm);
}

struct oa_session *oa_session_get(struct sim_world *w, const char *id)
{
	return id ? smap_get(&w->sessions, id) : NULL;
}

struct oa_session *oa_session_new(struct sim_world *w)
{
	struct oa_session *s = xcalloc(1, sizeof(*s));

	s->id = sim_random_token(24);
	smap_put(&w->sessions, s->id, s);
	return s;
}

void oa_session_use(struct oa_session *s, struct sim_user *u)
{
	size_t i;

	for (i = 0; i < s->n && s->users[i] != u; i++)
		;
	if (i == s->n) {
		if (s->n < OA_SESSION_MAX)
			s->n++;
		i = s->n - 1;
	}
	/* users[] holds pointers: an element is one */
	memmove(&s->users[1], &s->users[0], i * sizeof(s->users[0])); /* NOLINT(bugprone-sizeof-expression) */
	s->users[0] = u;
}

struct oa_txn *oa_txn_new(struct sim_world *w, enum oa_txn_kind kind)
{
	struct oa_txn *t = xcalloc(1, sizeof(*t));

	t->id = sim_random_token(18);
	t->kind = kind;
	t->expires = simtime_now() + 3600;
	smap_put(&w->txns, t->id, t);
	tick(w);
	return t;
}

struct oa_txn *oa_txn_get(struct sim_world *w, const char *id)
{
	struct oa_txn *t = id ? smap_get(&w->txns, id) : NULL;

	return t && t->expires >= simtime_now() ? t : NULL;
}

static void txn_free(struct oa_txn *t)
{
	free(t->id);
	free(t->tenant_seg);
	free(t->client_id);
	free(t->redirect_uri);
	free(t->response_mode);
	free(t->state);
	free(t->nonce);
	free(t->challenge);
	free(t->prompt);
	free(t->login_hint);
	free(t->user_code);
	json_decref(t->scopes);
	free(t);
}

void oa_txn_drop(struct sim_world *w, struct oa_txn *t)
{
	smap_remove(&w->txns, t->id);
	txn_free(t);
}

enum oa_token_state oa_access_check(struct sim_world *w, const char *token,
				    struct oa_access **out)
{
	struct oa_access *a = token ? smap_get(&w->access, token) : NULL;

	*out = a;
	if (!a)
		return TOK_UNKNOWN;
	if (a->expires <= simtime_now() || a->token_epoch != a->user->token_epoch)
		return TOK_EXPIRED;
	return TOK_OK;
}

/* ---- freeing and pruning ---- */

static void code_free(struct oa_code *c)
{
	free(c->code);
	free(c->client_id);
	free(c->redirect_uri);
	json_decref(c->scopes);
	free(c->challenge);
	free(c->nonce);
	free(c);
}

static void access_free(struct oa_access *a)
{
	free(a->token);
	free(a->client_id);
	json_decref(a->scopes);
	free(a);
}

static void refresh_free(struct oa_refresh *r)
{
	if (--r->chain->refs == 0)
		free(r->chain);
	free(r->token);
	free(r->client_id);
	json_decref(r->oidc);
	free(r->nonce);
	free(r);
}

static void device_free(struct oa_device *d)
{
	free(d->device_code);
	free(d->user_code);
	free(d->client_id);
	json_decref(d->scopes);
	free(d);
}

struct prune_ctx {
	int64_t now;
	bool all;
};

static int prune_code(const char *k, void *v, void *ctx)
{
	struct prune_ctx *p = ctx;
	struct oa_code *c = v;

	(void)k;
	if (!p->all && c->expires + 3600 > p->now)
		return 0;
	code_free(c);
	return 1;
}

static int prune_access(const char *k, void *v, void *ctx)
{
	struct prune_ctx *p = ctx;
	struct oa_access *a = v;

	(void)k;
	if (!p->all && a->expires + 3600 > p->now)
		return 0;
	access_free(a);
	return 1;
}

static int prune_refresh(const char *k, void *v, void *ctx)
{
	struct prune_ctx *p = ctx;
	struct oa_refresh *r = v;

	(void)k;
	if (!p->all && r->expires > p->now)
		return 0;
	refresh_free(r);
	return 1;
}

static int unlink_user_code(const char *k, void *v, void *ctx)
{
	struct prune_ctx *p = ctx;
	struct oa_device *d = v;

	(void)k;
	return p->all || d->expires + 3600 <= p->now;
}

static int prune_device(const char *k, void *v, void *ctx)
{
	struct prune_ctx *p = ctx;
	struct oa_device *d = v;

	(void)k;
	if (!p->all && d->expires + 3600 > p->now)
		return 0;
	device_free(d);
	return 1;
}

static int prune_session(const char *k, void *v, void *ctx)
{
	struct prune_ctx *p = ctx;
	struct oa_session *s = v;

	(void)k;
	if (!p->all)
		return 0;
	free(s->id);
	free(s);
	return 1;
}

static int prune_txn(const char *k, void *v, void *ctx)
{
	struct prune_ctx *p = ctx;
	struct oa_txn *t = v;

	(void)k;
	if (!p->all && t->expires > p->now)
		return 0;
	txn_free(t);
	return 1;
}

static void prune(struct sim_world *w, bool all)
{
	struct prune_ctx p = { simtime_now(), all };

	smap_foreach(&w->codes, prune_code, &p);
	smap_foreach(&w->access, prune_access, &p);
	smap_foreach(&w->refresh, prune_refresh, &p);
	smap_foreach(&w->user_codes, unlink_user_code, &p);
	smap_foreach(&w->device_codes, prune_device, &p);
	smap_foreach(&w->sessions, prune_session, &p);
	smap_foreach(&w->txns, prune_txn, &p);
}

void oa_store_prune(struct sim_world *w)
{
	prune(w, false);
}

void oa_store_init(struct sim_world *w)
{
	smap_init(&w->codes);
	smap_init(&w->access);
	smap_init(&w->refresh);
	smap_init(&w->sessions);
	smap_init(&w->txns);
	smap_init(&w->device_codes);
	smap_init(&w->user_codes);
}

void oa_store_free(struct sim_world *w)
{
	prune(w, true);
	smap_free(&w->codes);
	smap_free(&w->access);
	smap_free(&w->refresh);
	smap_free(&w->sessions);
	smap_free(&w->txns);
	smap_free(&w->device_codes);
	smap_free(&w->user_codes);
}
