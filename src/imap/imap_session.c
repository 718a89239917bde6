/*
 * imap_session.c — one logged-in IMAP connection on libetpan: greeting,
 * STARTTLS, CAPABILITY, SASL XOAUTH2 (mailimap_oauth2_authenticate) with
 * one retry on a fresh token when the server refuses the cached one,
 * ENABLE QRESYNC/CONDSTORE, SELECT with UIDVALIDITY, UIDNEXT, EXISTS and
 * HIGHESTMODSEQ, and the classification of failures into struct err: the
 * stream's own reason (timeout, closed, over a cap) first, then the
 * server's NO/BAD by its response code (RFC 5530) through one table.
 * A connection-level failure drops the session; imap_session_run
 * reconnects once for operations that may be repeated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <libetpan/enable.h>
#include <libetpan/condstore.h>
#include <libetpan/mailimap_extension.h>
#include <libetpan/mailimap_oauth2.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/quote.h"
#include "imap/imap_internal.h"

void imap_secret_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

/* ---- failures -------------------------------------------------------------- */

/* Server response codes (RFC 5530 and friends) → what happens next. */
static const struct {
	const char *atom;
	enum err_class class;
	const char *code;
	const char *advice;
} response_codes[] = {
	{ "AUTHENTICATIONFAILED", ERR_AUTH, "imap_auth", "the login was refused" },
	{ "AUTHORIZATIONFAILED", ERR_AUTH, "imap_auth", "the login was refused" },
	{ "EXPIRED", ERR_AUTH, "imap_auth", "the credentials expired" },
	{ "UNAVAILABLE", ERR_TRANSIENT, "unavailable", "the server is temporarily unavailable" },
	{ "SERVERBUG", ERR_TRANSIENT, "server_error", "the server failed" },
	{ "INUSE", ERR_TRANSIENT, "unavailable", "the mailbox is in use" },
	{ "LIMIT", ERR_TRANSIENT, "unavailable", "a server limit was reached" },
	{ "NONEXISTENT", ERR_PERMANENT, "folder_gone", "the folder does not exist" },
	{ "TRYCREATE", ERR_PERMANENT, "folder_gone", "the folder does not exist" },
	{ "OVERQUOTA", ERR_PERMANENT, "over_quota", "the mailbox is over its quota" },
	{ "NOPERM", ERR_PERMANENT, "forbidden", "the account may not do this" },
	{ "CANNOT", ERR_PERMANENT, "imap_refused", "the server cannot do this" },
};

static const char *response_atom(const struct imap_session *s)
{
	if (!s->imap || !s->imap->imap_response_info)
		return NULL;
	if (s->imap->imap_response_info->rsp_trycreate)
		return "TRYCREATE";
	return s->imap->imap_response_info->rsp_atom;
}

static const char *response_text(const struct imap_session *s)
{
	return s->imap && s->imap->imap_response ? s->imap->imap_response : "";
}

/* BYE texts that mean "log in again with a new token" (Exchange Online:
 * "Session invalidated - AccessTokenExpired"). */
static bool bye_means_token(const char *bye)
{
	return strcasestr(bye, "token") || strcasestr(bye, "expired") ||
	       strcasestr(bye, "invalidated");
}

static int fail_stream(struct imap_session *s, const char *what, const char *target,
		       bool is_content, struct err *e)
{
	enum imap_stream_failure f = imap_stream_failure(s->stream);
	const char *bye = imap_stream_bye(s->stream);
	const char *host = s->acct ? s->acct->host : "?";
	char said[300] = "";

	if (*bye) {
		char shown[208];

		snprintf(said, sizeof(said), " (server said: \"BYE %s\")",
			 quote_str(shown, sizeof(shown), bye));
	}
	if (*bye && bye_means_token(bye))
		s->token_suspect = true;
	switch (f) {
	case IMAP_STREAM_TIMEOUT:
		err_set(e, ERR_TRANSIENT, "timeout", "%s%s%s: the IMAP server %.200s did not "
			"answer within %d s; retrying later", what, target ? " " : "",
			target ? target : "", host,
			s->acct ? s->acct->io_timeout_ms / 1000 : 0);
		break;
	case IMAP_STREAM_TOO_LARGE:
	case IMAP_STREAM_LITERAL_TOO_LARGE:
		err_set(e, is_content ? ERR_PERMANENT : ERR_TRANSIENT,
			is_content ? "too_large" : "bad_response",
			"%s%s%s: the IMAP server %.200s sent an answer over the size limit "
			"(%s); it was refused unread", what, target ? " " : "",
			target ? target : "", host,
			f == IMAP_STREAM_TOO_LARGE ? "the whole answer" : "one literal");
		break;
	case IMAP_STREAM_LINE_TOO_LONG:
		err_set(e, ERR_TRANSIENT, "bad_response", "%s%s%s: the IMAP server %.200s "
			"sent a line over %zu bytes; it was refused", what,
			target ? " " : "", target ? target : "", host, (size_t)IMAP_MAX_LINE);
		break;
	default:
		err_set(e, ERR_TRANSIENT, "network", "%s%s%s: the connection to the IMAP "
			"server %.200s was lost%s; retrying later", what, target ? " " : "",
			target ? target : "", host, said);
		break;
	}
	imap_session_drop(s);
	return -1;
}

