/*
 * err.c — filling and naming classified errors (see err.h), and the table
 * of fixes: each fix's machine name and its plain-words rendering for
 * people without a shell. The CLI renders fixes as commands itself. Every
 * message and code passes quote.h on its way in: they often carry what a
 * server sent, and they end up on terminals, in logs and in JSON.
 */
#define INBOXSYNC_ERR_IMPL /* the definitions below, not err.h's analyzer hints */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "inboxsync/alloc.h"
#include "inboxsync/err.h"
#include "inboxsync/quote.h"

static const char *const class_names[] = {
	[ERR_NONE] = "none",
	[ERR_TRANSIENT] = "transient",
	[ERR_THROTTLED] = "throttled",
	[ERR_AUTH] = "auth",
	[ERR_RESYNC] = "resync",
	[ERR_PERMANENT] = "permanent",
	[ERR_BUG] = "bug",
};

/* Tell the compiler `fmt` is a printf format (clang's -Wformat-nonliteral
 * otherwise flags the vsnprintf below). */
int err_vset(struct err *e, enum err_class class, const char *code,
	     const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

int err_vset(struct err *e, enum err_class class, const char *code,
	     const char *fmt, va_list ap)
{
	char raw[sizeof(e->msg) * 2];

	if (!e)
		return -1;
	/* formatted aside first: an argument may be e->msg itself */
	vsnprintf(raw, sizeof(raw), fmt, ap);
	e->class = class;
	e->retry_after_s = 0;
	e->http_status = 0;
	e->fix = FIX_NONE;
	e->fix_arg[0] = '\0';
	quote_str(e->code, sizeof(e->code), code);
	quote_str(e->msg, sizeof(e->msg), raw);
	return -1;
}

int err_set_fix(struct err *e, enum err_fix fix, const char *arg)
{
	if (!e)
		return -1;
	e->fix = fix;
	quote_str(e->fix_arg, sizeof(e->fix_arg), arg); /* may be remote text */
	return -1;
}

int err_set_fix_at(struct err *e, enum err_fix fix, long long arg)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", arg);
	return err_set_fix(e, fix, num);
}

/* name, and the plain-words text ("%s" = the argument, at most once). */
static const struct {
	const char *name;
	const char *text;
} fixes[] = {
	[FIX_NONE] = { "", "" },
	[FIX_AUTHORIZE] = { "authorize", "Authorize the mailbox: sign in to Microsoft as its owner." },
	[FIX_REAUTHORIZE] = { "reauthorize", "Authorize the mailbox again: sign in to Microsoft as its owner." },
	[FIX_SIGN_IN_AS] = { "sign_in_as", "Authorize again and sign in to Microsoft as %s (choose \"Use another account\" if Microsoft offers a different one)." },
	[FIX_CONFIGURE_PROVIDER] = { "configure_provider", "An administrator must fix the Microsoft app settings: %s." },
	[FIX_ENABLE_PROVIDER] = { "enable_provider", "An administrator must enable the Microsoft provider." },
	[FIX_ENABLE_TRANSPORT] = { "enable_transport", "An administrator must enable the %s transport in the provider settings." },
	[FIX_ADMIN_CONSENT] = { "admin_consent", "A Microsoft 365 administrator of the tenant must grant consent to the app (Entra admin center: Enterprise applications, Permissions, Grant admin consent), then authorize again." },
	[FIX_ENABLE_MAIL_AUTH] = { "enable_mail_auth", "A Microsoft 365 administrator must enable authenticated %s for this mailbox (Exchange admin center: the mailbox, Email apps)." },
	[FIX_RETRY_AT] = { "retry_at", "Nothing to do: it continues by itself at %s." },
	[FIX_RETRY] = { "retry", "Nothing to do: it is retried automatically; try again later if you started it by hand." },
	[FIX_FETCH_FOLDERS] = { "fetch_folders", "Fetch the folder list of the mailbox." },
	[FIX_SELECT_FOLDERS] = { "select_folders", "Select the folders to synchronize (Inbox and Sent Items, at least)." },
	[FIX_REMOVE_ACCOUNT] = { "remove_account", "This mailbox is already connected as account %s: use that account, or remove it first." },
	[FIX_SHOW_OUTBOX] = { "show_outbox", "Look at the outbox for the reason, then retry or remove the message." },
	[FIX_CHECK_INPUT] = { "check_input", "Correct the request: %s." },
	[FIX_UPGRADE] = { "upgrade", "Install a newer version of inboxsync." },
	[FIX_STORAGE] = { "storage", "Check the storage at %s: free disk space, or give the service user write permission." },
	[FIX_MIGRATE] = { "migrate", "An administrator must create or upgrade the store's schema (migrate) once, before inboxsync uses it." },
	[FIX_RESTORE_BACKUP] = { "restore_backup", "An administrator must stop inboxsync and put %s back from the latest backup (inboxsync backup makes one), together with the key file it was made with." },
	[FIX_PRIVATE_DIR] = { "private_dir", "An administrator must make %s accessible to the service user only (mode 0700)." },
	[FIX_PRIVATE_FILE] = { "private_file", "An administrator must make %s readable by the service user only (mode 0600)." },
};

const char *err_fix_name(enum err_fix fix)
{
	if ((unsigned)fix >= sizeof(fixes) / sizeof(fixes[0]))
		return "";
	return fixes[fix].name;
}

enum err_fix err_fix_parse(const char *name)
{
	for (size_t i = 1; name && *name && i < sizeof(fixes) / sizeof(fixes[0]); i++)
		if (strcmp(fixes[i].name, name) == 0)
			return (enum err_fix)i;
	return FIX_NONE;
}

const char *err_fix_text(enum err_fix fix, const char *arg, char *out, size_t n)
{
	char when[64];
	const char *text;

	if (!n)
		return out;
	out[0] = '\0';
	if ((unsigned)fix >= sizeof(fixes) / sizeof(fixes[0]) || fix == FIX_NONE)
		return out;
	text = fixes[fix].text;
	if (!arg)
		arg = "";
	if (fix == FIX_RETRY_AT) {
		time_t t = (time_t)strtoll(arg, NULL, 10);
		struct tm tm;

		if (!gmtime_r(&t, &tm) ||
		    !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm))
			str_copy(when, sizeof(when), "a later time");
		arg = when;
	}
	/* The argument goes where the table's text says "%s". */
	const char *hole = strstr(text, "%s");

	if (hole)
		snprintf(out, n, "%.*s%s%s", (int)(hole - text), text, arg, hole + 2);
	else
		str_copy(out, n, text);
	return out;
}

int err_set(struct err *e, enum err_class class, const char *code,
	    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, class, code, fmt, ap);
	va_end(ap);
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char joined[sizeof(e->msg) * 2];
	size_t head, room, take;
	va_list ap;
	int n;

	if (!e)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(joined, sizeof(joined), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	head = (size_t)n < sizeof(joined) ? (size_t)n : sizeof(joined) - 1;
	room = sizeof(joined) - 1 - head;
	take = strnlen(e->msg, sizeof(e->msg));
	if (take > room)
		take = room;
	memcpy(joined + head, e->msg, take);
	joined[head + take] = '\0';
	quote_str(e->msg, sizeof(e->msg), joined);
	return -1;
}

void err_clear(struct err *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

const char *err_class_name(enum err_class class)
{
	if ((unsigned)class >= sizeof(class_names) / sizeof(class_names[0]))
		return "unknown";
	return class_names[class];
}

int err_is(const struct err *e, const char *code)
{
	return e && code && strcmp(e->code, code) == 0;
}
