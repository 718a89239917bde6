/*
 * imap_driver.c — the IMAP driver object: opening it from an account's
 * endpoint (server settings parsed, TLS mode chosen, Sent-copy policy by
 * host), its ops table and limits, the main connection every operation
 * shares (logged in on first use, re-opened once when it was lost), the
 * folder list cache, the moves this driver made (old id → new id from
 * COPYUID, for locate), whoami, and freeing. The operations live in
 * imap_sync.c, imap_items.c, imap_send.c and imap_folders.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "imap/imap_internal.h"

#define DEFAULT_IMAP_HOST "outlook.office365.com"
#define DEFAULT_SMTP_HOST "smtp.office365.com"
#define MOVES_KEPT 4096

/* Hosts that file their own copy of what is submitted (Exchange Online). */
static const char *const self_filing_suffixes[] = {
	".office365.com", ".outlook.com", "outlook.office.com",
};

struct imap_driver *imap_of(struct driver *d)
{
	return (struct imap_driver *)d;
}

static bool host_files_sent_copy(const char *host)
{
	size_t n = strlen(host);

	for (size_t i = 0; i < sizeof(self_filing_suffixes) / sizeof(*self_filing_suffixes);
	     i++) {
		size_t k = strlen(self_filing_suffixes[i]);

		if (n >= k && strcasecmp(host + n - k, self_filing_suffixes[i]) == 0)
			return true;
	}
	return false;
}

/* ---- sessions ------------------------------------------------------------------ */

int imap_driver_session(struct imap_driver *g, struct err *e)
{
	return imap_session_ensure(&g->main, &g->acct, e);
}

int imap_driver_open_mailbox(struct imap_driver *g, const char *mailbox,
			     bool readonly, bool fresh, struct err *e)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (imap_driver_session(g, e) < 0)
			return -1;
		if (imap_session_open(&g->main, mailbox, readonly, fresh, e) == 0)
			return 0;
		if (g->main.imap || e->class != ERR_TRANSIENT)
			return -1; /* the server answered */
		log_info("imap", "%s: %s; connecting again", g->host, e->msg);
	}
	return -1;
}

int imap_driver_folders(struct imap_driver *g, bool refresh, struct err *e)
{
	if (g->folders_loaded && !refresh)
		return 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (imap_driver_session(g, e) < 0)
			return -1;
		if (imap_folders_list(&g->main, &g->folders, e) == 0) {
			g->folders_loaded = true;
			return 0;
		}
		if (g->main.imap || e->class != ERR_TRANSIENT)
			return -1;
	}
	return -1;
}

int imap_driver_token(struct imap_driver *g, const char *rejected, char **token,
		      struct err *e)
{
	*token = NULL;
	if (g->acct.auth.get_token(g->acct.auth.ctx, "outlook", rejected, token, e) < 0)
		return -1;
	log_add_secret(*token);
	return 0;
}

/* ---- moves ---------------------------------------------------------------------- */

void imap_driver_remember_move(struct imap_driver *g, const char *from, const char *to)
{
	if (g->n_moved == MOVES_KEPT) {
		/* the oldest go: locate is asked soon after a move or never */
		free(g->moved[0].from);
		free(g->moved[0].to);
		memmove(g->moved, g->moved + 1, (g->n_moved - 1) * sizeof(*g->moved));
		g->n_moved--;
	}
	if (g->n_moved == g->cap_moved) {
		g->cap_moved = g->cap_moved ? g->cap_moved * 2 : 16;
		g->moved = xrealloc(g->moved, g->cap_moved * sizeof(*g->moved));
	}
	g->moved[g->n_moved].from = xstrdup(from);
	g->moved[g->n_moved].to = xstrdup(to);
	g->n_moved++;
}

const char *imap_driver_moved_to(const struct imap_driver *g, const char *from)
{
	const char *id = NULL;

	/* follow a chain of moves (A → B → C) to the last */
	for (int hops = 0; hops < 8; hops++) {
		const char *next = NULL;

		for (size_t i = g->n_moved; i-- > 0;)
			if (strcmp(g->moved[i].from, id ? id : from) == 0) {
				next = g->moved[i].to;
				break;
			}
		if (!next)
			break;
		id = next;
	}
	return id;
}

/* ---- whoami, free ------------------------------------------------------------------ */

int imap_op_whoami(struct driver *d, struct driver_identity *out, struct err *e)
{
	struct imap_driver *g = imap_of(d);

	memset(out, 0, sizeof(*out));
	/* IMAP has no "who am I": a login as the configured address that the
	 * server accepts with this token is the proof. */
	if (imap_driver_session(g, e) < 0)
		return err_prefix(e, "identifying the mailbox: ");
	str_copy(out->address, sizeof(out->address), g->user);
	str_copy(out->user_principal_name, sizeof(out->user_principal_name), g->user);
	return 0;
}

