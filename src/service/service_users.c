/*
 * service_users.c — the people who use inboxsync: users (names, argon2id
 * password hashes, the admin flag), their API tokens (random secrets of
 * which only a hash is kept, checked in constant time), signing in and
 * web sessions (a random cookie whose hash is stored with its CSRF token).
 * The CLI's `user` and `token` commands and the REST API share these
 * rules; the HTTP side of sessions (cookies, headers) is the server's.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/service.h"
#include "inboxsync/timeutil.h"

#define TOKEN_PREFIX "ibx_"
#define SECRET_BYTES 32
/* Domain separation of the hashes kept for tokens and sessions. */
#define TOKEN_HASH_KEY "inboxsync api token hash v1....."
#define SESSION_HASH_KEY "inboxsync web session hash v1..."

static bool is_admin(const struct service_actor *who)
{
	return !who || who->user_id == 0 || who->admin;
}

static int forbidden(struct err *e, const char *what)
{
	err_set(e, ERR_PERMANENT, "forbidden", "only an administrator can %s", what);
	return err_set_fix(e, FIX_CHECK_INPUT, "ask an administrator");
}

static int user_not_found(const char *name, struct err *e)
{
	err_set(e, ERR_PERMANENT, "not_found", "no user '%.100s'", name ? name : "");
	return err_set_fix(e, FIX_CHECK_INPUT, "name an existing user");
}

json_t *service_user_json(const struct store_user *u)
{
	return json_pack("{s:s,s:b,s:b,s:o}", "username", u->name, "admin", u->admin,
			 "has_password", u->password_hash && *u->password_hash,
			 "created_at", service_time_json(u->created_at));
}

/* Letters, digits and . _ - @; not starting with '-'. */
static int validate_user_name(const char *name, struct err *e)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > SERVICE_USER_MAX || name[0] == '-')
		goto bad;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-@", *p))
			goto bad;
	return 0;
bad:
	err_set(e, ERR_PERMANENT, "usage", "a user name is 1 to %d letters, digits "
		"and . _ - @, not starting with '-'", SERVICE_USER_MAX);
	return err_set_fix(e, FIX_CHECK_INPUT, "choose another user name");
}

