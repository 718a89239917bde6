/*
 * routes.c — the route table: every path the server answers, who may call
 * it and which handler answers. Dispatch (httpd.c), `serve --routes` and
 * the OpenAPI test all read this one table, so a route cannot exist
 * without being documented and checked. Matching splits the raw path on
 * '/' and decodes each segment on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <microhttpd.h>
#include "inboxsync/alloc.h"
#include "inboxsync/outbox.h"
#include "server/server_internal.h"

#define H(name) int name(struct request *rq)
H(api_openapi); H(api_healthz); H(api_metrics); H(api_oauth_callback);
H(api_session_create); H(api_session_delete); H(api_me);
H(api_users_list); H(api_users_create); H(api_users_update); H(api_users_delete);
H(api_tokens_list); H(api_tokens_create); H(api_tokens_delete);
H(api_provider_get); H(api_provider_put); H(api_provider_check);
H(api_accounts_list); H(api_accounts_create); H(api_account_get);
H(api_account_update); H(api_account_delete); H(api_account_authorize);
H(api_account_test); H(api_account_stop); H(api_account_sync);
H(api_account_diagnostics);
H(api_folders_fetch); H(api_folders_list); H(api_folder_update);
H(api_messages_list); H(api_message_get); H(api_message_update); H(api_message_delete);
H(api_send); H(api_outbox_list); H(api_outbox_retry); H(api_outbox_delete);
H(api_changes); H(api_webhooks_list); H(api_webhooks_create); H(api_webhook_get);
H(api_webhook_update); H(api_webhook_delete); H(api_webhook_deliveries);
#undef H

/* A send carries its attachments base64-encoded: the message limit, a
 * third more, and room for the rest of the document. */
#define SEND_BODY_MAX (OUTBOX_MAX_MESSAGE / 3 * 4 + ((size_t)1 << 20))

#define A "/api/v1"
#define ACC A "/accounts/{id}"

const struct route server_routes[] = {
	{ "GET", "/healthz", WHO_ANYONE, api_healthz, 0, ROUTE_RAW, "Health of this node" },
	{ "GET", "/metrics", WHO_ANYONE, api_metrics, 0, ROUTE_RAW, "Prometheus metrics" },
	{ "GET", "/oauth/callback", WHO_ANYONE, api_oauth_callback, 0, ROUTE_RAW,
	  "Microsoft's redirect after sign-in (the redirect URI to register)" },
	{ "GET", A "/openapi.json", WHO_ANYONE, api_openapi, 0, ROUTE_RAW, "This API's OpenAPI 3.1 document" },
	{ "POST", A "/session", WHO_ANYONE, api_session_create, 0, ROUTE_NO_CSRF, "Sign in (web UI)" },
	{ "DELETE", A "/session", WHO_USER, api_session_delete, 0, 0, "Sign out" },
	{ "GET", A "/me", WHO_USER, api_me, 0, 0, "Who is calling" },
	{ "GET", A "/provider", WHO_ADMIN, api_provider_get, 0, 0, "Provider settings" },
	{ "PUT", A "/provider", WHO_ADMIN, api_provider_put, 0, 0, "Change the provider settings" },
	{ "POST", A "/provider/check", WHO_ADMIN, api_provider_check, 0, 0, "Check the app registration" },
	{ "GET", A "/users", WHO_ADMIN, api_users_list, 0, 0, "List users" },
	{ "POST", A "/users", WHO_ADMIN, api_users_create, 0, 0, "Add a user" },
	{ "PATCH", A "/users/{username}", WHO_ADMIN, api_users_update, 0, 0, "Set a user's password" },
	{ "DELETE", A "/users/{username}", WHO_ADMIN, api_users_delete, 0, 0, "Remove a user and all they own" },
	{ "GET", A "/tokens", WHO_USER, api_tokens_list, 0, 0, "List your API tokens" },
	{ "POST", A "/tokens", WHO_USER, api_tokens_create, 0, 0, "Create an API token" },
	{ "DELETE", A "/tokens/{id}", WHO_USER, api_tokens_delete, 0, 0, "Revoke an API token" },
	{ "GET", A "/accounts", WHO_USER, api_accounts_list, 0, 0, "List your mailbox accounts" },
	{ "POST", A "/accounts", WHO_USER, api_accounts_create, 0, 0, "Create a mailbox account" },
	{ "GET", ACC, WHO_OWNER, api_account_get, 0, 0, "One account" },
	{ "PATCH", ACC, WHO_OWNER, api_account_update, 0, 0, "Change an account" },
	{ "DELETE", ACC, WHO_OWNER, api_account_delete, 0, 0, "Remove an account and everything local" },
	{ "POST", ACC "/authorize", WHO_OWNER, api_account_authorize, 0, 0, "Start authorizing with Microsoft" },
	{ "POST", ACC "/test", WHO_OWNER, api_account_test, 0, 0, "Test & Confirm incoming and outgoing" },
	{ "POST", ACC "/stop", WHO_OWNER, api_account_stop, 0, 0, "Stop synchronization" },
	{ "POST", ACC "/sync", WHO_OWNER, api_account_sync, 0, 0, "Sync this account now" },
	{ "GET", ACC "/diagnostics", WHO_OWNER, api_account_diagnostics, 0, 0,
	  "Recent errors, polls, token expiry and lease" },
	{ "POST", ACC "/folders/fetch", WHO_OWNER, api_folders_fetch, 0, 0, "Read the folder tree from the server" },
	{ "GET", ACC "/folders", WHO_OWNER, api_folders_list, 0, 0, "List folders" },
	{ "PATCH", ACC "/folders/{folder_id}", WHO_OWNER, api_folder_update, 0, 0, "Select a folder or map its role" },
	{ "GET", ACC "/messages", WHO_OWNER, api_messages_list, 0, 0, "A page of messages, newest first" },
	{ "GET", ACC "/messages/{message_id}", WHO_OWNER, api_message_get, 0, 0, "One message with its body" },
	{ "PATCH", ACC "/messages/{message_id}", WHO_OWNER, api_message_update, 0, 0,
	  "Mark read or unread, or move (written to the mailbox)" },
	{ "DELETE", ACC "/messages/{message_id}", WHO_OWNER, api_message_delete, 0, 0, "Move to Deleted Items" },
	{ "POST", ACC "/send", WHO_OWNER, api_send, SEND_BODY_MAX, 0, "Send a message" },
	{ "GET", ACC "/outbox", WHO_OWNER, api_outbox_list, 0, 0, "The outbox" },
	{ "POST", ACC "/outbox/{key}/retry", WHO_OWNER, api_outbox_retry, 0, 0, "Retry a failed send" },
	{ "DELETE", ACC "/outbox/{key}", WHO_OWNER, api_outbox_delete, 0, 0, "Remove an outbox entry" },
	{ "GET", A "/changes", WHO_USER, api_changes, 0, 0, "The change feed (long poll with wait)" },
	{ "GET", A "/webhooks", WHO_USER, api_webhooks_list, 0, 0, "List your webhooks" },
	{ "POST", A "/webhooks", WHO_USER, api_webhooks_create, 0, 0, "Create a webhook" },
	{ "GET", A "/webhooks/{id}", WHO_USER, api_webhook_get, 0, 0, "One webhook" },
	{ "PATCH", A "/webhooks/{id}", WHO_USER, api_webhook_update, 0, 0, "Change or re-enable a webhook" },
	{ "DELETE", A "/webhooks/{id}", WHO_USER, api_webhook_delete, 0, 0, "Remove a webhook" },
	{ "GET", A "/webhooks/{id}/deliveries", WHO_USER, api_webhook_deliveries, 0, 0,
	  "The webhook's delivery log" },
};

