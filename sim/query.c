/*
 * query.c — OData query option parsing for Graph mail (see query.h).
 * A small cursor parser over the decoded $filter text; anything it does
 * not understand is a 400 with Graph's error shape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "msgjson.h"
#include "query.h"

void odata_free(struct odata_query *q)
{
	free(q->imid);
	free(q->filter_text);
	free(q->select_text);
	free(q->orderby_text);
	memset(q, 0, sizeof(*q));
}

int odata_top(struct sim_req *rq, struct sim_resp *rs, long dflt, long max,
	      long *out)
{
	const char *t = rq_query(rq, "$top");
	long v;

	*out = dflt;
	if (!t)
		return 0;
	if (sim_parse_long(t, 1, 1000000000L, &v) < 0) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidUrlQuery",
				 "The value '%s' of the query parameter '$top' is not valid.", t);
		return -1;
	}
	*out = v > max ? max : v;
	return 0;
}

static int parse_select(struct sim_req *rq, struct sim_resp *rs,
			const char *s, uint64_t *mask)
{
	const char *p = s;

	*mask = 1; /* id */
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char name[80];
		int bit;

		while (n && *p == ' ') {
			p++;
			n--;
		}
		while (n && p[n - 1] == ' ')
			n--;
		if (n && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			bit = msgjson_field_bit(name);
			if (bit < 0) {
				rs_graph_error(rq, rs, 400, "RequestBroker--ParseUri",
						 "Could not find a property named '%s' on type 'microsoft.graph.message'.",
						 name);
				return -1;
			}
			*mask |= 1ULL << bit;
		} else if (n) {
			rs_graph_error(rq, rs, 400, "RequestBroker--ParseUri",
					 "Could not find a property named '%.*s' on type 'microsoft.graph.message'.",
					 (int)(n > 60 ? 60 : n), p);
			return -1;
		}
		p += n;
		while (*p == ' ')
			p++;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* One `prop op value` clause of $filter. */
struct clause {
	char prop[64];
	char op[8];
	char *value;    /* heap, unquoted */
	bool quoted;
};

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int read_word(const char **pp, char *out, size_t n)
{
	const char *p = skip_ws(*pp);
	size_t k = 0;

	while (*p && *p != ' ' && *p != '\t' && *p != ')' && *p != '(') {
		if (k + 1 >= n)
			return -1;
		out[k++] = *p++;
	}
	out[k] = '\0';
	*pp = p;
	return k ? 0 : -1;
}

static int read_value(const char **pp, struct clause *c)
{
	const char *p = skip_ws(*pp);
	struct buf b;

	buf_init(&b, 4096);
	if (*p == '\'') {
		p++;
		for (;;) {
			if (!*p) {
				buf_free(&b);
				return -1;
			}
			if (*p == '\'' && p[1] == '\'') {
				buf_append(&b, "'", 1, NULL);
				p += 2;
				continue;
			}
			if (*p == '\'') {
				p++;
				break;
			}
			if (buf_append(&b, p, 1, NULL) < 0) {
				buf_free(&b);
				return -1;
			}
			p++;
		}
		c->quoted = true;
	} else {
		while (*p && *p != ' ' && *p != '\t') {
			if (buf_append(&b, p, 1, NULL) < 0) {
				buf_free(&b);
				return -1;
			}
			p++;
		}
		if (!b.len) {
			buf_free(&b);
			return -1;
		}
	}
	c->value = buf_detach(&b, NULL);
	*pp = p;
	return 0;
}

static int bad_filter(struct sim_req *rq, struct sim_resp *rs, const char *why)
{
	rs_graph_error(rq, rs, 400, "ErrorInvalidUrlQueryFilter",
			 "The query filter contains one or more invalid nodes. (%s)", why);
	return -1;
}

