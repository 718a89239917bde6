/*
 * oauth_jwt.c — id_tokens: base64url(header).base64url(claims).RS256
 * signature with the world's RSA key (tls.c; its JWK is published at the
 * discovery document's jwks_uri), with the v2.0 claims Entra issues; and
 * the client_info blob MSAL builds account ids from.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "oauth.h"
#include "tls.h"

static char *b64url_json(json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT);
	char *out = sim_b64url(text, strlen(text), false);

	free(text);
	return out;
}

char *oa_id_token(struct sim_world *w, const char *base, struct sim_user *u,
		  const char *client_id, bool with_email, const char *nonce)
{
	int64_t now = simtime_now();
	struct simtls_signer *signer = world_signer(w);
	char iss[SIM_URL_MAX + 64], sub_raw[128];
	unsigned char sub_hash[32];
	json_t *hdr, *claims;
	char *h, *c, *sub, *signing, *sig, *jwt = NULL;

	if (!signer)
		return NULL;
	snprintf(iss, sizeof(iss), "%s/%s/v2.0", base, u->tenant->id);
	snprintf(sub_raw, sizeof(sub_raw), "%s|%s", u->oid, client_id);
	crypto_generichash(sub_hash, sizeof(sub_hash), (unsigned char *)sub_raw,
			   strlen(sub_raw), w->jwt_key, sizeof(w->jwt_key));
	sub = sim_b64url(sub_hash, 32, false);
	hdr = json_pack("{s:s, s:s, s:s}", "typ", "JWT", "alg", "RS256", "kid",
			simtls_signer_kid(signer));
	claims = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}",
			   "aud", client_id, "iss", iss, "iat", (json_int_t)now,
			   "nbf", (json_int_t)now, "exp", (json_int_t)now + 3600,
			   "name", u->name, "oid", u->oid, "preferred_username",
			   u->email, "sub", sub, "tid", u->tenant->id, "ver", "2.0");
	if (with_email)
		json_object_set_new(claims, "email", json_string(u->email));
	if (nonce && *nonce)
		json_object_set_new(claims, "nonce", json_string(nonce));
	h = b64url_json(hdr);
	c = b64url_json(claims);
	signing = xasprintf("%s.%s", h, c);
	sig = simtls_sign_rs256(signer, signing, strlen(signing));
	if (sig)
		jwt = xasprintf("%s.%s", signing, sig);
	json_decref(hdr);
	json_decref(claims);
	free(h);
	free(c);
	free(sub);
	free(signing);
	free(sig);
	return jwt;
}

char *oa_client_info(const struct sim_user *u)
{
	json_t *ci = json_pack("{s:s, s:s}", "uid", u->oid, "utid", u->tenant->id);
	char *out = b64url_json(ci);

	json_decref(ci);
	return out;
}
