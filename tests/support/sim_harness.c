/*
 * sim_harness.c — start/stop m365sim and talk to it (see sim_harness.h).
 * libcurl for HTTP, jansson for JSON, libsodium for the PKCE challenge.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sodium.h>
#include "sim_harness.h"

static const char *sim_binary(char *buf, size_t n)
{
	const char *b = getenv("M365SIM_BIN");

	if (b && *b)
		return b;
	b = getenv("BUILD_DIR");
	snprintf(buf, n, "%s/m365sim", b && *b ? b : ".");
	return buf;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void copy_field(json_t *info, const char *key, char *dst, size_t n)
{
	const char *v = json_string_value(json_object_get(info, key));

	snprintf(dst, n, "%s", v ? v : "");
}

int sim_start(struct sim_harness *h, const char *const *args)
{
	int out[2];
	char bin[1024], line[8192];
	const char *argv[64];
	size_t argc = 0, used = 0;
	long deadline;
	const char *url;

	memset(h, 0, sizeof(*h));
	h->pid = -1;
	argv[argc++] = sim_binary(bin, sizeof(bin));
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	for (size_t i = 0; args && args[i] && argc < 62; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	if (pipe(out) < 0) {
		perror("sim_start: pipe");
		return -1;
	}
	h->pid = fork();
	if (h->pid < 0) {
		perror("sim_start: fork");
		return -1;
	}
	if (h->pid == 0) {
		/* the simulator goes when the test does, however it ends */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		close(out[1]);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "sim_start: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	deadline = now_ms() + 15000;
	while (used < sizeof(line) - 1 && !memchr(line, '\n', used)) {
		struct pollfd p = { out[0], POLLIN, 0 };
		long left = deadline - now_ms();
		ssize_t got;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		got = read(out[0], line + used, sizeof(line) - 1 - used);
		if (got <= 0)
			break;
		used += (size_t)got;
		line[used] = '\0';
	}
	close(out[0]);
	line[used] = '\0';
	h->info = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
	url = json_string_value(json_object_get(h->info, "url"));
	if (!url) {
		fprintf(stderr, "sim_start: %s did not print its JSON line (got '%s')\n", argv[0], line);
		sim_stop(h);
		return -1;
	}
	snprintf(h->url, sizeof(h->url), "%s", url);
	h->port = (unsigned)strtoul(strrchr(url, ':') + 1, NULL, 10);
	copy_field(h->info, "tenant", h->tenant, sizeof(h->tenant));
	copy_field(h->info, "tenant_domain", h->tenant_domain, sizeof(h->tenant_domain));
	copy_field(h->info, "client_id", h->client_id, sizeof(h->client_id));
	copy_field(h->info, "client_secret", h->client_secret, sizeof(h->client_secret));
	return 0;
}

int sim_stop(struct sim_harness *h)
{
	int status = 0;
	long deadline;
	int rc = -1;

	if (h->pid > 0) {
		kill(h->pid, SIGTERM);
		deadline = now_ms() + 10000;
		for (;;) {
			pid_t r = waitpid(h->pid, &status, WNOHANG);

			if (r == h->pid)
				break;
			if (r < 0 || now_ms() > deadline) {
				kill(h->pid, SIGKILL);
				waitpid(h->pid, &status, 0);
				break;
			}
			usleep(20000);
		}
		if (WIFEXITED(status))
			rc = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			rc = 128 + WTERMSIG(status);
	}
	h->pid = -1;
	json_decref(h->info);
	h->info = NULL;
	return rc;
}

