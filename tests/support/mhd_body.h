/*
 * mhd_body.h — collecting a request body in the in-process libmicrohttpd
 * servers some tests run: libmicrohttpd hands the body over in pieces
 * across several calls of the request handler; these keep it in a capped
 * buffer attached to the connection and free it when the request ends.
 */
#ifndef INBOXSYNC_TEST_MHD_BODY_H
#define INBOXSYNC_TEST_MHD_BODY_H

#include <stddef.h>
#include <microhttpd.h>
#include "inboxsync/buf.h"

/* Call first in the request handler with its con_cls / upload arguments.
 * Returns 1 while the body is still arriving (the handler then returns
 * MHD_YES), 0 once it is complete: *body is the whole body (owned by the
 * connection; detach it to keep it). */
int mhd_body_collect(void **con_cls, const char *upload, size_t *upload_size,
		     struct buf **body);

/* MHD_OPTION_NOTIFY_COMPLETED callback that frees the collected body. */
void mhd_body_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe);

#endif
