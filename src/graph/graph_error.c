/*
 * graph_error.c — what a Graph error answer means for the engine. One table
 * maps (HTTP status, Graph error code) to an error class, our machine code
 * and the advice the user reads; one loop reads it. Graph codes are
 * compared case-insensitively along the whole error.code → innerError.code
 * chain. Transport failures and unusable 2xx answers are classified here
 * too, so every message has the same shape: operation, target, status,
 * Graph code, request-id, what to do.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "inboxsync/quote.h"
#include "graph_internal.h"

#define MAX_CODES 8
/* Bytes of remote text quoted in messages (quote.h; "…" when cut). */
#define ID_SHOWN 48          /* an id */
#define GRAPH_MSG_SHOWN 104  /* Graph's own message */
#define CODE_SHOWN 64        /* Graph's error code */
#define RID_SHOWN 80         /* a request-id */

enum rule_flags {
	NAMES_SCOPE = 0x1,     /* advice names op->scope */
	BY_TARGET = 0x2,       /* machine code depends on the target (404) */
};

struct error_rule {
	long status_lo, status_hi;     /* 0, 0 = any status */
	const char *graph_code;        /* NULL = any code */
	enum err_class class;
	const char *code;
	unsigned flags;
	const char *advice;
};

#define ANY 0, 0

/* First match wins. */
static const struct error_rule rules[] = {
	{ ANY, "syncStateNotFound", ERR_RESYNC, "resync", 0,
	  "the folder's sync state expired on the server; it will be synced "
	  "again from the start (nothing is lost)" },
	{ ANY, "resyncRequired", ERR_RESYNC, "resync", 0,
	  "the server asks for a full resync of the folder; it will be synced "
	  "again from the start (nothing is lost)" },
	{ 410, 410, NULL, ERR_RESYNC, "resync", 0,
	  "the sync state is gone; the folder will be synced again from the "
	  "start (nothing is lost)" },
	{ 429, 429, NULL, ERR_THROTTLED, "throttled", 0,
	  "Microsoft is throttling requests to this mailbox; waiting before "
	  "trying again" },
	{ 401, 401, NULL, ERR_AUTH, "unauthorized", 0,
	  "the access token was refused even after a refresh; the account must "
	  "be authorized again" },
	{ ANY, "MailboxNotEnabledForRESTAPI", ERR_PERMANENT, "mailbox_not_enabled", 0,
	  "the mailbox is inactive, soft-deleted, unlicensed or hosted "
	  "on-premises, so Graph cannot reach it; ask the administrator for an "
	  "Exchange Online mailbox or use the IMAP transport" },
	{ ANY, "ErrorMailboxNotEnabledForRESTAPI", ERR_PERMANENT, "mailbox_not_enabled", 0,
	  "the mailbox is inactive, soft-deleted, unlicensed or hosted "
	  "on-premises, so Graph cannot reach it; ask the administrator for an "
	  "Exchange Online mailbox or use the IMAP transport" },
	{ 403, 403, NULL, ERR_PERMANENT, "access_denied", NAMES_SCOPE, NULL },
	{ ANY, "ErrorMessageSizeExceeded", ERR_PERMANENT, "too_large", 0,
	  "the message is larger than Microsoft accepts; make it smaller "
	  "(fewer or smaller attachments)" },
	{ 413, 413, NULL, ERR_PERMANENT, "too_large", 0,
	  "the request is larger than Microsoft accepts; make the message "
	  "smaller (fewer or smaller attachments)" },
	{ 400, 400, "ErrorInvalidRecipients", ERR_PERMANENT, "invalid_recipient", 0,
	  "Microsoft rejected a recipient address; correct the recipients and "
	  "send again" },
	{ 404, 404, NULL, ERR_PERMANENT, NULL, BY_TARGET, NULL },
	{ 408, 408, NULL, ERR_TRANSIENT, "timeout", 0,
	  "the server timed out; this is temporary" },
	{ 423, 423, NULL, ERR_TRANSIENT, "mailbox_locked", 0,
	  "the mailbox is locked (probably being moved by Microsoft); this "
	  "is temporary" },
	{ 501, 501, NULL, ERR_PERMANENT, "unsupported", 0,
	  "this server does not support the request" },
	{ 500, 599, NULL, ERR_TRANSIENT, "unavailable", 0,
	  "Microsoft Graph is temporarily unavailable" },
	{ 400, 499, NULL, ERR_PERMANENT, "rejected", 0,
	  "Microsoft Graph rejected the request; retrying will not help — "
	  "if it persists, report it with the request-id" },
	{ ANY, NULL, ERR_TRANSIENT, "bad_response", 0,
	  "the answer was not what Graph sends; this is usually temporary" },
};

