/*
 * json.h — typed access to JSON over jansson.
 * Parsing with a size cap and errors that name the document, the line and
 * column; getters that name the missing or mistyped field. Errors are
 * ERR_PERMANENT with code "bad_json"; callers that read network responses
 * may reclassify them (a garbled page is usually worth a retry).
 */
#ifndef INBOXSYNC_JSON_H
#define INBOXSYNC_JSON_H

#include <stddef.h>
#include <stdbool.h>
#include <jansson.h>
#include "inboxsync/err.h"

/* Parse `len` bytes of `text` as one JSON value. `what` names the document
 * in error messages ("token response"). Returns a new reference (caller
 * json_decref's), or NULL with `e` filled. Rejects documents nested deeper
 * than jansson's limit, trailing garbage, and documents whose parse would
 * allocate more than 16 times their length plus 1 MiB (so memory stays
 * bounded by the response caps however a server structures its answer). */
json_t *json_parse_text(const char *text, size_t len, const char *what,
			struct err *e);

/* The most that parsing `len` bytes of JSON may allocate, in whichever
 * library: 16 times the text plus 1 MiB (real answers take 3 to 6 times;
 * runs of {} or small numbers 20 to 80 times), saturating. */
size_t json_parse_memory_max(size_t len);

/* Same, but the top level must be an object. */
json_t *json_parse_object(const char *text, size_t len, const char *what,
			  struct err *e);

/* Required getters: on success store the value (borrowed from `obj`) and
 * return 0; when `key` is absent, null or of another type return -1 with a
 * message naming `key` and what was found. */
int json_req_string(const json_t *obj, const char *key, const char **out,
		    struct err *e);
int json_req_int(const json_t *obj, const char *key, long long *out,
		 struct err *e);
int json_req_bool(const json_t *obj, const char *key, bool *out,
		  struct err *e);
int json_req_object(const json_t *obj, const char *key, json_t **out,
		    struct err *e);
int json_req_array(const json_t *obj, const char *key, json_t **out,
		   struct err *e);

/* Optional getters: absent or null leaves `*out` at `dflt` (or NULL) and
 * returns 0; present with the wrong type returns -1 naming `key`. */
int json_opt_string(const json_t *obj, const char *key, const char **out,
		    struct err *e);
int json_opt_int(const json_t *obj, const char *key, long long dflt,
		 long long *out, struct err *e);
int json_opt_bool(const json_t *obj, const char *key, bool dflt, bool *out,
		  struct err *e);
int json_opt_object(const json_t *obj, const char *key, json_t **out,
		    struct err *e);
int json_opt_array(const json_t *obj, const char *key, json_t **out,
		   struct err *e);

/* Convenience: the string at `key`, or NULL when absent/null/not a string.
 * For fields where a wrong type is as good as absent. */
const char *json_str_or_null(const json_t *obj, const char *key);

/* Serialise `v` compactly into a fresh heap string (caller frees). Never
 * NULL (aborts on OOM). */
char *json_dump_compact(const json_t *v);

#endif
