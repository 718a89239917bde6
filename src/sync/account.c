/*
 * account.c — account operations that need the grant and the server:
 * connecting the account's transport's driver (through the registry),
 * completing an authorization with the wrong-account guard, Test &
 * Confirm, stop (see account.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/account.h"
#include "inboxsync/alloc.h"
#include "inboxsync/imap.h"
#include "inboxsync/log.h"
#include "inboxsync/provider.h"
#include "inboxsync/timeutil.h"
#include "inboxsync/vault.h"

/* The account's transport, or "unsupported" naming it. */
static const struct driver_transport *transport_of(const struct store_account *a,
						   struct err *e)
{
	const struct driver_transport *t = driver_transport_find(a->transport);

	if (!t)
		err_set(e, ERR_PERMANENT, "unsupported", "account '%s' uses an "
			"unknown transport '%s'", a->name, a->transport);
	return t;
}

/* Open the transport's driver for `a` with token source `auth`. */
static int open_driver(const struct auth_env *env, const struct store_account *a,
		       const struct store_provider *p, struct driver_auth auth,
		       struct driver **out, struct err *e)
{
	const struct driver_transport *t = transport_of(a, e);
	char imap[300], smtp[300];
	struct driver_endpoint ep = {
		.graph_url = a->graph_url[0] ? a->graph_url : p->graph_url,
		.imap_server = a->imap_server,
		.smtp_server = a->smtp_server,
		.user = a->identity[0] ? a->identity : a->email,
		.http = env->http,
		.auth = auth,
	};

	*out = NULL;
	if (!t)
		return -1;
	if (!t->open)
		return err_set(e, ERR_PERMANENT, "unsupported", "the %s transport "
			       "cannot sync mail in this version (authorization "
			       "and Test & Confirm work); use Microsoft Graph",
			       t->label);
	if (!a->imap_server[0]) {
		snprintf(imap, sizeof(imap), "%s:%d", p->imap_host, p->imap_port);
		ep.imap_server = imap;
	}
	if (!a->smtp_server[0]) {
		snprintf(smtp, sizeof(smtp), "%s:%d", p->smtp_host, p->smtp_port);
		ep.smtp_server = smtp;
	}
	return t->open(&ep, out, e);
}

int account_connect(const struct auth_env *env, const struct store_account *a,
		    struct account_conn *out, struct err *e)
{
	struct store_provider p;
	int rc;

	memset(out, 0, sizeof(*out));
	if (provider_require(env->store, a->transport, &p, e) < 0)
		return -1;
	out->source.env = *env;
	out->source.account_id = a->id;
	rc = open_driver(env, a, &p, (struct driver_auth){ auth_get_token, &out->source },
			 &out->driver, e);
	store_provider_clear(&p);
	return rc;
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

/* Who the fresh token belongs to, asked of the mailbox server itself
 * (Graph /me). Returns 1 with `me` filled, 0 when the transport cannot
 * say (the id_token alone decides then), -1 on error. */
static int server_identity(const struct auth_env *env, const struct store_account *a,
			   const char *access_token, struct driver_identity *me,
			   struct err *e)
{
	struct store_provider p;
	struct fixed_token fixed = { access_token };
	struct driver *d;
	int rc;

	if (provider_require(env->store, a->transport, &p, e) < 0)
		return -1;
	rc = open_driver(env, a, &p, (struct driver_auth){ fixed_get_token, &fixed },
			 &d, e);
	store_provider_clear(&p);
	if (rc < 0)
		return err_is(e, "unsupported") ? 0 : -1;
	rc = driver_whoami(d, me, e);
	driver_free(d);
	if (rc < 0)
		return err_is(e, "unsupported") ? 0 : -1;
	return 1;
}

int account_complete_authorization(const struct auth_env *env,
				   struct store_account *a,
				   const struct auth_grant *g, struct err *e)
{
	struct auth_grant checked = *g; /* shallow: identity may be completed */
	struct driver_identity me;
	const char *also = NULL;
	struct err test_err;
	int known;

	memset(&me, 0, sizeof(me));
	known = server_identity(env, a, g->tokens.access_token, &me, e);
	if (known < 0)
		return err_prefix(e, "checking the signed-in mailbox: ");
	if (known) {
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

/* Test & Confirm of the IMAP OAuth2 transport logs in to IMAP and SMTP
 * (the probes) rather than through a driver. */
static bool is_imap(const struct store_account *a)
{
	const struct driver_transport *t = driver_transport_find(a->transport);

	return t && strcmp(t->token_resource, OAUTH_RESOURCE_OUTLOOK) == 0;
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

/* What a failed test stores: what went wrong and, in plain words (the
 * account is shown to people without a shell too), what to do. */
static const char *error_with_fix(const struct err *e, char *out, size_t n)
{
	char fix[768];

	err_fix_text(e->fix, e->fix_arg, fix, sizeof(fix));
	snprintf(out, n, "%s%s%s", e->msg, fix[0] ? ". " : "", fix);
	return out;
}

static int count_folder(void *ctx, const struct mail_folder *f)
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
		store_set_incoming_status(env->store, a->id, STORE_INCOMING_CONFIRMED,
					  NULL, time_now(), &se);
		if (a->state == STORE_STATE_AUTHORIZED) {
			char reason[512];
			long long selected = 0;

			store_count_selected_folders(env->store, a->id, &selected, &se);
			if (selected)
				snprintf(reason, sizeof(reason), "Incoming confirmed "
					 "(%ld folders readable); synchronization of the "
					 "%lld selected folders resumes.", folders, selected);
			else
				snprintf(reason, sizeof(reason), "Incoming confirmed "
					 "(%ld folders readable). Next: fetch and select "
					 "folders, then sync.", folders);
			store_set_account_state(env->store, a->id, STORE_STATE_CONFIRMED,
						reason, selected ? FIX_NONE : FIX_FETCH_FOLDERS,
						a->name, &se);
		}
	} else {
		char why[1400];

		store_set_incoming_status(env->store, a->id, STORE_INCOMING_NOT_CONFIRMED,
					  error_with_fix(e, why, sizeof(why)), 0, &se);
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
	char why[1400];

	store_set_outgoing_status(env->store, a->id, rc == 0 ? STORE_OUTGOING_OK
				  : STORE_OUTGOING_FAILED,
				  rc == 0 ? NULL : error_with_fix(e, why, sizeof(why)), &se);
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
