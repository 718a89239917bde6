/*
 * cli_redirect.h — the loopback listener that receives Microsoft's
 * redirect after sign-in (http://127.0.0.1:PORT/callback), for
 * `account authorize`. Listens on 127.0.0.1 only; takes the first
 * request to /callback that carries a state, code or error.
 */
#ifndef INBOXSYNC_CLI_REDIRECT_H
#define INBOXSYNC_CLI_REDIRECT_H

#include "inboxsync/err.h"

struct redirect_listener;

struct redirect_result {
	char *code;
	char *state;
	char *error;
	char *error_description;
};

/* Listen on 127.0.0.1:`port` (0 = any free port). *uri gets the redirect
 * URI to register in the request (heap). */
int redirect_listen(int port, struct redirect_listener **out, char **uri,
		    struct err *e);

/* Wait up to `timeout_s` for the redirect. Errors "timeout". */
int redirect_wait(struct redirect_listener *l, int timeout_s,
		  struct redirect_result *out, struct err *e);

/* Tell the browser how it ended: the callback page waits for this and
 * then says "Authorized" or "Not authorized" with `message`. Only the
 * first call counts. */
void redirect_finish(struct redirect_listener *l, int ok, const char *message);

void redirect_result_clear(struct redirect_result *r);
/* Stop listening, after the callback's page (if any) went out. */
void redirect_close(struct redirect_listener *l);

#endif