void sim_http_free(struct sim_http *r)
{
	free(r->body);
	free(r->headers);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

struct grow {
	char *p;
	size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct grow *g = ud;
	size_t n = size * nmemb;
	char *np = realloc(g->p, g->len + n + 1);

	if (!np)
		return 0;
	g->p = np;
	memcpy(g->p + g->len, ptr, n);
	g->len += n;
	g->p[g->len] = '\0';
	return n;
}

char *sim_http_header(const struct sim_http *r, const char *name)
{
	size_t n = strlen(name);
	const char *p = r->headers;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			size_t vlen = len - n - 1;
			char *out;

			while (vlen && (*v == ' ' || *v == '\t')) {
				v++;
				vlen--;
			}
			out = malloc(vlen + 1);
			if (!out)
				return NULL;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return out;
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

int sim_request(struct sim_harness *h, const char *method, const char *target,
		const char *const *headers, const char *body, size_t body_len,
		struct sim_http *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	struct grow data = { NULL, 0 }, hdr = { NULL, 0 };
	char url[8192];
	CURLcode cc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return -1;
	if (strncmp(target, "http://", 7) == 0 || strncmp(target, "https://", 8) == 0)
		snprintf(url, sizeof(url), "%s", target);
	else
		snprintf(url, sizeof(url), "%s%s", h->url, target);
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &data);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "DELETE") != 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	out->curl_code = (int)cc;
	out->body = data.p ? data.p : strdup("");
	out->len = data.len;
	out->headers = hdr.p;
	if (out->len)
		out->json = json_loadb(out->body, out->len, 0, NULL);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return out->status ? 0 : -1;
}

int sim_admin(struct sim_harness *h, const char *method, const char *path,
	      const char *json_body, struct sim_http *out)
{
	const char *hdrs[] = { "Content-Type: application/json", NULL };

	return sim_request(h, method, path, hdrs, json_body,
			   json_body ? strlen(json_body) : 0, out);
}

int sim_get(struct sim_harness *h, const char *token, const char *target,
	    const char *prefer, struct sim_http *out)
{
	char auth[4096], pref[512];
	const char *hdrs[3] = { NULL, NULL, NULL };
	size_t n = 0;

	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdrs[n++] = auth;
	}
	if (prefer) {
		snprintf(pref, sizeof(pref), "Prefer: %s", prefer);
		hdrs[n++] = pref;
	}
	return sim_request(h, "GET", target, hdrs, NULL, 0, out);
}

int sim_graph(struct sim_harness *h, const char *method, const char *token,
	      const char *target, const char *json_body, struct sim_http *out)
{
	char auth[4096];
	const char *hdrs[3] = { "Content-Type: application/json", NULL, NULL };

	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdrs[1] = auth;
	}
	return sim_request(h, method, target, hdrs, json_body,
			   json_body ? strlen(json_body) : 0, out);
}

int sim_post_form(struct sim_harness *h, const char *target, const char *form,
		  struct sim_http *out)
{
	const char *hdrs[] = { "Content-Type: application/x-www-form-urlencoded", NULL };

	return sim_request(h, "POST", target, hdrs, form, strlen(form), out);
}

char *sim_urlencode(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *out = e ? strdup(e) : strdup("");

	curl_free(e);
	return out;
}

/* The value of `key` in the query of a Location URL (heap) or NULL. */
static char *location_param(const char *loc, const char *key)
{
	const char *q = strchr(loc, '?');
	size_t n = strlen(key);

	while (q && *q) {
		q++;
		if (strncmp(q, key, n) == 0 && q[n] == '=') {
			const char *v = q + n + 1;
			size_t len = strcspn(v, "&#");
			int outlen = 0;
			char *dec = curl_easy_unescape(NULL, v, (int)len, &outlen);
			char *res = dec ? strndup(dec, (size_t)outlen) : NULL;

			curl_free(dec);
			return res;
		}
		q = strchr(q, '&');
	}
	return NULL;
}

