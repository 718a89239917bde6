/*
 * imap_fixture.c — the shared set-up of the IMAP scenario tests (see
 * imap_fixture.h): processes started and stopped by pid, tokens from
 * m365sim, the driver and a second client on the same Dovecot mailbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "imap_fixture.h"

static int refresh_token(struct imap_fixture *f)
{
	struct sim_http r;
	char *form = NULL, *rt = sim_urlencode(f->refresh), *scope = sim_urlencode(FIXTURE_SCOPE);
	int rc = -1;

	if (asprintf(&form, "grant_type=refresh_token&client_id=%s&client_secret=%s"
			    "&refresh_token=%s&scope=%s", f->sim.client_id,
		     f->sim.client_secret, rt, scope) < 0)
		form = NULL;
	if (form && sim_post_form(&f->sim, "/common/oauth2/v2.0/token", form, &r) == 0) {
		const char *at = json_string_value(json_object_get(r.json, "access_token"));
		const char *nrt = json_string_value(json_object_get(r.json, "refresh_token"));

		if (r.status == 200 && at) {
			free(f->access);
			f->access = strdup(at);
			if (nrt) {
				free(f->refresh);
				f->refresh = strdup(nrt);
			}
			rc = 0;
		}
		sim_http_free(&r);
	}
	free(form);
	free(rt);
	free(scope);
	return rc;
}

int imap_fixture_token(void *ctx, const char *resource, const char *rejected,
		       char **token, struct err *e)
{
	struct imap_fixture *f = ctx;

	f->token_calls++;
	if (strcmp(resource, "outlook") != 0)
		return err_set(e, ERR_BUG, "resource", "asked for a %s token", resource);
	if (rejected && f->access && strcmp(rejected, f->access) == 0) {
		if (refresh_token(f) < 0)
			return err_set(e, ERR_AUTH, "invalid_grant", "the refresh was refused");
		f->refreshes++;
	}
	if (!f->access)
		return err_set(e, ERR_AUTH, "auth_required", "no token");
	*token = xstrdup(f->access);
	return 0;
}

int imap_fixture_open(struct imap_fixture *f, const struct imap_driver_opts *o,
		      struct driver **out)
{
	char imap[64], smtp[64];
	struct driver_endpoint ep = {
		.imap_server = imap, .smtp_server = smtp, .user = FIXTURE_USER,
		.auth = { imap_fixture_token, f },
	};
	struct err e = { 0 };

	snprintf(imap, sizeof(imap), "127.0.0.1:%d", f->dove.imap_port);
	snprintf(smtp, sizeof(smtp), "127.0.0.1:%d", f->dove.submission_port);
	if (imap_driver_open_with(&ep, o, out, &e) < 0) {
		fprintf(stderr, "imap_fixture: %s\n", e.msg);
		return -1;
	}
	return 0;
}

int imap_fixture_start(struct imap_fixture *f, const struct dovecot_opts *dopts,
		       const struct imap_driver_opts *o)
{
	struct dovecot_opts dv = *dopts;
	char url[128];

	memset(f, 0, sizeof(*f));
	f->dove.pid = -1;
	if (getenv("INBOXSYNC_IMAP_TRACE"))
		log_set_level(LOG_DEBUG);
	if (sim_start(&f->sim, NULL) < 0)
		return -1;
	if (sim_login(&f->sim, FIXTURE_USER, FIXTURE_SCOPE, &f->access, &f->refresh) < 0) {
		fprintf(stderr, "imap_fixture: the owner could not sign in\n");
		goto fail;
	}
	snprintf(url, sizeof(url), "%s/_sim/introspect", f->sim.url);
	dv.introspection_url = url;
	if (dovecot_start(&f->dove, &dv) < 0)
		goto fail;
	f->other = imap_client_connect(f->dove.imap_port, FIXTURE_USER, f->access);
	if (!f->other || imap_fixture_open(f, o, &f->d) < 0)
		goto fail;
	return 0;
fail:
	imap_fixture_stop(f);
	return -1;
}

void imap_fixture_stop(struct imap_fixture *f)
{
	driver_free(f->d);
	f->d = NULL;
	imap_client_close(f->other);
	f->other = NULL;
	if (f->dove.pid > 0 || f->dove.dir[0])
		dovecot_stop(&f->dove);
	if (f->sim.pid > 0)
		sim_stop(&f->sim);
	free(f->access);
	free(f->refresh);
	f->access = f->refresh = NULL;
}

int imap_fixture_kick(struct imap_fixture *f)
{
	if (dovecot_kick(&f->dove, FIXTURE_USER) < 0)
		return -1;
	imap_client_close(f->other);
	f->other = NULL;
	return 0;
}

struct imap_client *imap_fixture_other(struct imap_fixture *f)
{
	if (!f->other)
		f->other = imap_client_connect(f->dove.imap_port, FIXTURE_USER, f->access);
	return f->other;
}

int imap_fixture_seed(struct imap_fixture *f, const char *folder, int first, int n)
{
	for (int i = first; i < first + n; i++) {
		size_t len;
		char *mime = dovecot_sample_message(FIXTURE_USER, i, 200, &len);
		int rc = mime && imap_fixture_other(f) ? imap_client_append(f->other, folder, mime, len, i % 3 == 0,
						   i % 5 == 0, NULL) : -1;

		free(mime);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int imap_fixture_round(struct imap_fixture *f, struct driver *d, const char *folder,
		       const char *cursor, size_t page_size, fixture_item_cb each,
		       void *ctx, char **done, struct err *e)
{
	char *next = cursor ? xstrdup(cursor) : NULL;

	(void)f;
	*done = NULL;
	for (int pages = 0; pages < 100000; pages++) {
		struct driver_page pg;

		if (driver_get_changes(d, folder, next, page_size, &pg, e) < 0) {
			free(next);
			return -1;
		}
		for (size_t i = 0; each && i < pg.n; i++)
			each(ctx, &pg.items[i]);
		free(next);
		next = NULL;
		if (pg.done_cursor) {
			*done = xstrdup(pg.done_cursor);
			driver_page_free(&pg);
			return 0;
		}
		next = xstrdup(pg.next_cursor);
		driver_page_free(&pg);
	}
	free(next);
	return err_set(e, ERR_BUG, "endless", "the round did not end");
}

/* ---- the mirror ------------------------------------------------------------------- */

