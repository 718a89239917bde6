/*
 * tls.c — certificates and signing keys with GnuTLS (see tls.h). The --tls
 * directory holds ca.pem (the certificate clients trust), server.pem and
 * server-key.pem; the CA's own key is used once, to sign the server
 * certificate, and never written, so nothing on disk can mint more
 * certificates under the CA a developer chose to trust. A lock file keeps
 * two simulators starting at once from mixing their files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"
#include "simutil.h"
#include "tls.h"

#define CERT_DAYS 1825L           /* five years */
#define RENEW_BEFORE_S 86400L     /* regenerate when a day or less is left */
#define PEM_MAX ((size_t)1 << 20)

/* ---- files ---- */

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	buf_init(&b, PEM_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n, NULL) < 0) {
			buf_free(&b);
			fclose(f);
			return NULL;
		}
	fclose(f);
	return buf_detach(&b, NULL);
}

/* Write atomically (temporary file + rename) with `mode`. */
static int write_text(const char *path, const char *text, mode_t mode)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
	size_t len = strlen(text), off = 0;
	int rc = -1;

	if (fd >= 0) {
		while (off < len) {
			ssize_t w = write(fd, text + off, len - off);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (close(fd) == 0 && off == len && rename(tmp, path) == 0)
			rc = 0;
		else
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* ---- certificates ---- */

static char *datum_text(gnutls_datum_t *d)
{
	char *s = xmalloc((size_t)d->size + 1);

	memcpy(s, d->data, d->size);
	s[d->size] = '\0';
	gnutls_free(d->data);
	d->data = NULL;
	return s;
}

/* A new certificate for `key`, signed by issuer (or self-signed when
 * issuer is NULL). `ca` makes a CA certificate; otherwise a TLS server
 * certificate for 127.0.0.1, ::1 and localhost. */
static gnutls_x509_crt_t make_cert(gnutls_x509_privkey_t key, const char *cn, bool ca,
				   gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key)
{
	static const unsigned char ip4[4] = { 127, 0, 0, 1 };
	static const unsigned char ip6[16] = { [15] = 1 };
	gnutls_x509_crt_t crt;
	unsigned char serial[16], kid[64];
	size_t kidlen = sizeof(kid);
	time_t now = time(NULL);
	int rc = 0;

	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f;
	rc |= gnutls_x509_crt_set_version(crt, 3);
	rc |= gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	rc |= gnutls_x509_crt_set_activation_time(crt, now - 3600);
	rc |= gnutls_x509_crt_set_expiration_time(crt, now + CERT_DAYS * 86400);
	rc |= gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
					    "m365sim", 7);
	rc |= gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
					    (unsigned)strlen(cn));
	rc |= gnutls_x509_crt_set_key(crt, key);
	if (gnutls_x509_crt_get_key_id(crt, 0, kid, &kidlen) == 0)
		rc |= gnutls_x509_crt_set_subject_key_id(crt, kid, kidlen);
	if (ca) {
		rc |= gnutls_x509_crt_set_basic_constraints(crt, 1, 0);
		rc |= gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
							 GNUTLS_KEY_CRL_SIGN |
							 GNUTLS_KEY_DIGITAL_SIGNATURE);
	} else {
		rc |= gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
		rc |= gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
							 GNUTLS_KEY_KEY_ENCIPHERMENT);
		rc |= gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
		rc |= gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
							   GNUTLS_FSAN_APPEND);
		rc |= gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip4,
							   sizeof(ip4), GNUTLS_FSAN_APPEND);
		rc |= gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip6,
							   sizeof(ip6), GNUTLS_FSAN_APPEND);
	}
	if (issuer) {
		kidlen = sizeof(kid);
		if (gnutls_x509_crt_get_subject_key_id(issuer, kid, &kidlen, NULL) == 0)
			rc |= gnutls_x509_crt_set_authority_key_id(crt, kid, kidlen);
	}
	if (rc < 0 || gnutls_x509_crt_sign2(crt, issuer ? issuer : crt,
					    issuer ? issuer_key : key, GNUTLS_DIG_SHA256, 0) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
}

static gnutls_x509_privkey_t make_key(gnutls_pk_algorithm_t alg, unsigned bits)
{
	gnutls_x509_privkey_t k;

	if (gnutls_x509_privkey_init(&k) < 0)
		return NULL;
	if (gnutls_x509_privkey_generate(k, alg, bits, 0) < 0) {
		gnutls_x509_privkey_deinit(k);
		return NULL;
	}
	return k;
}

static int export_cert(gnutls_x509_crt_t c, char **out)
{
	gnutls_datum_t d = { NULL, 0 };

	if (gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d) < 0)
		return -1;
	*out = datum_text(&d);
	return 0;
}

/* Generate a CA and a server certificate signed by it into `out`
 * (cert_pem, key_pem) and *ca_pem. */
