/*
 * api_session.c — signing in and out of the web UI (a session cookie,
 * HttpOnly and SameSite=Strict, Secure behind https, with a CSRF token),
 * sign-in throttling, who is calling, users (administrators) and API
 * tokens (each user their own). The rules are service_users.c's.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/timeutil.h"
#include "server/server_internal.h"

int api_session_create(struct request *rq);
int api_session_delete(struct request *rq);
int api_me(struct request *rq);
int api_users_list(struct request *rq);
int api_users_create(struct request *rq);
int api_users_update(struct request *rq);
int api_users_delete(struct request *rq);
int api_tokens_list(struct request *rq);
int api_tokens_create(struct request *rq);
int api_tokens_delete(struct request *rq);

/* ---- throttling ----------------------------------------------------------------- */

#define THROTTLE_SLOTS 4096
#define THROTTLE_WINDOW_S 900      /* failures count for 15 minutes */
#define THROTTLE_USER_FREE 5       /* failures before a name is slowed */
#define THROTTLE_ADDR_FREE 20      /* failures before an address is */
#define THROTTLE_BASE_S 30
#define THROTTLE_CAP_S 900

struct throttle_slot {
	char key[160];             /* "u:NAME" or "a:ADDRESS" */
	int failures;
	int64_t first_at;
	int64_t locked_until;
	int64_t used_at;
};

struct signin_throttle {
	pthread_mutex_t lock;
	struct throttle_slot slots[THROTTLE_SLOTS];
};

struct signin_throttle *signin_throttle_new(void)
{
	struct signin_throttle *t = xcalloc(1, sizeof(*t));

	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void signin_throttle_free(struct signin_throttle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* The slot of `key`, made when absent (the least recently used one goes).
 * Lock held. */
static struct throttle_slot *slot_of(struct signin_throttle *t, const char *key)
{
	struct throttle_slot *oldest = &t->slots[0];

	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		if (strcmp(t->slots[i].key, key) == 0)
			return &t->slots[i];
		if (t->slots[i].used_at < oldest->used_at)
			oldest = &t->slots[i];
	}
	memset(oldest, 0, sizeof(*oldest));
	str_copy(oldest->key, sizeof(oldest->key), key);
	return oldest;
}

/* Seconds to wait before `key` may try again (0 = now). */
static int64_t throttle_wait(struct signin_throttle *t, const char *key)
{
	int64_t now = time_now(), wait;
	struct throttle_slot *s;

	pthread_mutex_lock(&t->lock);
	s = slot_of(t, key);
	s->used_at = now;
	wait = s->locked_until > now ? s->locked_until - now : 0;
	pthread_mutex_unlock(&t->lock);
	return wait;
}

static void throttle_note(struct signin_throttle *t, const char *key, bool ok, int free_tries)
{
	int64_t now = time_now();
	struct throttle_slot *s;

	pthread_mutex_lock(&t->lock);
	s = slot_of(t, key);
	s->used_at = now;
	if (ok) {
		s->failures = 0;
		s->locked_until = 0;
	} else {
		if (now - s->first_at > THROTTLE_WINDOW_S) {
			s->failures = 0;
			s->first_at = now;
		}
		if (++s->failures >= free_tries) {
			int64_t d = THROTTLE_BASE_S;

			for (int i = free_tries; i < s->failures && d < THROTTLE_CAP_S; i++)
				d *= 2;
			s->locked_until = now + (d > THROTTLE_CAP_S ? THROTTLE_CAP_S : d);
		}
	}
	pthread_mutex_unlock(&t->lock);
}

static void client_address(const struct request *rq, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	str_copy(out, n, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  out, (socklen_t)n);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)n);
}

static int throttled(struct request *rq, int64_t wait)
{
	err_set(&rq->err, ERR_THROTTLED, "throttled", "too many failed sign-ins; try "
		"again in %lld seconds", (long long)wait);
	rq->err.retry_after_s = (int)wait;
	return err_set_fix_at(&rq->err, FIX_RETRY_AT, time_now() + wait);
}

/* ---- sessions ----------------------------------------------------------------- */

