/*
 * embedded.h — files built into the binary (cmake/embed_files.cmake): the
 * web UI under web/ and the OpenAPI document docs/openapi.json.
 */
#ifndef INBOXSYNC_SERVER_EMBEDDED_H
#define INBOXSYNC_SERVER_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *path;          /* relative, '/'-separated: "index.html" */
	const unsigned char *data; /* NUL-terminated for convenience */
	size_t len;
};

extern const struct embedded_file web_files[];
extern const size_t web_files_count;
extern const struct embedded_file openapi_files[];
extern const size_t openapi_files_count;

#endif
