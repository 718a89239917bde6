/*
 * smtp_submit.c — one message submitted over SMTP with libcurl (set up by
 * imap_curl.c: STARTTLS or implicit TLS, XOAUTH2 forced): MAIL FROM, one
 * RCPT TO per recipient, DATA from memory. What matters most is telling
 * "not sent" from "maybe sent": a failure before the whole message was
 * handed over is certain (nothing went), one after it without the final
 * 250 is ambiguous, and the caller must look in Sent before any repeat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "imap/imap_internal.h"

#define SUBMIT_TIMEOUT_MS 120000L

struct upload {
	const char *data;
	size_t len, sent;
};

static size_t on_read(char *out, size_t size, size_t nmemb, void *ctx)
{
	struct upload *u = ctx;
	size_t room = size * nmemb, left = u->len - u->sent;
	size_t n = left < room ? left : room;

	memcpy(out, u->data + u->sent, n);
	u->sent += n;
	return n;
}

/* A refusal by SMTP reply code: 5xx permanent, 4xx try again. */
static int refused(const struct imap_curl *p, long code, struct err *e)
{
	char said[120];

	imap_curl_refusal(p, said, sizeof(said));
	if (code >= 500)
		return err_set(e, ERR_PERMANENT, "rejected", "the SMTP server %.200s:%d "
			       "refused the message (server said: \"%s\")", p->host, p->port,
			       said);
	return err_set(e, ERR_TRANSIENT, "smtp_tempfail", "the SMTP server %.200s:%d "
		       "could not take the message now (server said: \"%s\"); it is "
		       "tried again later", p->host, p->port, said);
}

int smtp_submit(const char *host, int port, const char *ca_file, const char *user,
		const char *token, const char *from, const char *const *rcpts,
		size_t n, const char *mime, size_t len,
		const struct smtp_last_step *last_step, bool *ambiguous, struct err *e)
{
	struct imap_curl_target t = { "SMTP", "smtp", "smtps", SMTP_PORT_IMPLICIT_TLS,
				      host, port, ca_file, SUBMIT_TIMEOUT_MS };
	struct upload up = { mime, len, 0 };
	struct curl_slist *to = NULL;
	struct imap_curl p;
	char *mail_from = xasprintf("<%s>", from);
	long code = 0;
	CURLcode cc;
	int rc = -1, bad = 0;

	*ambiguous = false;
	if (imap_curl_begin(&p, &t, user, token, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char *r = xasprintf("<%s>", rcpts[i]);
		struct curl_slist *next = curl_slist_append(to, r);

		free(r);
		if (!next) {
			fprintf(stderr, "inboxsync: out of memory (curl_slist_append)\n");
			abort();
		}
		to = next;
	}
	bad += curl_easy_setopt(p.easy, CURLOPT_MAIL_FROM, mail_from) != CURLE_OK;
	bad += curl_easy_setopt(p.easy, CURLOPT_MAIL_RCPT, to) != CURLE_OK;
	bad += curl_easy_setopt(p.easy, CURLOPT_UPLOAD, 1L) != CURLE_OK;
	bad += curl_easy_setopt(p.easy, CURLOPT_READFUNCTION, on_read) != CURLE_OK;
	bad += curl_easy_setopt(p.easy, CURLOPT_READDATA, &up) != CURLE_OK;
	bad += curl_easy_setopt(p.easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len) != CURLE_OK;
	if (bad) {
		err_set(e, ERR_BUG, "imap_setup", "libcurl refused %d SMTP option(s)", bad);
		goto out;
	}
	/* the server's lines go into room taken now (on_debug starts over
	 * when it is full): the exchange allocates nothing of ours */
	if (buf_reserve(&p.server_lines, p.server_lines.limit, e) < 0 ||
	    (last_step && last_step->run(last_step->ctx, e) < 0))
		goto out;
	cc = curl_easy_perform(p.easy);
	curl_easy_getinfo(p.easy, CURLINFO_RESPONSE_CODE, &code);
	if (cc == CURLE_OK) {
		log_info("imap", "submitted %zu bytes to %zu recipient%s at %s:%d", len, n,
			 n == 1 ? "" : "s", host, port);
		rc = 0;
		goto out;
	}
	if (cc == CURLE_LOGIN_DENIED) {
		smtp_fail(&p, cc, e);
		goto out;
	}
	if (up.sent == len && code < 400) {
		/* handed over, then no answer: it may have gone */
		*ambiguous = true;
		err_set(e, ERR_TRANSIENT, "send_unknown", "the SMTP server %.200s:%d took "
			"the message but did not confirm it (%s); whether it was sent is "
			"checked in Sent before any new attempt", host, port,
			p.errbuf[0] ? p.errbuf : curl_easy_strerror(cc));
		goto out;
	}
	if (code >= 400) {
		refused(&p, code, e);
		goto out;
	}
	smtp_fail(&p, cc, e);
	if (e->class == ERR_PERMANENT && err_is(e, "protocol"))
		e->class = ERR_TRANSIENT; /* an odd answer before the message went */
out:
	curl_slist_free_all(to);
	free(mail_from);
	imap_curl_end(&p);
	return rc;
}
