/*
 * graph.h — Microsoft Graph mail endpoints (/v1.0). graph.c authenticates,
 * throttles and routes; each graph_*.c file owns one group of endpoints.
 * Handlers run with the world lock held and rq->user / rq->mb set to the
 * signed-in user and mailbox. Names use the gr_ prefix (graph_ belongs to
 * the product's Graph client in src/graph; tests link both).
 */
#ifndef SIM_GRAPH_H
#define SIM_GRAPH_H

#include "http.h"
#include "mailbox.h"
#include "sim.h"

typedef void gr_fn(struct sim_world *w, struct sim_req *rq,
		      struct sim_resp *rs);

/* graph_me.c */
gr_fn gr_me_get, gr_revoke_sessions, gr_translate_ids;
/* graph_folders.c */
gr_fn gr_folders_list, gr_folder_get, gr_folder_create,
	gr_folder_update, gr_folder_delete, gr_folder_move,
	gr_children_list;
/* graph_folder_delta.c */
gr_fn gr_folders_delta;
/* graph_messages.c */
gr_fn gr_messages_list, gr_message_get, gr_message_value;
/* graph_attachments.c */
gr_fn gr_attachments_list, gr_attachment_get,
	gr_attachment_value, gr_attachment_add, gr_attachment_delete;
/* graph_delta.c */
gr_fn gr_messages_delta;
/* graph_write.c */
gr_fn gr_message_patch, gr_message_delete, gr_message_move,
	gr_message_copy, gr_message_permanent_delete;
/* graph_compose.c */
gr_fn gr_draft_create, gr_create_reply, gr_create_reply_all,
	gr_create_forward;
/* graph_send.c */
gr_fn gr_send_mail, gr_draft_send, gr_reply, gr_reply_all,
	gr_forward;
/* graph_batch.c */
gr_fn gr_batch;

/* ---- shared helpers (graph_common.c) ---- */

/* Resolve a folder id or well-known name of rq->mb. Writes 404/400 and
 * returns SIM_NONE when there is no such folder. */
uint32_t gr_folder_arg(struct sim_world *w, struct sim_req *rq,
			  struct sim_resp *rs, const char *id);
/* Resolve a message id (REST or immutable) of rq->mb. Writes the Graph
 * error and returns SIM_NONE when malformed or not found (a REST id of a
 * message that has moved since is not found). */
uint32_t gr_message_arg(struct sim_world *w, struct sim_req *rq,
			   struct sim_resp *rs, const char *id);
/* Message id to show to this request (immutable or REST per Prefer). */
char *gr_msg_id(struct sim_world *w, const struct sim_req *rq,
		   struct sim_mailbox *mb, uint32_t num);
/* A mailFolder as Graph JSON (graph_folders.c). */
json_t *gr_folder_json(struct sim_world *w, struct sim_mailbox *mb,
			  uint32_t num);
/* Apply the message properties of `in` (a Graph message JSON) to a
 * message's content `fields` and MSG_* `flags` (graph_compose.c).
 * Draft-only properties on a non-draft, unknown properties or wrong types
 * give a 400 written into rs and -1. */
int gr_apply_message_json(struct sim_req *rq, struct sim_resp *rs,
			     json_t *fields, uint16_t *flags, const json_t *in,
			     bool draft, bool creating);
/* Validate a Graph attachments array (fileAttachment objects with
 * base64 contentBytes) into stored form; adds the decoded size to *total.
 * NULL with a 400 written on error (graph_compose.c). */
json_t *gr_parse_attachments(struct sim_req *rq, struct sim_resp *rs,
				const json_t *arr, size_t *total);
/* Submit a message for sending (graph_send.c): `draft` is the draft being
 * sent (its content is in `fields`, moved to Sent Items keeping its
 * immutable id) or SIM_NONE for sendMail (a Sent Items copy when `save`).
 * Takes ownership of fields, atts and mime. Writes 202 or an error.
 * Returns 0 or -1. */
int gr_submit(struct sim_world *w, struct sim_req *rq, struct sim_resp *rs,
		 uint32_t draft, json_t *fields, json_t *atts, char *mime,
		 size_t mime_len, bool save);
/* Create the draft of a reply (kind 0), reply-all (1) or forward (2) to
 * message caps[0], applying the request body (comment, message,
 * toRecipients). Returns its number or SIM_NONE with an error written. */
uint32_t gr_create_response(struct sim_world *w, struct sim_req *rq,
			       struct sim_resp *rs, int kind);
/* Set Preference-Applied for what this request asked for. */
void gr_preference_applied(const struct sim_req *rq, struct sim_resp *rs,
			      long pagesize);

#endif
