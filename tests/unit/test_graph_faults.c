/*
 * test_graph_faults.c — the Graph driver against a scripted fake Graph
 * (libmicrohttpd in this process): the headers every request carries, the
 * error table (401 refresh, 429, 5xx, 410, 403, 404, 413, ...), malformed
 * and oversized answers, server bytes escaped in messages, percent-encoding of ids, $batch layout (chains,
 * relative URLs, per-item outcomes, 424, >20 items) and the folder walk.
 * Each test installs a script that answers requests; the server records
 * what it received, raw (no URL decoding), so the tests check the wire.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <sodium.h>

#include "inboxsync/alloc.h"
#include "inboxsync/buf.h"
#include "inboxsync/driver.h"
#include "inboxsync/graph.h"
#include "inboxsync/http.h"
#include "inboxsync/json.h"
#include "inboxsync/quote.h"
#include "mhd_body.h"

#define MAX_RECS 64

/* ---- the fake server ------------------------------------------------------------ */

struct rec {
	char method[16];
	char path[1024];
	char query[4096];
	char auth[256];
	char crid[128];
	char prefer[4][128];
	int nprefer;
	char ctype[128];
	char clen[32];
	char *body;
	size_t body_len;
};

struct reply {
	unsigned status;
	char *body;                 /* heap */
	const char *hdr[4][2];
};

typedef void (*script_fn)(const struct rec *rq, struct reply *rp);