struct mirror_row *mirror_find(struct mirror *mr, const char *id)
{
	for (size_t i = 0; i < mr->n; i++)
		if (strcmp(mr->rows[i].id, id) == 0)
			return &mr->rows[i];
	return NULL;
}

void mirror_apply(void *ctx, const struct mail_message *m)
{
	struct mirror *mr = ctx;
	struct mirror_row *row = mirror_find(mr, m->remote_id);

	if (m->removed) {
		if (row) {
			free(row->id);
			free(row->folder);
			free(row->imid);
			*row = mr->rows[--mr->n];
			mr->removed++;
		}
		return;
	}
	if (!row) {
		if (mr->n == mr->cap) {
			mr->cap = mr->cap ? mr->cap * 2 : 64;
			mr->rows = realloc(mr->rows, mr->cap * sizeof(*mr->rows));
		}
		row = &mr->rows[mr->n++];
		memset(row, 0, sizeof(*row));
		row->id = xstrdup(m->remote_id);
		row->seen = row->flagged = -1;
		mr->created++;
	} else {
		mr->updated++;
	}
	if (m->folder_remote_id) {
		free(row->folder);
		row->folder = xstrdup(m->folder_remote_id);
	}
	if (m->internet_message_id) {
		free(row->imid);
		row->imid = xstrdup(m->internet_message_id);
	}
	if (m->is_read != MAIL_UNKNOWN)
		row->seen = m->is_read;
	if (m->is_flagged != MAIL_UNKNOWN)
		row->flagged = m->is_flagged;
}

void mirror_free(struct mirror *mr)
{
	for (size_t i = 0; i < mr->n; i++) {
		free(mr->rows[i].id);
		free(mr->rows[i].folder);
		free(mr->rows[i].imid);
	}
	free(mr->rows);
	memset(mr, 0, sizeof(*mr));
}

size_t mirror_count(const struct mirror *mr, const char *folder)
{
	size_t n = 0;

	for (size_t i = 0; i < mr->n; i++)
		n += mr->rows[i].folder && strcmp(mr->rows[i].folder, folder) == 0;
	return n;
}

bool mirror_matches(struct imap_fixture *f, struct mirror *mr, const char *folder)
{
	struct imap_truth *t;
	size_t n, live = 0;
	uint32_t validity;
	bool ok = true;

	if (!imap_fixture_other(f))
		return false;
	validity = imap_client_uidvalidity(f->other, folder);
	if (imap_client_truth(f->other, folder, &t, &n) < 0)
		return false;
	for (size_t i = 0; i < n && ok; i++) {
		char id[300];
		struct mirror_row *row;

		if (t[i].deleted)
			continue;
		live++;
		snprintf(id, sizeof(id), "%u:%u:%s", validity, t[i].uid, folder);
		row = mirror_find(mr, id);
		if (!row) {
			fprintf(stderr, "mirror: %s (%s) is missing\n", id, t[i].message_id);
			ok = false;
		} else if (!row->imid || strcmp(row->imid, t[i].message_id) != 0 ||
			   row->seen != t[i].seen || row->flagged != t[i].flagged) {
			fprintf(stderr, "mirror: %s differs: %s seen %d flagged %d, server %s "
				"seen %d flagged %d\n", id, row->imid ? row->imid : "(null)",
				row->seen, row->flagged, t[i].message_id, t[i].seen, t[i].flagged);
			ok = false;
		}
	}
	if (ok && mirror_count(mr, folder) != live) {
		fprintf(stderr, "mirror: %zu rows in %s, the server has %zu\n",
			mirror_count(mr, folder), folder, live);
		ok = false;
	}
	free(t);
	return ok;
}
