/*
 * mime_internal.h — what the files of src/mime share: GMime's one-time
 * initialisation. Not a public header.
 */
#ifndef INBOXSYNC_MIME_INTERNAL_H
#define INBOXSYNC_MIME_INTERNAL_H

/* g_mime_init once per process (thread-safe). */
void mime_gmime_init(void);

#endif
