/*
 * err.c — filling and naming classified errors (see err.h).
 */
#include <stdio.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/err.h"

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
	if (!e)
		return -1;
	e->class = class;
	e->retry_after_s = 0;
	e->http_status = 0;
	snprintf(e->code, sizeof(e->code), "%s", code ? code : "");
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return -1;
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
	str_copy(e->msg, sizeof(e->msg), joined);
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
