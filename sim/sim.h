/*
 * sim.h — the m365sim world: configuration, tenants, apps, users and their
 * mailboxes, plus the identity-platform state (codes, tokens, sessions).
 * One world read/write lock guards all of it: read-only GETs share it, all
 * other requests hold it exclusively; nothing sleeps while holding it. Mailbox internals
 * (folders, messages, change logs) are declared in mailbox.h.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "strmap.h"
#include "simutil.h"

#define SIM_NONE UINT32_MAX
#define SIM_DEFAULT_CLIENT_ID "11111111-2222-3333-4444-555555555555"
#define SIM_DEFAULT_SECRET "sim-secret"
#define SIM_DEFAULT_TENANT_ID "8f2a6a35-0b7c-4e55-9d3e-6c1d2b9a7f10"
#define SIM_DEFAULT_DOMAIN "contoso.onmicrosoft.com"

struct sim_mailbox;
struct simtls_signer;
struct faults;
struct counters;
struct throttle;

/* Runtime settings; changed by POST /_sim/config (see config.c table). */
struct sim_config {
	long access_token_lifetime;   /* s, expires_in of access tokens */
	long refresh_token_lifetime;  /* s, inactivity lifetime of RTs */
	long code_lifetime;           /* s, authorization codes */
	long device_code_lifetime;    /* s, device codes (expires_in) */
	long device_code_interval;    /* s, polling interval */
	long device_slow_down_step;   /* s added to the interval on slow_down */
	long rate_limit_requests;     /* per (app, mailbox) per window */
	long rate_limit_window;       /* s */
	long concurrency_limit;       /* in-flight requests per (app, mailbox) */
	long concurrency_retry_after; /* s, Retry-After on MailboxConcurrency */
	bool batch_concurrency_strict;/* 429 for independent batch items > limit */
	long delivery_delay_ms;       /* delay before mail reaches sim inboxes */
	long delta_history_seconds;   /* change history kept per folder */
	long delta_history_changes;   /* max change entries kept per folder */
	long delta_filter_cap;        /* max items of a $filter'ed delta round */
	long max_message_bytes;       /* ErrorMessageSizeExceeded above this */
	long max_attachment_bytes;    /* inline attachment POST limit */
	long max_page_size;           /* cap for $top / odata.maxpagesize */
	long render_cache_mb;         /* rendered message text kept per mailbox
				       * (msgcache.h); 0 = none */
	bool date_fractions;          /* DateTimeOffsets with 7-digit fractions */
	long latency_ms;              /* added to every Graph/identity request */
	long latency_jitter_ms;       /* + uniform random 0..this */
};

struct sim_tenant {
	char id[37];
	char *domain;          /* initial domain, e.g. contoso.onmicrosoft.com */
	char *name;
	json_t *domains;       /* every verified domain (array of strings) */
};

struct sim_app {
	char *client_id;
	char *name;
	char *secret;          /* NULL for a public client */
	bool disabled;
	bool public_flows;     /* "Allow public client flows": device code and
				* its refreshes without a secret */
	json_t *redirect_uris; /* array of registered URIs */
	struct sim_tenant *tenant;
};

struct sim_user {
	uint32_t num;          /* index in world->users; mailbox number too */
	char oid[37];
	char *email;           /* UPN = primary SMTP address */
	char *name;
	char *password;
	struct sim_tenant *tenant;
	struct sim_mailbox *mbox;
	uint32_t grant_epoch;  /* bumped by revoke / password change */
	uint32_t token_epoch;  /* bumped by expire-tokens */
	json_t *consents;      /* {client_id: [canonical scope, ...]} */
};

/* A pending delivery of a sent message into a sim user's inbox. */
struct sim_delivery {
	int64_t due_ms;        /* time_mono_ms() when it becomes visible */
	struct sim_user *to;
	json_t *fields;        /* message content (owned) */
	json_t *attachments;   /* owned, may be NULL */
	char *mime;            /* owned raw MIME, may be NULL */
	size_t mime_len;
	struct sim_delivery *next;
};

