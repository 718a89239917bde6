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

/* The text columns of a message row. Empty strings for SQL NULL. */
struct store_message_text {
	const char *remote_id;
	const char *internet_message_id;
	const char *conversation_id;
	const char *subject;
	const char *from_name;
	const char *from_addr;
	const char *to_json;
	const char *cc_json;
	const char *categories_json;
	const char *preview;
	const char *change_key;
	const char *folder_path;
	bool with_body;            /* body_type and body are read */
	const char *body_type;
	const char *body;          /* NULL when none is cached */
	size_t body_len;
};

/* Clear `out` and fill its strings (mail fields, folder path, body) from
 * `t`, copied into one new heap block (out->owned, freed by
 * store_message_clear). Numbers and flags are the caller's to set. */
void store_message_unpack(const struct store_message_text *t,
			  struct store_message *out);

#endif
