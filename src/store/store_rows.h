/*
 * store_rows.h — what every store backend does the same way with its
 * rows, whatever the database: address and category lists as the JSON
 * arrays stored in text columns, the data of the account-state and send
 * events, and a message read back from its column texts into one heap
 * block. Not a public header: only src/store includes it.
 */
#ifndef INBOXSYNC_STORE_ROWS_H
#define INBOXSYNC_STORE_ROWS_H

#include <jansson.h>
#include "inboxsync/store.h"

/* The JSON array stored for a list ([{"name","address"}...] or
 * ["..."]); NULL when the list is unknown (keep the stored one). Heap,
 * caller frees. */
char *store_addresses_json(const struct mail_address_list *l);
char *store_strings_json(const struct mail_string_list *l);
/* The same lists as JSON values (NULL when unknown; caller owns). */
json_t *store_addresses_value(const struct mail_address_list *l);
json_t *store_strings_value(const struct mail_string_list *l);

/* The data of account.state_changed: state, reason and fix. Heap. */
char *store_state_event_data(enum store_state state, const char *reason,
			     enum err_fix fix, const char *fix_arg);

/* The data of send.confirmed / send.failed: key, Message-ID and (failed)
 * the reason. Heap. */
char *store_send_event_data(const struct store_outbox *o,
			    enum store_event_type type);

/* The columns every backend selects for a message read back, in this
 * order (the folder's path from a join on f); a message read with its
 * body adds m.body_type and m.body (STORE_MESSAGE_COL_BODY_TYPE, _BODY). */
#define STORE_MESSAGE_COLUMNS \
	"m.id, m.folder_id, f.path, m.remote_id, m.internet_message_id, " \
	"m.conversation_id, m.subject, m.from_name, m.from_addr, m.to_json, " \
	"m.cc_json, m.categories_json, m.preview, m.received_at, m.sent_at, " \
	"m.is_read, m.is_flagged, m.is_draft, m.has_attachments, m.pending, " \
	"m.body_type IS NOT NULL, m.change_key, m.size, m.orphan"
enum { STORE_MESSAGE_COL_BODY_TYPE = 24, STORE_MESSAGE_COL_BODY = 25 };

/* A backend's row of STORE_MESSAGE_COLUMNS: its columns by index, text
 * ("" for NULL) and integers (booleans as 0 and 1). */
struct store_row {
	const char *(*text)(void *row, int col);
	int64_t (*integer)(void *row, int col);
	void *row;
};

/* Read a message from `row` into `out` (strings in one new heap block,
 * freed by store_message_clear). `with_body`: the row has the body
 * columns, and `body` (NULL when none is cached) its bytes. */
void store_message_read(const struct store_row *row, bool with_body,
			const char *body, size_t body_len, struct store_message *out);

#endif
