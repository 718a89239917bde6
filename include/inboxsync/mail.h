/*
 * mail.h — the one vocabulary of mail that drivers, the engine and stores
 * share: a folder role, an address, a folder as a server lists it, and a
 * message's metadata. A driver fills these from its wire format (Graph
 * JSON, IMAP envelopes), the engine hands them to the store unchanged, and
 * the store hands them back embedded in what it reads. Nothing here knows
 * a transport or a storage format.
 */
#ifndef INBOXSYNC_MAIL_H
#define INBOXSYNC_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tri-state for flags a server may omit in an update. */
#define MAIL_UNKNOWN (-1)

/* What a folder is for (DESIGN.md). MAIL_ROLE_NONE: no role (not
 * selected, or never mapped). */
enum mail_role {
	MAIL_ROLE_NONE = 0,
	MAIL_ROLE_INBOX,
	MAIL_ROLE_SENT,
	MAIL_ROLE_DRAFTS,
	MAIL_ROLE_ARCHIVE,
	MAIL_ROLE_DELETED,
	MAIL_ROLE_JUNK,
	MAIL_ROLE_CUSTOM,
};
#define MAIL_ROLE_COUNT 8

/* "inbox", "sent", ..., "custom"; "" for MAIL_ROLE_NONE. Never NULL. */
const char *mail_role_name(enum mail_role role);

/* Parse a role name as mail_role_name spells it ("" and NULL give
 * MAIL_ROLE_NONE). Returns 0, or -1 for an unknown name. */
int mail_role_parse(const char *name, enum mail_role *out);

/* Human label: "Inbox", "Sent Items", "Deleted Items", ... */
const char *mail_role_label(enum mail_role role);

/* Whether a folder with this role is selected the first time an account's
 * folders are fetched (Inbox and Sent Items). */
bool mail_role_preselected(enum mail_role role);

/* The list of valid role names for messages: "inbox, sent, drafts,
 * archive, deleted, junk or custom". */
const char *mail_role_choices(void);

/* One mailbox address. Either string may be "" (never NULL when the
 * address is present). */
struct mail_address {
	const char *name;
	const char *address;
};

/* A list of addresses; `known` false means the server did not say (keep
 * what is stored), true with n == 0 means "none". */
struct mail_address_list {
	const struct mail_address *items;
	size_t n;
	bool known;
};

/* A list of strings (categories, keywords), with the same `known` rule. */
struct mail_string_list {
	const char *const *items;
	size_t n;
	bool known;
};

/* A folder as the server lists it. */
struct mail_folder {
	const char *remote_id;
	const char *parent_remote_id;  /* "" at the top level */
	const char *name;
	enum mail_role role;           /* from the server (well-known name,
					  SPECIAL-USE), MAIL_ROLE_NONE if none */
	long long total;               /* -1 when the listing does not say */
	long long unread;
};

/* A message's metadata. Strings are borrowed from whoever filled the
 * struct; NULL means "the server did not send it" (an update keeps the
 * stored value), "" means "empty". */
struct mail_message {
	const char *remote_id;         /* stable id (Graph: immutable id) */
	bool removed;                  /* left this folder (moved out or deleted) */
	const char *folder_remote_id;  /* parent folder when known */
	const char *internet_message_id;
	const char *conversation_id;
	const char *subject;
	struct mail_address from;      /* from.address NULL = unknown */
	struct mail_address_list to;
	struct mail_address_list cc;
	struct mail_string_list categories;
	const char *preview;
	const char *change_key;        /* changes whenever the message changes */
	int64_t received_at;           /* Unix seconds, 0 = unknown */
	int64_t sent_at;
	int64_t size;                  /* bytes of the MIME message, 0 = unknown */
	int is_read;                   /* 0/1/MAIL_UNKNOWN */
	int is_flagged;
	int is_draft;
	int has_attachments;
};

/* A message with every field unknown (all NULL, flags MAIL_UNKNOWN). */
void mail_message_init(struct mail_message *m);

#endif
