/*
 * account.c — account operations that need the grant and the server:
 * connecting a driver, completing an authorization with the wrong-account
 * guard, Test & Confirm, stop (see account.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/account.h"
#include "inboxsync/alloc.h"
#include "inboxsync/graph.h"
#include "inboxsync/imap.h"
#include "inboxsync/log.h"
#include "inboxsync/provider.h"
#include "inboxsync/timeutil.h"
#include "inboxsync/vault.h"

int account_connect(const struct auth_env *env, const struct store_account *a,
		    struct account_conn *out, struct err *e)
{
	struct store_provider p;
	struct graph_config cfg = { 0 };

	memset(out, 0, sizeof(*out));
	if (provider_require(env->store, a->transport, &p, e) < 0)
		return -1;
	if (strcmp(a->transport, "graph") != 0) {
		store_provider_clear(&p);
		return err_set(e, ERR_PERMANENT, "unsupported",
			       "the %s transport cannot sync mail in this version; "
			       "use the graph transport",
			       provider_transport_label(a->transport));
	}
	out->source.env = *env;
	out->source.account_id = a->id;
	cfg.base_url = a->graph_url[0] ? a->graph_url : p.graph_url;
	cfg.http = env->http;
	cfg.auth.get_token = auth_get_token;
	cfg.auth.ctx = &out->source;
	out->driver = graph_driver_new(&cfg);
	store_provider_clear(&p);
	return 0;
}

void account_disconnect(struct account_conn *c)
{
	driver_free(c->driver);
	memset(c, 0, sizeof(*c));
}

/* A token source that hands out one fixed token (a grant not stored yet). */
struct fixed_token {
	const char *token;
};

static int fixed_get_token(void *ctx, const char *resource, const char *rejected,
			   char **token, struct err *e)
{
	const struct fixed_token *f = ctx;

	(void)resource;
	if (rejected)
		return err_set(e, ERR_AUTH, "auth_required",
			       "the new access token was rejected by Microsoft Graph");
	*token = xstrdup(f->token);
	return 0;
}

/* Graph /me with the fresh token: the mailbox's own address. */
static int graph_identity(const struct auth_env *env, const struct store_account *a,
			  const char *access_token, struct driver_identity *me,
			  struct err *e)
{
	struct store_provider p;
	struct fixed_token fixed = { access_token };
	struct graph_config cfg = { 0 };
	struct driver *d;
	int rc;

	if (provider_require(env->store, a->transport, &p, e) < 0)
		return -1;
	cfg.base_url = p.graph_url;
	cfg.http = env->http;
	cfg.auth.get_token = fixed_get_token;
	cfg.auth.ctx = &fixed;
	d = graph_driver_new(&cfg);
	rc = driver_whoami(d, me, e);
	driver_free(d);
	store_provider_clear(&p);
	return rc;
}

int account_complete_authorization(const struct auth_env *env,
				   struct store_account *a,
				   const struct auth_grant *g, struct err *e)
{
	struct auth_grant checked = *g; /* shallow: identity may be completed */
	struct driver_identity me;
	const char *also = NULL;
	struct err test_err;

	memset(&me, 0, sizeof(me));
	if (strcmp(a->transport, "graph") == 0) {
		if (graph_identity(env, a, g->tokens.access_token, &me, e) < 0)
			return err_prefix(e, "checking the signed-in mailbox: ");
		also = me.address;
		/* /me is authoritative for the mailbox (and says who it is when
		 * the id_token did not): compare both its address and its UPN. */
		if (!checked.identity.oid[0])
			str_copy(checked.identity.oid, sizeof(checked.identity.oid),
				 me.object_id);
		if (!checked.identity.name[0])
			str_copy(checked.identity.name, sizeof(checked.identity.name),
				 me.display_name);
		if (auth_check_identity(a, &checked.identity, me.address, e) < 0 &&
		    auth_check_identity(a, &checked.identity, me.user_principal_name, e) < 0)
			return -1;
	} else if (auth_check_identity(a, &checked.identity, NULL, e) < 0) {
		return -1;
	}
	if (auth_store_grant(env, a, &checked, me.display_name, also, e) < 0)
		return -1;
	account_test_incoming(env, a, &test_err);
	account_test_outgoing(env, a, &test_err);
	return 0;
}

static bool is_imap(const struct store_account *a)
{
	return strcmp(a->transport, "imap") == 0;
}

