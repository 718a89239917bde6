/*
 * fuzz_json.c — libFuzzer target for the JSON helpers (json.c): arbitrary
 * bytes through json_parse_text/json_parse_object, then every typed getter
 * on every key found (and on some that are not there), recursing into
 * nested objects and arrays. Any crash, leak or UB is a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include "inboxsync/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int ok)
{
	if (!ok)
		abort();
}

/* Every getter must either succeed or fail with a "bad_json" error. */
static void check_err(int rc, const struct err *e)
{
	must(rc == 0 || rc == -1);
	if (rc < 0)
		must(strcmp(e->code, "bad_json") == 0 && e->msg[0]);
}

static void poke_key(const json_t *obj, const char *key)
{
	struct err e;
	const char *s;
	long long i;
	bool b;
	json_t *o;

	check_err(json_req_string(obj, key, &s, &e), &e);
	check_err(json_opt_string(obj, key, &s, &e), &e);
	if (s)
		must(strlen(s) <= json_string_length(json_object_get(obj, key)));
	check_err(json_req_int(obj, key, &i, &e), &e);
	check_err(json_opt_int(obj, key, 7, &i, &e), &e);
	check_err(json_req_bool(obj, key, &b, &e), &e);
	check_err(json_opt_bool(obj, key, true, &b, &e), &e);
	check_err(json_req_object(obj, key, &o, &e), &e);
	check_err(json_opt_object(obj, key, &o, &e), &e);
	check_err(json_req_array(obj, key, &o, &e), &e);
	check_err(json_opt_array(obj, key, &o, &e), &e);
	(void)json_str_or_null(obj, key);
}

static void walk(const json_t *v, int depth)
{
	const char *key;
	json_t *child;
	size_t i;

	if (depth > 64)
		return;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child) {
			poke_key(v, key);
			walk(child, depth + 1);
		}
		poke_key(v, "id");
		poke_key(v, "@odata.nextLink");
		poke_key(v, "");
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			walk(child, depth + 1);
	}
	/* getters on a non-object must fail cleanly too */
	poke_key(v, "value");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	json_t *v;
	char *dump;

	v = json_parse_text((const char *)data, size, "fuzz input", &e);
	if (!v) {
		must(strcmp(e.code, "bad_json") == 0);
		must(strstr(e.msg, "fuzz input") != NULL);
	} else {
		walk(v, 0);
		dump = json_dump_compact(v);
		free(dump);
		json_decref(v);
	}
	v = json_parse_object((const char *)data, size, "fuzz object", &e);
	if (v) {
		must(json_is_object(v));
		walk(v, 0);
		json_decref(v);
	}
	return 0;
}
