/*
 * feed.c — long polls of GET /api/v1/changes without a thread each: a
 * request with nothing to return is suspended (libmicrohttpd) and listed
 * here with the newest seq its caller has seen and its deadline; one
 * thread watches the store's newest seq and resumes a connection when
 * something newer may exist or its time is up, and the handler runs again.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/timeutil.h"
#include "server/server_internal.h"

#define WATCH_EVERY_MS 100

struct waiting {
	struct MHD_Connection *conn;
	int64_t after_seq;
	int64_t until_ms;
};

struct feed_waiter {
	struct server *srv;
	struct store *st;
	pthread_t thread;
	pthread_mutex_t lock;
	struct waiting *list;
	size_t n, cap;
	volatile sig_atomic_t stop;
};

void feed_wait(struct feed_waiter *f, struct MHD_Connection *conn,
	       int64_t after_seq, int64_t until_ms)
{
	pthread_mutex_lock(&f->lock);
	if (f->stop) {
		pthread_mutex_unlock(&f->lock);
		MHD_resume_connection(conn);
		return;
	}
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->list = xrealloc(f->list, f->cap * sizeof(*f->list));
	}
	f->list[f->n++] = (struct waiting){ conn, after_seq, until_ms };
	pthread_mutex_unlock(&f->lock);
}

/* Resume every connection whose wait is over (all of them when `all`). */
static void resume_due(struct feed_waiter *f, int64_t last_seq, bool all)
{
	int64_t now = time_mono_ms();

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n;) {
		struct waiting *w = &f->list[i];

		if (all || last_seq > w->after_seq || now >= w->until_ms) {
			MHD_resume_connection(w->conn);
			*w = f->list[--f->n];
			continue;
		}
		i++;
	}
	pthread_mutex_unlock(&f->lock);
}

static void *watch(void *arg)
{
	struct feed_waiter *f = arg;

	while (!f->stop) {
		struct timespec ts = { 0, WATCH_EVERY_MS * 1000000L };
		int64_t last = 0;
		struct err e;
		size_t waiting;

		pthread_mutex_lock(&f->lock);
		waiting = f->n;
		pthread_mutex_unlock(&f->lock);
		if (waiting) {
			err_clear(&e);
			if (store_last_event_seq(f->st, &last, &e) < 0)
				log_warn("feed", "cannot read the newest event: %s", e.msg);
			else
				resume_due(f, last, false);
		}
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int feed_start(struct server *srv, struct feed_waiter **out, struct err *e)
{
	struct feed_waiter *f = xcalloc(1, sizeof(*f));

	*out = NULL;
	f->srv = srv;
	pthread_mutex_init(&f->lock, NULL);
	if (store_open_existing(srv->cfg.store_path, &f->st, e) < 0) {
		pthread_mutex_destroy(&f->lock);
		free(f);
		return -1;
	}
	if (pthread_create(&f->thread, NULL, watch, f) != 0) {
		store_close(f->st);
		pthread_mutex_destroy(&f->lock);
		free(f);
		return err_set(e, ERR_PERMANENT, "threads", "cannot start the change-feed thread");
	}
	*out = f;
	return 0;
}

void feed_stop(struct feed_waiter *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = 1;
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	resume_due(f, INT64_MAX, true);
}

void feed_free(struct feed_waiter *f)
{
	if (!f)
		return;
	store_close(f->st);
	pthread_mutex_destroy(&f->lock);
	free(f->list);
	free(f);
}