static int generate(struct simtls_files *out, char **ca_pem)
{
	unsigned ec = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
	gnutls_x509_privkey_t ca_key = make_key(GNUTLS_PK_ECDSA, ec);
	gnutls_x509_privkey_t srv_key = make_key(GNUTLS_PK_ECDSA, ec);
	gnutls_x509_crt_t ca = NULL, srv = NULL;
	gnutls_datum_t d = { NULL, 0 };
	int rc = -1;

	if (!ca_key || !srv_key)
		goto out;
	ca = make_cert(ca_key, "m365sim local CA", true, NULL, NULL);
	srv = ca ? make_cert(srv_key, "localhost", false, ca, ca_key) : NULL;
	if (!srv || export_cert(ca, ca_pem) < 0)
		goto out;
	if (export_cert(srv, &out->cert_pem) < 0)
		goto out;
	if (gnutls_x509_privkey_export2_pkcs8(srv_key, GNUTLS_X509_FMT_PEM, NULL,
					       GNUTLS_PKCS_PLAIN, &d) < 0)
		goto out;
	out->key_pem = datum_text(&d);
	rc = 0;
out:
	if (ca)
		gnutls_x509_crt_deinit(ca);
	if (srv)
		gnutls_x509_crt_deinit(srv);
	if (ca_key)
		gnutls_x509_privkey_deinit(ca_key);
	if (srv_key)
		gnutls_x509_privkey_deinit(srv_key);
	return rc;
}

static int import_cert(const char *pem, gnutls_x509_crt_t *c)
{
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };

	if (gnutls_x509_crt_init(c) < 0)
		return -1;
	if (gnutls_x509_crt_import(*c, &d, GNUTLS_X509_FMT_PEM) < 0) {
		gnutls_x509_crt_deinit(*c);
		return -1;
	}
	return 0;
}

/* Whether files already on disk are usable: parseable, the server
 * certificate issued by the CA and valid for more than a day, the key
 * readable. */
static bool usable(const char *ca_pem, const char *cert_pem, const char *key_pem)
{
	gnutls_x509_crt_t ca, srv;
	gnutls_x509_privkey_t k;
	gnutls_datum_t d = { (unsigned char *)key_pem, (unsigned)strlen(key_pem) };
	bool ok = false;

	if (import_cert(ca_pem, &ca) < 0)
		return false;
	if (import_cert(cert_pem, &srv) == 0) {
		ok = gnutls_x509_crt_check_issuer(srv, ca) &&
		     gnutls_x509_crt_get_expiration_time(srv) > time(NULL) + RENEW_BEFORE_S &&
		     gnutls_x509_crt_get_expiration_time(ca) > time(NULL) + RENEW_BEFORE_S;
		gnutls_x509_crt_deinit(srv);
	}
	if (ok && gnutls_x509_privkey_init(&k) == 0) {
		ok = gnutls_x509_privkey_import2(k, &d, GNUTLS_X509_FMT_PEM, NULL, 0) == 0;
		gnutls_x509_privkey_deinit(k);
	}
	gnutls_x509_crt_deinit(ca);
	return ok;
}

char *simtls_default_dir(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state && *state == '/')
		return xasprintf("%s/m365sim", state);
	if (home && *home == '/')
		return xasprintf("%s/.local/state/m365sim", home);
	return xasprintf("/tmp/m365sim-%u", (unsigned)getuid());
}