/* An argon2id hash of `password` into `out` (crypto_pwhash_STRBYTES). */
static int hash_password(const char *password, char *out, struct err *e)
{
	size_t n = password ? strlen(password) : 0;

	if (n < SERVICE_PASSWORD_MIN || n > SERVICE_PASSWORD_MAX) {
		err_set(e, ERR_PERMANENT, "usage", "a password is %d to %d bytes long",
			SERVICE_PASSWORD_MIN, SERVICE_PASSWORD_MAX);
		return err_set_fix(e, FIX_CHECK_INPUT, "choose a longer password");
	}
	if (sodium_init() < 0 ||
	    crypto_pwhash_str(out, password, (unsigned long long)n,
			      crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return err_set(e, ERR_TRANSIENT, "hash", "not enough memory to hash "
			       "the password; try again");
	return 0;
}

int service_user_find(const struct auth_env *env, const struct service_actor *who,
		      const char *name, struct store_user *out, struct err *e)
{
	int rc = name && *name ? store_get_user_by_name(env->store, name, out, e) : 0;

	if (rc < 0)
		return -1;
	if (rc == 0 || (!is_admin(who) && out->id != who->user_id)) {
		if (rc == 1)
			store_user_clear(out);
		return user_not_found(name, e);
	}
	return 0;
}

int service_user_list(const struct auth_env *env, const struct service_actor *who,
		      struct store_user **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	if (!is_admin(who))
		return forbidden(e, "list users");
	return store_list_users(env->store, out, n, e);
}

int service_user_add(const struct auth_env *env, const struct service_actor *who,
		     const char *name, const char *password, bool admin,
		     struct store_user *out, struct err *e)
{
	char hash[crypto_pwhash_STRBYTES];

	memset(out, 0, sizeof(*out));
	if (!is_admin(who))
		return forbidden(e, "add users");
	if (validate_user_name(name, e) < 0)
		return -1;
	if (password && hash_password(password, hash, e) < 0)
		return -1;
	str_copy(out->name, sizeof(out->name), name);
	out->admin = admin;
	out->password_hash = password ? hash : NULL;
	if (store_add_user(env->store, out, e) < 0) {
		out->password_hash = NULL;
		if (err_is(e, "duplicate")) {
			err_set(e, ERR_PERMANENT, "conflict", "a user named '%.100s' "
				"already exists", name);
			err_set_fix(e, FIX_CHECK_INPUT, "choose another user name");
		}
		return -1;
	}
	out->password_hash = password ? xstrdup(hash) : NULL;
	sodium_memzero(hash, sizeof(hash));
	log_info("users", "user %s added%s", out->name, admin ? " (administrator)" : "");
	return 0;
}

int service_user_passwd(const struct auth_env *env, const struct service_actor *who,
			const char *name, const char *password, struct err *e)
{
	char hash[crypto_pwhash_STRBYTES];
	struct store_user u;
	int rc;

	if (service_user_find(env, who, name, &u, e) < 0)
		return -1;
	rc = hash_password(password, hash, e);
	if (rc == 0)
		rc = store_set_user_password(env->store, u.id, hash, e);
	if (rc == 0)
		log_info("users", "password of %s changed", u.name);
	store_user_clear(&u);
	return rc;
}

int service_user_remove(const struct auth_env *env, const struct service_actor *who,
			const char *name, struct err *e)
{
	struct store_user u;
	int rc;

	if (!is_admin(who))
		return forbidden(e, "remove users");
	if (service_user_find(env, who, name, &u, e) < 0)
		return -1;
	if (u.id == STORE_LOCAL_USER_ID) {
		store_user_clear(&u);
		err_set(e, ERR_PERMANENT, "forbidden", "the built-in administrator "
			"'local' cannot be removed");
		return err_set_fix(e, FIX_CHECK_INPUT, "remove another user");
	}
	rc = store_delete_user(env->store, u.id, e);
	if (rc == 0)
		log_info("users", "user %s removed with everything they owned", u.name);
	store_user_clear(&u);
	return rc;
}

/* ---- API tokens ------------------------------------------------------------ */

/* Hex BLAKE2b-256 of `text` under a domain key (out: 65 bytes). */
static void secret_hash(const char *text, const char *key, char out[65])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)text, strlen(text),
			   (const unsigned char *)key, strlen(key));
	sodium_bin2hex(out, 65, h, sizeof(h));
	sodium_memzero(h, sizeof(h));
}

/* SECRET_BYTES random bytes as base64url without padding. */
static void random_secret(char *out, size_t n)
{
	unsigned char raw[SECRET_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, n, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

json_t *service_token_json(const struct store_token *t, const char *username)
{
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)t->id);
	return json_pack("{s:s,s:s,s:s,s:o,s:o}", "id", id, "label", t->label,
			 "username", username ? username : "",
			 "created_at", service_time_json(t->created_at),
			 "last_used_at", service_time_json(t->last_used_at));
}

/* Whose tokens an actor means by `user`: 0 = every user (the operator
 * without a name). */
static int token_owner(const struct auth_env *env, const struct service_actor *who,
		       const char *user, int64_t *owner, struct err *e)
{
	struct store_user u;

	if (!user || !*user) {
		*owner = who ? who->user_id : 0;
		return 0;
	}
	if (service_user_find(env, who, user, &u, e) < 0)
		return -1;
	*owner = u.id;
	store_user_clear(&u);
	return 0;
}

