/*
 * oauth.c — Microsoft identity platform v2.0 requests: PKCE values, the
 * authorization URL, the token endpoint (code, refresh, device code) and
 * id_token claims. Token-endpoint failures are classified by
 * oauth_errors.c. Nothing here stores or logs a token.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/json.h"
#include "inboxsync/log.h"
#include "inboxsync/oauth.h"
#include "inboxsync/timeutil.h"

#define TOKEN_RESPONSE_MAX (256 * 1024)
#define DEVICE_CODE_MAX_S 3600 /* the longest a device code is believed */

/* What each transport asks Microsoft for: the scopes to consent to at
 * /authorize, and the resource its mail tokens are for (one resource per
 * token request, PROTOCOL.md §6). The first row is the default. */
static const struct {
	const char *transport;
	const char *authorize;
	const char *resource;
} transports[] = {
	{ "graph", "openid profile email offline_access User.Read Mail.ReadWrite Mail.Send",
	  OAUTH_RESOURCE_GRAPH },
	{ "imap", "openid profile email offline_access "
		  "https://outlook.office.com/IMAP.AccessAsUser.All "
		  "https://outlook.office.com/SMTP.Send", OAUTH_RESOURCE_OUTLOOK },
};

/* Scopes of a token per resource. */
static const struct {
	const char *resource;
	const char *scopes;
} resources[] = {
	{ OAUTH_RESOURCE_GRAPH, "offline_access User.Read Mail.ReadWrite Mail.Send" },
	{ OAUTH_RESOURCE_OUTLOOK, "offline_access "
				  "https://outlook.office.com/IMAP.AccessAsUser.All "
				  "https://outlook.office.com/SMTP.Send" },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static size_t transport_row(const char *transport)
{
	for (size_t i = 0; transport && i < COUNT(transports); i++)
		if (strcmp(transports[i].transport, transport) == 0)
			return i;
	return 0;
}

const char *oauth_authorize_scopes(const char *transport)
{
	return transports[transport_row(transport)].authorize;
}

const char *oauth_resource_scopes(const char *resource)
{
	for (size_t i = 0; resource && i < COUNT(resources); i++)
		if (strcmp(resources[i].resource, resource) == 0)
			return resources[i].scopes;
	return resources[0].scopes;
}

const char *oauth_transport_resource(const char *transport)
{
	return transports[transport_row(transport)].resource;
}

static void base64url(const unsigned char *in, size_t n, char *out, size_t out_len)
{
	sodium_bin2base64(out, out_len, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void oauth_pkce_challenge(const char *verifier, char challenge[OAUTH_VERIFIER_LEN + 1])
{
	unsigned char hash[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(hash, (const unsigned char *)verifier, strlen(verifier));
	base64url(hash, sizeof(hash), challenge, OAUTH_VERIFIER_LEN + 1);
}

void oauth_pkce_new(char verifier[OAUTH_VERIFIER_LEN + 1],
		    char challenge[OAUTH_VERIFIER_LEN + 1])
{
	unsigned char raw[48]; /* 48 bytes -> 64 base64url chars */

	if (sodium_init() < 0)
		abort();
	randombytes_buf(raw, sizeof(raw));
	base64url(raw, sizeof(raw), verifier, OAUTH_VERIFIER_LEN + 1);
	oauth_pkce_challenge(verifier, challenge);
}

void oauth_new_state(char state[OAUTH_STATE_LEN + 1])
{
	unsigned char raw[32]; /* -> 43 chars */

	if (sodium_init() < 0)
		abort();
	randombytes_buf(raw, sizeof(raw));
	base64url(raw, sizeof(raw), state, OAUTH_STATE_LEN + 1);
}

static char *endpoint(const struct oauth_client *c, const char *what)
{
	char *tenant = http_escape(c->tenant);
	char *url = xasprintf("%s/%s/oauth2/v2.0/%s", c->login_url, tenant, what);

	free(tenant);
	return url;
}

char *oauth_authorize_url(const struct oauth_client *c, const char *redirect_uri,
			  const char *scopes, const char *state,
			  const char *code_challenge, const char *login_hint)
{
	struct buf q;
	struct err e;
	char *base = endpoint(c, "authorize"), *url;

	buf_init(&q, 64 * 1024);
	http_form_add(&q, "client_id", c->client_id, &e);
	http_form_add(&q, "response_type", "code", &e);
	http_form_add(&q, "redirect_uri", redirect_uri, &e);
	http_form_add(&q, "response_mode", "query", &e);
	http_form_add(&q, "scope", scopes, &e);
	http_form_add(&q, "state", state, &e);
	http_form_add(&q, "code_challenge", code_challenge, &e);
	http_form_add(&q, "code_challenge_method", "S256", &e);
	http_form_add(&q, "prompt", "select_account", &e);
	if (login_hint && *login_hint)
		http_form_add(&q, "login_hint", login_hint, &e);
	url = xasprintf("%s?%s", base, buf_str(&q));
	free(base);
	buf_free(&q);
	return url;
}

void oauth_tokens_clear(struct oauth_tokens *t)
{
	xfree_secret(t->access_token);
	xfree_secret(t->refresh_token);
	xfree_secret(t->id_token);
	free(t->scope);
	memset(t, 0, sizeof(*t));
}

/* POST a form to the token endpoint (or `what`); the response in `resp`. */
static int post_form(struct http_client *http, const struct oauth_client *c,
		     const char *what, const struct buf *form,
		     struct http_response *resp, struct err *e)
{
	char *url = endpoint(c, what);
	struct http_request req = {
		.method = "POST",
		.url = url,
		.content_type = "application/x-www-form-urlencoded",
		.body = form->data,
		.body_len = form->len,
		.max_response = TOKEN_RESPONSE_MAX,
	};
	int rc;

	http_response_init(resp);
	rc = http_perform(http, &req, resp, e);
	if (rc < 0)
		err_prefix(e, "contacting the Microsoft sign-in service: ");
	free(url);
	return rc;
}

static int add_client(struct buf *form, const struct oauth_client *c, struct err *e)
{
	if (http_form_add(form, "client_id", c->client_id, e) < 0)
		return -1;
	if (c->client_secret && *c->client_secret) {
		log_add_secret(c->client_secret);
		return http_form_add(form, "client_secret", c->client_secret, e);
	}
	return 0;
}

/* Zero a string inside a parsed document that is released right after
 * (jansson owns the memory; the document is not used again). */
static void wipe_doc_string(const char *s)
{
	if (s)
		sodium_memzero((char *)(uintptr_t)s, strlen(s));
}

static int parse_tokens(const struct http_response *resp, struct oauth_tokens *out,
			struct err *e)
{
	json_t *doc = json_parse_object(resp->body.data, resp->body.len,
					"the token response", e);
	const char *access = NULL, *refresh = NULL, *id = NULL, *scope = NULL;
	long long expires_in = 3600;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!doc)
		goto bad;
	if (json_req_string(doc, "access_token", &access, e) < 0 ||
	    json_opt_string(doc, "refresh_token", &refresh, e) < 0 ||
	    json_opt_string(doc, "id_token", &id, e) < 0 ||
	    json_opt_string(doc, "scope", &scope, e) < 0)
		goto bad;
	if (json_opt_int(doc, "expires_in", 3600, &expires_in, e) < 0) {
		/* Some servers send it as a string. */
		const char *s = json_str_or_null(doc, "expires_in");
		char *end;

		if (!s)
			goto bad;
		expires_in = strtoll(s, &end, 10);
		if (*end || expires_in <= 0)
			goto bad;
	}
	if (expires_in <= 0 || expires_in > 86400 * 30)
		expires_in = 3600;
	out->access_token = xstrdup(access);
	out->refresh_token = xstrdup(refresh);
	out->id_token = xstrdup(id);
	out->scope = xstrdup(scope ? scope : "");
	out->expires_at = time_now() + expires_in;
	log_add_secret(access);
	log_add_secret(refresh);
	rc = 0;
	goto out;
bad:
	err_prefix(e, "the Microsoft sign-in service sent an unusable token "
		   "response: ");
	e->class = ERR_TRANSIENT;
out:
	/* the parsed answer's own copies of the tokens */
	wipe_doc_string(access);
	wipe_doc_string(refresh);
	wipe_doc_string(id);
	json_decref(doc);
	return rc;
}

/* Run a token request and turn its response into tokens or an error. */
static int token_request(struct http_client *http, const struct oauth_client *c,
			 const struct buf *form, struct oauth_tokens *out,
			 struct err *e)
{
	struct http_response resp;
	int rc;

	memset(out, 0, sizeof(*out));
	if (post_form(http, c, "token", form, &resp, e) < 0) {
		http_response_free_secret(&resp);
		return -1;
	}
	if (resp.status == 200)
		rc = parse_tokens(&resp, out, e);
	else
		rc = oauth_classify(resp.status, resp.body.data, resp.body.len,
				    c->account_name, resp.retry_after_s, e);
	http_response_free_secret(&resp);
	return rc;
}

int oauth_redeem_code(struct http_client *http, const struct oauth_client *c,
		      const char *code, const char *verifier,
		      const char *redirect_uri, const char *scopes,
		      struct oauth_tokens *out, struct err *e)
{
	struct buf form;
	int rc = -1;

	buf_init(&form, 64 * 1024);
	if (http_form_add(&form, "grant_type", "authorization_code", e) == 0 &&
	    add_client(&form, c, e) == 0 &&
	    http_form_add(&form, "code", code, e) == 0 &&
	    http_form_add(&form, "redirect_uri", redirect_uri, e) == 0 &&
	    http_form_add(&form, "code_verifier", verifier, e) == 0 &&
	    http_form_add(&form, "scope", scopes, e) == 0)
		rc = token_request(http, c, &form, out, e);
	buf_free_secret(&form);
	return rc;
}

int oauth_refresh(struct http_client *http, const struct oauth_client *c,
		  const char *refresh_token, const char *scopes,
		  struct oauth_tokens *out, struct err *e)
{
	struct buf form;
	int rc = -1;

	log_add_secret(refresh_token);
	buf_init(&form, 64 * 1024);
	if (http_form_add(&form, "grant_type", "refresh_token", e) == 0 &&
	    add_client(&form, c, e) == 0 &&
	    http_form_add(&form, "refresh_token", refresh_token, e) == 0 &&
	    http_form_add(&form, "scope", scopes, e) == 0)
		rc = token_request(http, c, &form, out, e);
	buf_free_secret(&form);
	return rc;
}

int oauth_client_credentials(struct http_client *http, const struct oauth_client *c,
			     const char *scope, struct oauth_tokens *out,
			     struct err *e)
{
	struct buf form;
	int rc = -1;

	buf_init(&form, 16 * 1024);
	if (http_form_add(&form, "grant_type", "client_credentials", e) == 0 &&
	    add_client(&form, c, e) == 0 &&
	    http_form_add(&form, "scope", scope, e) == 0)
		rc = token_request(http, c, &form, out, e);
	buf_free_secret(&form);
	return rc;
}

void oauth_device_clear(struct oauth_device *d)
{
	xfree_secret(d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->message);
	memset(d, 0, sizeof(*d));
}

int oauth_device_start(struct http_client *http, const struct oauth_client *c,
		       const char *scopes, struct oauth_device *out,
		       struct err *e)
{
	struct http_response resp;
	struct buf form;
	json_t *doc = NULL;
	const char *dc, *uc, *uri, *msg;
	long long interval, expires_in;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&form, 16 * 1024);
	if (http_form_add(&form, "client_id", c->client_id, e) < 0 ||
	    http_form_add(&form, "scope", scopes, e) < 0 ||
	    post_form(http, c, "devicecode", &form, &resp, e) < 0)
		goto out_form;
	if (resp.status != 200) {
		oauth_classify(resp.status, resp.body.data, resp.body.len, NULL,
			       resp.retry_after_s, e);
		goto out;
	}
	doc = json_parse_object(resp.body.data, resp.body.len, "the device code response", e);
	if (!doc || json_req_string(doc, "device_code", &dc, e) < 0 ||
	    json_req_string(doc, "user_code", &uc, e) < 0 ||
	    json_req_string(doc, "verification_uri", &uri, e) < 0 ||
	    json_opt_string(doc, "message", &msg, e) < 0 ||
	    json_opt_int(doc, "interval", 5, &interval, e) < 0 ||
	    json_opt_int(doc, "expires_in", 900, &expires_in, e) < 0) {
		err_prefix(e, "unusable device code response: ");
		goto out;
	}
	out->device_code = xstrdup(dc);
	out->user_code = xstrdup(uc);
	out->verification_uri = xstrdup(uri);
	out->message = msg ? xstrdup(msg)
			   : xasprintf("To sign in, open %s and enter the code %s.", uri, uc);
	out->interval_s = interval > 0 && interval < 60 ? (int)interval : 5;
	/* Microsoft's codes live 15 minutes; anything absurd gets that too
	 * (and can no longer overflow the sum) */
	out->expires_at = time_now() +
		(expires_in > 0 && expires_in <= DEVICE_CODE_MAX_S ? expires_in : 900);
	log_add_secret(dc);
	rc = 0;
out:
	json_decref(doc);
	http_response_free_secret(&resp);
out_form:
	buf_free_secret(&form);
	return rc;
}

int oauth_device_poll(struct http_client *http, const struct oauth_client *c,
		      struct oauth_device *d, struct oauth_tokens *out,
		      struct err *e)
{
	struct http_response resp;
	struct buf form;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (time_now() > d->expires_at)
		return err_set(e, ERR_AUTH, "expired_token",
			       "the device code expired before sign-in finished; "
			       "start again");
	buf_init(&form, 16 * 1024);
	if (http_form_add(&form, "grant_type",
			  "urn:ietf:params:oauth:grant-type:device_code", e) < 0 ||
	    add_client(&form, c, e) < 0 ||
	    http_form_add(&form, "device_code", d->device_code, e) < 0 ||
	    post_form(http, c, "token", &form, &resp, e) < 0)
		goto out_form;
	if (resp.status == 200) {
		rc = parse_tokens(&resp, out, e);
	} else {
		struct err ignored;
		json_t *doc = json_parse_object(resp.body.data, resp.body.len, "error",
						&ignored);
		const char *error = json_str_or_null(doc, "error");

		if (error && strcmp(error, "authorization_pending") == 0) {
			rc = 1;
		} else if (error && strcmp(error, "slow_down") == 0) {
			d->interval_s += 5;
			rc = 1;
		} else if (error && strcmp(error, "expired_token") == 0) {
			err_set(e, ERR_AUTH, "expired_token",
				"the device code expired before sign-in finished; "
				"start again");
		} else if (error && (strcmp(error, "authorization_declined") == 0 ||
				     strcmp(error, "access_denied") == 0)) {
			err_set(e, ERR_AUTH, "access_denied",
				"sign-in was declined on the device login page");
		} else {
			oauth_classify(resp.status, resp.body.data, resp.body.len, NULL,
				       resp.retry_after_s, e);
		}
		json_decref(doc);
	}
	http_response_free_secret(&resp);
out_form:
	buf_free_secret(&form);
	return rc;
}

int oauth_parse_id_token(const char *id_token, struct oauth_identity *out,
			 struct err *e)
{
	const char *dot1, *dot2;
	unsigned char *raw;
	size_t raw_len, max;
	json_t *claims;

	memset(out, 0, sizeof(*out));
	dot1 = id_token ? strchr(id_token, '.') : NULL;
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot1 || !dot2)
		return err_set(e, ERR_PERMANENT, "bad_id_token",
			       "Microsoft returned no usable id_token (is the "
			       "'openid' scope allowed for the app?)");
	max = (size_t)(dot2 - dot1);
	raw = xmalloc(max + 1);
	if (sodium_base642bin(raw, max, dot1 + 1, (size_t)(dot2 - dot1 - 1), NULL,
			      &raw_len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		free(raw);
		return err_set(e, ERR_PERMANENT, "bad_id_token",
			       "the id_token's claims are not valid base64url");
	}
	claims = json_parse_object((const char *)raw, raw_len, "the id_token claims", e);
	free(raw);
	if (!claims)
		return -1;
	str_copy(out->preferred_username, sizeof(out->preferred_username),
		 json_str_or_null(claims, "preferred_username"));
	str_copy(out->email, sizeof(out->email), json_str_or_null(claims, "email"));
	str_copy(out->name, sizeof(out->name), json_str_or_null(claims, "name"));
	str_copy(out->oid, sizeof(out->oid), json_str_or_null(claims, "oid"));
	str_copy(out->tid, sizeof(out->tid), json_str_or_null(claims, "tid"));
	json_decref(claims);
	if (!out->oid[0] || !out->tid[0])
		return err_set(e, ERR_PERMANENT, "bad_id_token",
			       "the id_token lacks the oid/tid claims (is the "
			       "'profile' scope allowed for the app?)");
	return 0;
}
