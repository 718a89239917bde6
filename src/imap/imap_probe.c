/*
 * imap_probe.c — Test & Confirm for the IMAP OAuth2 transport (imap.h):
 * an XOAUTH2 login to IMAP followed by one LIST whose folders are counted,
 * and an XOAUTH2 login to SMTP submission that stops before any mail
 * command. libcurl speaks IMAP, SMTP, STARTTLS and SASL (set up in
 * imap_curl.c); this file parses server settings, counts the folders of
 * the LIST answer and says what usually causes a refused login. Syncing
 * is the driver's (imap_driver.c and the files it names).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"
#include "inboxsync/http.h"
#include "inboxsync/imap.h"
#include "inboxsync/log.h"
#include "imap/imap_internal.h"

/* ---- server settings ---------------------------------------------------- */

int imap_parse_server(const char *server, const char *def_host, int def_port,
		      char *host, size_t host_len, int *port, struct err *e)
{
	const char *colon, *start, *end;
	char *num_end;
	long n;

	if (!server || !*server) {
		if (!def_host || !*def_host || str_copy(host, host_len, def_host) < 0)
			return err_set(e, ERR_PERMANENT, "bad_server",
				       "no server is set and the default host is "
				       "empty or too long");
		*port = def_port;
		return 0;
	}
	colon = strrchr(server, ':');
	if (!colon || colon == server || !colon[1])
		return err_set(e, ERR_PERMANENT, "bad_server",
			       "server setting '%.200s' is not HOST:PORT", server);
	n = strtol(colon + 1, &num_end, 10);
	if (*num_end || n < 1 || n > 65535)
		return err_set(e, ERR_PERMANENT, "bad_server",
			       "server setting '%.200s' has no valid port (1-65535)",
			       server);
	start = server;
	end = colon;
	if (*start == '[' && end[-1] == ']') {
		start++;
		end--;
	}
	if (end <= start || (size_t)(end - start) >= host_len)
		return err_set(e, ERR_PERMANENT, "bad_server",
			       "server setting '%.200s' has an empty or over-long host",
			       server);
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	*port = (int)n;
	return 0;
}

/* ---- the probes --------------------------------------------------------- */

/* Untagged "* LIST" lines of the answer: one per folder. */
static int count_list_lines(const char *s)
{
	int n = 0;

	for (const char *line = s; *line; ) {
		if (strncasecmp(line, "* LIST ", 7) == 0)
			n++;
		line += strcspn(line, "\n");
		line += *line == '\n';
	}
	return n;
}

static const char imap_advice[] =
	"Usual causes: IMAP is turned off for the mailbox, a token that is not for "
	"https://outlook.office.com, or no IMAP.AccessAsUser.All consent (then "
	"authorize the account again)";
static const char smtp_advice[] =
	"Usual cause: SMTP AUTH is turned off for the mailbox or the whole tenant "
	"(an administrator turns it on); else SMTP.Send consent is missing (then "
	"authorize the account again)";

int imap_probe_login(const char *host, int port, const char *user,
		     const char *token, int *n_folders, struct err *e)
{
	struct imap_curl_target t = { "IMAP", "imap", "imaps", IMAP_PORT_IMPLICIT_TLS,
				      host, port, NULL, 0 };
	struct imap_curl p;
	CURLcode cc;
	int folders, rc = -1;

	if (n_folders)
		*n_folders = 0;
	if (imap_curl_begin(&p, &t, user, token, e) < 0)
		goto out;
	/* The URL "/" makes libcurl log in and send LIST "" "*". */
	cc = curl_easy_perform(p.easy);
	if (cc != CURLE_OK) {
		imap_curl_fail(&p, (int)cc, "imap_auth", imap_advice, e);
		goto out;
	}
	folders = count_list_lines(buf_str(&p.body));
	if (n_folders)
		*n_folders = folders;
	log_info("imap", "IMAP XOAUTH2 login to %s:%d as %s: %d folders", host,
		 port, user, folders);
	rc = 0;
out:
	imap_curl_end(&p);
	return rc;
}

int smtp_login_check(const struct imap_curl_target *t, const char *user,
		     const char *token, struct err *e)
{
	struct imap_curl p;
	CURLcode cc;
	int rc = -1;

	if (imap_curl_begin(&p, t, user, token, e) < 0)
		goto out;
	/* For SMTP, libcurl's connect phase is greeting, EHLO, STARTTLS, EHLO
	 * and AUTH; CONNECT_ONLY stops right after it, before MAIL FROM. */
	if (curl_easy_setopt(p.easy, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK) {
		err_set(e, ERR_BUG, "imap_setup", "libcurl refused CURLOPT_CONNECT_ONLY");
		goto out;
	}
	cc = curl_easy_perform(p.easy);
	if (cc != CURLE_OK) {
		smtp_fail(&p, (int)cc, e);
		goto out;
	}
	log_info("imap", "SMTP XOAUTH2 login to %s:%d as %s: ok", t->host, t->port, user);
	rc = 0;
out:
	imap_curl_end(&p);
	return rc;
}

int smtp_probe_login(const char *host, int port, const char *user,
		     const char *token, struct err *e)
{
	struct imap_curl_target t = { "SMTP", "smtp", "smtps", SMTP_PORT_IMPLICIT_TLS,
				      host, port, NULL, 0 };

	return smtp_login_check(&t, user, token, e);
}

/* Exchange Online's answers when SMTP AUTH is off for the mailbox or the
 * tenant (535 5.7.139), or the login is refused without a reason
 * (535 5.7.3, which the same setting also causes). */
static const char *const smtp_auth_disabled[] = {
	"5.7.139", "SmtpClientAuthentication", "5.7.3",
};

int smtp_fail(const struct imap_curl *p, int cc, struct err *e)
{
	const char *said = buf_str(&p->server_lines);

	imap_curl_fail(p, cc, "smtp_auth", smtp_advice, e);
	if (e->class != ERR_AUTH)
		return -1;
	for (size_t i = 0; i < sizeof(smtp_auth_disabled) / sizeof(*smtp_auth_disabled); i++)
		if (strcasestr(said, smtp_auth_disabled[i])) {
			char quoted[120];

			imap_curl_refusal(p, quoted, sizeof(quoted));
			err_set(e, ERR_AUTH, "smtp_auth", "SMTP AUTH is disabled for this "
				"mailbox: the SMTP server %.200s:%d refused the XOAUTH2 login "
				"(server said: \"%s\"); an Exchange administrator must enable "
				"authenticated SMTP submission for the mailbox (or the tenant)",
				p->host, p->port, quoted);
			break;
		}
	return err_set_fix(e, FIX_ENABLE_MAIL_AUTH, "SMTP");
}
