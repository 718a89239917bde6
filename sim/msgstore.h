/*
 * msgstore.h — storing messages with full content (mail created through an
 * API, delivered by a send, or injected by the admin) and the delayed
 * delivery queue that puts sent mail into sim recipients' inboxes.
 */
#ifndef SIM_MSGSTORE_H
#define SIM_MSGSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "mailbox.h"
#include "sim.h"

/* Store a message in `folder` of mb. Takes ownership of fields (content,
 * see msgcontent.h), atts (array or NULL) and mime (heap or NULL). Fills
 * in a missing internetMessageId, thread ids, times and bodyPreview.
 * Returns the message number. */
uint32_t msgstore_put(struct sim_world *w, struct sim_mailbox *mb,
		       uint32_t folder, int64_t received, uint16_t flags,
		       json_t *fields, json_t *atts, char *mime,
		       size_t mime_len);

/* Queue a copy of a sent message for `to`'s Inbox, visible after the
 * configured delivery delay (copies its arguments). */
void msgstore_deliver(struct sim_world *w, struct sim_user *to,
		      const json_t *fields, const json_t *atts,
		      const char *mime, size_t mime_len);

#endif