int imap_session_fail(struct imap_session *s, int rc, const char *what,
		      const char *target, bool is_content, struct err *e)
{
	const char *atom, *text;
	char quoted[300];

	if (!s->imap || rc == MAILIMAP_ERROR_STREAM ||
	    imap_stream_failure(s->stream) != IMAP_STREAM_OK)
		return fail_stream(s, what, target, is_content, e);
	if (rc == MAILIMAP_ERROR_PARSE) {
		char line[128];

		err_set(e, ERR_TRANSIENT, "bad_response", "%s%s%s: the answer of the IMAP "
			"server %.200s could not be parsed (last line: \"%s\"); retrying "
			"later", what, target ? " " : "", target ? target : "",
			s->acct->host, quote_str(line, sizeof(line),
						 imap_stream_last_line(s->stream)));
		imap_session_drop(s);
		return -1;
	}
	if (rc == MAILIMAP_ERROR_MEMORY) {
		fprintf(stderr, "inboxsync: out of memory (libetpan)\n");
		abort();
	}
	atom = response_atom(s);
	text = response_text(s);
	{
		char raw[300];

		/* the server's words, escaped (quote.h) */
		snprintf(raw, sizeof(raw), "%s%s%s%.200s", atom ? "[" : "", atom ? atom : "",
			 atom ? "] " : "", text);
		quote_str(quoted, sizeof(quoted), raw);
	}
	for (size_t i = 0; atom && i < sizeof(response_codes) / sizeof(response_codes[0]); i++)
		if (strcasecmp(atom, response_codes[i].atom) == 0)
			return err_set(e, response_codes[i].class, response_codes[i].code,
				       "%s%s%s: %s (the IMAP server said \"%s\")", what,
				       target ? " " : "", target ? target : "",
				       response_codes[i].advice, quoted);
	return err_set(e, ERR_PERMANENT, "imap_refused",
		       "%s%s%s: the IMAP server refused (\"%s\")", what, target ? " " : "",
		       target ? target : "", quoted);
}

void imap_session_limits(struct imap_session *s, size_t max_literal,
			 size_t max_response)
{
	if (!s->stream)
		return;
	imap_stream_limits(s->stream, max_literal ? max_literal : IMAP_METADATA_LITERAL_MAX,
			   max_response ? max_response : s->acct->max_response);
}