int api_session_create(struct request *rq)
{
	struct signin_throttle *t = rq->srv->throttle;
	const char *name, *password;
	char cookie[SERVICE_SECRET_LEN], csrf[SERVICE_SECRET_LEN];
	char addr[64], ukey[160], akey[160];
	struct store_user u;
	int64_t wait;

	if (rq_body_string(rq, "username", true, &name) < 0 ||
	    rq_body_string(rq, "password", true, &password) < 0)
		return -1;
	client_address(rq, addr, sizeof(addr));
	snprintf(ukey, sizeof(ukey), "u:%.150s", name);
	snprintf(akey, sizeof(akey), "a:%s", addr);
	wait = throttle_wait(t, ukey);
	if (throttle_wait(t, akey) > wait)
		wait = throttle_wait(t, akey);
	if (wait > 0)
		return throttled(rq, wait);
	if (service_sign_in(rq->env, name, password, &u, &rq->err) < 0) {
		if (err_is(&rq->err, "unauthenticated")) {
			throttle_note(t, ukey, false, THROTTLE_USER_FREE);
			throttle_note(t, akey, false, THROTTLE_ADDR_FREE);
			log_info("http", "%s: failed sign-in", rq->request_id);
		}
		return -1;
	}
	throttle_note(t, ukey, true, THROTTLE_USER_FREE);
	if (service_session_create(rq->env, &u, cookie, csrf, &rq->err) < 0) {
		store_user_clear(&u);
		return -1;
	}
	snprintf(rq->set_cookie, sizeof(rq->set_cookie),
		 "inboxsync_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
		 cookie, SERVICE_SESSION_LIFETIME_S, rq->srv->secure_cookies ? "; Secure" : "");
	rq_reply(rq, 200, json_pack("{s:s,s:s,s:b}", "csrf_token", csrf, "username",
				    u.name, "admin", u.admin));
	memset(cookie, 0, sizeof(cookie));
	memset(csrf, 0, sizeof(csrf));
	store_user_clear(&u);
	return 0;
}

int api_session_delete(struct request *rq)
{
	const char *cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND,
							 "inboxsync_session");

	if (cookie && service_session_end(rq->env, cookie, &rq->err) < 0)
		return -1;
	snprintf(rq->set_cookie, sizeof(rq->set_cookie),
		 "inboxsync_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
		 rq->srv->secure_cookies ? "; Secure" : "");
	return rq_reply(rq, 204, NULL);
}

int api_me(struct request *rq)
{
	return rq_reply(rq, 200, json_pack("{s:s,s:b}", "username", rq->username,
					   "admin", rq->actor.admin));
}

/* ---- users ------------------------------------------------------------------------ */

int api_users_list(struct request *rq)
{
	struct store_user *list;
	json_t *arr;
	size_t n;

	if (service_user_list(rq->env, &rq->actor, &list, &n, &rq->err) < 0)
		return -1;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, service_user_json(&list[i]));
	store_user_list_free(list, n);
	return rq_reply(rq, 200, json_pack("{s:o}", "users", arr));
}

int api_users_create(struct request *rq)
{
	const char *name, *password;
	struct store_user u;
	int admin;

	if (rq_body_string(rq, "username", true, &name) < 0 ||
	    rq_body_string(rq, "password", true, &password) < 0 ||
	    rq_body_bool(rq, "admin", &admin) < 0)
		return -1;
	if (service_user_add(rq->env, &rq->actor, name, password, admin == 1, &u,
			     &rq->err) < 0)
		return -1;
	rq_reply(rq, 201, service_user_json(&u));
	store_user_clear(&u);
	return 0;
}

int api_users_update(struct request *rq)
{
	const char *password;
	struct store_user u;

	if (rq_body_string(rq, "password", true, &password) < 0)
		return -1;
	if (service_user_passwd(rq->env, &rq->actor, rq_param(rq, "username"), password,
				&rq->err) < 0 ||
	    service_user_find(rq->env, &rq->actor, rq_param(rq, "username"), &u, &rq->err) < 0)
		return -1;
	rq_reply(rq, 200, service_user_json(&u));
	store_user_clear(&u);
	return 0;
}

int api_users_delete(struct request *rq)
{
	if (service_user_remove(rq->env, &rq->actor, rq_param(rq, "username"), &rq->err) < 0)
		return -1;
	return rq_reply(rq, 204, NULL);
}

/* ---- tokens ------------------------------------------------------------------------ */

int api_tokens_list(struct request *rq)
{
	struct store_token *list;
	json_t *arr;
	size_t n;

	if (service_token_list(rq->env, &rq->actor, rq->username, &list, &n, NULL,
			       &rq->err) < 0)
		return -1;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, service_token_json(&list[i], rq->username));
	free(list);
	return rq_reply(rq, 200, json_pack("{s:o}", "tokens", arr));
}

int api_tokens_create(struct request *rq)
{
	char token[SERVICE_SECRET_LEN];
	const char *label;
	struct store_token t;
	json_t *doc;

	if (rq_body_string(rq, "label", false, &label) < 0)
		return -1;
	if (service_token_create(rq->env, &rq->actor, rq->username, label, &t, token,
				 &rq->err) < 0)
		return -1;
	doc = service_token_json(&t, rq->username);
	json_object_set_new(doc, "token", json_string(token));
	memset(token, 0, sizeof(token));
	return rq_reply(rq, 201, doc);
}

int api_tokens_delete(struct request *rq)
{
	int64_t id;

	if (rq_param_id(rq, "id", &id) < 0 ||
	    service_token_revoke(rq->env, &rq->actor, id, &rq->err) < 0)
		return -1;
	return rq_reply(rq, 204, NULL);
}
