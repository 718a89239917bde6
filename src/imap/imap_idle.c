/*
 * imap_idle.c — waiting for the server to announce changes (RFC 2177
 * IDLE) on the driver's second connection, so that the main one stays
 * free for syncing. The folder is EXAMINEd, IDLE is issued and the socket
 * watched; an untagged EXISTS, EXPUNGE, FETCH or VANISHED ends the wait
 * with "changed", a keep-alive ("* OK Still here") does not. IDLE is
 * re-issued every 28 minutes (servers end it after 30).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <libetpan/idle.h>
#include "inboxsync/log.h"
#include "inboxsync/timeutil.h"
#include "imap/imap_internal.h"

#define IDLE_REISSUE_MS (28 * 60 * 1000)

/* Data libetpan or TLS already holds, which poll() would not see. */
static bool buffered(const struct imap_session *s)
{
	return (s->imap->imap_stream && s->imap->imap_stream->read_buffer_len > 0) ||
	       imap_stream_has_pending(s->stream);
}

/* One IDLE of at most `wait_ms`: 1 changed, 0 quiet, -1 error. */
static int idle_once(struct imap_session *s, int64_t wait_ms, struct err *e)
{
	uint64_t before = imap_stream_changes(s->stream);
	struct pollfd p;
	int r;

	imap_session_limits(s, 0, IMAP_SMALL_RESPONSE);
	r = mailimap_idle(s->imap);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "waiting for changes in", s->selected, false, e);
	p.fd = mailimap_idle_get_fd(s->imap);
	p.events = POLLIN;
	while (!buffered(s)) {
		p.revents = 0;
		if (poll(&p, 1, (int)wait_ms) >= 0 || errno != EINTR)
			break;
	}
	r = mailimap_idle_done(s->imap);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "waiting for changes in", s->selected, false, e);
	return imap_stream_changes(s->stream) > before;
}

int imap_driver_wait(struct driver *d, const char *folder, int timeout_ms, struct err *e)
{
	struct imap_driver *g = imap_of(d);
	struct imap_session *s = &g->idle;
	int64_t deadline = time_mono_ms() + timeout_ms;

	for (int attempt = 0; attempt < 2; attempt++) {
		int64_t left;
		int rc = 0;

		if (imap_session_ensure(s, &g->acct, e) < 0)
			return -1;
		if (!(s->caps & IMAP_CAP_IDLE))
			return err_set(e, ERR_PERMANENT, "unsupported", "the IMAP server %.200s "
				       "has no IDLE; new mail is found by polling", g->host);
		if (imap_session_open(s, folder, true, true, e) < 0) {
			if (s->imap || e->class != ERR_TRANSIENT)
				return -1;
			continue;
		}
		while (rc == 0 && (left = deadline - time_mono_ms()) > 0)
			rc = idle_once(s, left < IDLE_REISSUE_MS ? left : IDLE_REISSUE_MS, e);
		if (rc >= 0)
			return rc;
		/* the connection went (a BYE, a timeout): once more on a new one */
		if (s->imap || e->class != ERR_TRANSIENT)
			return -1;
		log_info("imap", "%s: IDLE ended: %s; connecting again", g->host, e->msg);
	}
	return -1;
}
