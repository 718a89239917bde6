/*
 * fuzz_graph_error.c — libFuzzer target for Graph error answers
 * (src/graph/graph_error.c): the status/code rules table read over any
 * error body. Input: two bytes of HTTP status (100..599), one of
 * Retry-After (255 = absent), one choosing the target, then the body.
 * Every answer gets a classified error whose message is fit for a
 * terminal, with the status recorded and a sane wait.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "inboxsync/http.h"
#include "graph/graph_internal.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct err *e, long status, int retry_after)
{
	must_be_error(e);
	must(e->http_status == (int)status);
	must(e->retry_after_s >= 0);
	if (e->class == ERR_THROTTLED)
		must(e->retry_after_s > 0 || retry_after == 0);
	if (e->class != ERR_THROTTLED && e->class != ERR_TRANSIENT)
		must(e->retry_after_s == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum graph_target targets[] = {
		GRAPH_TARGET_NONE, GRAPH_TARGET_FOLDER, GRAPH_TARGET_MESSAGE,
	};
	struct http_response r;
	struct graph_op op = { "fetching", GRAPH_TARGET_NONE, NULL, NULL, false };
	struct err e;
	json_t *body;
	long status;
	int retry_after;

	if (size < 4)
		return 0;
	status = 100 + ((data[0] << 8) | data[1]) % 500;
	retry_after = data[2] == 255 ? -1 : data[2];
	op.target = targets[data[3] % 3];
	op.target_id = data[3] & 4 ? "AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OAB" : "f1";
	op.scope = data[3] & 8 ? "Mail.Send" : NULL;
	op.is_content = data[3] & 16;

	/* as a plain request sees it: the raw answer */
	http_response_init(&r);
	r.status = status;
	r.retry_after_s = retry_after;
	buf_append(&r.body, data + 4, size - 4, NULL);
	err_clear(&e);
	must(graph_error_from_http(&e, &op, &r) == -1);
	check(&e, status, retry_after);
	http_response_free(&r);

	/* as a $batch item sees it: the body already parsed */
	body = json_loadb((const char *)data + 4, size - 4, 0, NULL);
	err_clear(&e);
	must(graph_error_set(&e, &op, status, body, retry_after,
			     data[3] & 32 ? "rid-header" : NULL) == -1);
	check(&e, status, retry_after);
	json_decref(body);
	return 0;
}