/* mkdir -p for the few levels of the default directory. */
static int make_dirs(const char *dir)
{
	char *p = xstrdup(dir);
	int rc = 0;

	for (char *s = p + 1; *s && rc == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, 0700) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

int simtls_prepare_dir(const char *dir, struct simtls_files *out,
		       char *why, size_t whylen)
{
	char *ca_path = xasprintf("%s/ca.pem", dir), *cert_path = xasprintf("%s/server.pem", dir);
	char *key_path = xasprintf("%s/server-key.pem", dir), *lock_path = xasprintf("%s/.lock", dir);
	char *ca_pem = NULL;
	int lock = -1, rc = -1;

	memset(out, 0, sizeof(*out));
	if (make_dirs(dir) < 0 || (lock = open(lock_path, O_RDWR | O_CREAT, 0600)) < 0 ||
	    flock(lock, LOCK_EX) < 0) {
		snprintf(why, whylen, "cannot use the TLS directory %s: %s", dir, strerror(errno));
		goto out;
	}
	ca_pem = read_text(ca_path);
	out->cert_pem = read_text(cert_path);
	out->key_pem = read_text(key_path);
	if (!ca_pem || !out->cert_pem || !out->key_pem ||
	    !usable(ca_pem, out->cert_pem, out->key_pem)) {
		free(ca_pem);
		simtls_files_free(out);
		ca_pem = NULL;
		if (generate(out, &ca_pem) < 0) {
			snprintf(why, whylen, "GnuTLS could not generate a certificate");
			goto out;
		}
		/* the key first, the CA last: a reader that finds ca.pem
		 * finds a complete set (and the lock orders writers) */
		if (write_text(key_path, out->key_pem, 0600) < 0 ||
		    write_text(cert_path, out->cert_pem, 0644) < 0 ||
		    write_text(ca_path, ca_pem, 0644) < 0) {
			snprintf(why, whylen, "cannot write the certificates into %s: %s", dir,
				 strerror(errno));
			goto out;
		}
	}
	out->ca_path = ca_path;
	ca_path = NULL;
	rc = 0;
out:
	if (rc < 0)
		simtls_files_free(out);
	if (lock >= 0)
		close(lock);   /* releases the flock */
	free(ca_pem);
	free(ca_path);
	free(cert_path);
	free(key_path);
	free(lock_path);
	return rc;
}

int simtls_load_files(const char *cert, const char *key,
		      struct simtls_files *out, char *why, size_t whylen)
{
	gnutls_x509_crt_t c;

	memset(out, 0, sizeof(*out));
	out->cert_pem = read_text(cert);
	out->key_pem = read_text(key);
	if (!out->cert_pem || !out->key_pem) {
		snprintf(why, whylen, "cannot read %s: %s", out->cert_pem ? key : cert,
			 strerror(errno));
		simtls_files_free(out);
		return -1;
	}
	if (import_cert(out->cert_pem, &c) < 0) {
		snprintf(why, whylen, "%s is not a PEM certificate", cert);
		simtls_files_free(out);
		return -1;
	}
	gnutls_x509_crt_deinit(c);
	return 0;
}

void simtls_files_free(struct simtls_files *f)
{
	free(f->cert_pem);
	if (f->key_pem) {
		memset(f->key_pem, 0, strlen(f->key_pem));
		free(f->key_pem);
	}
	free(f->ca_path);
	memset(f, 0, sizeof(*f));
}

/* ---- id_token signing ---- */

struct simtls_signer {
	gnutls_privkey_t key;
	char *kid;
	json_t *jwk;
};

static char *b64url_datum(const gnutls_datum_t *d)
{
	return sim_b64url(d->data, d->size, false);
}

/* The JWK of the signing key: n and e from the certificate's key, kid =
 * x5t = base64url(SHA-1 of the DER certificate), as Entra publishes. */
static json_t *jwk_of(gnutls_x509_crt_t crt, char **kid)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t m = { NULL, 0 }, e = { NULL, 0 }, der = { NULL, 0 };
	unsigned char fp[20];
	size_t fplen = sizeof(fp);
	json_t *jwk = NULL;
	char *n64 = NULL, *e64 = NULL, *x5c = NULL;

	if (gnutls_pubkey_init(&pub) < 0)
		return NULL;
	if (gnutls_pubkey_import_x509(pub, crt, 0) < 0 ||
	    gnutls_pubkey_export_rsa_raw2(pub, &m, &e, GNUTLS_EXPORT_FLAG_NO_LZ) < 0 ||
	    gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1, fp, &fplen) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
		goto out;
	n64 = b64url_datum(&m);
	e64 = b64url_datum(&e);
	x5c = sim_b64(der.data, der.size);
	*kid = sim_b64url(fp, fplen, false);
	jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:s}", "kty", "RSA", "use", "sig",
			"kid", *kid, "x5t", *kid, "n", n64, "e", e64, "x5c", x5c, "alg", "RS256");
out:
	gnutls_free(m.data);
	gnutls_free(e.data);
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	free(n64);
	free(e64);
	free(x5c);
	return jwk;
}

struct simtls_signer *simtls_signer_new(void)
{
	gnutls_x509_privkey_t xk = make_key(GNUTLS_PK_RSA, 2048);
	gnutls_x509_crt_t crt = xk ? make_cert(xk, "m365sim id_token signing", false, NULL, NULL)
				   : NULL;
	struct simtls_signer *s = NULL;

	if (!crt)
		goto fail;
	s = xcalloc(1, sizeof(*s));
	s->jwk = jwk_of(crt, &s->kid);
	gnutls_x509_crt_deinit(crt);
	crt = NULL;
	if (!s->jwk || gnutls_privkey_init(&s->key) < 0)
		goto fail;
	if (gnutls_privkey_import_x509(s->key, xk, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE) < 0)
		goto fail;
	return s;
fail:   /* xk is still ours: the import took it only on success */
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (xk)
		gnutls_x509_privkey_deinit(xk);
	simtls_signer_free(s);
	return NULL;
}

void simtls_signer_free(struct simtls_signer *s)
{
	if (!s)
		return;
	if (s->key)
		gnutls_privkey_deinit(s->key);
	json_decref(s->jwk);
	free(s->kid);
	free(s);
}

const char *simtls_signer_kid(const struct simtls_signer *s)
{
	return s->kid;
}

char *simtls_sign_rs256(struct simtls_signer *s, const char *data, size_t len)
{
	gnutls_datum_t in = { (unsigned char *)data, (unsigned)len }, sig = { NULL, 0 };
	char *out;

	if (gnutls_privkey_sign_data(s->key, GNUTLS_DIG_SHA256, 0, &in, &sig) < 0)
		return NULL;
	out = b64url_datum(&sig);
	gnutls_free(sig.data);
	return out;
}

json_t *simtls_signer_jwk(const struct simtls_signer *s)
{
	return json_incref(s->jwk);
}
