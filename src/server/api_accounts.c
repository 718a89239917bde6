/*
 * api_accounts.c — mailbox accounts over the API: list, create, show,
 * change, remove; authorize (the URL the browser goes to, and
 * /oauth/callback where Microsoft sends it back), Test & Confirm, stop,
 * sync now, and diagnostics. Ownership was checked before a handler runs
 * (WHO_OWNER: rq->account is the caller's); the rules are the service's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/http.h"
#include "inboxsync/log.h"
#include "inboxsync/timeutil.h"
#include "server/server_internal.h"

int api_accounts_list(struct request *rq);
int api_accounts_create(struct request *rq);
int api_account_get(struct request *rq);
int api_account_update(struct request *rq);
int api_account_delete(struct request *rq);
int api_account_authorize(struct request *rq);
int api_account_test(struct request *rq);
int api_account_stop(struct request *rq);
int api_account_sync(struct request *rq);
int api_account_diagnostics(struct request *rq);
int api_oauth_callback(struct request *rq);

static int reply_account(struct request *rq, int status, const struct store_account *a)
{
	return rq_reply(rq, status, service_account_json(rq->env, a));
}

int api_accounts_list(struct request *rq)
{
	struct store_account *list;
	json_t *arr;
	size_t n;

	if (service_account_list(rq->env, &rq->actor, &list, &n, &rq->err) < 0)
		return -1;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, service_account_json(rq->env, &list[i]));
	free(list);
	return rq_reply(rq, 200, json_pack("{s:o}", "accounts", arr));
}

int api_accounts_create(struct request *rq)
{
	struct service_account_new in = { 0 };
	struct store_account a;
	char notice[256];

	if (rq_body_string(rq, "name", true, &in.name) < 0 ||
	    rq_body_string(rq, "email", true, &in.email) < 0 ||
	    rq_body_string(rq, "sender_name", false, &in.sender_name) < 0 ||
	    rq_body_string(rq, "transport", false, &in.transport) < 0 ||
	    rq_body_string(rq, "owner", false, &in.owner) < 0)
		return -1;
	if (service_account_add(rq->env, &rq->actor, &in, &a, notice, &rq->err) < 0)
		return -1;
	reply_account(rq, 201, &a);
	if (notice[0])
		json_object_set_new(rq->out, "notice", json_string(notice));
	return 0;
}

int api_account_get(struct request *rq)
{
	return reply_account(rq, 200, &rq->account);
}

int api_account_update(struct request *rq)
{
	const char *sender;

	if (rq_body_string(rq, "sender_name", false, &sender) < 0 ||
	    service_account_update(rq->env, &rq->account, sender, &rq->err) < 0)
		return -1;
	return reply_account(rq, 200, &rq->account);
}

int api_account_delete(struct request *rq)
{
	if (service_account_remove(rq->env, &rq->account, &rq->err) < 0)
		return -1;
	return rq_reply(rq, 204, NULL);
}

/* Where the browser may be sent after signing in: a path of this server,
 * or a URL under its public URL (never elsewhere: an open redirect). */
static bool return_to_ok(const struct server *srv, const char *to)
{
	size_t n = strlen(srv->public_url);

	if (strpbrk(to, "\\\r\n") || strlen(to) >= 500)
		return false;
	if (to[0] == '/' && to[1] != '/')
		return true;
	return strncmp(to, srv->public_url, n) == 0 && (to[n] == '/' || to[n] == '\0');
}

int api_account_authorize(struct request *rq)
{
	const char *return_to;
	char *url = NULL;

	if (rq_body_string(rq, "return_to", false, &return_to) < 0)
		return -1;
	if (return_to && *return_to && !return_to_ok(rq->srv, return_to))
		return rq_bad(rq, "'return_to' must be a path of this server or a URL "
			      "under %s", rq->srv->public_url);
	if (service_authorize_begin(rq->env, &rq->account, rq->srv->redirect_uri,
				    return_to, &url, &rq->err) < 0)
		return -1;
	rq_reply(rq, 200, json_pack("{s:s,s:s}", "authorization_url", url,
				    "redirect_uri", rq->srv->redirect_uri));
	free(url);
	return 0;
}

static json_t *test_json(const struct store_account *a)
{
	return json_pack("{s:{s:s,s:o,s:o},s:{s:s,s:o}}",
			 "incoming", "status", store_incoming_name(a->incoming_status),
			 "last_fetch_at", service_time_json(a->incoming_last_fetch_at),
			 "last_error", a->incoming_error[0] ? json_string(a->incoming_error)
							    : json_null(),
			 "outgoing", "status", store_outgoing_name(a->outgoing_status),
			 "last_error", a->outgoing_error[0] ? json_string(a->outgoing_error)
							    : json_null());
}