/* ---- capabilities ----------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned bit;
	bool is_auth;
} capability_bits[] = {
	{ "CONDSTORE", IMAP_CAP_CONDSTORE, false },
	{ "QRESYNC", IMAP_CAP_QRESYNC, false },
	{ "UIDPLUS", IMAP_CAP_UIDPLUS, false },
	{ "MOVE", IMAP_CAP_MOVE, false },
	{ "IDLE", IMAP_CAP_IDLE, false },
	{ "SPECIAL-USE", IMAP_CAP_SPECIAL_USE, false },
	{ "ENABLE", IMAP_CAP_ENABLE, false },
	{ "LITERAL+", IMAP_CAP_LITERALPLUS, false },
	{ "STARTTLS", IMAP_CAP_STARTTLS, false },
	{ "XOAUTH2", IMAP_CAP_XOAUTH2, true },
};

static int read_capabilities(struct imap_session *s, struct err *e)
{
	struct mailimap_capability_data *cap = NULL;
	int r;

	imap_session_limits(s, 0, (size_t)1 << 20);
	r = mailimap_capability(s->imap, &cap);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "asking for the capabilities of", s->acct->host,
					 false, e);
	mailimap_capability_data_free(cap);
	s->caps = 0;
	for (size_t i = 0; i < sizeof(capability_bits) / sizeof(capability_bits[0]); i++) {
		bool has = capability_bits[i].is_auth ?
			mailimap_has_authentication(s->imap, capability_bits[i].name) :
			mailimap_has_extension(s->imap, capability_bits[i].name);

		if (has)
			s->caps |= capability_bits[i].bit;
	}
	return 0;
}

static int enable_extensions(struct imap_session *s, struct err *e)
{
	struct mailimap_capability_data *want, *got = NULL;
	clist *list;
	int r;

	s->qresync = false;
	s->condstore = (s->caps & IMAP_CAP_CONDSTORE) && !s->acct->no_condstore;
	if (!s->condstore || s->acct->no_qresync || !(s->caps & IMAP_CAP_QRESYNC) ||
	    !(s->caps & IMAP_CAP_ENABLE))
		return 0;
	list = clist_new();
	clist_append(list, mailimap_capability_new(MAILIMAP_CAPABILITY_NAME, NULL,
						   xstrdup("QRESYNC")));
	want = mailimap_capability_data_new(list);
	imap_session_limits(s, 0, (size_t)1 << 20);
	r = mailimap_enable(s->imap, want, &got);
	mailimap_capability_data_free(want);
	if (got)
		mailimap_capability_data_free(got);
	if (r != MAILIMAP_NO_ERROR) {
		if (!s->imap || imap_stream_failure(s->stream) != IMAP_STREAM_OK)
			return imap_session_fail(s, r, "enabling QRESYNC on", s->acct->host,
						 false, e);
		log_info("imap", "%s refused ENABLE QRESYNC; using CONDSTORE only",
			 s->acct->host);
		return 0;
	}
	s->qresync = s->condstore = true;
	return 0;
}

/* Protocol trace at debug level: what the server said, and of what we
 * send only the tag and command (an AUTHENTICATE argument carries the
 * token). */
static void trace(mailimap *imap, int type, const char *str, size_t size, void *ctx)
{
	char line[200];

	(void)imap;
	(void)ctx;
	if (type == MAILSTREAM_LOG_TYPE_DATA_SENT) {
		/* the tag and the command only: an argument may be a credential */
		size_t n = strcspn(str, " \r\n");

		if (n < size && str[n] == ' ')
			n += 1 + strcspn(str + n + 1, " \r\n");
		if (n + 4 < size && strncmp(str + n - 3, "UID", 3) == 0)
			n = strcspn(str, "\r\n"); /* UID commands carry no secrets */
		snprintf(line, sizeof(line), "%.*s", (int)(n < 190 ? n : 190), str);
		log_debug("imap", "C: %s", n < size && str[0] != '\r' ? line : "(data)");
		return;
	}
	if (type != MAILSTREAM_LOG_TYPE_DATA_RECEIVED)
		return;
	for (size_t at = 0, lines = 0; at < size && lines < 20; lines++) {
		size_t n = 0;

		while (at + n < size && str[at + n] != '\n')
			n++;
		snprintf(line, sizeof(line), "%.*s", (int)(n < 190 ? n : 190), str + at);
		line[strcspn(line, "\r")] = '\0';
		log_debug("imap", "S: %s", line);
		at += n + 1;
	}
}

/* ---- logging in ------------------------------------------------------------- */

static int open_connection(struct imap_session *s, const struct imap_account *a,
			   struct err *e)
{
	mailstream *stream;
	int r;