static int apply_clause(struct sim_req *rq, struct sim_resp *rs,
			struct odata_query *q, const struct clause *c, bool delta,
			bool fractions)
{
	static const struct { const char *op; int lo, incl; } time_ops[] = {
		{ "ge", 1, 1 }, { "gt", 1, 0 }, { "le", 0, 1 }, { "lt", 0, 0 },
	};

	if (strcasecmp(c->prop, "receivedDateTime") == 0) {
		int64_t t;
		uint32_t ticks;

		if (simtime_parse(c->value, &t, &ticks) < 0)
			return bad_filter(rq, rs, "receivedDateTime needs an ISO 8601 timestamp such as 2025-01-01T00:00:00Z");
		for (size_t i = 0; i < sizeof(time_ops) / sizeof(time_ops[0]); i++) {
			/* whole seconds: is a message of second t itself inside? */
			bool incl;

			if (strcasecmp(c->op, time_ops[i].op) != 0)
				continue;
			if (delta && !time_ops[i].lo)
				return bad_filter(rq, rs, "the delta function supports only receivedDateTime ge/gt");
			incl = simtime_bound_inclusive(t, ticks, fractions,
						       time_ops[i].lo ? 1 : -1, time_ops[i].incl);
			if (time_ops[i].lo) {
				q->has_lo = true;
				q->lo = t;
				q->lo_incl = incl;
			} else {
				q->has_hi = true;
				q->hi = t;
				q->hi_incl = incl;
			}
			return 0;
		}
		return bad_filter(rq, rs, "receivedDateTime supports ge, gt, le, lt");
	}
	if (delta)
		return bad_filter(rq, rs, "the delta function supports only receivedDateTime ge/gt");
	if (strcasecmp(c->prop, "internetMessageId") == 0 && strcasecmp(c->op, "eq") == 0 &&
	    c->quoted) {
		free(q->imid);
		q->imid = xstrdup(c->value);
		return 0;
	}
	if (strcasecmp(c->prop, "isRead") == 0 && strcasecmp(c->op, "eq") == 0 &&
	    !c->quoted && (strcmp(c->value, "true") == 0 || strcmp(c->value, "false") == 0)) {
		q->is_read = strcmp(c->value, "true") == 0;
		return 0;
	}
	return bad_filter(rq, rs, "m365sim supports receivedDateTime ge/gt/le/lt, internetMessageId eq '<id>' and isRead eq true|false, joined with 'and'");
}

static int parse_filter(struct sim_req *rq, struct sim_resp *rs,
			struct odata_query *q, const char *f, bool delta,
			bool fractions)
{
	const char *p = f;

	for (;;) {
		struct clause c = { 0 };
		char word[16];
		int rc;

		if (read_word(&p, c.prop, sizeof(c.prop)) < 0 ||
		    read_word(&p, c.op, sizeof(c.op)) < 0 || read_value(&p, &c) < 0) {
			free(c.value);
			return bad_filter(rq, rs, "expected: property operator value");
		}
		rc = apply_clause(rq, rs, q, &c, delta, fractions);
		free(c.value);
		if (rc < 0)
			return -1;
		p = skip_ws(p);
		if (!*p)
			return 0;
		if (read_word(&p, word, sizeof(word)) < 0 || strcasecmp(word, "and") != 0)
			return bad_filter(rq, rs, "clauses can only be joined with 'and'");
	}
}

static int parse_orderby(struct sim_req *rq, struct sim_resp *rs,
			 struct odata_query *q, const char *o, bool delta)
{
	char prop[64] = "", dir[16] = "asc";
	const char *p = o;

	if (read_word(&p, prop, sizeof(prop)) < 0 ||
	    (*skip_ws(p) && read_word(&p, dir, sizeof(dir)) < 0) || *skip_ws(p) ||
	    strcasecmp(prop, "receivedDateTime") != 0 ||
	    (strcasecmp(dir, "asc") != 0 && strcasecmp(dir, "desc") != 0)) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidUrlQuery",
				 "The $orderby '%s' is not supported; m365sim orders by receivedDateTime asc|desc only.", o);
		return -1;
	}
	q->order = strcasecmp(dir, "desc") == 0 ? -1 : 1;
	if (delta && q->order != -1) {
		rs_graph_error(rq, rs, 400, "ErrorInvalidUrlQuery",
				 "The delta function supports only $orderby=receivedDateTime desc.");
		return -1;
	}
	return 0;
}

