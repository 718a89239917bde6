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

#define WANT_PREVIEW 1  /* bodyPreview */
#define WANT_BODY 2     /* body (and bodyPreview) */
#define WANT_HEADERS 4  /* internetMessageHeaders */
#define WANT_ALL (WANT_PREVIEW | WANT_BODY | WANT_HEADERS)

/* Content fields of message `num` as a new JSON object with Graph names:
 * subject, body {contentType, content}, bodyPreview, from, sender,
 * toRecipients, ccRecipients, bccRecipients, replyTo, internetMessageId,
 * conversationId, conversationIndex, sentDateTime, createdDateTime,
 * internetMessageHeaders, categories, inferenceClassification,
 * isDeliveryReceiptRequested, isReadReceiptRequested, and the private
 * _inReplyTo (string) and _references (array). `want` (WANT_* or 0) says
 * whether seeded content needs bodyPreview / body, which cost time. */
json_t *msgcontent_fields(struct sim_world *w, struct sim_mailbox *mb,
			  uint32_t num, int want);

struct seed_content;
/* Generate the content of a seeded message (false when `num` has stored
 * content instead). */
bool msgcontent_seeded(struct sim_mailbox *mb, uint32_t num,
		       struct seed_content *c);
/* One content field (msgcontent_fields names) of seeded content c as a new
 * reference, or NULL for a name that is not a content field. */
json_t *msgcontent_seeded_value(const struct seed_content *c, const char *name);

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
