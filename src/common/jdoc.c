/*
 * jdoc.c — the JSON document wrappers of jdoc.h over jansson.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <jansson.h>
#include "inboxsync/jdoc.h"

json_t *jdoc_pack(const char *fmt, ...)
{
	va_list ap;
	json_t *v;

	va_start(ap, fmt);
	v = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	return v;
}

json_t *jdoc_object(void)
{
	return json_object();
}

json_t *jdoc_array(void)
{
	return json_array();
}

json_t *jdoc_string(const char *s)
{
	json_t *v;

	if (!s)
		return json_null();
	v = json_string(s);
	/* Not UTF-8 (bytes from a server): keep what can be shown. */
	return v ? v : json_string("\xef\xbf\xbd");
}

json_t *jdoc_int(long long v)
{
	return json_integer((json_int_t)v);
}

json_t *jdoc_bool(bool v)
{
	return json_boolean(v);
}

json_t *jdoc_null(void)
{
	return json_null();
}

void jdoc_set(json_t *obj, const char *key, json_t *v)
{
	json_object_set_new(obj, key, v ? v : json_null());
}

void jdoc_push(json_t *arr, json_t *v)
{
	json_array_append_new(arr, v ? v : json_null());
}

json_t *jdoc_get(const json_t *obj, const char *key)
{
	return json_object_get(obj, key);
}

void jdoc_print(FILE *out, json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;

	fprintf(out, "%s\n", text ? text : "null");
	free(text);
	json_decref(v);
}

char *jdoc_dump(const json_t *v)
{
	return v ? json_dumps(v, JSON_COMPACT) : NULL;
}

void jdoc_free(json_t *v)
{
	json_decref(v);
}

char *jdoc_dump_pretty(const json_t *v)
{
	return v ? json_dumps(v, JSON_INDENT(2)) : NULL;
}

json_t *jdoc_parse(const char *text)
{
	return text ? json_loads(text, 0, NULL) : NULL;
}

const char *jdoc_get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

long long jdoc_get_int(const json_t *obj, const char *key, long long dflt)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

bool jdoc_get_bool(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

const char *jdoc_str_value(const json_t *v)
{
	return json_string_value(v);
}

size_t jdoc_size(const json_t *arr)
{
	return json_array_size(arr);
}

json_t *jdoc_item(const json_t *arr, size_t i)
{
	return json_array_get(arr, i);
}
