/*
 * account.h — operations on a mailbox account that need both the grant and
 * the mail server: connecting a driver with the account's token source,
 * completing an authorization (wrong-account guard on the id_token and
 * Graph /me, then storing the grant), Test & Confirm incoming/outgoing,
 * and stopping synchronization. Used by the CLI and the server alike.
 */
#ifndef INBOXSYNC_ACCOUNT_H
#define INBOXSYNC_ACCOUNT_H

#include <stdbool.h>
#include "inboxsync/auth.h"
#include "inboxsync/driver.h"

/* A driver for an account, with the token source it borrows. */
struct account_conn {
	struct auth_token_source source;
	struct driver *driver;
};

/* Connect `a` (its transport's driver over env->http). Needs the provider
 * (OAuth not configured otherwise). Does not contact the server yet. */
int account_connect(const struct auth_env *env, const struct store_account *a,
		    struct account_conn *out, struct err *e);
void account_disconnect(struct account_conn *c);

/* Finish an authorization with a fresh grant: check the signed-in identity
 * (id_token, and Graph /me for the Graph transport) against the account's
 * address, refuse a mailbox connected to another account, store the grant
 * and settings (state "authorized"), then run Test & Confirm incoming and
 * outgoing. On a wrong account nothing is stored. The test results are
 * recorded on the account; their failure does not fail this call. */
int account_complete_authorization(const struct auth_env *env,
				   struct store_account *a,
				   const struct auth_grant *g, struct err *e);

/* Test & Confirm incoming: the token works and the mailbox is readable
 * (/me and the folder list). Records confirmed / not_confirmed with the
 * error; a success moves an "authorized" account to "confirmed". */
int account_test_incoming(const struct auth_env *env, struct store_account *a,
			  struct err *e);

/* Test outgoing: proves send permission without sending mail to anyone.
 * Records ok / failed with the error. */
int account_test_outgoing(const struct auth_env *env, struct store_account *a,
			  struct err *e);

/* Stop synchronization (removes the grant, server settings and folder
 * mappings; mail stays unless `purge`). */
int account_stop(const struct auth_env *env, const struct store_account *a,
		 bool purge, struct err *e);

#endif
