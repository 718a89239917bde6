/*
 * service_render.c — the shared objects of INTERFACE.md as JSON: ACCOUNT,
 * FOLDER, MESSAGE, outbox entries, EVENT and errors. The CLI's --json and
 * the REST API both print these, so they cannot drift apart. Times are
 * RFC 3339 UTC, ids are strings, absent values are null.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "inboxsync/alloc.h"
#include "inboxsync/provider.h"
#include "inboxsync/service.h"
#include "inboxsync/timeutil.h"

json_t *service_time_json(int64_t t)
{
	char buf[TIME_RFC3339_LEN];

	if (!t)
		return json_null();
	time_format_rfc3339(t, buf);
	return json_string(buf);
}

json_t *service_text_json(const char *s)
{
	json_t *v;

	if (!s)
		return json_null();
	v = json_string(s);
	if (v)
		return v;
	{
		/* Invalid UTF-8: keep the ASCII, mark the rest. */
		size_t n = strlen(s);
		char *clean = xmalloc(n * 3 + 1), *o = clean;

		for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
			if (*p < 0x80) {
				*o++ = (char)*p;
			} else {
				memcpy(o, "\xef\xbf\xbd", 3);
				o += 3;
			}
		}
		*o = '\0';
		v = json_string(clean);
		free(clean);
		return v ? v : json_string("");
	}
}

/* The local name: every shared object writes its strings this way. */
static json_t *text(const char *s)
{
	return service_text_json(s);
}

static json_t *id_string(int64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)id);
	return json_string(buf);
}

json_t *service_error_json(const struct err *e)
{
	char fix[768];

	err_fix_text(e->fix, e->fix_arg, fix, sizeof(fix));
	return json_pack("{s:s,s:o,s:s,s:s}",
			 "code", e->code[0] ? e->code : err_class_name(e->class),
			 "message", text(e->msg), "fix", fix,
			 "fix_code", err_fix_name(e->fix));
}

/* The provider's view of an account: NULL when it can work, else the
 * problem (what "OAuth not configured" means for it right now). */
static int provider_problem(const struct auth_env *env, const struct store_account *a,
			    struct err *why)
{
	struct store_provider p;
	int rc = provider_require(env->store, a->transport, &p, why);

	if (rc < 0)
		return 1;
	if (p.problem_code[0]) {
		err_set(why, ERR_PERMANENT, "oauth_not_configured", "%s", p.problem);
		err_set_fix(why, FIX_CONFIGURE_PROVIDER, "see the provider check");
		store_provider_clear(&p);
		return 1;
	}
	store_provider_clear(&p);
	return 0;
}

/* Early warnings about an account (before anything fails): the client
 * secret nearing the expiry date the administrator entered, and a grant
 * Microsoft will let lapse because its refresh token is not being used. */
static json_t *account_warnings(const struct auth_env *env, const struct store_account *a)
{
	json_t *list = json_array();
	struct store_credentials c;
	struct store_provider p;
	int64_t now = time_now();
	struct err e;

	if (store_get_provider(env->store, PROVIDER_MICROSOFT, &p, &e) == 1) {
		int64_t left = p.secret_expires_at - now;

		if (p.client_secret_sealed && p.secret_expires_at &&
		    left < (int64_t)SERVICE_SECRET_WARN_DAYS * 86400) {
			char when[TIME_RFC3339_LEN], msg[300];

			time_format_rfc3339(p.secret_expires_at, when);
			snprintf(msg, sizeof(msg), left > 0 ? "the app's client secret expires on "
				 "%s; the administrator enters a new one before then" :
				 "the app's client secret expired on %s; the administrator "
				 "enters a new one", when);
			json_array_append_new(list, json_pack("{s:s,s:s}", "code",
					      "client_secret_expiring", "message", msg));
		}
		store_provider_clear(&p);
	}
	if (a->authorized_at && store_get_credentials(env->store, a->id, &c, &e) == 1) {
		int64_t used = c.used_at > c.updated_at ? c.used_at : c.updated_at;

		if (used && now - used >= (int64_t)SERVICE_GRANT_IDLE_WARN_DAYS * 86400) {
			char msg[300];

			snprintf(msg, sizeof(msg), "the grant has not been used for %lld days; "
				 "Microsoft lets it lapse after 90 days unused (sync the account, "
				 "or authorize it again later)", (long long)((now - used) / 86400));
			json_array_append_new(list, json_pack("{s:s,s:s}", "code", "grant_unused",
					      "message", msg));
		}
		store_credentials_clear(&c);
	}
	return list;
}

