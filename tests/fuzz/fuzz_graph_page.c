/*
 * fuzz_graph_page.c — libFuzzer target for graph_page_parse
 * (src/graph/graph_messages.c): any bytes as the body of a messages-delta
 * page and of a newest-first listing. A page is all or nothing: either
 * every item has a non-empty id and a delta page has exactly one link, on
 * Graph's own origin, or the answer is a "bad_response" (a "foreign_link"
 * for a link elsewhere) that leaves the page empty, with a message fit for
 * a terminal.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "inboxsync/graph.h"
#include <stdlib.h>
#include "inboxsync/alloc.h"
#include "graph/graph_internal.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_page(const struct graph_driver *g, const char *text, size_t len,
		       enum graph_page_kind kind)
{
	static const struct graph_op op = { "listing changes in", GRAPH_TARGET_FOLDER,
					    "AAMkAGI2fuzz", "Mail.Read", false };
	struct driver_page page;
	struct err e;

	err_clear(&e);
	if (graph_page_parse(g, text, len, kind, &op, "rid-fuzz", &page, &e) < 0) {
		must_be_error(&e);
		must(e.class == ERR_TRANSIENT && (err_is(&e, "bad_response") ||
						  err_is(&e, "foreign_link")));
		must(!page.items && !page.n && !page.priv && !page.next_cursor &&
		     !page.done_cursor);
		return;
	}
	must_be_page(&page, kind == GRAPH_PAGE_DELTA);
	/* a round goes on or ends only on a link of Graph's own */
	must(!page.next_cursor || graph_url_is_ours(g, page.next_cursor));
	must(!page.done_cursor || graph_url_is_ours(g, page.done_cursor));
	driver_page_free(&page);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct graph_config cfg = { 0 };
	struct driver *d;
	/* the parser wants the text NUL-terminated at text[len] */
	char *text = xmalloc(size + 1);

	memcpy(text, data, size);
	text[size] = '\0';
	cfg.base_url = "https://graph.microsoft.com/v1.0"; /* the seeds' links */
	d = graph_driver_new(&cfg);
	check_page(graph_of(d), text, size, GRAPH_PAGE_DELTA);
	check_page(graph_of(d), text, size, GRAPH_PAGE_LIST);
	driver_free(d);
	free(text);
	return 0;
}
