/*
 * tls.h — m365sim's key material, made with GnuTLS: the certificate it
 * serves HTTPS with (--tls: a local CA and a server certificate for
 * 127.0.0.1, ::1 and localhost, generated on first start into a directory
 * and reused afterwards; or --tls-cert/--tls-key given by the user), and
 * the RSA key that signs id_tokens (RS256), published as a JWKS. Nothing
 * here touches the network or the world lock.
 */
#ifndef SIM_TLS_H
#define SIM_TLS_H

#include <stddef.h>
#include <jansson.h>

/* PEM texts for libmicrohttpd (heap, NUL-terminated) and where the CA
 * certificate clients should trust lives (heap; NULL with --tls-cert). */
struct simtls_files {
	char *cert_pem;
	char *key_pem;
	char *ca_path;
};

/* Load `dir`/ca.pem, server.pem and server-key.pem, generating them (and
 * `dir`, mode 0700) when missing, unreadable or about to expire. The key
 * files are written 0600. Returns 0, or -1 with a reason in `why`. */
int simtls_prepare_dir(const char *dir, struct simtls_files *out,
		       char *why, size_t whylen);
/* Load a certificate chain and key the user supplied (PEM files). */
int simtls_load_files(const char *cert, const char *key,
		      struct simtls_files *out, char *why, size_t whylen);
/* The default --tls directory: $XDG_STATE_HOME/m365sim, else
 * $HOME/.local/state/m365sim, else /tmp/m365sim-UID (heap). */
char *simtls_default_dir(void);
void simtls_files_free(struct simtls_files *f);

/* The id_token signing key. */
struct simtls_signer;

/* A fresh RSA-2048 key with a self-signed certificate (for x5c/x5t).
 * NULL when GnuTLS fails (never expected). */
struct simtls_signer *simtls_signer_new(void);
void simtls_signer_free(struct simtls_signer *s);
/* The key id ("kid") that id_token headers carry. */
const char *simtls_signer_kid(const struct simtls_signer *s);
/* RSASSA-PKCS1-v1_5 with SHA-256 over data, base64url without padding
 * (heap), or NULL on failure. */
char *simtls_sign_rs256(struct simtls_signer *s, const char *data, size_t len);
/* The public key as a JWK (kty, use, kid, x5t, n, e, x5c, alg): new
 * reference. */
json_t *simtls_signer_jwk(const struct simtls_signer *s);

#endif
