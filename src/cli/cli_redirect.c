/*
 * cli_redirect.c — a one-shot libmicrohttpd listener on 127.0.0.1 for the
 * OAuth redirect (see cli_redirect.h). The page it returns waits for the
 * outcome and says how the sign-in ended (authorized, or why not); the
 * listener closes only after that page went out.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include "cli/cli_redirect.h"
#include "inboxsync/alloc.h"

#define OUTCOME_WAIT_S 120          /* the browser waits for the result */
#define PAGE_SEND_WAIT_S 5          /* closing waits for that page to go out */

struct redirect_listener {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;
	pthread_cond_t done;
	pthread_cond_t outcome_ready;
	pthread_cond_t page_sent;
	int received;
	int page_pending;           /* the callback's page is not sent yet */
	int have_outcome;
	int outcome_ok;
	char outcome[700];
	struct redirect_result result;
};

static const char page_head[] =
	"<!doctype html><html><head><meta charset=\"utf-8\"><title>inboxsync</title>"
	"</head><body style=\"font-family:sans-serif;margin:3em;max-width:40em\">";
static const char page_other[] =
	"<!doctype html><html><body>Waiting for the Microsoft sign-in redirect."
	"</body></html>";

static char *arg_dup(struct MHD_Connection *c, const char *key)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);

	return v ? xstrdup(v) : NULL;
}

/* Text for HTML: the few characters that matter escaped. */
static void html_escape(const char *in, char *out, size_t n)
{
	size_t at = 0;

	for (; *in && at + 7 < n; in++) {
		const char *rep = *in == '<' ? "&lt;" : *in == '>' ? "&gt;" :
				  *in == '&' ? "&amp;" : *in == '"' ? "&quot;" : NULL;

		if (rep) {
			memcpy(out + at, rep, strlen(rep));
			at += strlen(rep);
		} else {
			out[at++] = *in;
		}
	}
	out[at] = '\0';
}

/* The page with the outcome, once the terminal side has it. Lock held. */
static char *outcome_page(struct redirect_listener *l)
{
	struct timespec deadline;
	char text[1400];
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += OUTCOME_WAIT_S;
	while (!l->have_outcome && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&l->outcome_ready, &l->lock, &deadline);
	if (!l->have_outcome)
		return xasprintf("%s<h1>Sign-in received</h1><p>inboxsync is still "
				 "finishing the authorization; the terminal shows the "
				 "result.</p></body></html>", page_head);
	html_escape(l->outcome, text, sizeof(text));
	return xasprintf("%s<h1>%s</h1><p>%s</p><p>You can close this tab and return "
			 "to the terminal.</p></body></html>", page_head,
			 l->outcome_ok ? "Authorized" : "Not authorized", text);
}

/* Marks a connection whose first call was seen. */
static char first_call;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	struct redirect_listener *l = cls;
	const char *page = page_other;
	char *made = NULL;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	(void)upload_size;
	if (!*con_cls) {
		/* The headers are in; answer on the next call, as libmicrohttpd
		 * expects. */
		*con_cls = &first_call;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/callback") == 0 &&
	    (MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "state") ||
	     MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "error"))) {
		pthread_mutex_lock(&l->lock);
		/* Counted before waiting for the outcome, so closing (right
		 * after the outcome is known) waits for this page. */
		l->page_pending++;
		*con_cls = l; /* completed() counts this page as sent */
		if (!l->received) {
			l->result.code = arg_dup(conn, "code");
			l->result.state = arg_dup(conn, "state");
			l->result.error = arg_dup(conn, "error");
			l->result.error_description = arg_dup(conn, "error_description");
			l->received = 1;
			pthread_cond_signal(&l->done);
		}
		made = outcome_page(l);
		pthread_mutex_unlock(&l->lock);
		page = made;
	}
	resp = MHD_create_response_from_buffer(strlen(page), (void *)page,
					       made ? MHD_RESPMEM_MUST_COPY
						    : MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, made ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, resp);
	MHD_destroy_response(resp);
	free(made);
	return ret;
}