	if (a->tls == IMAP_TLS_NONE && !imap_host_is_loopback(a->host))
		return err_set(e, ERR_PERMANENT, "plaintext_refused",
			       "IMAP without TLS is only allowed to a loopback host, not "
			       "%.200s; use port 993 or STARTTLS", a->host);
	if (imap_stream_open(a->host, a->port, a->tls == IMAP_TLS_IMPLICIT, a->ca_file,
			     a->connect_timeout_ms, a->io_timeout_ms, &stream,
			     &s->stream, e) < 0)
		return -1;
	s->imap = mailimap_new(0, NULL);
	if (!s->imap) {
		fprintf(stderr, "inboxsync: out of memory (mailimap_new)\n");
		abort();
	}
	if (log_get_level() >= LOG_DEBUG)
		mailimap_set_logger(s->imap, trace, NULL);
	imap_session_limits(s, 0, (size_t)1 << 20);
	r = mailimap_connect(s->imap, stream);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		if (r == MAILIMAP_NO_ERROR_AUTHENTICATED || !s->imap->imap_stream) {
			mailstream_close(stream);
			s->stream = NULL;
		}
		return imap_session_fail(s, r, "greeting", a->host, false, e);
	}
	if (read_capabilities(s, e) < 0)
		return -1;
	if (a->tls != IMAP_TLS_STARTTLS)
		return 0;
	if (!(s->caps & IMAP_CAP_STARTTLS)) {
		imap_session_drop(s);
		return err_set(e, ERR_PERMANENT, "tls", "the IMAP server %.200s:%d offers no "
			       "STARTTLS, and mail is never sent there unencrypted; use "
			       "port 993 (implicit TLS)", a->host, a->port);
	}
	r = mailimap_starttls(s->imap);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "starting TLS with", a->host, false, e);
	if (s->imap->imap_stream->read_buffer_len != 0) {
		/* data sent before the handshake could be injected: refuse */
		imap_session_drop(s);
		return err_set(e, ERR_PERMANENT, "tls", "the IMAP server %.200s sent data "
			       "right after STARTTLS (before TLS began); refused", a->host);
	}
	if (imap_stream_start_tls(s->stream, a->host, a->ca_file, e) < 0) {
		imap_session_drop(s);
		return -1;
	}
	return read_capabilities(s, e);
}

/* XOAUTH2 with a token from the source; a refused token is replaced by a
 * fresh one once. */
static int login(struct imap_session *s, const struct imap_account *a, struct err *e)
{
	char *rejected = s->token_suspect ? s->token : NULL;

	s->token = NULL;
	s->token_suspect = false;
	if (!(s->caps & IMAP_CAP_XOAUTH2)) {
		imap_secret_free(rejected);
		imap_session_drop(s);
		return err_set(e, ERR_PERMANENT, "no_xoauth2",
			       "the IMAP server %.200s:%d does not offer the XOAUTH2 login, "
			       "so OAuth2 cannot be used with it; check the IMAP server "
			       "setting", a->host, a->port);
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		char *token = NULL;

		if (a->auth.get_token(a->auth.ctx, "outlook", rejected, &token, e) < 0) {
			if (rejected)
				err_prefix(e, "the IMAP server refused the access token and "
					   "getting a new one failed: ");
			imap_secret_free(rejected);
			imap_session_drop(s);
			return -1;
		}
		log_add_secret(token);
		imap_session_limits(s, 0, (size_t)1 << 20);
		int r = mailimap_oauth2_authenticate(s->imap, a->user, token);

		if (r == MAILIMAP_NO_ERROR) {
			imap_secret_free(rejected);
			s->token = token;
			s->logins++;
			return 0;
		}
		imap_secret_free(rejected);
		rejected = token;
		if (!s->imap || imap_stream_failure(s->stream) != IMAP_STREAM_OK ||
		    r == MAILIMAP_ERROR_PARSE) {
			imap_secret_free(rejected);
			return imap_session_fail(s, r, "logging in to", a->host, false, e);
		}
	}
	imap_secret_free(rejected);
	err_set(e, ERR_AUTH, "imap_auth", "the IMAP server %.200s:%d refused the XOAUTH2 "
		"login of %.200s twice, with a fresh token the second time (\"%.120s\"). "
		"Usual causes: IMAP is turned off for the mailbox, the token is not for "
		"https://outlook.office.com, or IMAP.AccessAsUser.All was not consented",
		a->host, a->port, a->user, response_text(s));
	err_set_fix(e, FIX_ENABLE_MAIL_AUTH, "IMAP");
	imap_session_drop(s);
	return -1;
}

int imap_session_ensure(struct imap_session *s, const struct imap_account *a,
			struct err *e)
{
	if (s->imap)
		return 0;
	s->acct = a;
	if (open_connection(s, a, e) < 0) {
		imap_session_drop(s);
		return -1;
	}
	if (login(s, a, e) < 0)
		return -1;
	if (read_capabilities(s, e) < 0 || enable_extensions(s, e) < 0)
		return -1;
	log_debug("imap", "logged in to %s:%d as %s (CONDSTORE %s, QRESYNC %s)", a->host,
		  a->port, a->user, s->condstore ? "yes" : "no", s->qresync ? "yes" : "no");
	return 0;
}