int service_token_create(const struct auth_env *env, const struct service_actor *who,
			 const char *user, const char *label, struct store_token *out,
			 char *token, struct err *e)
{
	char secret[64];
	int64_t owner;

	memset(out, 0, sizeof(*out));
	token[0] = '\0';
	if (label && strlen(label) > SERVICE_LABEL_MAX) {
		err_set(e, ERR_PERMANENT, "usage", "a token label is at most %d bytes",
			SERVICE_LABEL_MAX);
		return err_set_fix(e, FIX_CHECK_INPUT, "shorten the label");
	}
	if (sodium_init() < 0)
		return err_set(e, ERR_BUG, "sodium", "libsodium failed to initialise");
	if (token_owner(env, who, user, &owner, e) < 0)
		return -1;
	if (owner == 0)
		owner = STORE_LOCAL_USER_ID;
	out->user_id = owner;
	str_copy(out->label, sizeof(out->label), label ? label : "");
	/* The token names its row and carries the secret; only the secret's
	 * hash is kept. */
	random_secret(secret, sizeof(secret));
	secret_hash(secret, TOKEN_HASH_KEY, out->hash);
	if (store_add_token(env->store, out, e) < 0) {
		sodium_memzero(secret, sizeof(secret));
		return -1;
	}
	snprintf(token, SERVICE_SECRET_LEN, TOKEN_PREFIX "%lld_%s", (long long)out->id, secret);
	sodium_memzero(secret, sizeof(secret));
	log_info("users", "API token %lld created", (long long)out->id);
	return 0;
}

int service_token_list(const struct auth_env *env, const struct service_actor *who,
		       const char *user, struct store_token **out, size_t *n,
		       char (**names)[128], struct err *e)
{
	int64_t owner;

	*out = NULL;
	*n = 0;
	if (names)
		*names = NULL;
	if (token_owner(env, who, user, &owner, e) < 0 ||
	    store_list_tokens(env->store, owner, out, n, e) < 0)
		return -1;
	if (names) {
		*names = xcalloc(*n ? *n : 1, sizeof(**names));
		for (size_t i = 0; i < *n; i++) {
			struct store_user u;
			struct err ue;

			if (store_get_user(env->store, (*out)[i].user_id, &u, &ue) == 1) {
				str_copy((*names)[i], sizeof((*names)[i]), u.name);
				store_user_clear(&u);
			}
		}
	}
	return 0;
}

static int token_not_found(int64_t id, struct err *e)
{
	err_set(e, ERR_PERMANENT, "not_found", "no API token %lld", (long long)id);
	return err_set_fix(e, FIX_CHECK_INPUT, "use an id from the token list");
}

int service_token_revoke(const struct auth_env *env, const struct service_actor *who,
			 int64_t id, struct err *e)
{
	struct store_token t;
	int rc = store_get_token(env->store, id, &t, e);

	if (rc < 0)
		return -1;
	if (rc == 0 || (who && who->user_id != 0 && t.user_id != who->user_id))
		return token_not_found(id, e);
	if (store_delete_token(env->store, id, e) < 0)
		return -1;
	log_info("users", "API token %lld revoked", (long long)id);
	return 0;
}

static int unauthenticated(struct err *e, const char *msg)
{
	err_set(e, ERR_PERMANENT, "unauthenticated", "%s", msg);
	return err_set_fix(e, FIX_CHECK_INPUT, "sign in, or send a valid API token "
			   "as 'Authorization: Bearer TOKEN'");
}

int service_token_authenticate(const struct auth_env *env, const char *token,
			       struct service_actor *who, struct store_user *user,
			       struct err *e)
{
	struct store_token t;
	struct store_user u;
	char hash[65];
	const char *p;
	char *end;
	long long id;
	bool same;
	int rc;

	if (user)
		memset(user, 0, sizeof(*user));
	if (!token || strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0 ||
	    strlen(token) >= SERVICE_SECRET_LEN)
		return unauthenticated(e, "the API token is not valid");
	p = token + strlen(TOKEN_PREFIX);
	id = strtoll(p, &end, 10);
	if (end == p || *end != '_' || id <= 0)
		return unauthenticated(e, "the API token is not valid");
	rc = store_get_token(env->store, id, &t, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return unauthenticated(e, "the API token is not valid (revoked or unknown)");
	secret_hash(end + 1, TOKEN_HASH_KEY, hash);
	same = strlen(t.hash) == 64 && sodium_memcmp(hash, t.hash, 64) == 0;
	sodium_memzero(hash, sizeof(hash));
	if (!same)
		return unauthenticated(e, "the API token is not valid (revoked or unknown)");
	if (store_get_user(env->store, t.user_id, &u, e) != 1)
		return unauthenticated(e, "the API token's user no longer exists");
	who->user_id = u.id;
	who->admin = u.admin;
	if (time_now() - t.last_used_at >= 60) /* a write at most once a minute */
		store_touch_token(env->store, t.id, time_now(), &(struct err){ 0 });
	if (user)
		*user = u;
	else
		store_user_clear(&u);
	return 0;
}

/* ---- signing in and sessions ---------------------------------------------------- */

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];

