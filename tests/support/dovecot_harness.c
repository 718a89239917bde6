/*
 * dovecot_harness.c — starting, seeding, steering and stopping a private
 * Dovecot for tests (see dovecot_harness.h). The configuration is written
 * from one template with the variant's pieces filled in; ports are found
 * free by binding port 0 (and the start retried should another process
 * take one first).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dovecot_harness.h"

#define DOVECOT_BIN "/usr/sbin/dovecot"
#define DOVEADM_BIN "/usr/bin/doveadm"

static atomic_int seed_counter;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The lowest port of the kernel's ephemeral range (32768 if unknown). */
static int ephemeral_low(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int low = 0;

	if (f) {
		if (fscanf(f, "%d", &low) != 1)
			low = 0;
		fclose(f);
	}
	return low > 21000 && low < 65536 ? low : 32768;
}

/* A loopback port free to bind now, below the ephemeral range: a port
 * the kernel hands out (bind to 0) can become the local end of some
 * outgoing connection before Dovecot listens on it. */
static int free_port(void)
{
	static bool seeded;
	int low = ephemeral_low();

	if (!seeded) {
		srandom((unsigned)getpid() ^ (unsigned)time(NULL));
		seeded = true;
	}
	for (int tries = 0; tries < 200; tries++) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int port = 20000 + (int)(random() % (low - 20000)), ok;

		if (fd < 0)
			return -1;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)port);
		ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(fd);
		if (ok)
			return port;
	}
	return -1;
}

static bool port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -1;
	rc = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) == 0 ? rc : -1;
}

static void own(const struct dovecot *d, const char *path)
{
	if (geteuid() == 0 && chown(path, d->mail_uid, d->mail_gid) < 0)
		perror(path);
}

/* Run argv with its output appended to `log` (or dropped). */
static int run_logged(const char *const *argv, const char *log)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int out = log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)
			      : open("/dev/null", O_WRONLY);

		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int run_quiet(const char *const *argv)
{
	return run_logged(argv, NULL);
}

/* ---- configuration -------------------------------------------------------- */

static int write_passdb(struct dovecot *d, const char *active_value)
{
	char path[400], text[1024];

	snprintf(path, sizeof(path), "%s/oauth2.conf", d->dir);
	snprintf(text, sizeof(text),
		 "introspection_url = %s\n"
		 "introspection_mode = post\n"
		 "username_attribute = email\n"
		 "active_attribute = active\n"
		 "active_value = %s\n", d->opts.introspection_url, active_value);
	return write_file(path, text);
}

/* The folders every account gets, with or without SPECIAL-USE. */
static const char folders_special_use[] =
	"  mailbox Drafts {\n    special_use = \\Drafts\n    auto = create\n  }\n"
	"  mailbox Sent {\n    special_use = \\Sent\n    auto = create\n  }\n"
	"  mailbox Trash {\n    special_use = \\Trash\n    auto = create\n  }\n"
	"  mailbox Junk {\n    special_use = \\Junk\n    auto = create\n  }\n"
	"  mailbox Archive {\n    special_use = \\Archive\n    auto = create\n  }\n";
static const char folders_exchange[] =
	"  mailbox Drafts {\n    auto = create\n  }\n"
	"  mailbox \"Sent Items\" {\n    auto = create\n  }\n"
	"  mailbox \"Deleted Items\" {\n    auto = create\n  }\n"
	"  mailbox \"Junk Email\" {\n    auto = create\n  }\n"
	"  mailbox Archive {\n    auto = create\n  }\n";

/* Exchange Online's capabilities (no CONDSTORE, QRESYNC, SPECIAL-USE). */
#define CAPS_EXCHANGE "IMAP4rev1 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+"
/* Dovecot's defaults minus CONDSTORE and QRESYNC. */
#define CAPS_NO_CONDSTORE "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT " \
	"THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS " \
	"LIST-EXTENDED I18NLEVEL=1 ESEARCH SEARCHRES WITHIN LIST-STATUS MOVE " \
	"LITERAL+ SPECIAL-USE"