int api_account_test(struct request *rq)
{
	struct store_account *a = &rq->account;
	int incoming, outgoing, rc;
	json_t *doc;

	if (rq_body_bool(rq, "incoming", &incoming) < 0 ||
	    rq_body_bool(rq, "outgoing", &outgoing) < 0)
		return -1;
	if (incoming < 0 && outgoing < 0)
		incoming = outgoing = 1;
	rc = service_account_test(rq->env, a, incoming == 1, outgoing == 1, &rq->err);
	/* A failed test is a result; only a missing grant is an error. */
	if (rc < 0 && (err_is(&rq->err, "auth_required") || err_is(&rq->err, "auth_invalid") ||
		       err_is(&rq->err, "oauth_not_configured") || rq->err.class == ERR_THROTTLED))
		return -1;
	err_clear(&rq->err);
	doc = test_json(a);
	json_object_set_new(doc, "ok", json_boolean(rc == 0));
	return rq_reply(rq, 200, doc);
}

int api_account_stop(struct request *rq)
{
	int purge;

	if (rq_body_bool(rq, "purge", &purge) < 0 ||
	    service_account_stop(rq->env, &rq->account, purge == 1, &rq->err) < 0)
		return -1;
	return reply_account(rq, 200, &rq->account);
}

int api_account_sync(struct request *rq)
{
	char id[24];

	if (service_account_sync_now(rq->env, &rq->account, &rq->err) < 0)
		return -1;
	server_poke_sync(rq->srv);
	snprintf(id, sizeof(id), "%lld", (long long)rq->account.id);
	return rq_reply(rq, 202, json_pack("{s:s,s:b}", "account_id", id, "queued", 1));
}

/* Microsoft's request id of an error: as stored, else as the message
 * names it ("... (request-id ID)"), else null. */
static json_t *request_id_of(const struct store_account_error *ae)
{
	const char *at = strstr(ae->message, "request-id ");
	size_t n;

	if (ae->request_id[0])
		return json_string(ae->request_id);
	if (!at)
		return json_null();
	at += strlen("request-id ");
	n = strcspn(at, ") ,;");
	return n && n < 80 ? json_stringn(at, n) : json_null();
}

static json_t *diagnostics_errors(struct request *rq)
{
	struct store_account_error *list = NULL;
	json_t *arr = json_array();
	struct err e;
	size_t n = 0;

	err_clear(&e);
	if (store_list_account_errors(rq->env->store, rq->account.id, 20, &list, &n, &e) < 0)
		return arr;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:o,s:s,s:s,s:s,s:o}", "at",
				      service_time_json(list[i].at), "class", list[i].class_name,
				      "code", list[i].code, "message", list[i].message,
				      "request_id", request_id_of(&list[i])));
	free(list);
	return arr;
}

static json_t *diagnostics_folders(struct request *rq)
{
	const struct store_account *a = &rq->account;
	struct store_folder *list = NULL;
	json_t *arr = json_array();
	int64_t next = a->next_due_at > time_now() ? a->next_due_at : time_now();
	struct err e;
	size_t n = 0;

	err_clear(&e);
	if (store_list_folders(rq->env->store, a->id, false, &list, &n, &e) < 0)
		return arr;
	for (size_t i = 0; i < n; i++) {
		const struct store_folder *f = &list[i];

		json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:s,s:o,s:o,s:i}",
				      "id", f->remote_id, "path", f->path, "selected", f->selected,
				      "phase", store_phase_name(f->phase),
				      "last_poll_at", service_time_json(f->last_sync_at),
				      "next_poll_at", f->selected && a->authorized_at
				      ? service_time_json(next) : json_null(),
				      "resyncs", f->resync_count));
	}
	store_folder_list_free(list, n);
	return arr;
}

static json_t *diagnostics_token(struct request *rq)
{
	struct store_credentials c;
	char *sealed = NULL;
	int64_t expires = 0;
	struct err e;
	json_t *doc;

	err_clear(&e);
	if (store_get_credentials(rq->env->store, rq->account.id, &c, &e) != 1)
		return json_null();
	if (store_get_access_token(rq->env->store, rq->account.id, "graph", &sealed,
				   &expires, &e) != 1)
		expires = 0;
	free(sealed);
	doc = json_pack("{s:o,s:o,s:o,s:s}",
			"access_token_expires_at", service_time_json(expires),
			"refresh_token_updated_at", service_time_json(c.updated_at),
			"refresh_token_used_at", service_time_json(c.used_at),
			"scope", c.scope ? c.scope : "");
	store_credentials_clear(&c);
	return doc;
}

static json_t *diagnostics_lease(struct request *rq)
{
	struct store_lease l;
	struct err e;

	err_clear(&e);
	if (store_get_lease(rq->env->store, rq->account.id, &l, &e) < 0 || !l.holder[0])
		return json_null();
	return json_pack("{s:s,s:o}", "node", l.holder, "expires_at",
			 service_time_json(l.expires_at));
}

