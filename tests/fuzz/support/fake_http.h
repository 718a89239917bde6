/*
 * fake_http.h — the HTTP client of http.h served from memory, for fuzz
 * targets that drive real request code (the Graph driver, the token
 * endpoint) with a fuzzed answer: linked instead of src/common/http.c,
 * http_perform answers every request with the scripted answers in turn,
 * as the real client fills a response (capped body, sanitized headers).
 * It also enforces what the real code promises: a bearer token only ever
 * goes to the allowed origin, and a run makes a bounded number of requests.
 */
#ifndef INBOXSYNC_FUZZ_FAKE_HTTP_H
#define INBOXSYNC_FUZZ_FAKE_HTTP_H

#include <stddef.h>

struct fake_answer {
	long status;
	const char *body;          /* may hold NULs */
	size_t len;
	int retry_after_s;         /* -1 = no Retry-After */
	const char *request_id;    /* NULL = none */
};

/* Answer the next requests with `answers[0..n)` in turn, the last one
 * again and again once the others are used, and reset the request count.
 * The array must outlive the requests. */
void fake_http_script(const struct fake_answer *answers, size_t n);

/* Requests made since the last fake_http_script. */
size_t fake_http_calls(void);

/* A request carrying a bearer token to a URL whose scheme, host or port
 * differ from those of `origin` (such as "https://graph.microsoft.com/")
 * aborts; NULL allows none. */
void fake_http_bearer_origin(const char *origin);

/* More requests than this in one script abort: no answer may make the
 * code under test loop. */
#define FAKE_HTTP_MAX_CALLS 200

#endif