int sim_login(struct sim_harness *h, const char *email, const char *scope,
	      char **access_token, char **refresh_token)
{
	const char *verifier = "m365sim-harness-verifier-0123456789abcdefghijklmnop";
	unsigned char digest[crypto_hash_sha256_BYTES];
	char challenge[64], body[256], *esc_scope, *target, *form, *loc = NULL, *code = NULL;
	struct sim_http r;
	int rc = -1;

	if (!scope)
		scope = "openid profile email offline_access Mail.ReadWrite Mail.Send User.Read";
	crypto_hash_sha256(digest, (const unsigned char *)verifier, strlen(verifier));
	sodium_bin2base64(challenge, sizeof(challenge), digest, sizeof(digest),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(body, sizeof(body), "{\"email\":\"%s\"}", email);
	if (sim_admin(h, "POST", "/_sim/auto-approve", body, &r) < 0 || r.status != 200) {
		sim_http_free(&r);
		return -1;
	}
	sim_http_free(&r);
	esc_scope = sim_urlencode(scope);
	if (asprintf(&target, "/common/oauth2/v2.0/authorize?client_id=%s&response_type=code"
			      "&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A1%%2Fcb&scope=%s&state=s"
			      "&code_challenge=%s&code_challenge_method=S256",
		     h->client_id, esc_scope, challenge) < 0)
		target = NULL;
	free(esc_scope);
	if (target && sim_request(h, "GET", target, NULL, NULL, 0, &r) == 0 && r.status == 302) {
		loc = sim_http_header(&r, "Location");
		code = loc ? location_param(loc, "code") : NULL;
	}
	sim_http_free(&r);
	free(target);
	sim_admin(h, "POST", "/_sim/auto-approve", "{\"email\":null}", &r);
	sim_http_free(&r);
	if (!code)
		goto out;
	if (asprintf(&form, "grant_type=authorization_code&client_id=%s&client_secret=%s&code=%s"
			    "&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A1%%2Fcb&code_verifier=%s",
		     h->client_id, h->client_secret, code, verifier) < 0)
		goto out;
	if (sim_post_form(h, "/common/oauth2/v2.0/token", form, &r) == 0 && r.status == 200) {
		const char *at = json_string_value(json_object_get(r.json, "access_token"));
		const char *rt = json_string_value(json_object_get(r.json, "refresh_token"));

		if (access_token)
			*access_token = at ? strdup(at) : NULL;
		if (refresh_token)
			*refresh_token = rt ? strdup(rt) : NULL;
		rc = 0;
	}
	sim_http_free(&r);
	free(form);
out:
	free(loc);
	free(code);
	return rc;
}

char *sim_html_input(const char *html, const char *name)
{
	char pat[160];
	const char *p, *v, *end;
	char *out;
	size_t k = 0;

	snprintf(pat, sizeof(pat), "name=\"%s\"", name);
	p = html ? strstr(html, pat) : NULL;
	if (!p)
		return NULL;
	v = strstr(p, "value=\"");
	if (!v || (strchr(p, '>') && v > strchr(p, '>')))
		return NULL;
	v += 7;
	end = strchr(v, '"');
	if (!end)
		return NULL;
	out = malloc((size_t)(end - v) + 1);
	if (!out)
		return NULL;
	while (v < end) {
		if (strncmp(v, "&amp;", 5) == 0) {
			out[k++] = '&';
			v += 5;
		} else if (strncmp(v, "&quot;", 6) == 0) {
			out[k++] = '"';
			v += 6;
		} else {
			out[k++] = *v++;
		}
	}
	out[k] = '\0';
	return out;
}

json_t *sim_jwt_claims(const char *jwt)
{
	const char *a = jwt ? strchr(jwt, '.') : NULL, *b;
	unsigned char buf[8192];
	size_t n = 0;

	if (!a || !(b = strchr(a + 1, '.')))
		return NULL;
	if (sodium_base642bin(buf, sizeof(buf) - 1, a + 1, (size_t)(b - a - 1), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return NULL;
	return json_loadb((const char *)buf, n, 0, NULL);
}

struct sim_session *sim_session_start(const char *const *args)
{
	struct sim_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (sim_start(&s->h, args) < 0) {
		free(s);
		return NULL;
	}
	if (sim_login(&s->h, "adele@contoso.com", NULL, &s->at, NULL) < 0) {
		sim_stop(&s->h);
		free(s);
		return NULL;
	}
	return s;
}

int sim_session_stop(struct sim_session *s)
{
	int rc = sim_stop(&s->h);

	free(s->at);
	free(s);
	return rc;
}
