/*
 * world.c — creating, finding and freeing tenants, apps and users, and the
 * default world every m365sim starts with (see sim.h). Identity state
 * lives in oauth_store.c; mailbox internals in mailbox.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "counters.h"
#include "faults.h"
#include "mailbox.h"
#include "oauth.h"
#include "sim.h"
#include "throttle.h"
#include "tls.h"

static void add_ptr(void ***arr, size_t *n, void *p)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	(*arr)[(*n)++] = p;
}

struct sim_world *world_new(uint64_t seed)
{
	struct sim_world *w = xcalloc(1, sizeof(*w));
	static const char id_salt[] = "m365sim id key v1";
	static const char jwt_salt[] = "m365sim jwt key v1";
	struct sim_tenant *t;
	json_t *uris;
	char why[128];

	pthread_rwlock_init(&w->lock, NULL);
	simcfg_defaults(&w->cfg);
	w->seed = seed;
	crypto_generichash(w->id_key, sizeof(w->id_key), (const unsigned char *)id_salt,
			   sizeof(id_salt) - 1, NULL, 0);
	crypto_generichash(w->jwt_key, sizeof(w->jwt_key), (const unsigned char *)jwt_salt,
			   sizeof(jwt_salt) - 1, NULL, 0);
	snprintf(w->base_url, sizeof(w->base_url), "http://127.0.0.1");
	oa_store_init(w);
	w->faults = flt_new();
	w->counters = ctr_new();
	w->throttle = thr_new();
	w->sent_log = json_array();

	t = world_add_tenant(w, SIM_DEFAULT_DOMAIN, SIM_DEFAULT_TENANT_ID,
			     "Contoso", why, sizeof(why));
	json_array_append_new(t->domains, json_string("contoso.com"));
	uris = json_pack("[s,s,s]", "http://localhost", "http://127.0.0.1",
			 "https://login.microsoftonline.com/common/oauth2/nativeclient");
	world_add_app(w, SIM_DEFAULT_CLIENT_ID, "inboxsync (sim)", SIM_DEFAULT_SECRET,
		      uris, t, why, sizeof(why));
	json_decref(uris);
	world_add_user(w, t, "adele@contoso.com", "Adele Vance", "pass", why, sizeof(why));
	world_add_user(w, t, "bob@contoso.com", "Bob Kelly", "pass", why, sizeof(why));
	return w;
}

void world_free(struct sim_world *w)
{
	if (!w)
		return;
	oa_store_free(w);
	for (size_t i = 0; i < w->nusers; i++) {
		struct sim_user *u = w->users[i];

		mbx_free(u->mbox);
		free(u->email);
		free(u->name);
		free(u->password);
		json_decref(u->consents);
		free(u);
	}
	free(w->users);
	for (size_t i = 0; i < w->napps; i++) {
		struct sim_app *a = w->apps[i];

		free(a->client_id);
		free(a->name);
		free(a->secret);
		json_decref(a->redirect_uris);
		free(a);
	}
	free(w->apps);
	simtls_signer_free(w->signer);
	for (size_t i = 0; i < w->ntenants; i++) {
		free(w->tenants[i]->domain);
		free(w->tenants[i]->name);
		json_decref(w->tenants[i]->domains);
		free(w->tenants[i]);
	}
	free(w->tenants);
	while (w->deliveries) {
		struct sim_delivery *d = w->deliveries;

		w->deliveries = d->next;
		json_decref(d->fields);
		json_decref(d->attachments);
		free(d->mime);
		free(d);
	}
	flt_free(w->faults);
	ctr_free(w->counters);
	thr_free(w->throttle);
	json_decref(w->sent_log);
	pthread_rwlock_destroy(&w->lock);
	free(w);
}

void world_lock(struct sim_world *w)
{
	pthread_rwlock_wrlock(&w->lock);
}

void world_rdlock(struct sim_world *w)
{
	pthread_rwlock_rdlock(&w->lock);
}

void world_unlock(struct sim_world *w)
{
	pthread_rwlock_unlock(&w->lock);
}

struct sim_tenant *world_tenant(struct sim_world *w, const char *key)
{
	if (!key)
		return NULL;
	for (size_t i = 0; i < w->ntenants; i++) {
		struct sim_tenant *t = w->tenants[i];
		size_t k;
		json_t *d;

		if (strcasecmp(t->id, key) == 0 || strcasecmp(t->domain, key) == 0)
			return t;
		json_array_foreach(t->domains, k, d)
			if (strcasecmp(json_string_value(d), key) == 0)
				return t;
	}
	return NULL;
}

struct sim_app *world_app(struct sim_world *w, const char *client_id)
{
	if (!client_id)
		return NULL;
	for (size_t i = 0; i < w->napps; i++)
		if (strcasecmp(w->apps[i]->client_id, client_id) == 0)
			return w->apps[i];
	return NULL;
}

struct sim_user *world_user(struct sim_world *w, const char *key)
{
	if (!key)
		return NULL;
	for (size_t i = 0; i < w->nusers; i++)
		if (strcasecmp(w->users[i]->email, key) == 0 ||
		    strcasecmp(w->users[i]->oid, key) == 0)
			return w->users[i];
	return NULL;
}

static bool valid_domain(const char *d)
{
	size_t n = d ? strlen(d) : 0;

	if (n < 3 || n > 200 || !strchr(d, '.'))
		return false;
	for (const char *c = d; *c; c++)
		if (!(*c == '.' || *c == '-' || (*c >= '0' && *c <= '9') ||
		      ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z')))
			return false;
	return true;
}

struct sim_tenant *world_add_tenant(struct sim_world *w, const char *domain,
				    const char *id, const char *name,
				    char *why, size_t whylen)
{
	struct sim_tenant *t;

	if (!valid_domain(domain)) {
		snprintf(why, whylen, "'domain' must be a DNS name like fabrikam.onmicrosoft.com");
		return NULL;
	}
	if (world_tenant(w, domain) || (id && world_tenant(w, id))) {
		snprintf(why, whylen, "a tenant with that domain or id already exists");
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	if (id && strlen(id) == 36)
		memcpy(t->id, id, 37);
	else
		sim_guid_from(w->ntenants + 1, sim_hash64(domain, strlen(domain)), t->id);
	t->domain = xstrdup(domain);
	t->name = xstrdup(name ? name : domain);
	t->domains = json_pack("[s]", domain);
	add_ptr((void ***)&w->tenants, &w->ntenants, t);
	return t;
}

struct sim_app *world_add_app(struct sim_world *w, const char *client_id,
			      const char *name, const char *secret,
			      json_t *redirect_uris, struct sim_tenant *t,
			      char *why, size_t whylen)
{
	struct sim_app *a;
	char guid[37];

	if (!client_id) {
		sim_guid_random(guid);
		client_id = guid;
	}
	if (strlen(client_id) > 100 || !*client_id) {
		snprintf(why, whylen, "'client_id' must be 1-100 characters");
		return NULL;
	}
	if (world_app(w, client_id)) {
		snprintf(why, whylen, "an app with client_id %s already exists", client_id);
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	a->client_id = xstrdup(client_id);
	a->name = xstrdup(name ? name : "sim app");
	a->secret = xstrdup(secret);
	a->public_flows = true;
	a->redirect_uris = redirect_uris ? json_deep_copy(redirect_uris) : json_array();
	a->tenant = t;
	add_ptr((void ***)&w->apps, &w->napps, a);
	return a;
}

static bool valid_email(const char *e)
{
	const char *at = e ? strchr(e, '@') : NULL;

	return at && at != e && strchr(at + 1, '.') && !strchr(at + 1, '@') &&
	       strlen(e) < 200 && !strpbrk(e, " \t\r\n<>\"(),;:");
}

struct sim_user *world_add_user(struct sim_world *w, struct sim_tenant *t,
				const char *email, const char *name,
				const char *password, char *why, size_t whylen)
{
	struct sim_user *u;

	if (!valid_email(email)) {
		snprintf(why, whylen, "'email' must be an address like user@fabrikam.com");
		return NULL;
	}
	if (world_user(w, email)) {
		snprintf(why, whylen, "user %s already exists", email);
		return NULL;
	}
	u = xcalloc(1, sizeof(*u));
	u->num = (uint32_t)w->nusers;
	sim_guid_from(0x0151d5ULL, sim_hash64(email, strlen(email)), u->oid);
	u->email = xstrdup(email);
	for (char *c = u->email; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c | 0x20);
	u->name = xstrdup(name ? name : email);
	u->password = xstrdup(password ? password : "pass");
	u->tenant = t;
	u->consents = json_object();
	u->mbox = mbx_new(u->num, u, &w->cfg);
	add_ptr((void ***)&w->users, &w->nusers, u);
	return u;
}

struct simtls_signer *world_signer(struct sim_world *w)
{
	if (!w->signer)
		w->signer = simtls_signer_new();
	return w->signer;
}

/* Parse "http://HOST[:PORT][/...]" and say whether HOST is loopback. */
static bool is_loopback_http(const char *uri)
{
	static const char *const hosts[] = { "127.0.0.1", "localhost", "[::1]" };

	if (!sim_istarts(uri, "http://"))
		return false;
	uri += 7;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		size_t n = strlen(hosts[i]);
		const char *p = uri + n;

		if (strncasecmp(uri, hosts[i], n) != 0)
			continue;
		if (*p == ':') {
			p++;
			if (*p < '0' || *p > '9')
				return false;
			while (*p >= '0' && *p <= '9')
				p++;
		}
		return *p == '\0' || *p == '/' || *p == '?';
	}
	return false;
}

bool world_redirect_ok(const struct sim_app *app, const char *uri)
{
	size_t i;
	json_t *r;
	bool any_loopback = false;

	if (!uri || !*uri || strlen(uri) > 2000 || strchr(uri, '#'))
		return false;
	json_array_foreach(app->redirect_uris, i, r) {
		const char *s = json_string_value(r);

		if (s && strcmp(s, uri) == 0)
			return true;
		if (s && is_loopback_http(s))
			any_loopback = true;
	}
	return any_loopback && is_loopback_http(uri);
}