static int write_config(struct dovecot *d)
{
	const struct dovecot_opts *o = &d->opts;
	struct passwd *pw = getpwuid(d->mail_uid);
	struct group *gr = getgrgid(d->mail_gid);
	const char *user = pw ? pw->pw_name : "dovecot", *group = gr ? gr->gr_name : "dovecot";
	const char *login_user = geteuid() == 0 ? "dovenull" : user;
	char path[400], caps[400] = "", tls[1200] = "", *text = NULL;
	int rc;

	if (o->exchange_like)
		snprintf(caps, sizeof(caps), "imap_capability = %s\n", CAPS_EXCHANGE);
	else if (o->no_condstore)
		snprintf(caps, sizeof(caps), "imap_capability = %s\n", CAPS_NO_CONDSTORE);
	if (o->tls)
		snprintf(tls, sizeof(tls), "ssl = yes\nssl_cert = <%s/cert.pem\n"
			 "ssl_key = <%s/key.pem\n", d->dir, d->dir);
	else
		snprintf(tls, sizeof(tls), "ssl = no\n");
	rc = asprintf(&text,
		"protocols = imap submission\n"
		"instance_name = inboxsync-test-%d-%d\n"
		"base_dir = %s/run\n"
		"state_dir = %s/state\n"
		"log_path = %s/dovecot.log\n"
		"info_log_path = %s/dovecot.log\n"
		"listen = 127.0.0.1\n"
		"%s"
		"disable_plaintext_auth = no\n"
		"auth_mechanisms = %s\n"
		"auth_verbose = yes\n"
		"hostname = localhost\n"
		"default_internal_user = %s\n"
		"default_internal_group = %s\n"
		"default_login_user = %s\n"
		"first_valid_uid = 1\n"
		"mail_location = maildir:%s/mail/%%u\n"
		"%s"
		"namespace inbox {\n  inbox = yes\n  separator = /\n%s}\n"
		"passdb {\n  driver = oauth2\n  mechanisms = %s\n  args = %s/oauth2.conf\n}\n"
		"userdb {\n  driver = static\n  args = uid=%s gid=%s home=%s/mail/%%u allow_all_users=yes\n}\n"
		"service imap-login {\n  chroot =\n"
		"  inet_listener imap {\n    port = %d\n  }\n"
		"  inet_listener imaps {\n    port = %d\n  }\n}\n"
		"service submission-login {\n  chroot =\n"
		"  inet_listener submission {\n    port = %d\n  }\n}\n"
		"service auth-worker {\n  user = %s\n}\n"
		"service anvil {\n  chroot =\n}\n"
		"service ipc {\n  chroot =\n}\n"
		"submission_relay_host = 127.0.0.1\n"
		"submission_relay_port = %d\n",
		getpid(), d->imap_port, d->dir, d->dir, d->dir, d->dir, tls,
		o->mechanisms ? o->mechanisms : "xoauth2", user, group, login_user,
		d->dir, caps, o->exchange_like ? folders_exchange : folders_special_use,
		o->mechanisms ? o->mechanisms : "xoauth2", d->dir, user, group, d->dir,
		d->imap_port, d->imaps_port, d->submission_port, user,
		smtp_fake_port(d->relay));
	if (rc < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/dovecot.conf", d->dir);
	rc = write_file(path, text);
	free(text);
	return rc;
}

static int make_cert(struct dovecot *d)
{
	char key[320], cert[320], subj[] = "/CN=localhost";
	const char *argv[] = { "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
			       "-nodes", "-keyout", key, "-out", cert, "-days", "2",
			       "-subj", subj, "-addext",
			       "subjectAltName=DNS:localhost,IP:127.0.0.1", NULL };

	snprintf(key, sizeof(key), "%s/key.pem", d->dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", d->dir);
	snprintf(d->ca_file, sizeof(d->ca_file), "%s", cert);
	if (run_quiet(argv) != 0) {
		fprintf(stderr, "dovecot_start: openssl could not make a certificate\n");
		return -1;
	}
	chmod(key, 0644);
	return 0;
}

/* ---- the relay: deliveries into Maildirs --------------------------------- */

static const char *sent_folder(const struct dovecot *d)
{
	return d->opts.exchange_like ? "Sent Items" : "Sent";
}

static bool is_local_user(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at && strcmp(at, "@contoso.com") == 0;
}

static void relay_deliver(void *ctx, const struct smtp_fake_msg *m)
{
	struct dovecot *d = ctx;

	for (size_t i = 0; i < m->n_rcpts; i++)
		if (is_local_user(m->rcpts[i]))
			dovecot_seed(d, m->rcpts[i], "INBOX", m->data, m->len, "", 0);
	if (d->opts.files_sent_copy && is_local_user(m->from))
		dovecot_seed(d, m->from, sent_folder(d), m->data, m->len, "S", 0);
}

/* ---- lifecycle -------------------------------------------------------------- */

static void dump_log(const struct dovecot *d)
{
	char path[400], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/dovecot.log", d->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "dovecot: %s", line);
	fclose(f);
}

static int start_once(struct dovecot *d)
{
	char conf[400];
	long deadline;

	d->imap_port = free_port();
	d->imaps_port = d->opts.tls ? free_port() : 0;
	d->submission_port = free_port();
	if (write_config(d) < 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/dovecot.conf", d->dir);
	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		char out[400];
		int fd;

		/* Dovecot goes when the test does, however it ends */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		snprintf(out, sizeof(out), "%s/stdout.log", d->dir);
		fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(DOVECOT_BIN, DOVECOT_BIN, "-F", "-c", conf, (char *)NULL);
		_exit(127);
	}
	deadline = now_ms() + 10000;
	while (now_ms() < deadline) {
		if (port_open(d->imap_port) && port_open(d->submission_port) &&
		    (!d->imaps_port || port_open(d->imaps_port)))
			return 0;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = -1;
			return -1;
		}
		usleep(50000);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	d->pid = -1;
	return -1;
}

int dovecot_start(struct dovecot *d, const struct dovecot_opts *o)
{
	struct smtp_fake_opts relay = { .deliver = relay_deliver, .ctx = d };
	struct passwd *pw;
	char path[400];

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	d->opts = *o;
	if (access(DOVECOT_BIN, X_OK) != 0) {
		fprintf(stderr, "dovecot_start: %s is not installed (scripts/install-deps.sh "
			"installs dovecot-imapd and dovecot-submissiond)\n", DOVECOT_BIN);
		return -1;
	}
	if (geteuid() == 0 && (pw = getpwnam("dovecot")) != NULL) {
		d->mail_uid = pw->pw_uid;
		d->mail_gid = pw->pw_gid;
	} else {
		d->mail_uid = getuid();
		d->mail_gid = getgid();
	}
	snprintf(d->dir, sizeof(d->dir), "/tmp/inboxsync-dovecot.XXXXXX");
	if (!mkdtemp(d->dir)) {
		perror("dovecot_start: mkdtemp");
		return -1;
	}
	chmod(d->dir, 0755);
	snprintf(path, sizeof(path), "%s/mail", d->dir);
	mkdir(path, 0755);
	own(d, path);
	snprintf(path, sizeof(path), "%s/state", d->dir);
	mkdir(path, 0755);
	d->relay = smtp_fake_start(&relay);
	if (!d->relay || write_passdb(d, "true") < 0 || (o->tls && make_cert(d) < 0))
		goto fail;
	for (int attempt = 0; attempt < 3; attempt++)
		if (start_once(d) == 0)
			return 0;
	dump_log(d);
	fprintf(stderr, "dovecot_start: Dovecot did not start\n");
fail:
	dovecot_stop(d);
	return -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int dovecot_stop(struct dovecot *d)
{
	int rc = 0;

	if (d->pid > 0) {
		long deadline = now_ms() + 10000;

		kill(d->pid, SIGTERM);
		for (;;) {
			pid_t r = waitpid(d->pid, NULL, WNOHANG);

			if (r == d->pid)
				break;
			if (r < 0 || now_ms() > deadline) {
				kill(d->pid, SIGKILL);
				waitpid(d->pid, NULL, 0);
				rc = -1;
				break;
			}
			usleep(20000);
		}
		d->pid = -1;
	}
	smtp_fake_stop(d->relay);
	d->relay = NULL;
	if (d->dir[0] && !getenv("INBOXSYNC_KEEP_DOVECOT"))
		nftw(d->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	d->dir[0] = '\0';
	return rc;
}

/* ---- Maildirs ----------------------------------------------------------------- */

static int make_dir(struct dovecot *d, const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -1;
	own(d, path);
	return 0;
}

char *dovecot_maildir(struct dovecot *d, const char *user, const char *folder)
{
	char *path = NULL, sub[400];
	size_t j = 0;

	if (strcasecmp(folder, "INBOX") == 0) {
		sub[0] = '\0';
	} else {
		sub[j++] = '/';
		sub[j++] = '.';
		for (const char *p = folder; *p && j < sizeof(sub) - 1; p++)
			sub[j++] = *p == '/' ? '.' : *p;
		sub[j] = '\0';
	}
	if (asprintf(&path, "%s/mail/%s", d->dir, user) < 0)
		return NULL;
	make_dir(d, path);
	free(path);
	if (asprintf(&path, "%s/mail/%s%s", d->dir, user, sub) < 0)
		return NULL;
	make_dir(d, path);
	if (sub[0]) {
		char marker[600];
		int fd;

		snprintf(marker, sizeof(marker), "%s/maildirfolder", path);
		fd = open(marker, O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
		own(d, marker);
	}
	for (int i = 0; i < 3; i++) {
		static const char *const kids[] = { "cur", "new", "tmp" };
		char kid[600];

		snprintf(kid, sizeof(kid), "%s/%s", path, kids[i]);
		make_dir(d, kid);
	}
	return path;
}

int dovecot_seed(struct dovecot *d, const char *user, const char *folder,
		 const char *mime, size_t len, const char *flags, int64_t received)
{
	char *dir = dovecot_maildir(d, user, folder), tmp[800], cur[900], base[128];
	struct timeval tv;
	struct timeval times[2];
	int fd, rc = -1;

	if (!dir)
		return -1;
	gettimeofday(&tv, NULL);
	snprintf(base, sizeof(base), "%ld.M%ldP%dQ%d.inboxsync", (long)tv.tv_sec,
		 (long)tv.tv_usec, getpid(), atomic_fetch_add(&seed_counter, 1));
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, base);
	snprintf(cur, sizeof(cur), "%s/cur/%s,S=%zu:2,%s", dir, base, len, flags ? flags : "");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, mime, len) != (ssize_t)len) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	times[0].tv_sec = times[1].tv_sec = received > 0 ? (time_t)received : tv.tv_sec;
	times[0].tv_usec = times[1].tv_usec = 0;
	utimes(tmp, times);
	own(d, tmp);
	rc = rename(tmp, cur);
out:
	free(dir);
	return rc;
}

char *dovecot_sample_message(const char *user, int n, size_t body_bytes, size_t *len)
{
	static const char words[] = "lorem ipsum dolor sit amet consectetur adipiscing "
		"elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ";
	char *out = NULL, *body = malloc(body_bytes + 3);
	bool attach = n % 7 == 3;
	int rc;

	for (size_t i = 0; i < body_bytes; i++)
		body[i] = (i + 1) % 72 == 0 ? '\n' : words[(i + (size_t)n) % (sizeof(words) - 1)];
	body[body_bytes] = '\0';
	if (attach)
		rc = asprintf(&out,
			"From: Carol Sender <carol@fabrikam.example>\r\nTo: <%s>\r\n"
			"Subject: Message %d\r\nDate: Mon, 02 Jun 2025 10:%02d:%02d +0000\r\n"
			"Message-ID: <seed-%d@test.example>\r\nMIME-Version: 1.0\r\n"
			"Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n"
			"--b%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"
			"--b%d\r\nContent-Type: application/pdf; name=\"doc%d.pdf\"\r\n"
			"Content-Disposition: attachment; filename=\"doc%d.pdf\"\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJeLjz9MK\r\n--b%d--\r\n",
			user, n, (n / 60) % 60, n % 60, n, n, n, body, n, n, n, n);
	else
		rc = asprintf(&out,
			"From: Carol Sender <carol@fabrikam.example>\r\nTo: <%s>\r\n"
			"Subject: Message %d\r\nDate: Mon, 02 Jun 2025 10:%02d:%02d +0000\r\n"
			"Message-ID: <seed-%d@test.example>\r\nMIME-Version: 1.0\r\n"
			"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
			user, n, (n / 60) % 60, n % 60, n, body);
	free(body);
	if (rc < 0)
		return NULL;
	/* lines of the body end in LF: make them CRLF */
	{
		size_t m = strlen(out), extra = 0;
		char *crlf;

		for (size_t i = 0; i < m; i++)
			extra += out[i] == '\n' && (i == 0 || out[i - 1] != '\r');
		crlf = malloc(m + extra + 1);
		for (size_t i = 0, j = 0; i <= m; i++) {
			if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
				crlf[j++] = '\r';
			crlf[j++] = out[i];
		}
		free(out);
		out = crlf;
		*len = m + extra;
	}
	return out;
}

/* ---- doveadm ---------------------------------------------------------------- */

int dovecot_doveadm(struct dovecot *d, const char *const *argv)
{
	char log[400];

	snprintf(log, sizeof(log), "%s/doveadm.log", d->dir);
	return dovecot_doveadm_to(d, argv, log);
}

int dovecot_doveadm_to(struct dovecot *d, const char *const *argv, const char *log)
{
	const char *full[32];
	char conf[400];
	size_t n = 0;

	snprintf(conf, sizeof(conf), "%s/dovecot.conf", d->dir);
	full[n++] = DOVEADM_BIN;
	full[n++] = "-c";
	full[n++] = conf;
	for (size_t i = 0; argv[i] && n < 31; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	return run_logged(full, log);
}

int dovecot_reset_uidvalidity(struct dovecot *d, const char *user,
			      const char *folder, uint32_t uidvalidity)
{
	char v[16];
	const char *argv[] = { "mailbox", "update", "-u", user, "--uid-validity", v,
			       folder, NULL };

	snprintf(v, sizeof(v), "%u", uidvalidity);
	return dovecot_doveadm(d, argv);
}

/* Does `doveadm who` list a session of `user`? */
static bool has_sessions(struct dovecot *d, const char *user)
{
	char out[400], line[512];
	const char *argv[] = { "who", "-1", user, NULL };
	bool found = false;
	FILE *f;

	snprintf(out, sizeof(out), "%s/who.txt", d->dir);
	unlink(out);
	if (dovecot_doveadm_to(d, argv, out) != 0 || !(f = fopen(out, "r")))
		return false;
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, user) != NULL;
	fclose(f);
	return found;
}

int dovecot_kick(struct dovecot *d, const char *user)
{
	const char *argv[] = { "kick", user, NULL };
	int rc = dovecot_doveadm(d, argv);
	long deadline = now_ms() + 5000;

	/* kick exits 0 when it disconnected someone, 68 when nobody was
	 * connected; the sessions end a moment later */
	if (rc != 0 && rc != 68)
		return -1;
	while (has_sessions(d, user) && now_ms() < deadline)
		usleep(20000);
	return 0;
}

int dovecot_set_active_value(struct dovecot *d, const char *active_value)
{
	char path[400];
	long deadline;
	int before;

	snprintf(path, sizeof(path), "%s/dovecot.log", d->dir);
	before = dovecot_log_count(d, "reloading configuration");
	if (write_passdb(d, active_value) < 0 || kill(d->pid, SIGHUP) < 0)
		return -1;
	deadline = now_ms() + 5000;
	while (now_ms() < deadline &&
	       dovecot_log_count(d, "reloading configuration") <= before)
		usleep(50000);
	usleep(500000); /* the new auth process */
	return 0;
}

int dovecot_log_count(struct dovecot *d, const char *needle)
{
	char path[400], line[4096];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/dovecot.log", d->dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}