/* A hash to verify against when the user does not exist, so that an
 * unknown name costs as much time as a wrong password. */
static void make_dummy_hash(void)
{
	char pw[64];

	random_secret(pw, sizeof(pw));
	if (crypto_pwhash_str(dummy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
}

int service_sign_in(const struct auth_env *env, const char *name,
		    const char *password, struct store_user *out, struct err *e)
{
	const char *hash;
	int found;
	bool ok;

	memset(out, 0, sizeof(*out));
	if (sodium_init() < 0)
		return err_set(e, ERR_BUG, "sodium", "libsodium failed to initialise");
	found = name && *name && strlen(name) <= SERVICE_USER_MAX
		? store_get_user_by_name(env->store, name, out, e) : 0;
	if (found < 0)
		return -1;
	pthread_once(&dummy_once, make_dummy_hash);
	hash = found == 1 && out->password_hash ? out->password_hash : dummy_hash;
	ok = password && strlen(password) <= SERVICE_PASSWORD_MAX && hash[0] &&
	     crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	if (!ok || found != 1 || !out->password_hash) {
		if (found == 1)
			store_user_clear(out);
		return unauthenticated(e, "wrong user name or password");
	}
	return 0;
}

int service_session_create(const struct auth_env *env, const struct store_user *u,
			   char *cookie, char *csrf, struct err *e)
{
	struct store_session s = { .user_id = u->id };

	if (sodium_init() < 0)
		return err_set(e, ERR_BUG, "sodium", "libsodium failed to initialise");
	random_secret(cookie, SERVICE_SECRET_LEN);
	random_secret(csrf, SERVICE_SECRET_LEN);
	secret_hash(cookie, SESSION_HASH_KEY, s.id_hash);
	str_copy(s.csrf, sizeof(s.csrf), csrf);
	s.created_at = time_now();
	s.expires_at = s.created_at + SERVICE_SESSION_LIFETIME_S;
	if (store_put_session(env->store, &s, e) < 0) {
		sodium_memzero(cookie, SERVICE_SECRET_LEN);
		cookie[0] = csrf[0] = '\0';
		return -1;
	}
	return 0;
}

int service_session_check(const struct auth_env *env, const char *cookie,
			  struct service_actor *who, char *csrf, struct err *e)
{
	struct store_session s;
	struct store_user u;
	char hash[65];
	int rc;

	if (!cookie || !*cookie || strlen(cookie) >= SERVICE_SECRET_LEN)
		return unauthenticated(e, "the session is not valid; sign in again");
	secret_hash(cookie, SESSION_HASH_KEY, hash);
	rc = store_get_session(env->store, hash, &s, e);
	if (rc < 0)
		return -1;
	if (rc == 0 || store_get_user(env->store, s.user_id, &u, e) != 1)
		return unauthenticated(e, "the session has ended; sign in again");
	who->user_id = u.id;
	who->admin = u.admin;
	store_user_clear(&u);
	if (csrf)
		str_copy(csrf, SERVICE_SECRET_LEN, s.csrf);
	return 0;
}

int service_session_end(const struct auth_env *env, const char *cookie, struct err *e)
{
	char hash[65];

	if (!cookie || !*cookie || strlen(cookie) >= SERVICE_SECRET_LEN)
		return 0;
	secret_hash(cookie, SESSION_HASH_KEY, hash);
	return store_delete_session(env->store, hash, e);
}