static struct fake {
	struct MHD_Daemon *daemon;
	unsigned short port;
	char base[96];
	pthread_mutex_t lock;
	struct rec recs[MAX_RECS];
	int nrec;
	script_fn script;
} F;

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls, (void)c;
	return strlen(s);
}

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind,
				 const char *key, const char *value)
{
	struct rec *r = cls;

	(void)kind;
	if (strcasecmp(key, "Prefer") == 0 && r->nprefer < 4)
		str_copy(r->prefer[r->nprefer++], sizeof(r->prefer[0]), value);
	else if (strcasecmp(key, "Authorization") == 0)
		str_copy(r->auth, sizeof(r->auth), value);
	else if (strcasecmp(key, "client-request-id") == 0)
		str_copy(r->crid, sizeof(r->crid), value);
	else if (strcasecmp(key, "Content-Type") == 0)
		str_copy(r->ctype, sizeof(r->ctype), value);
	else if (strcasecmp(key, "Content-Length") == 0)
		str_copy(r->clen, sizeof(r->clen), value);
	return MHD_YES;
}

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind,
			      const char *key, const char *value)
{
	struct rec *r = cls;
	size_t n = strlen(r->query);

	(void)kind;
	snprintf(r->query + n, sizeof(r->query) - n, "%s%s=%s", n ? "&" : "",
		 key, value ? value : "");
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct MHD_Response *resp;
	struct reply rp;
	struct rec rq;
	struct buf *body;
	enum MHD_Result ret;

	(void)cls, (void)version;
	if (mhd_body_collect(con_cls, upload, upload_size, &body))
		return MHD_YES;
	memset(&rq, 0, sizeof(rq));
	str_copy(rq.method, sizeof(rq.method), method);
	str_copy(rq.path, sizeof(rq.path), url);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, on_header, &rq);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_arg, &rq);
	rq.body = buf_detach(body, &rq.body_len);
	memset(&rp, 0, sizeof(rp));
	rp.status = 500;
	F.script(&rq, &rp);
	pthread_mutex_lock(&F.lock);
	if (F.nrec < MAX_RECS)
		F.recs[F.nrec++] = rq;
	else
		free(rq.body);
	pthread_mutex_unlock(&F.lock);
	if (!rp.body)
		rp.body = xstrdup("");
	resp = MHD_create_response_from_buffer(strlen(rp.body), rp.body,
					       MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	for (int i = 0; i < 4 && rp.hdr[i][0]; i++)
		MHD_add_response_header(resp, rp.hdr[i][0], rp.hdr[i][1]);
	ret = MHD_queue_response(conn, rp.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void fake_reset(script_fn script)
{
	pthread_mutex_lock(&F.lock);
	for (int i = 0; i < F.nrec; i++)
		free(F.recs[i].body);
	F.nrec = 0;
	F.script = script;
	pthread_mutex_unlock(&F.lock);
}

static int nrec(void)
{
	int n;

	pthread_mutex_lock(&F.lock);
	n = F.nrec;
	pthread_mutex_unlock(&F.lock);
	return n;
}

/* ---- replies ------------------------------------------------------------------- */

static void reply(struct reply *rp, unsigned status, const char *body)
{
	rp->status = status;
	rp->body = xstrdup(body);
	rp->hdr[0][0] = "request-id";
	rp->hdr[0][1] = "rid-fake-1";
}

static void reply_error(struct reply *rp, unsigned status, const char *code)
{
	char *b = xasprintf("{\"error\":{\"code\":\"%s\",\"message\":\"fake %s\","
			    "\"innerError\":{\"request-id\":\"rid-inner\"}}}",
			    code, code);

	reply(rp, status, b);
	free(b);
}

static char *delta_link(const char *folder, const char *token)
{
	return xasprintf("%s/me/mailFolders/%s/messages/delta?$deltatoken=%s",
			 F.base, folder, token);
}

static const char message_json[] =
	"{\"@odata.etag\":\"W/\\\"CQ\\\"\",\"id\":\"AAMk-1=\",\"changeKey\":\"CQ1\","
	"\"conversationId\":\"conv-1\",\"internetMessageId\":\"<m1@example.com>\","
	"\"subject\":\"Hello\",\"bodyPreview\":\"preview text\","
	"\"from\":{\"emailAddress\":{\"name\":\"Adele\",\"address\":\"adele@x.com\"}},"
	"\"toRecipients\":[{\"emailAddress\":{\"name\":\"Bob\",\"address\":\"bob@x.com\"}},"
	"{\"emailAddress\":{\"address\":\"carol@x.com\"}}],"
	"\"ccRecipients\":[],"
	"\"receivedDateTime\":\"2025-01-09T03:15:08Z\",\"sentDateTime\":\"2025-01-09T03:15:00Z\","
	"\"isRead\":false,\"isDraft\":false,\"hasAttachments\":true,"
	"\"flag\":{\"flagStatus\":\"flagged\"},\"parentFolderId\":\"fold-1\","
	"\"categories\":[\"Red\",\"Blue\"]}";

/* ---- fixture: driver + token source --------------------------------------------- */

struct tokens {
	int calls, forced;
	bool refreshed;
};

static struct tokens T;

static int get_token(void *ctx, const char *resource, const char *rejected, char **tok,
		     struct err *e)
{
	struct tokens *t = ctx;

	(void)e;
	assert_string_equal(resource, "graph");
	t->calls++;
	if (rejected) {
		t->forced++;
		t->refreshed = true;
	}
	*tok = xstrdup(t->refreshed ? "tok-fresh" : "tok-stale");
	return 0;
}

static struct http_client *client;

static struct driver *driver_with(size_t max_response)
{
	struct graph_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.base_url = F.base;
	cfg.http = client;
	cfg.auth.get_token = get_token;
	cfg.auth.ctx = &T;
	cfg.max_response = max_response;
	return graph_driver_new(&cfg);
}

static int group_setup(void **state)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	pthread_mutex_init(&F.lock, NULL);
	F.daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
		0, NULL, NULL, on_request, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_NOTIFY_COMPLETED, mhd_body_completed, NULL,
		MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
		MHD_OPTION_END);
	if (!F.daemon)
		return -1;
	info = MHD_get_daemon_info(F.daemon, MHD_DAEMON_INFO_BIND_PORT);
	F.port = info->port;
	snprintf(F.base, sizeof(F.base), "http://127.0.0.1:%u/v1.0", (unsigned)F.port);
	http_global_init(NULL);
	client = http_client_new(NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	fake_reset(NULL);
	http_client_free(client);
	MHD_stop_daemon(F.daemon);
	return 0;
}

static int setup(void **state)
{
	memset(&T, 0, sizeof(T));
	*state = driver_with(0);
	return 0;
}

static int teardown(void **state)
{
	driver_free(*state);
	fake_reset(NULL);
	return 0;
}

/* ---- identity and the headers every request carries ------------------------------- */

static void script_me(const struct rec *rq, struct reply *rp)
{
	if (strcmp(rq->path, "/v1.0/me") == 0)
		reply(rp, 200, "{\"id\":\"oid-1\",\"displayName\":\"Adele Vance\","
		      "\"mail\":null,\"userPrincipalName\":\"adele@contoso.com\"}");
	else
		reply_error(rp, 404, "ResourceNotFound");
}

static void test_whoami_headers_and_upn_fallback(void **state)
{
	struct driver_identity id;
	struct err e;
	struct rec *r;

	fake_reset(script_me);
	assert_int_equal(driver_whoami(*state, &id, &e), 0);
	assert_string_equal(id.address, "adele@contoso.com");
	assert_string_equal(id.display_name, "Adele Vance");
	assert_string_equal(id.object_id, "oid-1");
	assert_int_equal(nrec(), 1);
	r = &F.recs[0];
	assert_string_equal(r->method, "GET");
	assert_string_equal(r->auth, "Bearer tok-stale");
	assert_int_equal(strlen(r->crid), 36);
	assert_int_equal(r->nprefer, 1);
	assert_string_equal(r->prefer[0], "IdType=\"ImmutableId\"");
	assert_non_null(strstr(r->query, "$select=id%2CdisplayName%2Cmail%2CuserPrincipalName"));
}

/* 401 once: one forced refresh, the same client-request-id, then success. */
static void script_401_until_fresh(const struct rec *rq, struct reply *rp)
{
	if (strcmp(rq->auth, "Bearer tok-fresh") != 0)
		reply_error(rp, 401, "InvalidAuthenticationToken");
	else
		script_me(rq, rp);
}

static void test_401_refreshes_once_then_succeeds(void **state)
{
	struct driver_identity id;
	struct err e;

	fake_reset(script_401_until_fresh);
	assert_int_equal(driver_whoami(*state, &id, &e), 0);
	assert_int_equal(T.forced, 1);
	assert_int_equal(nrec(), 2);
	assert_string_equal(F.recs[0].crid, F.recs[1].crid);
	assert_string_equal(F.recs[1].auth, "Bearer tok-fresh");
}

static void script_always_401(const struct rec *rq, struct reply *rp)
{
	(void)rq;
	reply_error(rp, 401, "InvalidAuthenticationToken");
}

static void test_second_401_is_auth_error(void **state)
{
	struct driver_identity id;
	struct err e;

	fake_reset(script_always_401);
	assert_int_equal(driver_whoami(*state, &id, &e), -1);
	assert_int_equal(e.class, ERR_AUTH);
	assert_int_equal(e.http_status, 401);
	assert_int_equal(T.forced, 1);
	assert_int_equal(nrec(), 2);
	assert_non_null(strstr(e.msg, "InvalidAuthenticationToken"));
	assert_non_null(strstr(e.msg, "authorize"));
}

/* ---- the error table ------------------------------------------------------------- */

struct canned {
	unsigned status;
	const char *body;
	const char *retry_after;
};
static struct canned C;

static void script_canned(const struct rec *rq, struct reply *rp)
{
	(void)rq;
	reply(rp, C.status, C.body);
	if (C.retry_after) {
		rp->hdr[1][0] = "Retry-After";
		rp->hdr[1][1] = C.retry_after;
	}
}

static int changes_with(struct driver *d, unsigned status, const char *body,
			const char *retry_after, struct driver_page *pg,
			struct err *e)
{
	C.status = status;
	C.body = body;
	C.retry_after = retry_after;
	fake_reset(script_canned);
	return driver_get_changes(d, "folder-1", NULL, 0, pg, e);
}

static void test_error_table(void **state)
{
	static const struct {
		unsigned status;
		const char *body;
		const char *retry_after;
		enum err_class class;
		const char *code;
		int retry;
	} cases[] = {
		{ 429, "{\"error\":{\"code\":\"ApplicationThrottled\"}}", "7",
		  ERR_THROTTLED, "throttled", 7 },
		{ 429, "{}", NULL, ERR_THROTTLED, "throttled", 10 },
		{ 503, "{\"error\":{\"code\":\"serviceNotAvailable\"}}", "12",
		  ERR_TRANSIENT, "unavailable", 12 },
		{ 504, "", NULL, ERR_TRANSIENT, "unavailable", 0 },
		{ 500, "{\"error\":{\"code\":\"generalException\"}}", NULL,
		  ERR_TRANSIENT, "unavailable", 0 },
		{ 502, "<html>bad gateway</html>", NULL, ERR_TRANSIENT, "unavailable", 0 },
		{ 509, "", NULL, ERR_TRANSIENT, "unavailable", 0 },
		{ 410, "{\"error\":{\"code\":\"SyncStateNotFound\"}}", NULL,
		  ERR_RESYNC, "resync", 0 },
		{ 400, "{\"error\":{\"code\":\"BadRequest\",\"innerError\":"
		  "{\"code\":\"resyncRequired\"}}}", NULL, ERR_RESYNC, "resync", 0 },
		{ 403, "{\"error\":{\"code\":\"ErrorAccessDenied\"}}", NULL,
		  ERR_PERMANENT, "access_denied", 0 },
		{ 403, "{\"error\":{\"code\":\"MailboxNotEnabledForRESTAPI\"}}", NULL,
		  ERR_PERMANENT, "mailbox_not_enabled", 0 },
		{ 404, "{\"error\":{\"code\":\"ErrorItemNotFound\"}}", NULL,
		  ERR_PERMANENT, "folder_gone", 0 },
		{ 413, "", NULL, ERR_PERMANENT, "too_large", 0 },
		{ 400, "{\"error\":{\"code\":\"errormessagesizeexceeded\"}}", NULL,
		  ERR_PERMANENT, "too_large", 0 },
		{ 400, "{\"error\":{\"code\":\"ErrorInvalidRecipients\"}}", NULL,
		  ERR_PERMANENT, "invalid_recipient", 0 },
		{ 400, "{\"error\":{\"code\":\"ErrorInvalidIdMalformed\"}}", NULL,
		  ERR_PERMANENT, "rejected", 0 },
		{ 302, "", NULL, ERR_TRANSIENT, "bad_response", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct driver_page pg;
		struct err e;

		assert_int_equal(changes_with(*state, cases[i].status, cases[i].body,
					      cases[i].retry_after, &pg, &e), -1);
		if (e.class != cases[i].class || strcmp(e.code, cases[i].code) != 0)
			fail_msg("case %zu (HTTP %u): got %s/%s: %s", i,
				 cases[i].status, err_class_name(e.class), e.code, e.msg);
		assert_int_equal(e.retry_after_s, cases[i].retry);
		assert_int_equal(e.http_status, (int)cases[i].status);
		assert_null(pg.items);
		assert_non_null(strstr(e.msg, "folder-1"));
		assert_non_null(strstr(e.msg, "rid-fake-1"));
	}
}

static void test_access_denied_says_what_to_do(void **state)
{
	struct driver_page pg;
	struct err e;

	changes_with(*state, 403, "{\"error\":{\"code\":\"ErrorAccessDenied\"}}",
		     NULL, &pg, &e);
	assert_non_null(strstr(e.msg, "ErrorAccessDenied"));
	assert_non_null(strstr(e.msg, "Mail.Read"));
	assert_non_null(strstr(e.msg, "authorize"));
	assert_non_null(strstr(e.msg, "consent"));
}

static void test_404_means_not_found_on_messages(void **state)
{
	struct driver_body body;
	struct driver_state st;
	struct err e;

	C.status = 404;
	C.body = "{\"error\":{\"code\":\"ErrorItemNotFound\"}}";
	C.retry_after = NULL;
	fake_reset(script_canned);
	assert_int_equal(driver_fetch_body(*state, "msg-1", &body, &e), -1);
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "not_found");
	assert_non_null(strstr(e.msg, "ErrorItemNotFound"));
	/* deleting what is gone succeeds; its state says "does not exist" */
	assert_int_equal(driver_delete_message(*state, "msg-1", &e), 0);
	assert_int_equal(driver_get_state(*state, "msg-1", &st, &e), 0);
	assert_false(st.exists);
	driver_state_free(&st);
}

/* ---- unusable answers -------------------------------------------------------------- */

static void test_malformed_pages_are_transient(void **state)
{
	static const char *const bodies[] = {
		"{\"value\":[",                                        /* truncated */
		"not json at all",
		"[]",                                                  /* not an object */
		"{\"value\":[]}",                                      /* no link */
		"{\"value\":{},\"@odata.deltaLink\":\"x\"}",           /* value not array */
		"{\"value\":[{\"subject\":\"no id\"}],\"@odata.deltaLink\":\"x\"}",
		"{\"value\":[{\"id\":\"a\",\"isRead\":\"yes\"}],\"@odata.deltaLink\":\"x\"}",
		("{\"value\":[{\"id\":\"a\",\"receivedDateTime\":\"yesterday\"}],"
		 "\"@odata.deltaLink\":\"x\"}"),
		"{\"value\":[{\"id\":\"a\",\"toRecipients\":[3]}],\"@odata.deltaLink\":\"x\"}",
		"{\"value\":[7],\"@odata.nextLink\":\"x\"}",
		"",
		/* not UTF-8: a stray continuation byte, a truncated sequence */
		"{\"value\":[{\"id\":\"a\",\"subject\":\"\x80\"}],\"@odata.deltaLink\":\"x\"}",
		"{\"value\":[{\"id\":\"a\",\"subject\":\"caf\xc3\"}],\"@odata.deltaLink\":\"x\"}",
		/* a member twice, something after the document */
		"{\"value\":[{\"id\":\"a\",\"id\":\"b\"}],\"@odata.deltaLink\":\"x\"}",
		"{\"value\":[],\"@odata.deltaLink\":\"x\"} trailing",
		"{\"value\":[],\"@odata.deltaLink\":7}",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct driver_page pg;
		struct err e;

		assert_int_equal(changes_with(*state, 200, bodies[i], NULL, &pg, &e), -1);
		if (e.class != ERR_TRANSIENT || strcmp(e.code, "bad_response") != 0)
			fail_msg("body %zu: got %s/%s: %s", i,
				 err_class_name(e.class), e.code, e.msg);
		assert_null(pg.items);
		assert_int_equal(pg.n, 0);
		assert_null(pg.priv);
		assert_non_null(strstr(e.msg, "rid-fake-1"));
	}
}

static int count_found(void *ctx, const char *id, const struct driver_state *s);

/* `HEAD UNIT UNIT ... TAIL` of about 4 MiB (heap): within every response
 * cap, but built to take 20 to 70 times its bytes once parsed. */
static char *dense_answer(const char *head, const char *unit, const char *tail)
{
	size_t size = (size_t)4 << 20, hl = strlen(head), ul = strlen(unit), n = hl;
	char *text = xmalloc(size + strlen(tail) + 1);

	memcpy(text, head, hl);
	while (n + ul < size) {
		memcpy(text + n, unit, ul);
		n += ul;
	}
	memcpy(text + n, tail, strlen(tail) + 1);
	return text;
}

/* Memory stays bounded by the answer's length, however it is built: a
 * delta page of empty objects, a new draft's answer and a Message-ID
 * search full of small numbers are refused, not parsed into gigabytes
 * (nothing aborts on out-of-memory). */
static void test_dense_answers_are_refused(void **state)
{
	char *page = dense_answer("{\"value\":[", "{},", "{}],\"@odata.deltaLink\":\"x\"}");
	char *numbers = dense_answer("{\"id\":\"d1\",\"value\":[", "0,", "0]}");
	struct driver_page pg;
	struct err e;
	char *id = NULL;
	int found = 0;

	assert_int_equal(changes_with(*state, 200, page, NULL, &pg, &e), -1);
	assert_string_equal(e.code, "bad_response");
	if (!strstr(e.msg, "memory"))
		fail_msg("page: %s", e.msg);
	C.status = 201;
	C.body = numbers;
	C.retry_after = NULL;
	fake_reset(script_canned);
	assert_int_equal(driver_create_draft(*state, "x", 1, &id, &e), -1);
	assert_null(id);
	if (!strstr(e.msg, "memory"))
		fail_msg("draft: %s", e.msg);
	C.status = 200;
	fake_reset(script_canned);
	assert_int_equal(driver_find_by_message_id(*state, "<a@b>", count_found, &found, &e), -1);
	assert_int_equal(found, 0);
	if (!strstr(e.msg, "memory"))
		fail_msg("search: %s", e.msg);
	free(page);
	free(numbers);
}

/* UTF-8 beyond ASCII, escapes, nulls and an empty page come through as
 * they are. */
static void test_page_text_is_kept(void **state)
{
	char *body = xasprintf("{\"value\":[{\"id\":\"a\",\"subject\":\"caf\xc3\xa9 "
			       "\xe2\x98\x83 \\u00e9\\n\",\"isRead\":null,\"toRecipients\":null,"
			       "\"categories\":[\"x\",\"\xf0\x9f\x93\xa7\"],\"unknown\":{\"deep\":[1,2]}},"
			       "{\"id\":\"b\",\"@removed\":{\"reason\":\"deleted\"}}],"
			       "\"@odata.deltaLink\":\"%s/me/delta?t=1\"}", F.base);
	struct driver_page pg;
	struct err e;

	assert_int_equal(changes_with(*state, 200, body, NULL, &pg, &e), 0);
	assert_int_equal(pg.n, 2);
	assert_string_equal(pg.items[0].subject, "caf\xc3\xa9 \xe2\x98\x83 \xc3\xa9\n");
	assert_int_equal(pg.items[0].is_read, MAIL_UNKNOWN);
	assert_false(pg.items[0].to.known);
	assert_true(pg.items[0].categories.known);
	assert_int_equal(pg.items[0].categories.n, 2);
	assert_string_equal(pg.items[0].categories.items[1], "\xf0\x9f\x93\xa7");
	assert_true(pg.items[1].removed);
	assert_non_null(pg.done_cursor);
	driver_page_free(&pg);
	free(body);
}

/* What a hostile or broken server sends never reaches a message raw:
 * a control byte in a JSON syntax error ("near '\x1b'"), in Graph's own
 * message and code, in a timestamp, and a C1 control (CSI) all end up
 * escaped, and the message stays one line of valid UTF-8. */
static void test_server_bytes_in_messages_are_escaped(void **state)
{
	static const struct {
		unsigned status;
		const char *body;
		const char *shown;
	} cases[] = {
		{ 200, "{\"value\":[\x1b[2J]}", "'[\\x1b[2J]}'" },
		{ 200, "{\"value\":[\xc2\x9b" "31m]}", "[\\u009b" },
		{ 400, "{\"error\":{\"code\":\"Bad\\u001b]0;x\\u0007\","
		  "\"message\":\"line1\\nline2 \\u009b31m \\u202eexe.txt\"}}",
		  "Bad\\x1b]0;x\\x07: \"line1\\nline2 \\u009b31m \\u202eexe.txt\"" },
		{ 200, "{\"value\":[{\"id\":\"a\",\"receivedDateTime\":\"\\u001b[5m\"}],"
		  "\"@odata.deltaLink\":\"x\"}", "'\\x1b[5m'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct driver_page pg;
		struct err e;
		char again[sizeof(e.msg)];

		assert_int_equal(changes_with(*state, cases[i].status, cases[i].body,
					      NULL, &pg, &e), -1);
		if (!strstr(e.msg, cases[i].shown))
			fail_msg("case %zu: '%s' not in: %s", i, cases[i].shown, e.msg);
		for (const char *c = e.msg; *c; c++)
			assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
		/* nothing left to escape: quoting it again changes nothing */
		assert_string_equal(quote_str(again, sizeof(again), e.msg), e.msg);
	}
}

static void test_oversized_listing_is_transient_mime_permanent(void **state)
{
	struct driver *small = driver_with(2048);
	char *big = xmalloc(8192);
	struct driver_page pg;
	struct buf mime;
	struct err e;

	(void)state;
	memset(big, 'x', 8191);
	big[8191] = '\0';
	assert_int_equal(changes_with(small, 200, big, NULL, &pg, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	assert_string_equal(e.code, "too_large");
	assert_non_null(strstr(e.msg, "folder-1"));

	buf_init(&mime, 1000);
	assert_int_equal(driver_fetch_mime(small, "msg-1", &mime, &e), -1);
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "too_large");
	assert_non_null(strstr(e.msg, "msg-1"));
	buf_free(&mime);
	free(big);
	driver_free(small);
}

static void test_network_error_is_transient(void **state)
{
	struct graph_config cfg;
	struct driver_identity id;
	struct driver *d;
	struct err e;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.base_url = "http://127.0.0.1:1/v1.0";
	cfg.http = client;
	cfg.auth.get_token = get_token;
	cfg.auth.ctx = &T;
	d = graph_driver_new(&cfg);
	assert_int_equal(driver_whoami(d, &id, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	assert_string_equal(e.code, "network");
	assert_non_null(strstr(e.msg, "identifying"));
	driver_free(d);
}

/* ---- delta pages ---------------------------------------------------------------------- */

static void script_delta(const struct rec *rq, struct reply *rp)
{
	char *link = delta_link("fold-1", "tok1");
	char *body = xasprintf("{\"value\":[%s,{\"id\":\"gone-1\",\"@removed\":"
			       "{\"reason\":\"deleted\"}}],\"@odata.deltaLink\":\"%s\"}",
			       message_json, link);

	(void)rq;
	reply(rp, 200, body);
	free(body);
	free(link);
}

static void test_first_round_request_and_parse(void **state)
{
	struct driver_page pg;
	struct mail_message *m;
	char *want_link = delta_link("fold-1", "tok1");
	struct err e;
	struct rec *r;

	fake_reset(script_delta);
	assert_int_equal(driver_get_changes(*state, "fo/ld+1=", NULL, 25, &pg, &e), 0);
	r = &F.recs[0];
	assert_string_equal(r->path, "/v1.0/me/mailFolders/fo%2Fld%2B1%3D/messages/delta");
	assert_non_null(strstr(r->query, "$orderby=receivedDateTime%20desc"));
	assert_non_null(strstr(r->query, "$select=id%2CchangeKey%2C"));
	assert_int_equal(r->nprefer, 2);
	assert_string_equal(r->prefer[0], "IdType=\"ImmutableId\"");
	assert_string_equal(r->prefer[1], "odata.maxpagesize=25");
	assert_int_equal(pg.n, 2);
	assert_null(pg.next_cursor);
	assert_string_equal(pg.done_cursor, want_link);
	m = &pg.items[0];
	assert_string_equal(m->remote_id, "AAMk-1=");
	assert_false(m->removed);
	assert_string_equal(m->folder_remote_id, "fold-1");
	assert_string_equal(m->subject, "Hello");
	assert_string_equal(m->from.name, "Adele");
	assert_string_equal(m->from.address, "adele@x.com");
	assert_true(m->to.known);
	assert_int_equal(m->to.n, 2);
	assert_string_equal(m->to.items[0].name, "Bob");
	assert_string_equal(m->to.items[0].address, "bob@x.com");
	assert_string_equal(m->to.items[1].name, "");
	assert_string_equal(m->to.items[1].address, "carol@x.com");
	assert_true(m->cc.known);
	assert_int_equal(m->cc.n, 0);
	assert_true(m->categories.known);
	assert_int_equal(m->categories.n, 2);
	assert_string_equal(m->categories.items[0], "Red");
	assert_string_equal(m->categories.items[1], "Blue");
	assert_string_equal(m->internet_message_id, "<m1@example.com>");
	assert_string_equal(m->conversation_id, "conv-1");
	assert_string_equal(m->preview, "preview text");
	assert_string_equal(m->change_key, "CQ1");
	assert_true(m->received_at == 1736392508);
	assert_true(m->sent_at == 1736392500);
	assert_int_equal(m->is_read, 0);
	assert_int_equal(m->is_flagged, 1);
	assert_int_equal(m->is_draft, 0);
	assert_int_equal(m->has_attachments, 1);
	m = &pg.items[1];
	assert_string_equal(m->remote_id, "gone-1");
	assert_true(m->removed);
	assert_null(m->subject);
	assert_int_equal(m->is_read, DRIVER_UNKNOWN);
	driver_page_free(&pg);

	/* the cursor goes back verbatim, with the same Prefer headers */
	fake_reset(script_delta);
	assert_int_equal(driver_get_changes(*state, "fold-1", want_link, 0, &pg, &e), 0);
	r = &F.recs[0];
	assert_string_equal(r->path, "/v1.0/me/mailFolders/fold-1/messages/delta");
	assert_string_equal(r->query, "$deltatoken=tok1");
	assert_string_equal(r->prefer[0], "IdType=\"ImmutableId\"");
	assert_string_equal(r->prefer[1], "odata.maxpagesize=100");
	driver_page_free(&pg);
	free(want_link);
}

/* A server that refuses $orderby on delta and has no $batch. */
static void script_plain_server(const struct rec *rq, struct reply *rp)
{
	if (strstr(rq->path, "$batch")) {
		reply_error(rp, 404, "BadRequest");
		return;
	}
	if (strstr(rq->query, "$orderby")) {
		reply_error(rp, 400, "BadRequest");
		return;
	}
	script_delta(rq, rp);
}

static void test_servers_without_orderby_or_batch(void **state)
{
	struct driver_poll polls[3];
	struct driver_page pg;
	char *link = delta_link("fold-1", "tok1");
	struct err e;

	fake_reset(script_plain_server);
	assert_int_equal(driver_get_changes(*state, "fold-1", NULL, 25, &pg, &e), 0);
	assert_int_equal(nrec(), 2);          /* refused, then without $orderby */
	assert_null(strstr(F.recs[1].query, "$orderby"));
	assert_int_equal(pg.n, 2);
	driver_page_free(&pg);
	/* the driver remembers: the next round asks without $orderby at once */
	fake_reset(script_plain_server);
	assert_int_equal(driver_get_changes(*state, "fold-2", NULL, 25, &pg, &e), 0);
	assert_int_equal(nrec(), 1);
	driver_page_free(&pg);

	memset(polls, 0, sizeof(polls));
	for (int i = 0; i < 3; i++) {
		polls[i].folder_remote_id = "fold-1";
		polls[i].cursor = link;
	}
	fake_reset(script_plain_server);
	assert_int_equal(driver_poll_changes(*state, polls, 3, 0, &e), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(polls[i].rc, 0);
		assert_int_equal(polls[i].page.n, 2);
		driver_page_free(&polls[i].page);
	}
	assert_int_equal(nrec(), 4);          /* the refused $batch, then 3 GETs */
	fake_reset(script_plain_server);
	assert_int_equal(driver_poll_changes(*state, polls, 3, 0, &e), 0);
	assert_int_equal(nrec(), 3);          /* no $batch tried again */
	for (int i = 0; i < 3; i++)
		driver_page_free(&polls[i].page);
	free(link);
}

static void test_foreign_cursor_is_resync_without_request(void **state)
{
	struct driver_page pg;
	struct err e;

	fake_reset(script_delta);
	assert_int_equal(driver_get_changes(*state, "f", "https://evil.example/v1.0/"
					    "me/mailFolders/f/messages/delta", 0, &pg, &e), -1);
	assert_int_equal(e.class, ERR_RESYNC);
	assert_string_equal(e.code, "bad_cursor");
	assert_int_equal(nrec(), 0);
}

/* A page whose links point at another host (a hostile or broken server). */
static const char *foreign_link_kind = "@odata.deltaLink";

static void script_foreign_link(const struct rec *rq, struct reply *rp)
{
	char *body = xasprintf("{\"value\":[%s],\"%s\":\"https://evil.example/v1.0/me/"
			       "mailFolders/f/messages/delta?$deltatoken=x\"}",
			       message_json, foreign_link_kind);

	(void)rq;
	reply(rp, 200, body);
	free(body);
}

static void test_foreign_link_in_a_page_is_refused(void **state)
{
	static const char *const kinds[] = { "@odata.deltaLink", "@odata.nextLink" };
	struct driver_page pg;
	struct err e;

	for (int i = 0; i < 2; i++) {
		foreign_link_kind = kinds[i];
		fake_reset(script_foreign_link);
		assert_int_equal(driver_get_changes(*state, "f", NULL, 0, &pg, &e), -1);
		assert_int_equal(e.class, ERR_TRANSIENT);
		assert_string_equal(e.code, "foreign_link");
		assert_non_null(strstr(e.msg, "another host"));
		assert_non_null(strstr(e.msg, "evil.example"));
		assert_int_equal(pg.n, 0);            /* the page is refused whole */
		assert_null(pg.done_cursor);
		assert_null(pg.next_cursor);
	}
}

static void script_list(const struct rec *rq, struct reply *rp)
{
	char *body = xasprintf("{\"value\":[%s],\"@odata.nextLink\":\"%s/x\"}",
			       message_json, F.base);

	(void)rq;
	reply(rp, 200, body);
	free(body);
}

static void test_list_newest_query(void **state)
{
	struct driver_page pg;
	struct err e;
	struct rec *r;

	fake_reset(script_list);
	assert_int_equal(driver_list_newest(*state, "fold-1", 1736392508, 50, &pg, &e), 0);
	r = &F.recs[0];
	assert_string_equal(r->path, "/v1.0/me/mailFolders/fold-1/messages");
	assert_non_null(strstr(r->query, "$top=50"));
	assert_non_null(strstr(r->query, "$orderby=receivedDateTime%20desc"));
	assert_non_null(strstr(r->query, "$filter=receivedDateTime%20gt%202025-01-09T03%3A15%3A08Z"));
	assert_int_equal(pg.n, 1);
	assert_null(pg.next_cursor);
	assert_null(pg.done_cursor);
	driver_page_free(&pg);
}

/* ---- items ---------------------------------------------------------------------------- */

static void script_items(const struct rec *rq, struct reply *rp)
{
	if (strstr(rq->path, "/$value")) {
		reply(rp, 200, "From: a@b\r\nSubject: hi\r\n\r\nbody\r\n");
		rp->hdr[1][0] = "Content-Type";
		rp->hdr[1][1] = "text/plain";
	} else if (strcmp(rq->method, "POST") == 0 && strcmp(rq->path, "/v1.0/me/messages") == 0) {
		reply(rp, 201, "{\"id\":\"draft/+=1\",\"isDraft\":true}");
	} else if (strstr(rq->path, "/send")) {
		reply(rp, 202, "");
	} else if (strcmp(rq->method, "GET") == 0 && strstr(rq->query, "body")) {
		reply(rp, 200, "{\"body\":{\"contentType\":\"HTML\",\"content\":\"<p>hi</p>\"}}");
	} else if (strcmp(rq->method, "GET") == 0 && strncmp(rq->path, "/v1.0/me/messages/", 18) == 0) {
		reply(rp, 200, "{\"id\":\"x\",\"isDraft\":false,\"parentFolderId\":\"sent\","
		      "\"internetMessageId\":\"<a@b>\",\"conversationId\":\"c\"}");
	} else if (strcmp(rq->method, "GET") == 0) {
		reply(rp, 200, "{\"value\":[{\"id\":\"m1\",\"isDraft\":false,"
		      "\"parentFolderId\":\"sent\",\"internetMessageId\":\"<a'b@host>\"}]}");
	} else {
		reply(rp, strcmp(rq->method, "DELETE") == 0 ? 204 : 200, "{}");
	}
}

static void test_ids_are_encoded_once(void **state)
{
	struct err e;

	fake_reset(script_items);
	assert_int_equal(driver_set_flags(*state, "AAMk/a+b=c_d-e", 1, 0, &e), 0);
	assert_int_equal(driver_move_message(*state, "AAMk/a+b=c_d-e", "dest=/1", NULL, &e), 0);
	assert_int_equal(driver_delete_message(*state, "AAMk/a+b=c_d-e", &e), 0);
	assert_int_equal(driver_set_flags(*state, "x", DRIVER_UNKNOWN, DRIVER_UNKNOWN, &e), 0);
	assert_int_equal(nrec(), 3);
	assert_string_equal(F.recs[0].method, "PATCH");
	assert_string_equal(F.recs[0].path, "/v1.0/me/messages/AAMk%2Fa%2Bb%3Dc_d-e");
	assert_string_equal(F.recs[0].body, "{\"isRead\":true,\"flag\":{\"flagStatus\":\"notFlagged\"}}");
	assert_string_equal(F.recs[0].ctype, "application/json");
	assert_string_equal(F.recs[1].method, "POST");
	assert_string_equal(F.recs[1].path, "/v1.0/me/messages/AAMk%2Fa%2Bb%3Dc_d-e/move");
	assert_string_equal(F.recs[1].body, "{\"destinationId\":\"dest=/1\"}");
	assert_string_equal(F.recs[2].method, "DELETE");
	for (int i = 0; i < 3; i++)
		assert_string_equal(F.recs[i].prefer[0], "IdType=\"ImmutableId\"");
}

static void test_body_mime_state(void **state)
{
	struct driver_body body;
	struct driver_state st;
	struct buf mime;
	struct err e;

	fake_reset(script_items);
	assert_int_equal(driver_fetch_body(*state, "m1", &body, &e), 0);
	assert_string_equal(body.content_type, "html");
	assert_string_equal(body.content, "<p>hi</p>");
	assert_int_equal(body.len, 9);
	driver_body_free(&body);
	buf_init(&mime, 1 << 20);
	assert_int_equal(driver_fetch_mime(*state, "m1", &mime, &e), 0);
	assert_string_equal(buf_str(&mime), "From: a@b\r\nSubject: hi\r\n\r\nbody\r\n");
	assert_int_equal(mime.limit, 1 << 20);
	buf_free(&mime);
	assert_int_equal(driver_get_state(*state, "m1", &st, &e), 0);
	assert_true(st.exists);
	assert_false(st.is_draft);
	assert_string_equal(st.folder_remote_id, "sent");
	assert_string_equal(st.internet_message_id, "<a@b>");
	driver_state_free(&st);
	assert_string_equal(F.recs[1].path, "/v1.0/me/messages/m1/$value");
	assert_string_equal(F.recs[1].prefer[0], "IdType=\"ImmutableId\"");
}

static void test_draft_create_and_send(void **state)
{
	static const char mime[] = "Message-ID: <x@y>\r\nSubject: t\r\n\r\nhello\r\n";
	unsigned char decoded[256];
	size_t dlen;
	char *id;
	struct err e;

	fake_reset(script_items);
	assert_int_equal(driver_create_draft(*state, mime, strlen(mime), &id, &e), 0);
	assert_string_equal(id, "draft/+=1");
	assert_string_equal(F.recs[0].ctype, "text/plain");
	assert_int_equal(sodium_base642bin(decoded, sizeof(decoded), F.recs[0].body,
					   F.recs[0].body_len, NULL, &dlen, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(dlen, strlen(mime));
	assert_memory_equal(decoded, mime, dlen);
	assert_int_equal(driver_send_draft(*state, id, &e), 0);
	assert_string_equal(F.recs[1].method, "POST");
	assert_string_equal(F.recs[1].path, "/v1.0/me/messages/draft%2F%2B%3D1/send");
	assert_string_equal(F.recs[1].clen, "0");
	free(id);
}

static int count_found(void *ctx, const char *id, const struct driver_state *s)
{
	(void)id;
	assert_true(s->exists);
	(*(int *)ctx)++;
	return 0;
}

static void test_find_by_message_id_quotes_and_encodes(void **state)
{
	struct err e;
	int found = 0;

	fake_reset(script_items);
	assert_int_equal(driver_find_by_message_id(*state, "<a'b@host>", count_found,
						   &found, &e), 0);
	assert_int_equal(found, 1);
	assert_string_equal(F.recs[0].path, "/v1.0/me/messages");
	assert_non_null(strstr(F.recs[0].query, "$filter=internetMessageId%20eq%20%27"
			       "%3Ca%27%27b%40host%3E%27"));
}

/* ---- $batch ---------------------------------------------------------------------------- */

/* Answers a $batch with one sub-response per request, chosen by the
 * folder or message named in its URL, in reverse order. */
static json_t *(*sub_answer)(const char *url, const json_t *req);

static void script_batch(const struct rec *rq, struct reply *rp)
{
	json_t *doc, *reqs, *out, *r;
	size_t i;
	char *text;

	if (strcmp(rq->path, "/v1.0/$batch") != 0) {
		/* a lone request sent directly */
		json_t *a = sub_answer(rq->path, NULL);
		json_t *body = json_object_get(a, "body");

		text = body ? json_dumps(body, 0) : xstrdup("");
		reply(rp, (unsigned)json_integer_value(json_object_get(a, "status")), text);
		free(text);
		json_decref(a);
		return;
	}
	doc = json_loadb(rq->body, rq->body_len, 0, NULL);
	reqs = json_object_get(doc, "requests");
	out = json_array();
	for (i = json_array_size(reqs); i-- > 0;) {
		json_t *a;

		r = json_array_get(reqs, i);
		a = sub_answer(json_string_value(json_object_get(r, "url")), r);
		json_object_set(a, "id", json_object_get(r, "id"));
		json_array_append_new(out, a);
	}
	r = json_pack("{s:o}", "responses", out);
	text = json_dumps(r, 0);
	reply(rp, 200, text);
	free(text);
	json_decref(r);
	json_decref(doc);
}

static json_t *page_answer(const char *folder, bool done)
{
	char *link = done ? delta_link(folder, "next") :
		xasprintf("%s/me/mailFolders/%s/messages/delta?$skiptoken=s", F.base, folder);
	json_t *a = json_pack("{s:i, s:{s:s}, s:{s:[{s:s, s:b}], s:s}}",
			      "status", 200, "headers", "Content-Type", "application/json",
			      "body", "value", "id", folder, "isRead", 1,
			      done ? "@odata.deltaLink" : "@odata.nextLink", link);

	free(link);
	return a;
}

static json_t *error_answer(int status, const char *code, const char *retry_after)
{
	json_t *a = json_pack("{s:i, s:{}, s:{s:{s:s, s:s}}}", "status", status,
			      "headers", "body", "error", "code", code, "message", "x");

	if (retry_after)
		json_object_set_new(json_object_get(a, "headers"), "Retry-After",
				    json_string(retry_after));
	return a;
}

static json_t *poll_answer(const char *url, const json_t *req)
{
	(void)req;
	if (strstr(url, "/f1/") || strstr(url, "/f5/") || strstr(url, "/f7/"))
		return page_answer(strstr(url, "/f1/") ? "f1" : "f5", true);
	if (strstr(url, "/f2/"))
		return error_answer(410, "syncStateNotFound", NULL);
	if (strstr(url, "/f3/"))
		return error_answer(429, "ApplicationThrottled", "17");
	if (strstr(url, "/f4/"))
		return page_answer("f4", false);
	if (strstr(url, "/f6/"))
		return json_pack("{s:i, s:{}}", "status", 424, "headers");
	return page_answer("other", true);
}

static void test_poll_is_one_batch_with_chains(void **state)
{
	struct driver_poll polls[6];
	char *cursors[6], fid[6][8];
	json_t *doc, *reqs, *r;
	struct err e;
	size_t i;

	memset(polls, 0, sizeof(polls));
	for (i = 0; i < 6; i++) {
		snprintf(fid[i], sizeof(fid[i]), "f%zu", i + 1);
		cursors[i] = delta_link(fid[i], "t");
		polls[i].folder_remote_id = fid[i];
		polls[i].cursor = cursors[i];
	}
	sub_answer = poll_answer;
	fake_reset(script_batch);
	assert_int_equal(driver_poll_changes(*state, polls, 6, 50, &e), 0);
	assert_int_equal(nrec(), 1);
	assert_string_equal(F.recs[0].method, "POST");
	assert_string_equal(F.recs[0].ctype, "application/json");
	doc = json_loadb(F.recs[0].body, F.recs[0].body_len, 0, NULL);
	reqs = json_object_get(doc, "requests");
	assert_int_equal(json_array_size(reqs), 6);
	json_array_foreach(reqs, i, r) {
		const char *prefer = json_string_value(json_object_get(
			json_object_get(r, "headers"), "Prefer"));
		json_t *dep = json_object_get(r, "dependsOn");
		char want[96];

		assert_string_equal(json_string_value(json_object_get(r, "method")), "GET");
		snprintf(want, sizeof(want), "/me/mailFolders/f%zu/messages/delta?$deltatoken=t", i + 1);
		assert_string_equal(json_string_value(json_object_get(r, "url")), want);
		assert_non_null(strstr(prefer, "IdType=\"ImmutableId\""));
		assert_non_null(strstr(prefer, "odata.maxpagesize=50"));
		if (i < 4) {
			assert_null(dep);
		} else {
			snprintf(want, sizeof(want), "%zu", i - 3);
			assert_string_equal(json_string_value(json_array_get(dep, 0)), want);
		}
	}
	json_decref(doc);

	assert_int_equal(polls[0].rc, 0);
	assert_non_null(polls[0].page.done_cursor);
	assert_int_equal(polls[0].page.n, 1);
	assert_int_equal(polls[0].page.items[0].is_read, 1);
	assert_int_equal(polls[1].rc, -1);
	assert_int_equal(polls[1].err.class, ERR_RESYNC);
	assert_int_equal(polls[2].rc, -1);
	assert_int_equal(polls[2].err.class, ERR_THROTTLED);
	assert_int_equal(polls[2].err.retry_after_s, 17);
	assert_int_equal(polls[3].rc, 0);
	assert_non_null(polls[3].page.next_cursor);
	assert_null(polls[3].page.done_cursor);
	assert_int_equal(polls[4].rc, 0);
	assert_int_equal(polls[5].rc, -1);
	assert_int_equal(polls[5].err.class, ERR_TRANSIENT);
	assert_string_equal(polls[5].err.code, "dependency_failed");
	for (i = 0; i < 6; i++) {
		driver_page_free(&polls[i].page);
		free(cursors[i]);
	}
}

static void test_poll_more_than_20_uses_several_batches(void **state)
{
	struct driver_poll polls[25];
	char *cursors[25], fid[25][8];
	struct err e;

	memset(polls, 0, sizeof(polls));
	for (size_t i = 0; i < 25; i++) {
		snprintf(fid[i], sizeof(fid[i]), "g%zu", i);
		cursors[i] = delta_link(fid[i], "t");
		polls[i].folder_remote_id = fid[i];
		polls[i].cursor = cursors[i];
	}
	sub_answer = poll_answer;
	fake_reset(script_batch);
	assert_int_equal(driver_poll_changes(*state, polls, 25, 0, &e), 0);
	assert_int_equal(nrec(), 2);
	for (size_t i = 0; i < 25; i++) {
		assert_int_equal(polls[i].rc, 0);
		driver_page_free(&polls[i].page);
		free(cursors[i]);
	}
}

static void script_batch_throttled(const struct rec *rq, struct reply *rp)
{
	(void)rq;
	reply_error(rp, 429, "ApplicationThrottled");
	rp->hdr[1][0] = "Retry-After";
	rp->hdr[1][1] = "30";
}

static void test_poll_whole_batch_throttled(void **state)
{
	struct driver_poll polls[3];
	char *cursors[3];
	struct err e;

	memset(polls, 0, sizeof(polls));
	for (size_t i = 0; i < 3; i++) {
		cursors[i] = delta_link("f", "t");
		polls[i].folder_remote_id = "f";
		polls[i].cursor = cursors[i];
	}
	fake_reset(script_batch_throttled);
	assert_int_equal(driver_poll_changes(*state, polls, 3, 0, &e), -1);
	assert_int_equal(e.class, ERR_THROTTLED);
	assert_int_equal(e.retry_after_s, 30);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(polls[i].rc, -1);
		assert_int_equal(polls[i].err.class, ERR_THROTTLED);
		free(cursors[i]);
	}
}

/* m2 is gone: m6 (chained behind it) gets 424 and is asked again. */
static json_t *locate_answer(const char *url, const json_t *req)
{
	(void)req;
	if (strstr(url, "/m2"))
		return error_answer(404, "ErrorItemNotFound", NULL);
	if (strstr(url, "/m6") && req)
		return json_pack("{s:i, s:{}}", "status", 424, "headers");
	return json_pack("{s:i, s:{}, s:{s:s, s:s}}", "status", 200, "headers",
			 "body", "id", "x", "parentFolderId", strstr(url, "/m6") ?
			 "folder-6" : "folder-n");
}

static void test_locate_reruns_after_failed_dependency(void **state)
{
	struct driver_locate items[6];
	char ids[6][8];
	struct err e;

	memset(items, 0, sizeof(items));
	for (size_t i = 0; i < 6; i++) {
		snprintf(ids[i], sizeof(ids[i]), "m%zu", i + 1);
		items[i].remote_id = ids[i];
	}
	sub_answer = locate_answer;
	fake_reset(script_batch);
	assert_int_equal(driver_locate_messages(*state, items, 6, &e), 0);
	assert_int_equal(nrec(), 2); /* the batch, then m6 alone */
	assert_string_equal(F.recs[1].path, "/v1.0/me/messages/m6");
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(items[i].rc, 0);
		if (i == 1) {
			assert_true(items[i].gone);
			assert_null(items[i].folder_remote_id);
		} else {
			assert_false(items[i].gone);
			assert_string_equal(items[i].folder_remote_id,
					    i == 5 ? "folder-6" : "folder-n");
		}
		free(items[i].folder_remote_id);
	}
}

/* ---- the folder walk ----------------------------------------------------------------- */

static json_t *folder_json(const char *id, const char *name, int children)
{
	return json_pack("{s:s, s:s, s:i, s:i, s:i}", "id", id, "displayName", name,
			 "childFolderCount", children, "totalItemCount", 10,
			 "unreadItemCount", 2);
}

static json_t *folders_answer(const char *url, const json_t *req)
{
	json_t *value = json_array();
	json_t *body = json_pack("{s:o}", "value", value);

	(void)req;
	if (strstr(url, "skiptoken=p2")) {
		json_array_append_new(value, folder_json("id-custom", "Custom", 0));
	} else if (strncmp(url, "/me/mailFolders?", 16) == 0) {
		json_t *search = folder_json("search-1", "Search", 0);

		json_object_set_new(search, "@odata.type",
				    json_string("#microsoft.graph.mailSearchFolder"));
		json_array_append_new(value, folder_json("id-inbox", "Inbox", 1));
		json_array_append_new(value, search);
		json_array_append_new(value, folder_json("id-sent", "Sent Items", 0));
		json_object_set_new(body, "@odata.nextLink", json_sprintf(
			"%s/me/mailFolders?$skiptoken=p2", F.base));
	} else if (strstr(url, "/id-inbox/childFolders")) {
		json_array_append_new(value, folder_json("id-proj", "Projects", 1));
	} else if (strstr(url, "/id-proj/childFolders")) {
		json_array_append_new(value, folder_json("id-deep", "Deep", 0));
	} else if (strstr(url, "/archive") || strstr(url, "/junkemail")) {
		json_decref(body);
		return error_answer(404, "ErrorItemNotFound", NULL);
	} else {
		const char *name = strrchr(url, '/') + 1;
		char id[64];

		snprintf(id, sizeof(id), "id-%.*s", (int)strcspn(name, "?"), name);
		if (strcmp(id, "id-sentitems") == 0)
			snprintf(id, sizeof(id), "id-sent");
		json_decref(body);
		return json_pack("{s:i, s:{}, s:{s:s}}", "status", 200, "headers",
				 "body", "id", id);
	}
	return json_pack("{s:i, s:{}, s:o}", "status", 200, "headers", "body", body);
}

static int collect_folder(void *ctx, const struct mail_folder *f)
{
	struct buf *b = ctx;

	buf_printf(b, NULL, "%s<%s>%s[%s]%lld/%lld;", f->name, f->parent_remote_id,
		   f->remote_id, mail_role_name(f->role), f->total, f->unread);
	return 0;
}

static void test_folder_walk(void **state)
{
	struct buf seen;
	struct err e;
	json_t *doc;

	buf_init(&seen, 0);
	sub_answer = folders_answer;
	fake_reset(script_batch);
	assert_int_equal(driver_list_folders(*state, collect_folder, &seen, &e), 0);
	assert_string_equal(buf_str(&seen),
		"Inbox<>id-inbox[inbox]10/2;"
		"Sent Items<>id-sent[sent]10/2;"
		"Projects<id-inbox>id-proj[]10/2;"
		"Custom<>id-custom[]10/2;"
		"Deep<id-proj>id-deep[]10/2;");
	/* round 1: listing + 6 well-known lookups; round 2: Inbox's children
	 * and the next page; round 3: Projects' children, sent alone */
	assert_int_equal(nrec(), 3);
	doc = json_loadb(F.recs[0].body, F.recs[0].body_len, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(doc, "requests")), 7);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(
		json_object_get(doc, "requests"), 0), "url")), "includeHiddenFolders=true"));
	json_decref(doc);
	assert_string_equal(F.recs[2].path, "/v1.0/me/mailFolders/id-proj/childFolders");
	buf_free(&seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_foreign_link_in_a_page_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whoami_headers_and_upn_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_401_refreshes_once_then_succeeds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_401_is_auth_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_denied_says_what_to_do, setup, teardown),
		cmocka_unit_test_setup_teardown(test_404_means_not_found_on_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_text_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dense_answers_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_pages_are_transient, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_bytes_in_messages_are_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_listing_is_transient_mime_permanent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_error_is_transient, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_round_request_and_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_cursor_is_resync_without_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_servers_without_orderby_or_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_newest_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_are_encoded_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_mime_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_draft_create_and_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_by_message_id_quotes_and_encodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_is_one_batch_with_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_more_than_20_uses_several_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_whole_batch_throttled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locate_reruns_after_failed_dependency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_walk, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
