/*
 * jdoc.h — building and printing JSON documents for front ends without
 * depending on the JSON library's headers: the document type is declared
 * here by name only, and the few calls a front end needs (pack a value
 * from a format, add to an object or array, print, free) are wrappers.
 * The formats are jansson's json_pack formats. Values made here can be
 * handed to code that uses jansson directly (the server), and back.
 */
#ifndef INBOXSYNC_JDOC_H
#define INBOXSYNC_JDOC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct json_t json_t;

/* A value from a json_pack format ("{s:s,s:i}", ...); NULL when the
 * format and arguments do not match (a bug) or a string is not UTF-8. */
json_t *jdoc_pack(const char *fmt, ...);

json_t *jdoc_object(void);
json_t *jdoc_array(void);
json_t *jdoc_string(const char *s);   /* NULL s gives null */
json_t *jdoc_int(long long v);
json_t *jdoc_bool(bool v);
json_t *jdoc_null(void);

/* Set obj[key] = v, taking over the reference to v (NULL v gives null). */
void jdoc_set(json_t *obj, const char *key, json_t *v);

/* Append v to arr, taking over the reference. */
void jdoc_push(json_t *arr, json_t *v);

/* obj[key] as a borrowed value, or NULL. */
json_t *jdoc_get(const json_t *obj, const char *key);

/* Print `v` as one line of compact JSON and a newline on `out`, then
 * drop the reference. */
void jdoc_print(FILE *out, json_t *v);

/* Compact JSON text (heap, caller frees), or NULL. */
char *jdoc_dump(const json_t *v);

/* Indented JSON text (two spaces), for people reading it; heap or NULL. */
char *jdoc_dump_pretty(const json_t *v);

/* Parse JSON text (NULL when it is not JSON). */
json_t *jdoc_parse(const char *text);

/* Accessors for reading documents back: a string member (NULL when absent
 * or not a string), an integer member (`dflt` when absent), the size of an
 * array and one of its items. */
const char *jdoc_get_str(const json_t *obj, const char *key);
long long jdoc_get_int(const json_t *obj, const char *key, long long dflt);
bool jdoc_get_bool(const json_t *obj, const char *key);
const char *jdoc_str_value(const json_t *v);   /* NULL unless a string */
size_t jdoc_size(const json_t *arr);
json_t *jdoc_item(const json_t *arr, size_t i);

/* Drop a reference (NULL is fine). */
void jdoc_free(json_t *v);

#endif
