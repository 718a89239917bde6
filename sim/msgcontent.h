/*
 * msgcontent.h — the content of a message whether it is seeded (generated
 * on demand by seedgen) or stored (struct sim_msg_ext): header fields,
 * body, threading, attachments. Also turning a seeded message into a
 * stored one when an API edits content (categories, drafts).
 */
#ifndef SIM_MSGCONTENT_H
#define SIM_MSGCONTENT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "mailbox.h"
#include "sim.h"

/* Content fields of message `num` as a new JSON object with Graph names:
 * subject, body {contentType, content}, bodyPreview, from, sender,
 * toRecipients, ccRecipients, bccRecipients, replyTo, internetMessageId,
 * conversationId, conversationIndex, sentDateTime, createdDateTime,
 * internetMessageHeaders, categories, inferenceClassification,
 * isDeliveryReceiptRequested, isReadReceiptRequested, and the private
 * _inReplyTo (string) and _references (array). `want_body` false may leave
 * body/bodyPreview out for speed. */
json_t *msgcontent_fields(struct sim_world *w, struct sim_mailbox *mb,
			  uint32_t num, bool want_body);

/* Attachments as fileAttachment objects (new array); contentBytes only
 * when `with_bytes`. */
json_t *msgcontent_attachments(struct sim_world *w, struct sim_mailbox *mb,
			       uint32_t num, bool with_bytes);

/* Give a seeded message stored content so that it can be edited. */
struct sim_msg_ext *msgcontent_materialize(struct sim_world *w,
					   struct sim_mailbox *mb, uint32_t num);

/* Outlook-style conversationId for a thread whose first message has
 * internetMessageId `root` (heap). */
char *msgcontent_conversation_id(const char *root);
/* conversationIndex (base64) for depth `depth` of thread `root` (heap). */
char *msgcontent_conversation_index(const char *root, int depth, int64_t t);

/* Plain text → minimal Outlook-like HTML document (heap), and back. */
char *msgcontent_text_to_html(const char *text);
char *msgcontent_html_to_text(const char *html);
/* First 255 characters of the text, whitespace collapsed (heap). */
char *msgcontent_preview(const char *text);

/* A new internetMessageId "<...@domain.prod.outlook.com>" (heap). */
char *msgcontent_new_imid(const char *sender_addr);

/* Set conversationId/conversationIndex of `fields` from its _references /
 * _inReplyTo / internetMessageId (root = first reference). */
void msgcontent_thread(json_t *fields, int64_t t);

#endif