/* IMAP OAuth2 Test & Confirm: an XOAUTH2 login to IMAP (counting folders
 * into *n_folders) or, with `smtp`, to SMTP submission, at the account's
 * server (the provider's before the first authorization filled it in),
 * with the account's outlook.office.com token. A refused login is tried
 * once more with a freshly refreshed token: the cached one may have been
 * revoked or expired early, and a refresh that fails definitively counts
 * toward auth_invalid and says how to recover. */
static int imap_test_login(const struct auth_env *env, const struct store_account *a,
			   bool smtp, int *n_folders, struct err *e)
{
	struct auth_token_source source = { .env = *env, .account_id = a->id };
	struct store_provider p;
	char host[256];
	char *token = NULL, *refused = NULL;
	int port, rc = -1;

	if (provider_require(env->store, a->transport, &p, e) < 0)
		return -1;
	if (imap_parse_server(smtp ? a->smtp_server : a->imap_server,
			      smtp ? p.smtp_host : p.imap_host,
			      smtp ? p.smtp_port : p.imap_port, host, sizeof(host),
			      &port, e) < 0)
		goto out;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (auth_get_token(&source, OAUTH_RESOURCE_OUTLOOK, refused,
				   &token, e) < 0) {
			if (attempt > 0)
				err_prefix(e, "the %s server refused the access token "
					   "and getting a new one failed: ",
					   smtp ? "SMTP" : "IMAP");
			rc = -1;
			break;
		}
		rc = smtp ? smtp_probe_login(host, port, a->email, token, e)
			  : imap_probe_login(host, port, a->email, token, n_folders, e);
		vault_free_plain(refused);
		refused = token; /* refused if the login failed; freed below */
		token = NULL;
		if (rc == 0 || e->class != ERR_AUTH)
			break;
	}
	vault_free_plain(refused);
out:
	store_provider_clear(&p);
	return rc;
}

static int count_folder(void *ctx, const struct driver_folder *f)
{
	(void)f;
	(*(long *)ctx)++;
	return 0;
}

int account_test_incoming(const struct auth_env *env, struct store_account *a,
			  struct err *e)
{
	struct account_conn c;
	struct driver_identity me;
	long folders = 0;
	int rc = -1;
	struct err se;

	if (is_imap(a)) {
		int n = 0;

		rc = imap_test_login(env, a, false, &n, e);
		folders = n;
		goto record;
	}
	if (account_connect(env, a, &c, e) < 0)
		goto record;
	if (driver_whoami(c.driver, &me, e) == 0 &&
	    driver_list_folders(c.driver, count_folder, &folders, e) == 0)
		rc = 0;
	account_disconnect(&c);
record:
	if (rc == 0) {
		store_set_incoming_status(env->store, a->id, "confirmed", NULL, 0, &se);
		if (strcmp(a->state, STORE_STATE_AUTHORIZED) == 0) {
			char reason[512];

			snprintf(reason, sizeof(reason),
				 "Incoming confirmed (%ld folders readable). Next: "
				 "'inboxsync folders fetch %s', select folders, then sync.",
				 folders, a->name);
			store_set_account_state(env->store, a->id, STORE_STATE_CONFIRMED,
						reason, &se);
		}
	} else {
		store_set_incoming_status(env->store, a->id, "not_confirmed", e->msg, 0, &se);
	}
	return rc;
}

int account_test_outgoing(const struct auth_env *env, struct store_account *a,
			  struct err *e)
{
	struct account_conn c;
	struct err se;
	int rc = -1;

	if (is_imap(a))
		rc = imap_test_login(env, a, true, NULL, e);
	else if (account_connect(env, a, &c, e) == 0) {
		rc = driver_test_send(c.driver, e);
		account_disconnect(&c);
	}
	store_set_outgoing_status(env->store, a->id, rc == 0 ? "ok" : "failed",
				  rc == 0 ? NULL : e->msg, &se);
	return rc;
}

int account_stop(const struct auth_env *env, const struct store_account *a,
		 bool purge, struct err *e)
{
	char reason[512];

	snprintf(reason, sizeof(reason),
		 "Synchronization stopped: the OAuth grant, server settings and "
		 "folder mappings were removed%s. Authorize again to resume.",
		 purge ? " and synced mail purged" : "; synced mail is kept");
	if (store_stop_account(env->store, a->id, purge, reason, e) < 0)
		return -1;
	log_info("account", "account %s stopped%s", a->name, purge ? " (purged)" : "");
	return 0;
}