static void forget_selection(struct imap_session *s)
{
	free(s->selected);
	s->selected = NULL;
	s->uidvalidity = s->uidnext = s->exists = 0;
	s->highestmodseq = 0;
}

void imap_session_drop(struct imap_session *s)
{
	if (s->imap) {
		if (s->imap->imap_stream) {
			mailstream_close(s->imap->imap_stream);
			s->imap->imap_stream = NULL;
		}
		mailimap_free(s->imap);
	}
	s->imap = NULL;
	s->stream = NULL;
	forget_selection(s);
	if (!s->token_suspect) {
		imap_secret_free(s->token);
		s->token = NULL;
	}
}

void imap_session_close(struct imap_session *s)
{
	if (s->imap && imap_stream_failure(s->stream) == IMAP_STREAM_OK) {
		imap_session_limits(s, 0, (size_t)1 << 20);
		mailimap_logout(s->imap);
	}
	s->token_suspect = false;
	imap_session_drop(s);
}

/* ---- opening a mailbox ------------------------------------------------------ */

/* Does `mailbox` exist? 1 yes, 0 no, -1 error. */
static int mailbox_exists(struct imap_session *s, const char *mailbox, struct err *e)
{
	clist *list = NULL;
	int r, found;

	imap_session_limits(s, 0, (size_t)4 << 20);
	r = mailimap_list(s->imap, "", mailbox, &list);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "looking up the folder", mailbox, false, e);
	found = list && clist_count(list) > 0;
	if (list)
		mailimap_list_result_free(list);
	return found;
}

static int open_command(struct imap_session *s, const char *mailbox, bool readonly,
			uint64_t *modseq)
{
	if (s->condstore)
		return readonly ? mailimap_examine_condstore(s->imap, mailbox, modseq)
				: mailimap_select_condstore(s->imap, mailbox, modseq);
	return readonly ? mailimap_examine(s->imap, mailbox)
			: mailimap_select(s->imap, mailbox);
}

int imap_session_open(struct imap_session *s, const char *mailbox, bool readonly,
		      bool fresh, struct err *e)
{
	struct mailimap_selection_info *sel;
	uint64_t modseq = 0;
	int r;

	if (!fresh && s->selected && strcmp(s->selected, mailbox) == 0 &&
	    (readonly || !s->readonly))
		return 0;
	forget_selection(s);
	imap_session_limits(s, 0, (size_t)4 << 20);
	r = open_command(s, mailbox, readonly, &modseq);
	if (r != MAILIMAP_NO_ERROR) {
		struct err inner;

		imap_session_fail(s, r, "opening the folder", mailbox, false, e);
		if (s->imap && e->class == ERR_PERMANENT && !err_is(e, "folder_gone") &&
		    mailbox_exists(s, mailbox, &inner) == 0)
			err_set(e, ERR_PERMANENT, "folder_gone", "opening the folder %.200s: it "
				"no longer exists on the server", mailbox);
		return -1;
	}
	sel = s->imap->imap_selection_info;
	s->uidvalidity = sel ? sel->sel_uidvalidity : 0;
	s->uidnext = sel ? sel->sel_uidnext : 0;
	s->exists = sel ? sel->sel_exists : 0;
	s->highestmodseq = modseq;
	if (!s->uidvalidity)
		return err_set(e, ERR_TRANSIENT, "bad_response", "opening the folder %.200s: "
			       "the server did not say its UIDVALIDITY", mailbox);
	s->selected = xstrdup(mailbox);
	s->readonly = readonly;
	s->shrinks_at_open = imap_stream_shrinks(s->stream);
	return 0;
}

bool imap_session_numbers_kept(const struct imap_session *s, const char *mailbox)
{
	return s->imap && s->selected && strcmp(s->selected, mailbox) == 0 &&
	       imap_stream_shrinks(s->stream) == s->shrinks_at_open;
}

/* ---- running an operation ----------------------------------------------------- */

int imap_session_run(struct imap_session *s, const struct imap_account *a,
		     bool idempotent, imap_session_op op, void *ctx, struct err *e)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (imap_session_ensure(s, a, e) < 0)
			return -1;
		if (op(s, ctx, e) == 0)
			return 0;
		if (s->imap || !idempotent)
			return -1; /* the server answered, or it may not be repeated */
		if (attempt == 0)
			log_info("imap", "%s: %s; connecting again", a->host, e->msg);
	}
	return -1;
}