/* A response is done (sent, or the browser went away): a callback page
 * no longer holds up closing. */
static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct redirect_listener *l = cls;

	(void)conn;
	(void)toe;
	if (*con_cls != l)
		return;
	pthread_mutex_lock(&l->lock);
	l->page_pending--;
	pthread_cond_broadcast(&l->page_sent);
	pthread_mutex_unlock(&l->lock);
	*con_cls = NULL;
}

void redirect_finish(struct redirect_listener *l, int ok, const char *message)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	if (l->have_outcome) { /* the first word on it stands */
		pthread_mutex_unlock(&l->lock);
		return;
	}
	l->outcome_ok = ok;
	str_copy(l->outcome, sizeof(l->outcome), message ? message : "");
	l->have_outcome = 1;
	pthread_cond_broadcast(&l->outcome_ready);
	pthread_mutex_unlock(&l->lock);
}

int redirect_listen(int port, struct redirect_listener **out, char **uri,
		    struct err *e)
{
	struct redirect_listener *l = xcalloc(1, sizeof(*l));
	struct sockaddr_in addr;
	const union MHD_DaemonInfo *info;

	*out = NULL;
	*uri = NULL;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->done, NULL);
	pthread_cond_init(&l->outcome_ready, NULL);
	pthread_cond_init(&l->page_sent, NULL);
	/* A thread per connection: the callback waits for the outcome while
	 * other requests (a favicon) are still answered. */
	l->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
				     MHD_USE_THREAD_PER_CONNECTION,
				     (uint16_t)port, NULL, NULL, answer, l,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, l,
				     MHD_OPTION_END);
	if (!l->daemon) {
		redirect_close(l);
		err_set(e, ERR_PERMANENT, "port_in_use",
			"cannot listen on 127.0.0.1:%d for the sign-in redirect "
			"(port in use?)", port);
		return err_set_fix(e, FIX_CHECK_INPUT, "choose another port with "
				   "--redirect-port, or leave it out");
	}
	info = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*uri = xasprintf("http://127.0.0.1:%u/callback", info ? info->port : (unsigned)port);
	*out = l;
	return 0;
}

int redirect_wait(struct redirect_listener *l, int timeout_s,
		  struct redirect_result *out, struct err *e)
{
	struct timespec deadline;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_s;
	pthread_mutex_lock(&l->lock);
	while (!l->received && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&l->done, &l->lock, &deadline);
	if (l->received) {
		*out = l->result;
		memset(&l->result, 0, sizeof(l->result));
	}
	pthread_mutex_unlock(&l->lock);
	if (!out->state && !out->error) {
		err_set(e, ERR_TRANSIENT, "timeout", "no sign-in redirect arrived "
			"within %d seconds; nothing was stored", timeout_s);
		return err_set_fix(e, FIX_AUTHORIZE, "");
	}
	return 0;
}

void redirect_result_clear(struct redirect_result *r)
{
	free(r->code);
	free(r->state);
	free(r->error);
	free(r->error_description);
	memset(r, 0, sizeof(*r));
}

void redirect_close(struct redirect_listener *l)
{
	if (!l)
		return;
	redirect_finish(l, 0, "the command ended");
	if (l->daemon) {
		struct timespec deadline;
		int rc = 0;

		/* Let the browser's page with the outcome go out first. */
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += PAGE_SEND_WAIT_S;
		pthread_mutex_lock(&l->lock);
		while (l->page_pending > 0 && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&l->page_sent, &l->lock, &deadline);
		pthread_mutex_unlock(&l->lock);
		MHD_stop_daemon(l->daemon);
	}
	redirect_result_clear(&l->result);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->done);
	pthread_cond_destroy(&l->outcome_ready);
	pthread_cond_destroy(&l->page_sent);
	free(l);
}
