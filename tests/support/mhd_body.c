/*
 * mhd_body.c — request bodies for in-process test servers (see mhd_body.h).
 */
#include <stdlib.h>
#include "inboxsync/alloc.h"
#include "mhd_body.h"

int mhd_body_collect(void **con_cls, const char *upload, size_t *upload_size,
		     struct buf **body)
{
	struct buf *b = *con_cls;

	if (!b) {
		b = xcalloc(1, sizeof(*b));
		buf_init(b, 0);
		*con_cls = b;
		return 1;
	}
	if (*upload_size) {
		buf_append(b, upload, *upload_size, NULL);
		*upload_size = 0;
		return 1;
	}
	*body = b;
	return 0;
}

void mhd_body_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	struct buf *b = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (b) {
		buf_free(b);
		free(b);
		*con_cls = NULL;
	}
}
