/*
 * imap_curl.c — what the login probes (imap_probe.c) and SMTP submission
 * (smtp_submit.c) share on libcurl: one easy handle set up for IMAP or
 * SMTP at host:port with the TLS rule (implicit TLS on the TLS port,
 * STARTTLS required elsewhere, plain only to loopback), XOAUTH2 forced,
 * the server's recent lines kept for error messages (never what we sent:
 * that carries the token), and the classification of failures.
 */
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
#include "inboxsync/log.h"
#include "inboxsync/quote.h"
#include "imap/imap_internal.h"

#define BODY_MAX ((size_t)4 << 20)          /* a LIST answer */
#define SERVER_LINES_MAX ((size_t)16 << 10)  /* recent server lines */
#define SERVER_SAID_MAX 100                  /* quoted in messages */

/* ---- curl callbacks ----------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct imap_curl *p = ctx;

	if (buf_append(&p->body, data, size * nmemb, NULL) < 0) {
		p->body_too_large = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	return size * nmemb;
}

/* Keeps the lines the server sent (never what we sent: that carries the
 * token). When the buffer is full, older lines make room for newer ones:
 * a failure is explained by the last lines. */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t n,
		    void *ctx)
{
	struct imap_curl *p = ctx;

	(void)easy;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	if (n > p->server_lines.limit) {
		data += n - p->server_lines.limit;
		n = p->server_lines.limit;
	}
	if (buf_append(&p->server_lines, data, n, NULL) < 0) {
		buf_reset(&p->server_lines);
		buf_append(&p->server_lines, data, n, NULL);
	}
	return 0;
}

/* ---- setup -------------------------------------------------------------- */

#define SETOPT(h, opt, val) \
	(curl_easy_setopt((h), (opt), (val)) == CURLE_OK ? 0 : 1)

/* scheme://host:port/ into p->url, through curl's URL parser (which
 * refuses a host that is not one). */
static int curl_url_for(struct imap_curl *p, const char *scheme, struct err *e)
{
	char bracketed[300], port_str[16];
	const char *url_host = p->host;

	if (strchr(p->host, ':')) { /* an IPv6 literal goes in brackets */
		snprintf(bracketed, sizeof(bracketed), "[%.280s]", p->host);
		url_host = bracketed;
	}
	snprintf(port_str, sizeof(port_str), "%d", p->port);
	p->url = curl_url();
	if (!p->url) {
		fprintf(stderr, "inboxsync: out of memory (curl_url)\n");
		abort();
	}
	if (p->port < 1 || p->port > 65535 ||
	    curl_url_set(p->url, CURLUPART_SCHEME, scheme, 0) ||
	    curl_url_set(p->url, CURLUPART_HOST, url_host, 0) ||
	    curl_url_set(p->url, CURLUPART_PORT, port_str, 0) ||
	    curl_url_set(p->url, CURLUPART_PATH, "/", 0))
		return err_set(e, ERR_PERMANENT, "bad_server",
			       "'%.200s:%d' is not a usable %s server address",
			       p->host, p->port, p->proto);
	return 0;
}