static void imap_free(struct driver *d)
{
	struct imap_driver *g = imap_of(d);

	imap_session_close(&g->main);
	imap_session_close(&g->idle);
	imap_folder_list_free(&g->folders);
	for (size_t i = 0; i < g->n_moved; i++) {
		free(g->moved[i].from);
		free(g->moved[i].to);
	}
	free(g->moved);
	free(g->host);
	free(g->user);
	free(g->ca_file);
	free(g->smtp_host);
	free(g);
}

int imap_driver_logins(struct driver *d)
{
	struct imap_driver *g = imap_of(d);

	return g->main.logins + g->idle.logins;
}

/* ---- opening -------------------------------------------------------------------------- */

static const struct driver_ops imap_ops = {
	.name = "imap",
	.whoami = imap_op_whoami,
	.list_folders = imap_op_list_folders,
	.get_changes = imap_op_get_changes,
	.poll_changes = imap_op_poll_changes,
	.list_newest = imap_op_list_newest,
	.locate_messages = imap_op_locate_messages,
	.count_messages = imap_op_count_messages,
	.fetch_body = imap_op_fetch_body,
	.fetch_bodies = imap_op_fetch_bodies,
	.fetch_mime = imap_op_fetch_mime,
	.set_flags = imap_op_set_flags,
	.move_message = imap_op_move_message,
	.delete_message = imap_op_delete_message,
	.create_draft = imap_op_create_draft,
	.send_draft = imap_op_send_draft,
	.get_state = imap_op_get_state,
	.find_by_message_id = imap_op_find_by_message_id,
	.test_send = imap_op_test_send,
	.free = imap_free,
};

int imap_driver_open_with(const struct driver_endpoint *ep,
			  const struct imap_driver_opts *o, struct driver **out,
			  struct err *e)
{
	static const struct imap_driver_opts none;
	char host[256], smtp_host[256];
	int port, smtp_port;
	struct imap_driver *g;

	*out = NULL;
	if (!o)
		o = &none;
	if (!ep->user || !*ep->user || !ep->auth.get_token)
		return err_set(e, ERR_BUG, "imap_setup", "the IMAP driver needs the mailbox "
			       "address and a token source");
	if (imap_parse_server(ep->imap_server, DEFAULT_IMAP_HOST, IMAP_DEFAULT_PORT, host,
			      sizeof(host), &port, e) < 0 ||
	    imap_parse_server(ep->smtp_server, DEFAULT_SMTP_HOST, SMTP_DEFAULT_PORT,
			      smtp_host, sizeof(smtp_host), &smtp_port, e) < 0)
		return -1;
	g = xcalloc(1, sizeof(*g));
	g->base.ops = &imap_ops;
	g->base.limits.max_poll = IMAP_MAX_POLL;
	g->base.limits.max_locate = IMAP_MAX_LOCATE;
	g->base.limits.max_page = IMAP_MAX_PAGE_SIZE;
	g->base.limits.max_bodies = IMAP_MAX_BODIES;
	g->base.limits.max_inflight = 1;
	g->host = xstrdup(host);
	g->user = xstrdup(ep->user);
	g->ca_file = xstrdup(o->ca_file);
	g->smtp_host = xstrdup(smtp_host);
	g->smtp_port = smtp_port;
	g->sent_copy = o->sent_copy != IMAP_SENT_COPY_AUTO ? o->sent_copy
		       : host_files_sent_copy(smtp_host) ? IMAP_SENT_COPY_SERVER
							 : IMAP_SENT_COPY_APPEND;
	g->max_message = o->max_message ? o->max_message : IMAP_DEFAULT_MAX_MESSAGE;
	g->acct.host = g->host;
	g->acct.port = port;
	g->acct.user = g->user;
	g->acct.tls = port == IMAP_PORT_IMPLICIT_TLS ? IMAP_TLS_IMPLICIT
		      : imap_host_is_loopback(host) ? IMAP_TLS_NONE : IMAP_TLS_STARTTLS;
	g->acct.ca_file = g->ca_file;
	g->acct.auth = ep->auth;
	g->acct.connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms
							   : IMAP_DEFAULT_CONNECT_TIMEOUT_MS;
	g->acct.io_timeout_ms = o->io_timeout_ms ? o->io_timeout_ms
						 : IMAP_DEFAULT_IO_TIMEOUT_MS;
	g->acct.max_response = o->max_response ? o->max_response : IMAP_DEFAULT_MAX_RESPONSE;
	g->acct.no_qresync = o->no_qresync;
	g->acct.no_condstore = o->no_condstore;
	*out = &g->base;
	return 0;
}

int imap_driver_open(const struct driver_endpoint *ep, struct driver **out,
		     struct err *e)
{
	return imap_driver_open_with(ep, NULL, out, e);
}
