/*
 * fuzz_graph_answers.c — libFuzzer target for every other answer the Graph
 * driver reads (src/graph): any bytes as the 200 answer to /me, to the
 * folder walk (two rounds of it, then empty listings), to a delta request
 * (a new round and a stored link), to the newest-first listing, to a body,
 * to a message's state, to the Message-ID search and to a new draft; the
 * input's length picks which. Each call gives its result whole or a
 * classified error, never loops, and sends the token nowhere but Graph.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/graph.h"
#include "fake_http.h"
#include "fuzz_util.h"

#define BASE "https://graph.microsoft.com/v1.0" /* the seeds' links point here */
#define OPS 9

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int get_token(void *ctx, const char *resource, const char *rejected,
		     char **token, struct err *e)
{
	(void)ctx, (void)resource, (void)rejected, (void)e;
	*token = xstrdup("EwB-fuzz-access-token");
	return 0;
}

static int on_folder(void *ctx, const struct mail_folder *f)
{
	(void)ctx;
	must(f->remote_id && f->remote_id[0] && f->name && f->parent_remote_id);
	must(f->role >= MAIL_ROLE_NONE && f->role < MAIL_ROLE_COUNT);
	return 0;
}

static int on_found(void *ctx, const char *remote_id, const struct driver_state *s)
{
	(void)ctx;
	must(remote_id && remote_id[0] && s->exists);
	return 0;
}

static void check_rc(int rc, const struct err *e)
{
	must(rc == 0 || rc == -1);
	if (rc < 0)
		must_be_error(e);
}

static void run(struct driver *d, size_t op)
{
	struct driver_identity id;
	struct driver_page page;
	struct driver_body body;
	struct driver_state st;
	struct err e;
	char *draft = NULL;
	int rc = 0;

	err_clear(&e);
	switch (op) {
	case 0:
		if ((rc = driver_whoami(d, &id, &e)) == 0)
			must(id.address[0] && id.object_id[0]);
		break;
	case 1:
		rc = driver_list_folders(d, on_folder, NULL, &e);
		break;
	case 2:
	case 3:
		rc = driver_get_changes(d, "AQMkAGI2", op == 2 ? NULL :
					BASE "/me/mailFolders/AQMkAGI2/messages/delta?$deltatoken=x",
					0, &page, &e);
		if (rc == 0)
			must_be_page(&page, true);
		driver_page_free(&page);
		break;
	case 4:
		rc = driver_list_newest(d, "AQMkAGI2", 1736392508, 50, &page, &e);
		if (rc == 0)
			must_be_page(&page, false);
		driver_page_free(&page);
		break;
	case 5:
		if ((rc = driver_fetch_body(d, "AAMkAD1", &body, &e)) == 0) {
			must(body.content_type && body.content);
			driver_body_free(&body);
		}
		break;
	case 6:
		if ((rc = driver_get_state(d, "AAMkAD1", &st, &e)) == 0)
			driver_state_free(&st);
		break;
	case 7:
		rc = driver_find_by_message_id(d, "<0123abcd.inboxsync@contoso.com>",
					       on_found, NULL, &e);
		break;
	default:
		if ((rc = driver_create_draft(d, "Subject: x\r\n\r\nbody\r\n", 19,
					      &draft, &e)) == 0)
			must(draft && draft[0]);
		free(draft);
		break;
	}
	check_rc(rc, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the input twice (a folder walk reads two rounds), then nothing more */
	const struct fake_answer script[] = {
		{ 200, (const char *)data, size, -1, "rid-answer" },
		{ 200, (const char *)data, size, -1, "rid-answer" },
		{ 200, "{\"value\":[],\"responses\":[]}", 27, -1, NULL },
	};
	struct graph_config cfg = { 0 };
	struct driver *d;

	cfg.base_url = BASE;
	cfg.auth.get_token = get_token;
	cfg.max_concurrency = 1; /* no pages fetched ahead on threads */
	d = graph_driver_new(&cfg);
	fake_http_bearer_origin(BASE "/");
	fake_http_script(script, 3);
	run(d, size % OPS);
	driver_free(d);
	return 0;
}
