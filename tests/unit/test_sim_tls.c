/*
 * test_sim_tls.c — m365sim as clients outside inboxsync see it: over
 * HTTPS with the certificate it generates (--tls; libcurl trusting the
 * printed CA file, refusing without it; the same CA on the next start),
 * the OpenID discovery document with its jwks_uri and instance discovery,
 * id_tokens whose RS256 signature verifies with the JWKS key (GnuTLS),
 * Graph's headers, and --public-url writing every link (nextLink,
 * deltaLink, @odata.context, verification_uri) on the public base with $
 * as %24.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include "inboxsync/buf.h"
#include "sim_harness.h"
#include "simutil.h"

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
	return buf_append(ud, p, sz * n, NULL) < 0 ? 0 : sz * n;
}

/* One request trusting `ca`: a GET, or a POST of `form` (url-encoded)
 * when it is non-NULL, with an optional "Authorization: …" header. Returns
 * the status (0 on a transfer error, *curl_code says which); the response
 * headers go to hdrs when non-NULL. */
static long https_req(const char *url, const char *ca, const char *form, const char *authz,
		      struct buf *body, char *hdrs, size_t hdrlen, int *curl_code)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = authz ? curl_slist_append(NULL, authz) : NULL;
	struct buf hb;
	long status = 0;
	CURLcode rc;

	buf_init(&hb, 1 << 16);
	buf_reset(body);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (form)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	rc = curl_easy_perform(c);
	if (curl_code)
		*curl_code = (int)rc;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (hdrs)
		snprintf(hdrs, hdrlen, "%s", buf_str(&hb));
	buf_free(&hb);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return status;
}

static long https_get(const char *url, const char *ca, struct buf *body, int *curl_code)
{
	return https_req(url, ca, NULL, NULL, body, NULL, 0, curl_code);
}

/* 200 and a JSON body from a GET, or a POST of `form`. */
static json_t *req_json(const char *url, const char *ca, const char *form)
{
	struct buf b;
	json_t *v;

	buf_init(&b, 1 << 24);
	assert_int_equal(https_req(url, ca, form, NULL, &b, NULL, 0, NULL), 200);
	v = json_loads(buf_str(&b), 0, NULL);
	buf_free(&b);
	assert_non_null(v);
	return v;
}

static bool rs256_verifies(const char *jwt, const json_t *jwk)
{
	const char *dot2 = strrchr(jwt, '.');
	unsigned char n[1024], e[16], sig[1024];
	size_t nl, el, sl;
	gnutls_pubkey_t pub;
	gnutls_datum_t dn, de, data, ds;
	int rc;

	assert_int_equal(sim_b64url_decode(json_string_value(json_object_get(jwk, "n")), n, sizeof(n), &nl), 0);
	assert_int_equal(sim_b64url_decode(json_string_value(json_object_get(jwk, "e")), e, sizeof(e), &el), 0);
	assert_int_equal(sim_b64url_decode(dot2 + 1, sig, sizeof(sig), &sl), 0);
	dn = (gnutls_datum_t){ n, (unsigned)nl };
	de = (gnutls_datum_t){ e, (unsigned)el };
	data = (gnutls_datum_t){ (unsigned char *)jwt, (unsigned)(dot2 - jwt) };
	ds = (gnutls_datum_t){ sig, (unsigned)sl };
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import_rsa_raw(pub, &dn, &de), 0);
	rc = gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_RSA_SHA256, 0, &data, &ds);
	gnutls_pubkey_deinit(pub);
	return rc >= 0;
}