int odata_parse_messages(struct sim_req *rq, struct sim_resp *rs,
			 struct odata_query *q, bool delta, bool fractions)
{
	static const char *const known[] = { "$select", "$top", "$skip", "$orderby",
					     "$filter", "$count", "$skiptoken",
					     "$deltatoken", "$expand", "$format" };

	memset(q, 0, sizeof(*q));
	q->is_read = -1;
	for (size_t i = 0; i < rq->query.n; i++) {
		const char *k = rq->query.v[i].key;
		bool ok = k[0] != '$';

		for (size_t j = 0; !ok && j < sizeof(known) / sizeof(known[0]); j++)
			ok = strcasecmp(k, known[j]) == 0;
		if (!ok || strcasecmp(k, "$search") == 0) {
			rs_graph_error(rq, rs, 400, "BadRequest",
					 "Query option '%s' is not allowed here (m365sim).", k);
			goto fail;
		}
	}
	if (rq_query(rq, "$select")) {
		q->select_text = xstrdup(rq_query(rq, "$select"));
		if (parse_select(rq, rs, q->select_text, &q->select) < 0)
			goto fail;
	}
	if (rq_query(rq, "$skip")) {
		if (delta) {
			rs_graph_error(rq, rs, 400, "ErrorInvalidUrlQuery",
					 "The delta function does not support $skip.");
			goto fail;
		}
		if (sim_parse_long(rq_query(rq, "$skip"), 0, 100000000L, &q->skip) < 0) {
			rs_graph_error(rq, rs, 400, "ErrorInvalidUrlQuery",
					 "The value of the query parameter '$skip' is not valid.");
			goto fail;
		}
	}
	if (rq_query(rq, "$orderby")) {
		q->orderby_text = xstrdup(rq_query(rq, "$orderby"));
		if (parse_orderby(rq, rs, q, q->orderby_text, delta) < 0)
			goto fail;
	}
	if (rq_query(rq, "$filter")) {
		q->filter_text = xstrdup(rq_query(rq, "$filter"));
		if (parse_filter(rq, rs, q, q->filter_text, delta, fractions) < 0)
			goto fail;
	}
	if (rq_query(rq, "$count")) {
		const char *c = rq_query(rq, "$count");

		if (strcmp(c, "true") != 0 && strcmp(c, "false") != 0) {
			rs_graph_error(rq, rs, 400, "ErrorInvalidUrlQuery",
					 "The value of the query parameter '$count' must be true or false.");
			goto fail;
		}
		q->count = strcmp(c, "true") == 0;
	}
	return 0;
fail:
	odata_free(q);
	return -1;
}

bool odata_time_ok(const struct odata_query *q, int64_t t)
{
	if (q->has_lo && (q->lo_incl ? t < q->lo : t <= q->lo))
		return false;
	if (q->has_hi && (q->hi_incl ? t > q->hi : t >= q->hi))
		return false;
	return true;
}

int odata_select_plain(struct sim_req *rq, struct sim_resp *rs, json_t *obj,
		       const char *type_name)
{
	const char *sel = rq_query(rq, "$select");
	json_t *keep;
	const char *key;
	json_t *val;
	void *tmp;

	if (!sel)
		return 0;
	keep = json_object();
	for (const char *p = sel; *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char name[80];
		bool found = false;

		snprintf(name, sizeof(name), "%.*s", (int)(n < 79 ? n : 79), p);
		for (char *s = name; *s; s++)
			if (*s == ' ')
				memmove(s, s + 1, strlen(s));
		json_object_foreach(obj, key, val) {
			if (strcasecmp(key, name) == 0) {
				json_object_set(keep, key, val);
				found = true;
			}
		}
		if (!found && *name) {
			rs_graph_error(rq, rs, 400, "RequestBroker--ParseUri",
					 "Could not find a property named '%s' on type '%s'.", name, type_name);
			json_decref(keep);
			json_decref(obj);
			return -1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	json_object_foreach_safe(obj, tmp, key, val) {
		if (key[0] != '@' && strcmp(key, "id") != 0 && !json_object_get(keep, key))
			json_object_del(obj, key);
	}
	json_decref(keep);
	return 0;
}
