/*
 * json.c — typed JSON access over jansson (see json.h). Every failure names
 * the document or the field so a user can tell which response was wrong.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/json.h"
#include "inboxsync/quote.h"

/* What parsing may allocate: FACTOR times the text plus BASE. Graph's and
 * the identity platform's answers take 3 to 6 times their length
 * (docs/testing.md, allocation torture); runs of empty objects or tiny
 * numbers take 20 to 80 times and are refused. */
#define JSON_PARSE_MEMORY_FACTOR ((size_t)16)
#define JSON_PARSE_MEMORY_BASE ((size_t)1 << 20)

size_t json_parse_memory_max(size_t len)
{
	return len <= (SIZE_MAX - JSON_PARSE_MEMORY_BASE) / JSON_PARSE_MEMORY_FACTOR
	       ? len * JSON_PARSE_MEMORY_FACTOR + JSON_PARSE_MEMORY_BASE : SIZE_MAX;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

json_t *json_parse_text(const char *text, size_t len, const char *what,
			struct err *e)
{
	json_error_t je;
	char near[160];
	size_t budget;
	bool over;
	json_t *v;

	if (!text || !len) {
		err_set(e, ERR_PERMANENT, "bad_json", "%s is empty (expected JSON)",
			what);
		return NULL;
	}
	/* Memory bounded by the text, however it is structured. */
	budget = json_parse_memory_max(len);
	alloc_library_budget(budget);
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	over = alloc_library_budget_hit();
	alloc_library_budget(0);
	if (!v && over)
		err_set(e, ERR_PERMANENT, "bad_json",
			"%s (%zu bytes of JSON) would take more than %zu bytes of "
			"memory to read; refused", what, len, budget);
	else if (!v) /* jansson quotes the offending bytes: they came from afar */
		err_set(e, ERR_PERMANENT, "bad_json",
			"%s is not valid JSON (line %d, column %d: %s)", what,
			je.line, je.column, quote_str(near, sizeof(near), je.text));
	return v;
}

json_t *json_parse_object(const char *text, size_t len, const char *what,
			  struct err *e)
{
	json_t *v = json_parse_text(text, len, what, e);

	if (v && !json_is_object(v)) {
		err_set(e, ERR_PERMANENT, "bad_json",
			"%s is %s, expected a JSON object", what,
			json_type_name(v));
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Look up `key`; NULL when `obj` is not an object, the key is absent or its
 * value is JSON null. */
static json_t *lookup(const json_t *obj, const char *key)
{
	json_t *v;

	if (!obj || !json_is_object(obj))
		return NULL;
	v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

static int mistyped(const char *key, const json_t *v, const char *want,
		    struct err *e)
{
	return err_set(e, ERR_PERMANENT, "bad_json",
		       "field \"%s\" is %s, expected %s", key,
		       json_type_name(v), want);
}

/* A required field was absent or null: say which. */
static int missing(const json_t *obj, const char *key, const char *want,
		   struct err *e)
{
	json_t *v = obj && json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (v)
		return mistyped(key, v, want, e);
	return err_set(e, ERR_PERMANENT, "bad_json",
		       "field \"%s\" is missing", key);
}

int json_opt_string(const json_t *obj, const char *key, const char **out,
		    struct err *e)
{
	json_t *v = lookup(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return mistyped(key, v, "a string", e);
	*out = json_string_value(v);
	return 0;
}

int json_req_string(const json_t *obj, const char *key, const char **out,
		    struct err *e)
{
	if (json_opt_string(obj, key, out, e) < 0)
		return -1;
	return *out ? 0 : missing(obj, key, "a string", e);
}

int json_opt_int(const json_t *obj, const char *key, long long dflt,
		 long long *out, struct err *e)
{
	json_t *v = lookup(obj, key);

	*out = dflt;
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return mistyped(key, v, "an integer", e);
	*out = json_integer_value(v);
	return 0;
}

int json_req_int(const json_t *obj, const char *key, long long *out,
		 struct err *e)
{
	if (!lookup(obj, key))
		return missing(obj, key, "an integer", e);
	return json_opt_int(obj, key, 0, out, e);
}

int json_opt_bool(const json_t *obj, const char *key, bool dflt, bool *out,
		  struct err *e)
{
	json_t *v = lookup(obj, key);

	*out = dflt;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return mistyped(key, v, "a boolean", e);
	*out = json_is_true(v);
	return 0;
}

int json_req_bool(const json_t *obj, const char *key, bool *out,
		  struct err *e)
{
	if (!lookup(obj, key))
		return missing(obj, key, "a boolean", e);
	return json_opt_bool(obj, key, false, out, e);
}

int json_opt_object(const json_t *obj, const char *key, json_t **out,
		    struct err *e)
{
	json_t *v = lookup(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_object(v))
		return mistyped(key, v, "an object", e);
	*out = v;
	return 0;
}

int json_req_object(const json_t *obj, const char *key, json_t **out,
		    struct err *e)
{
	if (json_opt_object(obj, key, out, e) < 0)
		return -1;
	return *out ? 0 : missing(obj, key, "an object", e);
}

int json_opt_array(const json_t *obj, const char *key, json_t **out,
		   struct err *e)
{
	json_t *v = lookup(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return mistyped(key, v, "an array", e);
	*out = v;
	return 0;
}

int json_req_array(const json_t *obj, const char *key, json_t **out,
		   struct err *e)
{
	if (json_opt_array(obj, key, out, e) < 0)
		return -1;
	return *out ? 0 : missing(obj, key, "an array", e);
}

const char *json_str_or_null(const json_t *obj, const char *key)
{
	json_t *v = lookup(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

char *json_dump_compact(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!s)
		return xstrdup("null");
	return s;
}