static void test_https_with_the_generated_ca(void **state)
{
	char dir[] = "/tmp/m365sim-tls-XXXXXX", url[512], *ca, hdrs[8192];
	struct sim_harness h;
	struct buf b;
	json_t *conf, *jwks, *inst, *claims;
	int code = 0;
	const char *idt;
	char *at = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sim_start(&h, (const char *[]){ "--quiet", "--tls", "--tls-dir", dir, NULL }), 0);
	assert_true(strncmp(h.url, "https://127.0.0.1:", 18) == 0);
	ca = strdup(json_string_value(json_object_get(h.info, "ca_file")));
	buf_init(&b, 1 << 24);
	/* without the CA the certificate is refused; with it, it is good for
	 * 127.0.0.1 and localhost */
	snprintf(url, sizeof(url), "%s/common/v2.0/.well-known/openid-configuration", h.url);
	assert_int_equal(https_get(url, "/dev/null", &b, &code), 0);
	assert_int_equal(code, CURLE_PEER_FAILED_VERIFICATION);
	conf = req_json(url, ca, NULL);
	snprintf(url, sizeof(url), "https://localhost:%u/_sim/world", h.port);
	assert_int_equal(https_get(url, ca, &b, NULL), 200);

	snprintf(url, sizeof(url), "%s/{tenantid}/v2.0", h.url);
	assert_string_equal(json_string_value(json_object_get(conf, "issuer")), url);
	snprintf(url, sizeof(url), "%s/common/oauth2/v2.0/token", h.url);
	assert_string_equal(json_string_value(json_object_get(conf, "token_endpoint")), url);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(conf, "id_token_signing_alg_values_supported"), 0)), "RS256");
	for (const char *const *k = (const char *const[]){ "authorization_endpoint", "end_session_endpoint",
							  "device_authorization_endpoint", "response_modes_supported",
							  "subject_types_supported", NULL }; *k; k++)
		assert_non_null(json_object_get(conf, *k));
	jwks = req_json(json_string_value(json_object_get(conf, "jwks_uri")), ca, NULL);
	snprintf(url, sizeof(url), "%s/common/discovery/instance?api-version=1.1&authorization_endpoint=%s/common/oauth2/v2.0/authorize",
		 h.url, h.url);
	inst = req_json(url, ca, NULL);
	snprintf(url, sizeof(url), "%s/common/v2.0/.well-known/openid-configuration", h.url);
	assert_string_equal(json_string_value(json_object_get(inst, "tenant_discovery_endpoint")), url);
	snprintf(url, sizeof(url), "127.0.0.1:%u", h.port);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
		json_array_get(json_object_get(inst, "metadata"), 0), "aliases"), 0)), url);
	snprintf(url, sizeof(url), "%s/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.example.test/common/oauth2/v2.0/authorize",
		 h.url);
	assert_int_equal(https_get(url, ca, &b, NULL), 400);

	/* a device flow for an id_token and an access token */
	{
		char form[600], body[200];
		json_t *d, *t;

		snprintf(form, sizeof(form), "client_id=%s&scope=openid%%20profile%%20User.Read", h.client_id);
		snprintf(url, sizeof(url), "%s/common/oauth2/v2.0/devicecode", h.url);
		d = req_json(url, ca, form);
		snprintf(body, sizeof(body), "%s/_sim/device/approve", h.url);
		snprintf(form, sizeof(form), "grant_type=urn:ietf:params:oauth:grant-type:device_code"
			 "&client_id=%s&device_code=%s", h.client_id,
			 json_string_value(json_object_get(d, "device_code")));
		{
			CURL *c = curl_easy_init();
			struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
			char json[200];

			snprintf(json, sizeof(json), "{\"user_code\":\"%s\",\"email\":\"adele@contoso.com\"}",
				 json_string_value(json_object_get(d, "user_code")));
			curl_easy_setopt(c, CURLOPT_URL, body);
			curl_easy_setopt(c, CURLOPT_CAINFO, ca);
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
			curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
			assert_int_equal(curl_easy_perform(c), CURLE_OK);
			curl_slist_free_all(hl);
			curl_easy_cleanup(c);
		}
		snprintf(url, sizeof(url), "%s/common/oauth2/v2.0/token", h.url);
		t = req_json(url, ca, form);
		idt = json_string_value(json_object_get(t, "id_token"));
		assert_non_null(idt);
		assert_true(rs256_verifies(idt, json_array_get(json_object_get(jwks, "keys"), 0)));
		claims = sim_jwt_claims(idt);
		snprintf(url, sizeof(url), "%s/%s/v2.0", h.url, h.tenant);
		assert_string_equal(json_string_value(json_object_get(claims, "iss")), url);
		json_decref(claims);
		at = strdup(json_string_value(json_object_get(t, "access_token")));
		json_decref(t);
		json_decref(d);
	}

	/* Graph over HTTPS with Graph's headers */
	{
		char auth[4200];

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", at);
		snprintf(url, sizeof(url), "%s/v1.0/me", h.url);
		assert_int_equal(https_req(url, ca, NULL, auth, &b, hdrs, sizeof(hdrs), NULL), 200);
		assert_non_null(strstr(hdrs, "OData-Version: 4.0"));
		assert_non_null(strstr(hdrs, "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"));
	}
	assert_int_equal(sim_stop(&h), 0);

	/* the next start reuses the CA */
	{
		FILE *f = fopen(ca, "r");
		char first[4096] = "", again[4096] = "";

		assert_non_null(f);
		assert_true(fread(first, 1, sizeof(first) - 1, f) > 0);
		fclose(f);
		assert_int_equal(sim_start(&h, (const char *[]){ "--quiet", "--tls", "--tls-dir", dir, NULL }), 0);
		f = fopen(ca, "r");
		assert_true(fread(again, 1, sizeof(again) - 1, f) > 0);
		fclose(f);
		assert_string_equal(first, again);
		assert_int_equal(sim_stop(&h), 0);
	}
	json_decref(conf);
	json_decref(jwks);
	json_decref(inst);
	buf_free(&b);
	free(at);
	{
		char path[600];
		static const char *const files[] = { "ca.pem", "server.pem", "server-key.pem", ".lock" };

		for (size_t i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
			unlink(path);
		}
		rmdir(dir);
	}
	free(ca);
}

