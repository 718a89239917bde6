/*
 * config.c — m365sim runtime settings as one table: name, where it lives,
 * default and allowed range. POST /_sim/config and GET /_sim/config read
 * this table; adding a setting is one line here plus the field in sim.h.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "sim.h"

enum cfg_kind { CFG_LONG, CFG_BOOL };

struct cfg_entry {
	const char *name;        /* JSON key; "a.b" means {"a":{"b":..}} */
	enum cfg_kind kind;
	size_t offset;
	long dflt, min, max;
};

#define L(name, field, d, lo, hi) \
	{ name, CFG_LONG, offsetof(struct sim_config, field), d, lo, hi }
#define B(name, field, d) \
	{ name, CFG_BOOL, offsetof(struct sim_config, field), d, 0, 1 }

static const struct cfg_entry table[] = {
	L("access_token_lifetime", access_token_lifetime, 3600, 1, 86400 * 7),
	L("refresh_token_lifetime", refresh_token_lifetime, 90L * 86400, 1, 365L * 86400),
	L("code_lifetime", code_lifetime, 600, 1, 86400),
	L("device_code_lifetime", device_code_lifetime, 900, 1, 86400),
	L("device_code_interval", device_code_interval, 5, 0, 600),
	L("device_slow_down_step", device_slow_down_step, 5, 0, 600),
	L("rate_limit.requests", rate_limit_requests, 10000, 1, 100000000),
	L("rate_limit.window", rate_limit_window, 600, 1, 86400),
	L("concurrency_limit", concurrency_limit, 4, 1, 100000),
	L("concurrency_retry_after", concurrency_retry_after, 1, 0, 3600),
	B("batch_concurrency_strict", batch_concurrency_strict, 1),
	L("delivery_delay_ms", delivery_delay_ms, 0, 0, 3600000),
	L("delta_history_seconds", delta_history_seconds, 30L * 86400, 1, 3650L * 86400),
	L("delta_history_changes", delta_history_changes, 2000000, 1, 100000000),
	L("delta_filter_cap", delta_filter_cap, 5000, 1, 100000000),
	L("max_message_bytes", max_message_bytes, 35L << 20, 1024, 150L << 20),
	L("max_attachment_bytes", max_attachment_bytes, 3L << 20, 1, 150L << 20),
	L("max_page_size", max_page_size, 1000, 1, 100000),
	L("render_cache_mb", render_cache_mb, 256, 0, 4096),
	B("date_fractions", date_fractions, 0),
	L("latency_ms", latency_ms, 0, 0, 600000),
	L("latency_jitter_ms", latency_jitter_ms, 0, 0, 600000),
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

static void *field(struct sim_config *c, const struct cfg_entry *e)
{
	return (char *)c + e->offset;
}

void simcfg_defaults(struct sim_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NTABLE; i++) {
		if (table[i].kind == CFG_LONG)
			*(long *)field(c, &table[i]) = table[i].dflt;
		else
			*(bool *)field(c, &table[i]) = table[i].dflt != 0;
	}
}

/* Find the JSON value for a dotted name in obj (NULL when absent). */
static const json_t *lookup(const json_t *obj, const char *name)
{
	const char *dot = strchr(name, '.');
	char head[64];

	if (!dot)
		return json_object_get(obj, name);
	snprintf(head, sizeof(head), "%.*s", (int)(dot - name), name);
	obj = json_object_get(obj, head);
	return json_is_object(obj) ? json_object_get(obj, dot + 1) : NULL;
}

static bool known_key(const char *key, const json_t *val)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < NTABLE; i++) {
		const char *n = table[i].name;

		if (strcmp(n, key) == 0)
			return true;
		if (strncmp(n, key, klen) == 0 && n[klen] == '.' &&
		    json_is_object(val))
			return true;
	}
	return false;
}

int simcfg_apply(struct sim_config *c, const json_t *obj, char *why,
		 size_t whylen)
{
	struct sim_config next = *c;
	const char *key;
	json_t *val;

	if (!json_is_object(obj)) {
		snprintf(why, whylen, "the body must be a JSON object");
		return -1;
	}
	json_object_foreach((json_t *)obj, key, val) {
		if (!known_key(key, val)) {
			snprintf(why, whylen, "unknown setting '%s'", key);
			return -1;
		}
	}
	for (size_t i = 0; i < NTABLE; i++) {
		const struct cfg_entry *e = &table[i];
		const json_t *v = lookup(obj, e->name);

		if (!v)
			continue;
		if (e->kind == CFG_BOOL) {
			if (!json_is_boolean(v)) {
				snprintf(why, whylen, "'%s' must be true or false", e->name);
				return -1;
			}
			*(bool *)field(&next, e) = json_is_true(v);
			continue;
		}
		if (!json_is_integer(v) || json_integer_value(v) < e->min ||
		    json_integer_value(v) > e->max) {
			snprintf(why, whylen, "'%s' must be an integer in [%ld, %ld]",
				 e->name, e->min, e->max);
			return -1;
		}
		*(long *)field(&next, e) = (long)json_integer_value(v);
	}
	*c = next;
	return 0;
}

json_t *simcfg_to_json(const struct sim_config *c)
{
	json_t *out = json_object();

	for (size_t i = 0; i < NTABLE; i++) {
		const struct cfg_entry *e = &table[i];
		const char *dot = strchr(e->name, '.');
		json_t *dst = out;
		const char *key = e->name;
		json_t *v;

		if (dot) {
			char head[64];

			snprintf(head, sizeof(head), "%.*s", (int)(dot - e->name), e->name);
			dst = json_object_get(out, head);
			if (!dst) {
				dst = json_object();
				json_object_set_new(out, head, dst);
			}
			key = dot + 1;
		}
		if (e->kind == CFG_BOOL)
			v = json_boolean(*(const bool *)((const char *)c + e->offset));
		else
			v = json_integer(*(const long *)((const char *)c + e->offset));
		json_object_set_new(dst, key, v);
	}
	return out;
}