const size_t server_routes_count = sizeof(server_routes) / sizeof(server_routes[0]);

/* The next '/'-separated segment of *p (advanced past it). */
static size_t next_segment(const char **p, const char **seg)
{
	size_t n;

	if (**p == '/')
		(*p)++;
	*seg = *p;
	n = strcspn(*p, "/");
	*p += n;
	return n;
}

/* Does `path` fit `pattern`? Parameters are decoded into `values`. */
static bool fits(const char *pattern, const char *path, const char **names,
		 char **values, size_t *n)
{
	const char *pp = pattern, *rp = path;

	*n = 0;
	while (*pp || *rp) {
		const char *ps, *rs;
		size_t pn = next_segment(&pp, &ps), rn = next_segment(&rp, &rs);

		if (pn == 0 && rn == 0 && !*pp && !*rp)
			break;
		if (pn && ps[0] == '{') {
			char *v;

			if (rn == 0 || *n == SERVER_MAX_PARAMS)
				goto no;
			v = xstrndup(rs, rn);
			if (MHD_http_unescape(v) != strlen(v) || !*v) {
				free(v);
				goto no;
			}
			names[*n] = ps + 1; /* "name}..." — compared up to '}' by rq_param */
			values[(*n)++] = v;
			continue;
		}
		if (pn != rn || strncmp(ps, rs, pn) != 0)
			goto no;
	}
	return true;
no:
	for (size_t i = 0; i < *n; i++)
		free(values[i]);
	*n = 0;
	return false;
}

/* Parameter names as NUL-terminated strings ("id", "message_id"). */
static const char *param_name(const char *at)
{
	static const char *const known[] = { "id", "folder_id", "message_id", "key",
					     "username" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		size_t n = strlen(known[i]);

		if (strncmp(at, known[i], n) == 0 && at[n] == '}')
			return known[i];
	}
	return "?";
}

const struct route *route_match(const char *method, const char *path,
				const char **names, char **values, size_t *n,
				bool *path_known)
{
	*path_known = false;
	*n = 0;
	for (size_t i = 0; i < server_routes_count; i++) {
		const struct route *r = &server_routes[i];

		if (!fits(r->pattern, path, names, values, n))
			continue;
		for (size_t k = 0; k < *n; k++)
			names[k] = param_name(names[k]);
		if (strcmp(r->method, method) == 0)
			return r;
		*path_known = true;
		for (size_t k = 0; k < *n; k++)
			free(values[k]);
		*n = 0;
	}
	return NULL;
}

static const char *who_name(enum route_who w)
{
	static const char *const names[] = { "anyone", "user", "admin", "owner" };

	return names[w];
}

void server_print_routes(FILE *out)
{
	for (size_t i = 0; i < server_routes_count; i++) {
		const struct route *r = &server_routes[i];
		json_t *doc = json_pack("{s:s,s:s,s:s,s:s}", "method", r->method,
					"path", r->pattern, "who", who_name(r->who),
					"summary", r->summary);
		char *line = json_dumps(doc, JSON_COMPACT);

		fprintf(out, "%s\n", line);
		free(line);
		json_decref(doc);
	}
}