int api_account_diagnostics(struct request *rq)
{
	const struct store_account *a = &rq->account;
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)a->id);
	return rq_reply(rq, 200, json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:{s:o,s:o,s:i}}",
			"account_id", id, "state", store_state_name(a->state),
			"errors", diagnostics_errors(rq), "folders", diagnostics_folders(rq),
			"token", diagnostics_token(rq), "lease", diagnostics_lease(rq),
			"schedule", "next_due_at", service_time_json(a->next_due_at ? a->next_due_at
								: time_now()),
			"throttled_until", a->throttled_until > time_now()
					   ? service_time_json(a->throttled_until) : json_null(),
			"backoff_s", a->backoff_s));
}

/* ---- /oauth/callback ---------------------------------------------------------- */

/* Text for HTML: the characters that matter escaped. */
static void html_text(struct buf *b, const char *s)
{
	static const char *const rep[256] = {
		['<'] = "&lt;", ['>'] = "&gt;", ['&'] = "&amp;", ['"'] = "&quot;",
		['\''] = "&#39;",
	};

	for (; *s; s++) {
		const char *r = rep[(unsigned char)*s];

		if (r)
			buf_puts(b, r, NULL);
		else
			buf_append(b, s, 1, NULL);
	}
}

static void callback_page(struct request *rq, bool ok, const struct store_account *a,
			  const struct err *e)
{
	struct buf b;

	buf_init(&b, 64 * 1024);
	buf_puts(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		 "<title>inboxsync</title></head><body><h1>", NULL);
	html_text(&b, ok ? "Mailbox authorized" : "Not authorized");
	buf_puts(&b, "</h1><p>", NULL);
	if (ok) {
		buf_puts(&b, "The mailbox ", NULL);
		html_text(&b, a->email);
		buf_puts(&b, " (account ", NULL);
		html_text(&b, a->name);
		buf_puts(&b, ") is connected; synchronization starts now.", NULL);
	} else {
		char fix[768];

		html_text(&b, e->msg);
		err_fix_text(e->fix, e->fix_arg, fix, sizeof(fix));
		if (fix[0]) {
			buf_puts(&b, "</p><p>", NULL);
			html_text(&b, fix);
		}
	}
	buf_puts(&b, "</p><p>You can close this page.</p></body></html>\n", NULL);
	rq->status = ok ? 200 : 400;
	rq->raw_out = buf_detach(&b, &rq->raw_out_len);
	rq->raw_type = "text/html; charset=utf-8";
}

/* Send the browser back where the authorize call asked, saying how it
 * ended in the query. */
static void callback_redirect(struct request *rq, const char *to, bool ok,
			      const struct store_account *a, const struct err *e)
{
	char *msg = http_escape(ok ? "" : e->msg);
	char *code = http_escape(ok ? "" : e->code);
	const char *sep = strchr(to, '?') ? "&" : "?";
	struct buf b;

	buf_init(&b, sizeof(rq->location) - 1);
	if (ok)
		buf_printf(&b, NULL, "%s%sauthorized=1&account_id=%lld", to, sep, (long long)a->id);
	else if (buf_printf(&b, NULL, "%s%sauthorized=0&account_id=%lld&error=%s&message=%s",
			    to, sep, (long long)a->id, code, msg) < 0)
		buf_printf(&b, NULL, "%s%sauthorized=0&account_id=%lld&error=%s", to, sep,
			   (long long)a->id, code); /* the account's last_error says more */
	str_copy(rq->location, sizeof(rq->location), buf_str(&b));
	buf_free(&b);
	free(msg);
	free(code);
	rq->status = 303;
	rq->raw_out = xstrdup("");
	rq->raw_out_len = 0;
	rq->raw_type = "text/plain; charset=utf-8";
}

int api_oauth_callback(struct request *rq)
{
	struct store_account a;
	char return_to[512];
	struct err e;
	int rc;

	memset(&a, 0, sizeof(a));
	err_clear(&e);
	rc = service_authorize_finish(rq->env, NULL, rq_query(rq, "state"),
				      rq_query(rq, "code"), rq_query(rq, "error"),
				      rq_query(rq, "error_description"), &a, return_to, &e);
	if (rc == 0) {
		log_info("http", "%s: account %lld authorized", rq->request_id, (long long)a.id);
		server_poke_sync(rq->srv);
	} else {
		log_info("http", "%s: authorization did not complete: %s", rq->request_id, e.msg);
	}
	if (return_to[0] && a.id)
		callback_redirect(rq, return_to, rc == 0, &a, &e);
	else
		callback_page(rq, rc == 0, &a, &e);
	return 0;
}