/* Fixes that are the administrator's (the app registration, the provider
 * settings): once the provider is fine again they no longer apply. */
static bool provider_fix(enum err_fix fix)
{
	return fix == FIX_CONFIGURE_PROVIDER || fix == FIX_ENABLE_PROVIDER ||
	       fix == FIX_ENABLE_TRANSPORT || fix == FIX_ADMIN_CONSENT;
}

json_t *service_account_json(const struct auth_env *env, const struct store_account *a)
{
	long long folders = 0, messages = 0;
	struct store_user owner = { 0 };
	struct err e, why;
	char fix[768];
	json_t *doc, *server, *last = json_null();
	const char *reason = a->state_reason;
	enum err_fix fix_code = a->state_fix;
	const char *fix_arg = a->state_fix_arg;
	enum store_state state = a->state;
	char waited[400];
	bool provider_ok;

	store_count_selected_folders(env->store, a->id, &folders, &e);
	store_count_messages(env->store, a->id, &messages, &e);
	store_get_user(env->store, a->user_id, &owner, &e);
	err_clear(&why);
	provider_ok = !provider_problem(env, a, &why);
	if (!provider_ok && a->state != STORE_STATE_STOPPED &&
	    a->state != STORE_STATE_AUTH_INVALID) {
		/* Nothing works for the account until the administrator acts:
		 * its stored state comes back once the provider works. */
		if (a->state != STORE_STATE_NEW)
			state = STORE_STATE_ERROR;
		reason = why.msg;
		fix_code = why.fix;
		fix_arg = why.fix_arg;
	} else if (provider_ok && a->state == STORE_STATE_ERROR && provider_fix(a->state_fix)) {
		/* The administrator has changed the settings since. */
		snprintf(waited, sizeof(waited), "The provider settings changed "
			 "after this failed (%.250s); the next sync tries again, with "
			 "no sign-in needed.", a->state_reason);
		reason = waited;
		fix_code = FIX_NONE;
	} else if (a->state == STORE_STATE_THROTTLED && a->throttled_until <= time_now()) {
		/* Microsoft's wait is over: nothing holds the mailbox back. */
		char when[TIME_RFC3339_LEN];

		time_format_rfc3339(a->throttled_until, when);
		snprintf(waited, sizeof(waited), "Microsoft's Retry-After wait ended at "
			 "%s; the next sync continues where the last one stopped "
			 "(nothing was lost).", when);
		state = STORE_STATE_SYNCING;
		reason = waited;
		fix_code = FIX_NONE;
	}
	err_fix_text(fix_code, fix_arg, fix, sizeof(fix));
	server = json_pack("{s:o,s:o,s:s,s:s,s:s,s:s,s:s,s:o}",
			   "identity", text(a->identity), "display_name", text(a->display_name),
			   "tenant_id", a->tenant_id, "object_id", a->object_id,
			   "graph_url", a->graph_url, "imap_server", a->imap_server,
			   "smtp_server", a->smtp_server,
			   "authorized_at", service_time_json(a->authorized_at));
	if (a->last_error_code[0])
		last = json_pack("{s:s,s:o,s:o}", "code", a->last_error_code,
				 "message", text(a->last_error), "at",
				 service_time_json(a->last_error_at));
	doc = json_pack("{s:o,s:s,s:o,s:s,s:o,s:s,s:s,s:o,s:{s:s,s:s},s:i,"
			"s:{s:s,s:o,s:o},s:{s:s,s:o},s:o,s:I,s:I,s:o,s:o,s:o,s:b}",
			"id", id_string(a->id), "owner", owner.name,
			"name", text(a->name), "email", a->email,
			"sender_name", text(a->sender_name), "transport", a->transport,
			"state", store_state_name(state),
			"state_reason", text(reason),
			"fix", "code", err_fix_name(fix_code), "text", fix,
			"auth_failures", a->auth_failures,
			"incoming", "status", store_incoming_name(a->incoming_status),
			"last_fetch_at", service_time_json(a->incoming_last_fetch_at),
			"last_error", a->incoming_error[0] ? text(a->incoming_error) : json_null(),
			"outgoing", "status", store_outgoing_name(a->outgoing_status),
			"last_error", a->outgoing_error[0] ? text(a->outgoing_error) : json_null(),
			"server", server,
			"folders_selected", (json_int_t)folders,
			"messages", (json_int_t)messages,
			"last_error", last,
			"throttled_until", a->throttled_until > time_now()
					   ? service_time_json(a->throttled_until) : json_null(),
			"created_at", service_time_json(a->created_at),
			"provider_ok", provider_ok);
	json_object_set_new(doc, "warnings", account_warnings(env, a));
	store_user_clear(&owner);
	return doc;
}

