/*
 * smtp_fake.h — a scripted SMTP server on 127.0.0.1, run in a thread of
 * the test. Two uses: the relay behind Dovecot's submission service (it
 * receives what inboxsync submits and hands every message to a callback,
 * which delivers it into Maildirs), and, with `auth`, a submission server
 * of its own that requires AUTH XOAUTH2 and refuses it on cue the way
 * Exchange Online does when SMTP AUTH is disabled for a mailbox. It
 * speaks just enough SMTP for libcurl and Dovecot; one client at a time.
 */
#ifndef INBOXSYNC_TEST_SMTP_FAKE_H
#define INBOXSYNC_TEST_SMTP_FAKE_H

#include <stdbool.h>
#include <stddef.h>

enum smtp_fake_fault {
	SMTP_FAKE_OK = 0,
	SMTP_FAKE_AUTH_DISABLED,     /* 535 5.7.139 SmtpClientAuthentication disabled */
	SMTP_FAKE_AUTH_DENIED,       /* 535 5.7.3 Authentication unsuccessful */
	SMTP_FAKE_REJECT_RCPT,       /* 550 5.1.1 at RCPT TO */
	SMTP_FAKE_TEMPFAIL_MAIL,     /* 451 4.3.0 at MAIL FROM */
	SMTP_FAKE_DROP_AFTER_DATA,   /* read the message, then close without a reply */
};

struct smtp_fake_msg {
	const char *from;            /* MAIL FROM address (no brackets) */
	const char *const *rcpts;    /* RCPT TO addresses */
	size_t n_rcpts;
	const char *data;            /* the message, dot-unstuffed, CRLF lines */
	size_t len;
};

/* Called (on the server thread) for each message accepted with 250. */
typedef void (*smtp_fake_deliver_cb)(void *ctx, const struct smtp_fake_msg *m);

struct smtp_fake_opts {
	bool auth;                   /* offer and require AUTH */
	const char *auth_mechanisms; /* EHLO AUTH list, default "XOAUTH2" */
	smtp_fake_deliver_cb deliver; /* may be NULL */
	void *ctx;
};

struct smtp_fake;

/* Start on a free port. NULL after printing why to stderr. */
struct smtp_fake *smtp_fake_start(const struct smtp_fake_opts *o);
int smtp_fake_port(const struct smtp_fake *f);
/* The fault for the next transactions (thread-safe). */
void smtp_fake_set_fault(struct smtp_fake *f, enum smtp_fake_fault fault);
/* Messages accepted so far. */
int smtp_fake_accepted(struct smtp_fake *f);
/* Mechanism of the last AUTH command ("XOAUTH2", ...) and its decoded
 * initial response (heap strings, or NULL). */
char *smtp_fake_last_mechanism(struct smtp_fake *f);
char *smtp_fake_last_auth_response(struct smtp_fake *f);
void smtp_fake_stop(struct smtp_fake *f);

#endif
