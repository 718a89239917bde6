/*
 * dovecot_harness.h — a real Dovecot (IMAP + submission) for C tests,
 * started as a child on 127.0.0.1 with a private configuration in its
 * own directory and stopped by pid. Its oauth2 passdb has m365sim
 * introspect the bearer tokens, so XOAUTH2 logins are checked the way
 * Exchange Online checks its own. Submission relays to an in-process
 * SMTP sink (smtp_fake) that delivers into the recipients' Maildirs and,
 * when asked, files the sender's Sent copy as Exchange Online does.
 *
 * Variants: CONDSTORE/QRESYNC on (Dovecot's default) or off, and an
 * "Exchange-like" folder set without SPECIAL-USE ("Sent Items", "Deleted
 * Items", "Junk Email", "Archive"), so both code paths of the driver are
 * proven. Mail processes run as the unprivileged "dovecot" user when the
 * tests run as root (Dovecot refuses mail access as root).
 *
 * Seeding: dovecot_seed writes Maildir files directly (fast: tens of
 * thousands per second); ordered UIDs and exact flags come from APPEND
 * through an IMAP client instead (imap_client.h).
 */
#ifndef INBOXSYNC_TEST_DOVECOT_HARNESS_H
#define INBOXSYNC_TEST_DOVECOT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "smtp_fake.h"

struct dovecot_opts {
	const char *introspection_url;   /* m365sim's .../_sim/introspect (required) */
	bool no_condstore;               /* advertise neither CONDSTORE nor QRESYNC */
	bool exchange_like;              /* no SPECIAL-USE, Exchange folder names */
	const char *mechanisms;          /* auth_mechanisms, default "xoauth2" */
	bool files_sent_copy;            /* the relay files the sender's Sent copy */
	bool tls;                        /* also an imaps listener with a self-signed cert */
};

struct dovecot {
	pid_t pid;
	char dir[256];                   /* private directory (0755) */
	int imap_port;
	int imaps_port;                  /* 0 unless opts.tls */
	int submission_port;
	char ca_file[320];               /* the self-signed certificate (opts.tls) */
	uid_t mail_uid;
	gid_t mail_gid;
	struct dovecot_opts opts;
	struct smtp_fake *relay;
};

/* Start Dovecot (and its relay). Returns 0, or -1 after printing why
 * (with Dovecot's log) to stderr. */
int dovecot_start(struct dovecot *d, const struct dovecot_opts *o);

/* Stop it by pid (SIGTERM, then SIGKILL), stop the relay, remove the
 * directory. Returns 0 when Dovecot had to be killed neither. */
int dovecot_stop(struct dovecot *d);

/* Maildir directory of `folder` ("INBOX", "Archive", "Sent Items",
 * "INBOX/Projects") of `user`, created with cur/new/tmp when absent and
 * owned by the mail user. Heap string. */
char *dovecot_maildir(struct dovecot *d, const char *user, const char *folder);

/* Write one message into `folder` of `user` as a Maildir file: `flags` a
 * Maildir info string ("S" seen, "F" flagged, "D" draft, "" none),
 * `received` its INTERNALDATE (file mtime; 0 = now). Returns 0/-1. */
int dovecot_seed(struct dovecot *d, const char *user, const char *folder,
		 const char *mime, size_t len, const char *flags, int64_t received);

/* A generated message: From a fixed sender, To `user`, subject "Message
 * N", a Message-ID "<seed-N@test.example>", a body of `body_bytes`
 * bytes (plain text; every 7th has a small attachment). Heap, CRLF. */
char *dovecot_sample_message(const char *user, int n, size_t body_bytes,
			     size_t *len);

/* Run doveadm with this Dovecot's configuration; argv is NULL-terminated
 * (without "doveadm" and "-c"). Returns its exit status. */
int dovecot_doveadm(struct dovecot *d, const char *const *argv);
/* The same with its output appended to the file `log`. */
int dovecot_doveadm_to(struct dovecot *d, const char *const *argv, const char *log);

/* Give `folder` of `user` a new UIDVALIDITY (doveadm mailbox update). */
int dovecot_reset_uidvalidity(struct dovecot *d, const char *user,
			      const char *folder, uint32_t uidvalidity);

/* Disconnect every IMAP session of `user` (doveadm kick): the server
 * says BYE mid-session. Returns once `doveadm who` lists none. */
int dovecot_kick(struct dovecot *d, const char *user);

/* Re-read a changed passdb (introspection answer `active_value`,
 * normally "true"; "never" makes every token fail) with SIGHUP. */
int dovecot_set_active_value(struct dovecot *d, const char *active_value);

/* Lines of Dovecot's log containing `needle`. */
int dovecot_log_count(struct dovecot *d, const char *needle);

#endif
