/*
 * mime.h — building outgoing messages (RFC 5322 + MIME) with GMime:
 * addresses, subject, a text or HTML body, attachments read from files
 * (base64, byte-exact), our own Message-ID, and the reply headers
 * (In-Reply-To, References) that keep a reply in its conversation. Lines
 * end in CRLF. Parsing of address lists is GMime's too.
 */
#ifndef INBOXSYNC_MIME_H
#define INBOXSYNC_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/buf.h"
#include "inboxsync/err.h"

struct mime_draft {
	const char *from_name;      /* may be "" */
	const char *from_address;
	const char *to;             /* address lists: "a@b, Name <c@d>" */
	const char *cc;             /* may be NULL */
	const char *bcc;            /* may be NULL */
	const char *subject;
	const char *body;
	size_t body_len;
	bool html;
	const char *const *attachments; /* file paths */
	size_t n_attachments;
	const char *message_id;     /* "<id@host>" */
	const char *in_reply_to;    /* "<id@host>" or NULL */
	const char *references;     /* space-separated ids or NULL */
	int64_t date;               /* Unix time */
};

/* Build the message into `out` (reset first). Fails before building when
 * the attachments alone exceed `max_size` ("too_large", naming the file
 * sizes), when an attachment cannot be read, or when an address list does
 * not parse or is empty where required ("usage"); and after building when
 * the MIME document itself is larger than `max_size` ("too_large": base64
 * makes attachments a third larger). */
int mime_build(const struct mime_draft *d, size_t max_size, struct buf *out,
	       struct err *e);

/* A new Message-ID "<random@domain-of-address>". */
void mime_new_message_id(const char *from_address, char out[160]);

/* Parse an address list into a JSON array text of {"name","address"}
 * (heap string). `required`: an empty list is an error. Errors "usage"
 * naming the bad address. */
char *mime_addresses_json(const char *list, bool required, const char *what,
			  struct err *e);

/* Total size of the files, or -1 with `e` when one cannot be read. */
long long mime_files_size(const char *const *paths, size_t n, struct err *e);

#endif