json_t *service_folder_json(const struct store_folder *f)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:b,s:I,s:I,s:{s:s,s:I,s:o,s:o}}",
			 "id", text(f->remote_id), "path", text(f->path),
			 "role", f->role ? json_string(mail_role_name(f->role)) : json_null(),
			 "server_role", f->server_role
					? json_string(mail_role_name(f->server_role)) : json_null(),
			 "selected", f->selected,
			 "total", (json_int_t)f->total, "unread", (json_int_t)f->unread,
			 "sync", "phase", store_phase_name(f->phase),
			 "synced", (json_int_t)f->synced,
			 "oldest_at", service_time_json(f->oldest_at),
			 "last_sync_at", service_time_json(f->last_sync_at));
}

static json_t *address_json(const struct mail_address *a)
{
	return json_pack("{s:o,s:o}", "name", text(a->name ? a->name : ""),
			 "address", text(a->address ? a->address : ""));
}

static json_t *addresses_json(const struct mail_address_list *l)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(arr, address_json(&l->items[i]));
	return arr;
}

json_t *service_message_json(const struct store_message *sm, bool with_body)
{
	const struct mail_message *m = &sm->m;
	json_t *cats = json_array(), *doc;

	for (size_t i = 0; i < m->categories.n; i++)
		json_array_append_new(cats, text(m->categories.items[i]));
	doc = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:b,s:b,s:o,"
			"s:b,s:b,s:o}",
			"id", text(m->remote_id), "folder", text(sm->folder_path),
			"internet_message_id", text(m->internet_message_id),
			"conversation_id", text(m->conversation_id),
			"subject", text(m->subject), "from", address_json(&m->from),
			"to", addresses_json(&m->to), "cc", addresses_json(&m->cc),
			"received_at", service_time_json(m->received_at),
			"sent_at", service_time_json(m->sent_at),
			"is_read", m->is_read == 1, "is_flagged", m->is_flagged == 1,
			"has_attachments", m->has_attachments == 1,
			"preview", text(m->preview), "body_fetched", sm->body_fetched,
			"pending", sm->pending, "categories", cats);
	if (with_body && sm->body_fetched && sm->body)
		json_object_set_new(doc, "body", json_pack("{s:s,s:o}", "content_type",
				    sm->body_type && strcmp(sm->body_type, "html") == 0
				    ? "html" : "text", "content", text(sm->body)));
	return doc;
}

json_t *service_attachments_json(const struct mime_part_info *list, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:I,s:o,s:s,s:I,s:b}",
				      "index", (json_int_t)(i + 1), "name", text(list[i].name),
				      "content_type", list[i].content_type,
				      "size", (json_int_t)list[i].size,
				      "inline", list[i].is_inline));
	return arr;
}