static void test_public_url_in_every_link(void **state)
{
	struct sim_session *s = sim_session_start((const char *[]){ "--quiet", "--messages", "30",
		"--public-url", "https://mail.example.test/m365/", NULL });
	struct sim_http r;
	const char *base = "https://mail.example.test/m365";
	const char *link;

	(void)state;
	assert_non_null(s);
	assert_string_equal(json_string_value(json_object_get(s->h.info, "public_url")), base);
	sim_get(&s->h, s->at, "/v1.0/me/mailFolders?$top=2", NULL, &r);
	assert_int_equal(r.status, 200);
	link = json_string_value(json_object_get(r.json, "@odata.nextLink"));
	assert_string_equal(link, "https://mail.example.test/m365/v1.0/me/mailFolders?%24top=2&%24skip=2");
	assert_string_equal(json_string_value(json_object_get(r.json, "@odata.context")),
			    "https://mail.example.test/m365/v1.0/$metadata#users('f75e1437-feaf-40b6-9730-6b884c17879b')/mailFolders");
	sim_http_free(&r);
	sim_get(&s->h, s->at, "/v1.0/me/mailFolders/inbox/messages/delta", "odata.maxpagesize=5", &r);
	link = json_string_value(json_object_get(r.json, "@odata.nextLink"));
	assert_true(strncmp(link, "https://mail.example.test/m365/v1.0/me/mailFolders('", 52) == 0);
	assert_non_null(strstr(link, "/messages/delta?%24skiptoken="));
	sim_http_free(&r);
	sim_get(&s->h, s->at, "/v1.0/me/messages?$top=3&$select=subject", NULL, &r);
	link = json_string_value(json_object_get(r.json, "@odata.nextLink"));
	assert_string_equal(link, "https://mail.example.test/m365/v1.0/me/messages?%24top=3&%24skip=3&%24select=subject");
	sim_http_free(&r);
	sim_post_form(&s->h, "/common/oauth2/v2.0/devicecode",
		      "client_id=11111111-2222-3333-4444-555555555555&scope=User.Read", &r);
	assert_string_equal(json_string_value(json_object_get(r.json, "verification_uri")),
			    "https://mail.example.test/m365/_sim/device");
	sim_http_free(&r);
	sim_request(&s->h, "GET", "/common/v2.0/.well-known/openid-configuration", NULL, NULL, 0, &r);
	assert_string_equal(json_string_value(json_object_get(r.json, "jwks_uri")),
			    "https://mail.example.test/m365/common/discovery/v2.0/keys");
	sim_http_free(&r);
	assert_int_equal(sim_session_stop(s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_https_with_the_generated_ca),
		cmocka_unit_test(test_public_url_in_every_link),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
