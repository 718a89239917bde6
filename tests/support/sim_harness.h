/*
 * sim_harness.h — drive a real m365sim from C tests: start it as a child
 * process on a free port, talk to it over HTTP (libcurl), stop it.
 *
 * Typical use:
 *
 *     struct sim_harness h;
 *     struct sim_http r;
 *     char *at = NULL;
 *
 *     assert_int_equal(sim_start(&h, (const char *[]){ "--messages", "100", NULL }), 0);
 *     assert_int_equal(sim_login(&h, "adele@contoso.com", NULL, &at, NULL), 0);
 *     sim_get(&h, at, "/v1.0/me/mailFolders", NULL, &r);
 *     assert_int_equal(r.status, 200);
 *     sim_http_free(&r);
 *     free(at);
 *     assert_int_equal(sim_stop(&h), 0);   // exit status 0 = clean shutdown
 *
 * The binary comes from $M365SIM_BIN (else $BUILD_DIR/m365sim). Nothing
 * here is thread-safe across one harness; separate harnesses are
 * independent.
 */
#ifndef INBOXSYNC_TEST_SIM_HARNESS_H
#define INBOXSYNC_TEST_SIM_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

struct sim_harness {
	pid_t pid;
	unsigned port;
	char url[64];            /* "http://127.0.0.1:PORT" */
	char tenant[64];         /* tenant id (GUID) */
	char tenant_domain[128];
	char client_id[128];
	char client_secret[128];
	json_t *info;            /* the whole JSON line m365sim printed */
};

/* A finished HTTP exchange. body is NUL-terminated; json is the parsed
 * body when it is JSON (else NULL). Free with sim_http_free. */
struct sim_http {
	long status;             /* 0 when the transfer failed */
	char *body;
	size_t len;
	json_t *json;
	char *headers;           /* raw response header block */
	int curl_code;           /* CURLcode of the transfer (0 = OK) */
};

/* Start m365sim with extra command-line arguments (NULL-terminated array,
 * may be NULL), on a free port, and wait (≤ 15 s) for its JSON line.
 * Returns 0, or -1 after printing why to stderr. */
int sim_start(struct sim_harness *h, const char *const *args);

/* Stop it: SIGTERM, wait up to 10 s, then SIGKILL. Returns the exit
 * status (0 = clean shutdown), 128+signal when killed, -1 on error. */
int sim_stop(struct sim_harness *h);

void sim_http_free(struct sim_http *r);

/* Value of response header `name` (case-insensitive) in a heap string,
 * or NULL. */
char *sim_http_header(const struct sim_http *r, const char *name);

/* Generic request. `target` is a path ("/v1.0/me") or an absolute URL.
 * `headers` is a NULL-terminated array of "Name: value" (may be NULL).
 * Returns 0 when an HTTP response arrived (any status), else -1 (out->
 * curl_code says why). Redirects are never followed. */
int sim_request(struct sim_harness *h, const char *method, const char *target,
		const char *const *headers, const char *body, size_t body_len,
		struct sim_http *out);

/* Admin API: METHOD /_sim/... with an optional JSON body. */
int sim_admin(struct sim_harness *h, const char *method, const char *path,
	      const char *json_body, struct sim_http *out);

/* Graph GET with a bearer token and an optional Prefer header value. */
int sim_get(struct sim_harness *h, const char *token, const char *target,
	    const char *prefer, struct sim_http *out);

/* Graph request with a bearer token and a JSON body (may be NULL). */
int sim_graph(struct sim_harness *h, const char *method, const char *token,
	      const char *target, const char *json_body, struct sim_http *out);

/* POST an application/x-www-form-urlencoded body (already encoded). */
int sim_post_form(struct sim_harness *h, const char *target, const char *form,
		  struct sim_http *out);

/* Sign `email` in through auto-approve + authorization code + PKCE for
 * the default app and return its tokens (heap strings; pass NULL for the
 * ones you do not need). `scope` NULL means "openid profile email
 * offline_access Mail.ReadWrite Mail.Send User.Read". Clears auto-approve
 * afterwards. Returns 0 or -1. */
int sim_login(struct sim_harness *h, const char *email, const char *scope,
	      char **access_token, char **refresh_token);

/* The value="..." of the <input name="NAME"> in an HTML page (heap,
 * HTML entities &amp; &quot; decoded), or NULL. For browser-flow tests. */
char *sim_html_input(const char *html, const char *name);

/* The claims of a JWT (its middle part, base64url-decoded), or NULL. */
json_t *sim_jwt_claims(const char *jwt);

/* Percent-encode for URLs and forms (heap). */
char *sim_urlencode(const char *s);

/* The fixture most simulator tests share: a simulator started with `args`
 * and adele@contoso.com signed in (her access token in `at`). */
struct sim_session {
	struct sim_harness h;
	char *at;
};

/* Start it; NULL after printing why to stderr. */
struct sim_session *sim_session_start(const char *const *args);

/* Stop the simulator and free the session; returns sim_stop's status. */
int sim_session_stop(struct sim_session *s);

#endif
