/*
 * oauth_jwt.c — id_tokens: base64url(header).base64url(claims).HS256 MAC
 * under the world's JWT key, with the v2.0 claims Entra issues.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "oauth.h"

static char *b64url_json(json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT);
	char *out = sim_b64url(text, strlen(text), false);

	free(text);
	return out;
}

char *oa_id_token(struct sim_world *w, struct sim_user *u,
		  const char *client_id, bool with_email, const char *nonce)
{
	int64_t now = simtime_now();
	char iss[128], sub_raw[128];
	unsigned char sub_hash[32], mac[crypto_auth_hmacsha256_BYTES];
	json_t *hdr, *claims;
	char *h, *c, *sub, *signing, *sig, *jwt;

	snprintf(iss, sizeof(iss), "https://login.microsoftonline.com/%s/v2.0",
		 u->tenant->id);
	snprintf(sub_raw, sizeof(sub_raw), "%s|%s", u->oid, client_id);
	crypto_generichash(sub_hash, sizeof(sub_hash), (unsigned char *)sub_raw,
			   strlen(sub_raw), w->jwt_key, sizeof(w->jwt_key));
	sub = sim_b64url(sub_hash, 32, false);
	hdr = json_pack("{s:s, s:s, s:s}", "typ", "JWT", "alg", "HS256", "kid",
			"m365sim");
	claims = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}",
			   "aud", client_id, "iss", iss, "iat", (json_int_t)now,
			   "nbf", (json_int_t)now, "exp", (json_int_t)(now + 3600),
			   "name", u->name, "oid", u->oid, "preferred_username",
			   u->email, "sub", sub, "tid", u->tenant->id, "ver", "2.0");
	if (with_email)
		json_object_set_new(claims, "email", json_string(u->email));
	if (nonce && *nonce)
		json_object_set_new(claims, "nonce", json_string(nonce));
	h = b64url_json(hdr);
	c = b64url_json(claims);
	signing = xasprintf("%s.%s", h, c);
	crypto_auth_hmacsha256(mac, (unsigned char *)signing, strlen(signing),
			       w->jwt_key);
	sig = sim_b64url(mac, sizeof(mac), false);
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