#define ACCESS_ADVICE_FMT \
	"the app lacks a permission this needs (%s); authorize the account " \
	"again and accept the consent screen — where users may not consent, " \
	"an administrator must grant it for the organization"

/* ---- Graph's error document ------------------------------------------------ */

struct graph_error_doc {
	const char *codes[MAX_CODES];
	size_t ncodes;
	const char *message;
	const char *request_id;
};

static void error_doc_read(const json_t *body, struct graph_error_doc *d)
{
	const json_t *node = json_is_object(body) ? json_object_get(body, "error") : NULL;

	memset(d, 0, sizeof(*d));
	for (int depth = 0; json_is_object(node) && depth < MAX_CODES; depth++) {
		const char *code = json_str_or_null(node, "code");
		const char *rid = json_str_or_null(node, "request-id");
		const json_t *inner = json_object_get(node, "innerError");

		if (code && *code)
			d->codes[d->ncodes++] = code;
		if (!d->message)
			d->message = json_str_or_null(node, "message");
		if (rid && *rid)
			d->request_id = rid;
		if (!json_is_object(inner))
			inner = json_object_get(node, "innererror");
		node = inner;
	}
}

static bool codes_contain(const struct graph_error_doc *d, const char *want)
{
	for (size_t i = 0; i < d->ncodes; i++)
		if (strcasecmp(d->codes[i], want) == 0)
			return true;
	return false;
}

static const struct error_rule *rule_find(long status,
					  const struct graph_error_doc *d)
{
	size_t n = sizeof(rules) / sizeof(rules[0]);

	for (size_t i = 0; i < n; i++) {
		const struct error_rule *r = &rules[i];

		if (r->status_lo && (status < r->status_lo || status > r->status_hi))
			continue;
		if (r->graph_code && !codes_contain(d, r->graph_code))
			continue;
		return r;
	}
	return &rules[n - 1];
}

/* ---- messages ----------------------------------------------------------- */

/* " (request-id ...)" for a message, or "" without one. */
static void request_id_shown(const char *request_id, char *out, size_t n)
{
	char rid[RID_SHOWN];

	out[0] = '\0';
	if (request_id && *request_id)
		snprintf(out, n, " (request-id %s)",
			 quote_str(rid, sizeof(rid), request_id));
}

void graph_op_target(const struct graph_op *op, char *out, size_t n)
{
	const char *kind = op->target == GRAPH_TARGET_FOLDER ? "folder" : "message";
	char id[ID_SHOWN];

	if (op->target == GRAPH_TARGET_NONE || !op->target_id) {
		out[0] = '\0';
		return;
	}
	snprintf(out, n, " %s '%s'", kind, quote_str(id, sizeof(id), op->target_id));
}

