/*
 * mail.c — the names and rules of the mail vocabulary (mail.h): role
 * names and labels as one table, which roles are preselected, and an
 * all-unknown message.
 */
#include <string.h>
#include "inboxsync/mail.h"

static const struct {
	const char *name;
	const char *label;
	bool preselected;
} roles[MAIL_ROLE_COUNT] = {
	[MAIL_ROLE_NONE] = { "", "", false },
	[MAIL_ROLE_INBOX] = { "inbox", "Inbox", true },
	[MAIL_ROLE_SENT] = { "sent", "Sent Items", true },
	[MAIL_ROLE_DRAFTS] = { "drafts", "Drafts", false },
	[MAIL_ROLE_ARCHIVE] = { "archive", "Archive", false },
	[MAIL_ROLE_DELETED] = { "deleted", "Deleted Items", false },
	[MAIL_ROLE_JUNK] = { "junk", "Junk Email", false },
	[MAIL_ROLE_CUSTOM] = { "custom", "Custom", false },
};

const char *mail_role_name(enum mail_role role)
{
	return (unsigned)role < MAIL_ROLE_COUNT ? roles[role].name : "";
}

const char *mail_role_label(enum mail_role role)
{
	return (unsigned)role < MAIL_ROLE_COUNT ? roles[role].label : "";
}

int mail_role_parse(const char *name, enum mail_role *out)
{
	if (!name || !*name) {
		*out = MAIL_ROLE_NONE;
		return 0;
	}
	for (unsigned i = 1; i < MAIL_ROLE_COUNT; i++) {
		if (strcmp(roles[i].name, name) == 0) {
			*out = (enum mail_role)i;
			return 0;
		}
	}
	return -1;
}

bool mail_role_preselected(enum mail_role role)
{
	return (unsigned)role < MAIL_ROLE_COUNT && roles[role].preselected;
}

const char *mail_role_choices(void)
{
	return "inbox, sent, drafts, archive, deleted, junk or custom";
}

void mail_message_init(struct mail_message *m)
{
	memset(m, 0, sizeof(*m));
	m->is_read = MAIL_UNKNOWN;
	m->is_flagged = MAIL_UNKNOWN;
	m->is_draft = MAIL_UNKNOWN;
	m->has_attachments = MAIL_UNKNOWN;
}