struct sim_world {
	pthread_rwlock_t lock;       /* GETs share it, everything else is exclusive */
	int pending_deliveries;      /* atomic: deliveries queued */
	struct sim_config cfg;
	uint64_t seed;
	bool quiet;
	char base_url[256];          /* "http://127.0.0.1:PORT" (https with TLS) */
	char public_url[256];        /* --public-url, "" = links from Host */
	unsigned char id_key[32];    /* MAC key for ids and cursors */
	unsigned char jwt_key[32];   /* key of the pairwise `sub` hash */
	struct simtls_signer *signer;/* RS256 id_token key, made on first use
				      * (world_signer) */

	struct sim_tenant **tenants;
	size_t ntenants;
	struct sim_app **apps;
	size_t napps;
	struct sim_user **users;
	size_t nusers;
	struct sim_user *auto_approve;

	/* identity-platform state, see oauth_store.c */
	struct strmap codes, access, refresh, sessions, txns;
	struct strmap device_codes, user_codes;
	unsigned long store_ops;     /* drives periodic pruning */

	struct faults *faults;
	struct counters *counters;
	struct throttle *throttle;
	json_t *sent_log;            /* array, see GET /_sim/sent */
	struct sim_delivery *deliveries;
};

/* Create a world with default configuration and the default tenant, app
 * and users (adele, bob). `seed` drives deterministic content. Never NULL. */
struct sim_world *world_new(uint64_t seed);

/* Free everything the world owns. The server must be stopped. */
void world_free(struct sim_world *w);

/* Exclusive (write) lock, shared (read) lock, and release. Handlers that
 * change state run under the exclusive lock; read-only GETs share it. */
void world_lock(struct sim_world *w);
void world_rdlock(struct sim_world *w);
void world_unlock(struct sim_world *w);

/* Lookups (NULL when absent). Emails and domains compare case-insensitively;
 * users are also found by oid. */
struct sim_tenant *world_tenant(struct sim_world *w, const char *id_or_domain);
struct sim_app *world_app(struct sim_world *w, const char *client_id);
struct sim_user *world_user(struct sim_world *w, const char *email_or_oid);

/* Creation. Each returns the new object, or NULL with `why` filled when
 * the name is taken or invalid. Users get a mailbox with the well-known
 * folders. */
struct sim_tenant *world_add_tenant(struct sim_world *w, const char *domain,
				    const char *id, const char *name,
				    char *why, size_t whylen);
struct sim_app *world_add_app(struct sim_world *w, const char *client_id,
			      const char *name, const char *secret,
			      json_t *redirect_uris, struct sim_tenant *t,
			      char *why, size_t whylen);
struct sim_user *world_add_user(struct sim_world *w, struct sim_tenant *t,
				const char *email, const char *name,
				const char *password, char *why, size_t whylen);

/* True when `uri` is acceptable for `app`: registered exactly, or a loopback
 * http URI (127.0.0.1 / localhost / [::1], any port) when the app registered
 * any loopback URI. */
bool world_redirect_ok(const struct sim_app *app, const char *uri);

/* The id_token signing key, generated on first use (exclusive lock
 * held). NULL only if GnuTLS fails. */
struct simtls_signer *world_signer(struct sim_world *w);

/* Deliver messages whose delivery time has come (called with the lock held
 * at the start of every request). */
void world_run_deliveries(struct sim_world *w);

/* Configuration (config.c). */
void simcfg_defaults(struct sim_config *c);
/* Apply a JSON object of settings; unknown keys or bad values fail with a
 * message in `why` and change nothing. Returns 0 or -1. */
int simcfg_apply(struct sim_config *c, const json_t *obj, char *why,
		 size_t whylen);
/* Current settings as a new JSON object. */
json_t *simcfg_to_json(const struct sim_config *c);

#endif
