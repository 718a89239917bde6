/*
 * oauth_internal.h — declarations shared by the oauth_*.c files only
 * (handlers reached from idp_route, HTML page rendering).
 */
#ifndef SIM_OAUTH_INTERNAL_H
#define SIM_OAUTH_INTERNAL_H

#include "oauth.h"

void idp_token(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs);
void idp_devicecode(struct sim_world *w, struct sim_req *rq,
		      struct sim_resp *rs);
void idp_authorize(struct sim_world *w, struct sim_req *rq,
		     struct sim_resp *rs);

/* Discovery (oauth_discovery.c): the OpenID configuration, the JWKS and
 * instance discovery. Returns true when rq was one of those routes (and
 * is answered). */
bool idp_discovery_route(struct sim_world *w, struct sim_req *rq,
			   struct sim_resp *rs);

/* The sim browser's pages (oauth_pages.c). `error` may be NULL. */
void idp_page_account_picker(struct sim_resp *rs, const struct oa_txn *t,
			 const struct oa_session *s, const char *action);
void idp_page_email(struct sim_resp *rs, const struct oa_txn *t,
		const char *action, const char *error);
void idp_page_password(struct sim_resp *rs, const struct oa_txn *t,
		   const char *action, const char *error);
void idp_page_consent(struct sim_resp *rs, const struct oa_txn *t,
		  const struct sim_app *app, const char *action);
void idp_page_message(struct sim_resp *rs, int status, const char *title,
		  const char *text);
void idp_page_device_code(struct sim_resp *rs, const char *error);
/* Auto-submitting form for response_mode=form_post. */
void idp_page_form_post(struct sim_resp *rs, const char *uri,
		    const struct sim_kvlist *fields);

/* Record consent of u to everything the transaction asked for. */
void idp_grant_consent(struct sim_user *u, const struct oa_txn *t);
/* Finish an authorize transaction for u: consent page when needed, else
 * redirect back with a code (drops the transaction). */
void idp_authorize_complete(struct sim_world *w, struct sim_resp *rs,
			      struct oa_txn *t, struct sim_user *u,
			      bool consent_given);
/* The sim browser's session from the request cookie (NULL if none). */
struct oa_session *idp_browser_session(struct sim_world *w,
					 const struct sim_req *rq);
void idp_set_session_cookie(struct sim_resp *rs, const struct oa_session *s);

/* Parse the request's form body (application/x-www-form-urlencoded). */
void idp_form(const struct sim_req *rq, struct sim_kvlist *out);

#endif