int graph_error_set(struct err *e, const struct graph_op *op, long status,
		    const json_t *body, int retry_after_s, const char *request_id)
{
	struct graph_error_doc doc;
	const struct error_rule *r;
	const char *code, *advice;
	char target[128], advice_buf[384], rid[RID_SHOWN + 16] = "";
	char gmsg[GRAPH_MSG_SHOWN + 8] = "", shown[GRAPH_MSG_SHOWN], gcode[CODE_SHOWN];
	int wait = 0;

	error_doc_read(body, &doc);
	r = rule_find(status, &doc);
	code = r->code;
	advice = r->advice;
	if (r->flags & BY_TARGET) {
		code = op->target == GRAPH_TARGET_FOLDER ? "folder_gone" : "not_found";
		advice = op->target == GRAPH_TARGET_FOLDER ?
			"the folder no longer exists on the server; fetch the "
			"folder list again" :
			"it no longer exists on the server (moved away or deleted)";
	}
	if (r->flags & NAMES_SCOPE) {
		snprintf(advice_buf, sizeof(advice_buf), ACCESS_ADVICE_FMT,
			 op->scope ? op->scope : "Mail.ReadWrite");
		advice = advice_buf;
	}
	if (r->class == ERR_THROTTLED)
		wait = retry_after_s >= 0 ? retry_after_s : GRAPH_THROTTLE_HINT_S;
	else if (r->class == ERR_TRANSIENT && retry_after_s > 0)
		wait = retry_after_s;
	if (!request_id || !*request_id)
		request_id = doc.request_id;
	request_id_shown(request_id, rid, sizeof(rid));
	if (doc.message && *doc.message)
		snprintf(gmsg, sizeof(gmsg), ": \"%s\"",
			 quote_str(shown, sizeof(shown), doc.message));
	graph_op_target(op, target, sizeof(target));
	err_set(e, r->class, code,
		"%s%s: Microsoft Graph answered HTTP %ld%s%s%s%s; %s%s",
		op->what, target, status, doc.ncodes ? " " : "",
		doc.ncodes ? quote_str(gcode, sizeof(gcode), doc.codes[0]) : "",
		gmsg, rid, advice, wait ? " (retry after " : "");
	if (e && wait) {
		size_t len = strlen(e->msg);

		snprintf(e->msg + len, sizeof(e->msg) - len, "%d s)", wait);
	}
	if (e) {
		e->http_status = (int)status;
		e->retry_after_s = wait;
		if (r->class == ERR_AUTH || (r->flags & NAMES_SCOPE))
			err_set_fix(e, FIX_REAUTHORIZE, NULL);
		else if (r->class == ERR_TRANSIENT || r->class == ERR_RESYNC)
			err_set_fix(e, FIX_RETRY, NULL);
	}
	return -1;
}

int graph_error_from_http(struct err *e, const struct graph_op *op,
			  const struct http_response *r)
{
	json_t *body = NULL;
	int rc;

	if (r->body.len) {
		/* as json_parse_text bounds it: an error body that would take
		 * more reads as no body */
		alloc_library_budget(json_parse_memory_max(r->body.len));
		body = json_loadb(r->body.data, r->body.len, 0, NULL);
		alloc_library_budget(0);
	}
	rc = graph_error_set(e, op, r->status, body, r->retry_after_s,
			     r->request_id);
	json_decref(body);
	return rc;
}

void graph_err_append(struct err *e, const char *text)
{
	size_t n;

	if (!e)
		return;
	n = strlen(e->msg);
	if (n < sizeof(e->msg) - 1)
		snprintf(e->msg + n, sizeof(e->msg) - n, "%s", text);
}

int graph_error_transport(struct err *e, const struct graph_op *op)
{
	const char *advice = NULL;
	char target[128];

	if (!e)
		return -1;
	if (err_is(e, "too_large") && !op->is_content) {
		/* A listing over the cap is a garbled or hostile answer (our
		 * pages are far below the cap): worth another try. */
		e->class = ERR_TRANSIENT;
		advice = "; a listing that large is not what Graph sends, so this "
			 "is probably a garbled answer and temporary";
	} else if (err_is(e, "too_large")) {
		advice = "; the content is larger than the configured cap — raise "
			 "the limit to fetch it";
	} else if (e->class == ERR_TRANSIENT) {
		advice = "; this is temporary";
	}
	graph_op_target(op, target, sizeof(target));
	err_prefix(e, "%s%s: ", op->what, target);
	if (advice)
		graph_err_append(e, advice);
	return -1;
}

int graph_error_bad_response(struct err *e, const struct graph_op *op,
			     const char *request_id, const char *detail)
{
	char target[128], rid[RID_SHOWN + 16], shown[200];

	graph_op_target(op, target, sizeof(target));
	request_id_shown(request_id, rid, sizeof(rid));
	return err_set(e, ERR_TRANSIENT, "bad_response",
		       "%s%s: Microsoft Graph sent an unusable answer (%s)%s; "
		       "this is usually temporary", op->what, target,
		       quote_str(shown, sizeof(shown),
				 detail ? detail : "unexpected content"), rid);
}
