/*
 * faults.c — the fault rule list (see faults.h). Rules are matched in the
 * order they were added; a rule with a count is used up after that many
 * hits, a rule with seconds expires at a wall-clock time.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "faults.h"

struct rule {
	enum fault_kind kind;
	char *path;          /* substring of "path?query", or NULL */
	char *mailbox;       /* e-mail, or NULL */
	long remaining;      /* -1 = unlimited (time-bound) */
	int64_t until;       /* 0 = no time bound */
	long retry_after, delay_ms, bytes;
	long hits;
};

struct faults {
	pthread_mutex_t mu;   /* matched under the shared world lock */
	struct rule *v;
	size_t n;
};

static const struct {
	const char *name;
	enum fault_kind kind;
	long dflt_bytes;
} kinds[] = {
	{ "429", FAULT_429, 0 },
	{ "503", FAULT_503, 0 },
	{ "500", FAULT_500, 0 },
	{ "drop", FAULT_DROP, 64 },
	{ "slow", FAULT_SLOW, 64 },
	{ "malformed", FAULT_MALFORMED, 0 },
	{ "oversized", FAULT_OVERSIZED, 50L << 20 },
};

const char *flt_kind_name(enum fault_kind k)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == k)
			return kinds[i].name;
	return "none";
}

struct faults *flt_new(void)
{
	struct faults *f = xcalloc(1, sizeof(struct faults));

	pthread_mutex_init(&f->mu, NULL);
	return f;
}

static void rule_free(struct rule *r)
{
	free(r->path);
	free(r->mailbox);
}

void flt_clear(struct faults *f)
{
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->n; i++)
		rule_free(&f->v[i]);
	free(f->v);
	f->v = NULL;
	f->n = 0;
	pthread_mutex_unlock(&f->mu);
}

void flt_free(struct faults *f)
{
	if (!f)
		return;
	flt_clear(f);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static int opt_long(const json_t *rule, const char *key, long dflt, long min,
		    long max, long *out, char *why, size_t whylen)
{
	const json_t *v = json_object_get(rule, key);

	if (!v || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		snprintf(why, whylen, "'%s' must be an integer in [%ld, %ld]", key, min, max);
		return -1;
	}
	*out = (long)json_integer_value(v);
	return 0;
}

int flt_add(struct faults *f, const json_t *rule, char *why, size_t whylen)
{
	const char *kind = json_string_value(json_object_get(rule, "kind"));
	const json_t *path = json_object_get(rule, "path");
	const json_t *mailbox = json_object_get(rule, "mailbox");
	struct rule r = { 0 };
	long count, seconds;
	size_t k;
	char num[24];

	if (!json_is_object(rule)) {
		snprintf(why, whylen, "a fault must be a JSON object");
		return -1;
	}
	if (json_is_integer(json_object_get(rule, "kind"))) {
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(json_object_get(rule, "kind")));
		kind = num;
	}
	for (k = 0; kind && k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strcasecmp(kinds[k].name, kind) == 0)
			break;
	if (!kind || k == sizeof(kinds) / sizeof(kinds[0])) {
		snprintf(why, whylen, "'kind' must be one of 429, 503, 500, drop, slow, malformed, oversized");
		return -1;
	}
	if ((path && !json_is_string(path) && !json_is_null(path)) ||
	    (mailbox && !json_is_string(mailbox) && !json_is_null(mailbox))) {
		snprintf(why, whylen, "'path' and 'mailbox' must be strings");
		return -1;
	}
	if (opt_long(rule, "count", -1, 1, 1000000000, &count, why, whylen) < 0 ||
	    opt_long(rule, "seconds", -1, 1, 86400 * 30, &seconds, why, whylen) < 0 ||
	    opt_long(rule, "retry_after", kinds[k].kind == FAULT_429 ? 1 : -1, 0, 86400,
		     &r.retry_after, why, whylen) < 0 ||
	    opt_long(rule, "delay_ms", 200, 0, 600000, &r.delay_ms, why, whylen) < 0 ||
	    opt_long(rule, "bytes", kinds[k].dflt_bytes, 0, 4L << 30, &r.bytes, why,
		     whylen) < 0)
		return -1;
	r.kind = kinds[k].kind;
	r.path = json_is_string(path) && *json_string_value(path)
			 ? xstrdup(json_string_value(path)) : NULL;
	r.mailbox = json_is_string(mailbox) && *json_string_value(mailbox)
			    ? xstrdup(json_string_value(mailbox)) : NULL;
	r.until = seconds > 0 ? simtime_now() + seconds : 0;
	r.remaining = count > 0 ? count : (seconds > 0 ? -1 : 1);
	pthread_mutex_lock(&f->mu);
	f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	f->v[f->n++] = r;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

json_t *flt_to_json(struct faults *f)
{
	json_t *arr = json_array();

	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->n; i++) {
		const struct rule *r = &f->v[i];
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "kind",
				      flt_kind_name(r->kind), "retry_after",
				      (json_int_t)r->retry_after, "delay_ms",
				      (json_int_t)r->delay_ms, "bytes", (json_int_t)r->bytes,
				      "hits", (json_int_t)r->hits);

		json_object_set_new(o, "path", r->path ? json_string(r->path) : json_null());
		json_object_set_new(o, "mailbox", r->mailbox ? json_string(r->mailbox) : json_null());
		json_object_set_new(o, "remaining", r->remaining >= 0
				    ? json_integer(r->remaining) : json_null());
		json_object_set_new(o, "until", r->until ? json_integer(r->until) : json_null());
		json_array_append_new(arr, o);
	}
	pthread_mutex_unlock(&f->mu);
	return arr;
}

static bool is_status_fault(enum fault_kind k)
{
	return k == FAULT_429 || k == FAULT_503 || k == FAULT_500;
}

bool flt_match(struct faults *f, const char *path, const char *query,
		  const char *mailbox, bool inner, struct fault_hit *hit)
{
	int64_t now = simtime_now();
	size_t i = 0;
	bool found = false;

	pthread_mutex_lock(&f->mu);
	while (i < f->n) {
		struct rule *r = &f->v[i];
		bool expired = (r->until && now >= r->until) || r->remaining == 0;

		if (expired) {
			rule_free(r);
			memmove(r, r + 1, (f->n - i - 1) * sizeof(*r));
			f->n--;
			continue;
		}
		if ((inner && !is_status_fault(r->kind)) ||
		    (r->mailbox && (!mailbox || strcasecmp(r->mailbox, mailbox) != 0)) ||
		    (r->path && !strstr(path, r->path) &&
		     !(query && strstr(query, r->path)))) {
			i++;
			continue;
		}
		hit->kind = r->kind;
		hit->retry_after = r->retry_after;
		hit->delay_ms = r->delay_ms;
		hit->bytes = r->bytes;
		r->hits++;
		if (r->remaining > 0)
			r->remaining--;
		found = true;
		break;
	}
	pthread_mutex_unlock(&f->mu);
	return found;
}
