/*
 * mime.h — RFC 822 / MIME for m365sim, built and parsed with GMime 3:
 * $value of a message (stored MIME verbatim when the message was created
 * from MIME, else generated deterministically from its fields), and
 * parsing the base64 MIME bodies of sendMail / create-draft.
 */
#ifndef SIM_MIME_H
#define SIM_MIME_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "inboxsync/buf.h"
#include "mailbox.h"
#include "sim.h"

/* Initialise / shut down GMime (once per process). */
void simmime_init(void);
void simmime_shutdown(void);

/* Append the MIME of message `num` to out. Returns 0 or -1. */
int simmime_build(struct sim_world *w, struct sim_mailbox *mb, uint32_t num,
	       struct buf *out);

/* Build MIME from content fields (msgcontent.h names) and fileAttachment
 * objects with contentBytes. Boundaries derive from the Message-ID so the
 * output is deterministic. Returns 0 or -1. */
int simmime_build_fields(const json_t *fields, const json_t *atts,
		      struct buf *out);

/* Parse a MIME message. On success returns 0 with new references in
 * *fields (content fields) and *atts (fileAttachment array with
 * contentBytes); on failure -1 with a reason in `why`. */
int simmime_parse(const char *data, size_t len, json_t **fields, json_t **atts,
	       char *why, size_t whylen);

#endif
