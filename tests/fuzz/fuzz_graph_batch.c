/*
 * fuzz_graph_batch.c — libFuzzer target for $batch answers
 * (src/graph/graph_batch.c) as the Graph driver reads them: any bytes as
 * the server's answer to a poll of 4 folders (one batch), of 21 folders
 * (a batch of 20 and one plain request) or to locating 6 messages (with
 * dependents re-run), by the input's length. Answers come in any order, may be missing, doubled
 * or mistyped; every item must end with a page (whole) or a classified
 * error, the bearer token never leaves the Graph origin (the fake HTTP
 * layer aborts otherwise), and no answer makes the driver loop.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int get_token(void *ctx, const char *resource, const char *rejected,
		     char **token, struct err *e)
{
	(void)ctx, (void)resource, (void)rejected, (void)e;
	*token = xstrdup("EwB-fuzz-access-token");
	return 0;
}

static struct driver *driver_make(void)
{
	struct graph_config cfg = { 0 };

	cfg.base_url = BASE;
	cfg.auth.get_token = get_token;
	cfg.max_concurrency = 4;
	return graph_driver_new(&cfg);
}

static void poll_folders(const struct fake_answer *a, size_t n)
{
	struct driver *d = driver_make();
	struct driver_poll *polls = xcalloc(n, sizeof(*polls));
	char (*ids)[16] = xcalloc(n, sizeof(*ids));
	struct err e;

	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "folder-%zu", i);
		polls[i].folder_remote_id = ids[i];
		/* half of them follow a delta link, half start a round */
		polls[i].cursor = i % 2 ? BASE "/me/mailFolders/x/messages/delta?"
					  "$deltatoken=abc" : NULL;
	}
	fake_http_script(a, 1);
	err_clear(&e);
	if (driver_poll_changes(d, polls, n, 0, &e) < 0)
		must_be_error(&e);
	for (size_t i = 0; i < n; i++) {
		must(polls[i].rc == 0 || polls[i].rc == -1);
		if (polls[i].rc == 0)
			must_be_page(&polls[i].page, true);
		else
			must_be_error(&polls[i].err);
		driver_page_free(&polls[i].page);
	}
	free(ids);
	free(polls);
	driver_free(d);
}

static void locate_messages(const struct fake_answer *a)
{
	struct driver *d = driver_make();
	struct driver_locate items[6];
	char ids[6][16];
	struct err e;

	memset(items, 0, sizeof(items));
	for (size_t i = 0; i < 6; i++) {
		snprintf(ids[i], sizeof(ids[i]), "msg-%zu", i);
		items[i].remote_id = ids[i];
	}
	fake_http_script(a, 1);
	err_clear(&e);
	if (driver_locate_messages(d, items, 6, &e) < 0)
		must_be_error(&e);
	for (size_t i = 0; i < 6; i++) {
		must(items[i].rc == 0 || items[i].rc == -1);
		if (items[i].rc == 0)
			must(items[i].gone != (items[i].folder_remote_id != NULL));
		else
			must_be_error(&items[i].err);
		free(items[i].folder_remote_id);
	}
	driver_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_answer a = { 200, (const char *)data, size, -1, "rid-batch" };

	fake_http_bearer_origin(BASE "/");
	switch (size % 3) { /* one request pattern per input: 3x the runs */
	case 0: poll_folders(&a, 4); break;
	case 1: poll_folders(&a, 21); break;
	default: locate_messages(&a); break;
	}
	return 0;
}