json_t *service_outbox_json(const struct store_outbox *o)
{
	json_error_t jerr;
	json_t *req = o->request_json ? json_loads(o->request_json, 0, &jerr) : NULL;
	json_t *doc = json_pack("{s:s,s:s,s:o,s:s,s:o,s:o,s:i,s:o}",
				"key", o->idem_key,
				"state", store_outbox_state_name(o->state),
				"reason", o->last_error[0] ? text(o->last_error) : json_null(),
				"internet_message_id", o->internet_message_id,
				"created_at", service_time_json(o->created_at),
				"updated_at", service_time_json(o->updated_at),
				"attempts", o->attempts,
				"next_attempt_at", o->next_attempt_at
						   ? service_time_json(o->next_attempt_at) : json_null());

	if (!json_is_object(req)) {
		json_decref(req);
		req = json_object();
	}
	json_object_set_new(doc, "subject", json_object_get(req, "subject")
			    ? json_incref(json_object_get(req, "subject")) : json_string(""));
	json_object_set_new(doc, "to", json_object_get(req, "to")
			    ? json_incref(json_object_get(req, "to")) : json_array());
	/* The names the command line used before the API existed. */
	json_object_set_new(doc, "idempotency_key", json_string(o->idem_key));
	json_object_set_new(doc, "last_error", o->last_error[0] ? text(o->last_error)
							       : json_null());
	json_object_set_new(doc, "request", req);
	return doc;
}

/* data.message of a message event: the message as it is now, or what the
 * event knows when it is gone. */
static json_t *event_message(const struct auth_env *env, const struct store_event *ev)
{
	struct store_message m;
	struct err e;
	json_t *v;

	if (ev->type != STORE_EVENT_MESSAGE_DELETED &&
	    store_get_message(env->store, ev->account_id, ev->entity_id, &m, &e) == 1) {
		v = service_message_json(&m, false);
		store_message_clear(&m);
		return v;
	}
	return json_pack("{s:o,s:o}", "id", text(ev->entity_id),
			 "folder", text(ev->folder_path));
}

json_t *service_event_json(const struct auth_env *env, const struct store_event *ev)
{
	json_t *data = NULL;

	if (ev->data_json && *ev->data_json)
		data = json_loads(ev->data_json, 0, NULL);
	if (!json_is_object(data)) {
		json_decref(data);
		data = json_object();
	}
	switch (ev->type) {
	case STORE_EVENT_MESSAGE_CREATED:
	case STORE_EVENT_MESSAGE_UPDATED:
	case STORE_EVENT_MESSAGE_MOVED:
	case STORE_EVENT_MESSAGE_DELETED:
		json_object_set_new(data, "message", event_message(env, ev));
		if (ev->type == STORE_EVENT_MESSAGE_MOVED)
			json_object_set_new(data, "from_folder", text(ev->from_folder));
		if (ev->backfill)
			json_object_set_new(data, "backfill", json_true());
		break;
	case STORE_EVENT_FOLDER_CREATED:
	case STORE_EVENT_FOLDER_UPDATED:
	case STORE_EVENT_FOLDER_DELETED:
		json_object_set_new(data, "folder", json_pack("{s:o,s:o}", "id",
				    text(ev->entity_id), "path", text(ev->folder_path)));
		break;
	default:
		break;
	}
	return json_pack("{s:o,s:I,s:s,s:o,s:o,s:o}", "id", id_string(ev->seq),
			 "seq", (json_int_t)ev->seq, "type", store_event_type_name(ev->type),
			 "account_id", id_string(ev->account_id),
			 "created_at", service_time_json(ev->at), "data", data);
}

void service_cursor_format(int64_t received_at, int64_t id, char out[48])
{
	snprintf(out, 48, "%lld.%lld", (long long)received_at, (long long)id);
}

int service_cursor_parse(const char *t, int64_t *received_at, int64_t *id,
			 struct err *e)
{
	char *end;
	long long r, i;

	r = strtoll(t, &end, 10);
	if (end == t || *end != '.' || r < 0)
		goto bad;
	t = end + 1;
	i = strtoll(t, &end, 10);
	if (end == t || *end || i <= 0)
		goto bad;
	*received_at = r;
	*id = i;
	return 0;
bad:
	err_set(e, ERR_PERMANENT, "usage", "bad cursor: use the next_cursor of "
		"the previous page");
	return err_set_fix(e, FIX_CHECK_INPUT, "pass next_cursor unchanged");
}