int imap_curl_begin(struct imap_curl *p, const struct imap_curl_target *t,
		    const char *user, const char *token, struct err *e)
{
	const char *scheme = t->port == t->tls_port ? t->tls : t->plain;
	const char *proto = t->proto;
	long use_ssl = (long)CURLUSESSL_ALL;
	bool is_loopback;
	int bad = 0, port = t->port;

	memset(p, 0, sizeof(*p));
	p->proto = proto;
	p->host = t->host ? t->host : "";
	p->port = port;
	buf_init(&p->body, BODY_MAX);
	buf_init(&p->server_lines, SERVER_LINES_MAX);
	if (!user || !*user || !token || !*token)
		return err_set(e, ERR_AUTH, "auth_required",
			       "%s login needs the mailbox address and an access token",
			       proto);
	if (!*p->host)
		return err_set(e, ERR_PERMANENT, "bad_server",
			       "no %s server host is set", proto);
	if (http_global_init(e) < 0 || curl_url_for(p, scheme, e) < 0)
		return -1;
	log_add_secret(token);
	is_loopback = imap_host_is_loopback(p->host);
	if (is_loopback)
		use_ssl = (long)CURLUSESSL_NONE;
	p->easy = curl_easy_init();
	if (!p->easy) {
		fprintf(stderr, "inboxsync: out of memory (curl_easy_init)\n");
		abort();
	}
	bad += SETOPT(p->easy, CURLOPT_CURLU, p->url);
	bad += SETOPT(p->easy, CURLOPT_PROTOCOLS_STR, scheme);
	bad += SETOPT(p->easy, CURLOPT_NOSIGNAL, 1L);
	bad += SETOPT(p->easy, CURLOPT_CONNECTTIMEOUT_MS, IMAP_PROBE_CONNECT_TIMEOUT_MS);
	bad += SETOPT(p->easy, CURLOPT_TIMEOUT_MS, t->total_timeout_ms ? t->total_timeout_ms
							 : IMAP_PROBE_TOTAL_TIMEOUT_MS);
	if (t->ca_file && *t->ca_file)
		bad += SETOPT(p->easy, CURLOPT_CAINFO, t->ca_file);
	bad += SETOPT(p->easy, CURLOPT_USE_SSL, use_ssl);
	bad += SETOPT(p->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	bad += SETOPT(p->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	/* Exchange Online offers XOAUTH2 only. libcurl would pick OAUTHBEARER
	 * when a server offers both; AUTH=XOAUTH2 restricts it to XOAUTH2
	 * (tests/scenarios/test_imap_send.c proves it against a server that
	 * offers both). */
	bad += SETOPT(p->easy, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
	bad += SETOPT(p->easy, CURLOPT_USERNAME, user);
	bad += SETOPT(p->easy, CURLOPT_XOAUTH2_BEARER, token);
	bad += SETOPT(p->easy, CURLOPT_WRITEFUNCTION, on_body);
	bad += SETOPT(p->easy, CURLOPT_WRITEDATA, p);
	/* Verbose output goes only to on_debug, which keeps server lines. */
	bad += SETOPT(p->easy, CURLOPT_DEBUGFUNCTION, on_debug);
	bad += SETOPT(p->easy, CURLOPT_DEBUGDATA, p);
	bad += SETOPT(p->easy, CURLOPT_VERBOSE, 1L);
	bad += SETOPT(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
	if (is_loopback) /* a proxy could not reach our loopback anyway */
		bad += SETOPT(p->easy, CURLOPT_PROXY, "");
	if (bad)
		return err_set(e, ERR_BUG, "imap_setup",
			       "libcurl refused %d option(s) for %s at %.200s:%d "
			       "(does it support %s?)", bad, proto, p->host, port,
			       scheme);
	return 0;
}

void imap_curl_end(struct imap_curl *p)
{
	curl_easy_cleanup(p->easy); /* says LOGOUT / QUIT when logged in */
	curl_url_cleanup(p->url);
	buf_free(&p->body);
	buf_free(&p->server_lines);
	p->easy = NULL;
	p->url = NULL;
}

/* ---- failures ----------------------------------------------------------- */

/* The first line of `n` bytes of server text into `out` for a message,
 * quoted (quote.h) and cut to SERVER_SAID_MAX bytes. */
static void quote_server_text(const char *s, size_t n, char *out, size_t out_len)
{
	const char *eol = s;

	while ((size_t)(eol - s) < n && *eol != '\r' && *eol != '\n')
		eol++;
	quote_text(out, out_len < SERVER_SAID_MAX + 1 ? out_len : SERVER_SAID_MAX + 1,
		   s, (size_t)(eol - s), 0);
}

/* Length of the prefix of a SASL continuation carrying data: "+ " (IMAP)
 * or "334 " (SMTP); 0 for any other line or an empty challenge. */
static size_t continuation_prefix(const char *line, size_t n)
{
	if (n > 2 && line[0] == '+' && line[1] == ' ')
		return 2;
	if (n > 4 && strncmp(line, "334 ", 4) == 0)
		return 4;
	return 0;
}

/* A continuation's base64 payload (Dovecot, Gmail: a JSON status after a
 * refused token) decoded for a message; "" when it is not base64. */
static void decode_continuation(const char *b64, size_t n, char *out,
				size_t out_len)
{
	unsigned char raw[512];
	size_t raw_len = 0;

	out[0] = '\0';
	if (sodium_base642bin(raw, sizeof(raw), b64, n, NULL, &raw_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) == 0)
		quote_server_text((const char *)raw, raw_len, out, out_len);
}

/* The server's refusal among its recent lines: the last IMAP tagged NO/BAD
 * or SMTP 4xx/5xx reply or SASL continuation with data (decoded); "" if
 * none. */
void imap_curl_refusal(const struct imap_curl *p, char *out, size_t out_len)
{
	const char *line = buf_str(&p->server_lines), *found = NULL;
	size_t found_len = 0, found_skip = 0;

	out[0] = '\0';
	while (*line) {
		size_t n = strcspn(line, "\r\n");
		const char *sp = memchr(line, ' ', n);
		size_t skip = continuation_prefix(line, n);
		bool is_smtp_error = n >= 3 && (line[0] == '4' || line[0] == '5') &&
				     isdigit((unsigned char)line[1]) &&
				     isdigit((unsigned char)line[2]);
		bool is_imap_error = line[0] != '*' && line[0] != '+' && sp &&
				     (strncasecmp(sp, " NO", 3) == 0 ||
				      strncasecmp(sp, " BAD", 4) == 0);

		if (is_smtp_error || is_imap_error || skip) {
			found = line;
			found_len = n;
			found_skip = skip;
		}
		line += n;
		line += strspn(line, "\r\n");
	}
	if (found && found_skip)
		decode_continuation(found + found_skip, found_len - found_skip, out,
				    out_len);
	else if (found)
		quote_server_text(found, found_len, out, out_len);
}

enum probe_failure { FAIL_OTHER, FAIL_AUTH, FAIL_NETWORK, FAIL_TLS };

static const struct {
	CURLcode cc;
	enum probe_failure kind;
} failure_of[] = {
	{ CURLE_LOGIN_DENIED, FAIL_AUTH },
	{ CURLE_COULDNT_RESOLVE_HOST, FAIL_NETWORK },
	{ CURLE_COULDNT_RESOLVE_PROXY, FAIL_NETWORK },
	{ CURLE_COULDNT_CONNECT, FAIL_NETWORK },
	{ CURLE_OPERATION_TIMEDOUT, FAIL_NETWORK },
	{ CURLE_SEND_ERROR, FAIL_NETWORK },
	{ CURLE_RECV_ERROR, FAIL_NETWORK },
	{ CURLE_GOT_NOTHING, FAIL_NETWORK },
	{ CURLE_SSL_CONNECT_ERROR, FAIL_TLS },
	{ CURLE_PEER_FAILED_VERIFICATION, FAIL_TLS },
	{ CURLE_USE_SSL_FAILED, FAIL_TLS },
	{ CURLE_SSL_CERTPROBLEM, FAIL_TLS },
	{ CURLE_SSL_CIPHER, FAIL_TLS },
	{ CURLE_SSL_CACERT_BADFILE, FAIL_TLS },
	{ CURLE_SSL_CRL_BADFILE, FAIL_TLS },
	{ CURLE_SSL_ISSUER_ERROR, FAIL_TLS },
	{ CURLE_SSL_PINNEDPUBKEYNOTMATCH, FAIL_TLS },
	{ CURLE_SSL_INVALIDCERTSTATUS, FAIL_TLS },
	{ CURLE_SSL_ENGINE_INITFAILED, FAIL_TLS },
};

static enum probe_failure classify(CURLcode cc)
{
	for (size_t i = 0; i < sizeof(failure_of) / sizeof(failure_of[0]); i++)
		if (failure_of[i].cc == cc)
			return failure_of[i].kind;
	return FAIL_OTHER;
}

int imap_curl_fail(const struct imap_curl *p, int code, const char *auth_code,
		   const char *advice, struct err *e)
{
	CURLcode cc = (CURLcode)code;
	const char *why = p->errbuf[0] ? p->errbuf : curl_easy_strerror(cc);
	char said[SERVER_SAID_MAX + 1], quoted[SERVER_SAID_MAX + 32] = "";

	imap_curl_refusal(p, said, sizeof(said));
	if (said[0])
		snprintf(quoted, sizeof(quoted), " (server said: \"%s\")", said);
	switch (classify(cc)) {
	case FAIL_AUTH:
		if (!strcasestr(buf_str(&p->server_lines), "XOAUTH2"))
			return err_set(e, ERR_PERMANENT, "no_xoauth2",
				       "the %s server %.200s:%d does not offer the "
				       "XOAUTH2 login, so OAuth2 cannot be used with it; "
				       "check the %s server setting", p->proto, p->host,
				       p->port, p->proto);
		err_set(e, ERR_AUTH, auth_code,
			"the %s server %.200s:%d refused the XOAUTH2 login%s. %s",
			p->proto, p->host, p->port, quoted, advice);
		return err_set_fix(e, FIX_ENABLE_MAIL_AUTH, p->proto);
	case FAIL_NETWORK:
		return err_set(e, ERR_TRANSIENT, "network",
			       "the %s server %.200s:%d could not be reached: %s; "
			       "check the server setting and the network, then try "
			       "again", p->proto, p->host, p->port, why);
	case FAIL_TLS:
		return err_set(e, ERR_PERMANENT, "tls",
			       "TLS with the %s server %.200s:%d failed: %s; the "
			       "server must offer TLS (implicit on port %d, STARTTLS "
			       "otherwise) with a certificate this machine trusts",
			       p->proto, p->host, p->port, why,
			       strcmp(p->proto, "IMAP") == 0 ? IMAP_PORT_IMPLICIT_TLS
							     : SMTP_PORT_IMPLICIT_TLS);
	case FAIL_OTHER:
		break;
	}
	if (p->body_too_large)
		return err_set(e, ERR_PERMANENT, "too_large",
			       "the folder list from the %s server %.200s:%d exceeds "
			       "%zu bytes", p->proto, p->host, p->port,
			       BODY_MAX);
	return err_set(e, ERR_PERMANENT, "protocol",
		       "talking to the %s server %.200s:%d failed: %s%s", p->proto,
		       p->host, p->port, why, quoted);
}

