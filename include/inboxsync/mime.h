/*
 * mime.h — building outgoing messages (RFC 5322 + MIME) with GMime:
 * addresses, subject, a text or HTML body, attachments (base64,
 * byte-exact), our own Message-ID, and the reply headers (In-Reply-To,
 * References) that keep a reply in its conversation. Lines end in CRLF.
 * Parsing of address lists is GMime's too. Reading received messages:
 * listing and extracting their attachments (GMime), and an HTML body as
 * plain text (libxml2's HTML parser).
 */
#ifndef INBOXSYNC_MIME_H
#define INBOXSYNC_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/buf.h"
#include "inboxsync/err.h"
#include "inboxsync/mail.h"

/* An attachment in memory. */
struct mime_attachment {
	const char *name;           /* file name shown to the recipient */
	const char *content_type;   /* "type/subtype", NULL = from the name */
	const void *data;
	size_t len;
};

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
	const struct mime_attachment *attachments;
	size_t n_attachments;
	const char *message_id;     /* "<id@host>" */
	const char *in_reply_to;    /* "<id@host>" or NULL */
	const char *references;     /* space-separated ids or NULL */
	int64_t date;               /* Unix time */
};

/* Build the message into `out` (reset first). Fails before building when
 * the attachments and body alone exceed `max_size` ("too_large"), or when
 * an address list does not parse or is empty where required ("usage");
 * and after building when the MIME document itself is larger than
 * `max_size` ("too_large": base64 makes attachments a third larger). */
int mime_build(const struct mime_draft *d, size_t max_size, struct buf *out,
	       struct err *e);

/* A new Message-ID "<random@domain-of-address>". */
void mime_new_message_id(const char *from_address, char out[160]);

/* A parsed address list: `items` point into storage the list owns. */
struct mime_addresses {
	struct mail_address *items;
	size_t n;
	char *strings;              /* internal */
};

/* Parse an address list ("a@b, Name <c@d>"). `required`: an empty list is
 * an error. Errors "usage" naming the bad address. Free with
 * mime_addresses_free (also after a failure). */
int mime_parse_addresses(const char *list, bool required, const char *what,
			 struct mime_addresses *out, struct err *e);
void mime_addresses_free(struct mime_addresses *a);

/* The MIME type of a file name by its extension ("application/pdf"),
 * "application/octet-stream" when unknown. */
const char *mime_type_for_name(const char *name, char *out, size_t n);

/* ---- reading received messages (mime_parse.c) ----------------------------- */

#define MIME_CONVERSATION_ID_LEN 34

/* What a listing shows of a message. Heap strings; free with
 * mime_summary_free. */
struct mime_summary {
	char *message_id;           /* "<id@host>", NULL when it has none */
	char *subject;              /* decoded, "" when none */
	struct mail_address from;   /* NULLs when there is no From */
	struct mail_address *to;
	size_t n_to;
	struct mail_address *cc;
	size_t n_cc;
	int64_t date;               /* Date:, 0 when missing or unreadable */
	char *preview;              /* text (or HTML without tags), one line */
	bool has_attachments;       /* among the parts present */
	/* the conversation: the same for a message and every reply that names
	 * it in References or In-Reply-To (mime_conversation_id of the thread
	 * root: the first References entry, else In-Reply-To, else the
	 * message's own Message-ID) */
	char conversation_id[MIME_CONVERSATION_ID_LEN];
};

/* Summarize `raw` (a whole message, or its header followed by the first
 * bytes of its text): at most `preview_chars` characters of preview.
 * Errors ERR_PERMANENT "bad_message" when it is not MIME at all. */
int mime_summarize(const char *raw, size_t len, size_t preview_chars,
		   struct mime_summary *out, struct err *e);
void mime_summary_free(struct mime_summary *s);

/* "c" + 32 hex digits naming the conversation whose root is `root`. */
void mime_conversation_id(const char *root, char out[MIME_CONVERSATION_ID_LEN]);

/* The body to show: the first HTML part that is not an attachment, else
 * the first text part, decoded to UTF-8 (heap; "" when there is none). */
int mime_body(const char *raw, size_t len, bool *is_html, char **content,
	      size_t *content_len, struct err *e);

/* The envelope of a message to submit: every To, Cc and Bcc address, the
 * Message-ID, and (when it has a Bcc header) the message without it,
 * which is what goes to the recipients. */
struct mime_envelope {
	char **rcpts;
	size_t n_rcpts;
	char *message_id;           /* "<id@host>" or NULL */
	char *without_bcc;          /* NULL: send the message as it is */
	size_t without_bcc_len;
};

/* Errors ERR_PERMANENT "usage" when there is no recipient, "bad_message"
 * when it is not MIME. */
int mime_envelope(const char *raw, size_t len, struct mime_envelope *out,
		  struct err *e);
void mime_envelope_free(struct mime_envelope *env);
/* ---- reading received messages --------------------------------------------- */

/* One attachment of a received message. */
struct mime_part_info {
	char name[256];             /* the file name as sent ("" = none given) */
	char content_type[128];     /* "type/subtype" */
	size_t size;                /* decoded bytes */
	bool is_inline;             /* shown in the body (an image), not attached */
};

/* The attachments of the RFC 822 message `mime` (`len` bytes), numbered
 * from 1 in the order of the MIME tree: every part that is a file (a
 * disposition of attachment or inline with a file name, or a file name
 * alone) and every attached message. The text and HTML bodies are not
 * attachments. *out (caller frees) gets *n entries, NULL when none.
 * Errors "mime" when the message does not parse. */
int mime_list_attachments(const char *mime, size_t len,
			  struct mime_part_info **out, size_t *n, struct err *e);

/* Attachment number `index` (as mime_list_attachments numbers them),
 * decoded into `out` (reset first; its limit applies: "too_large");
 * `info` (may be NULL) describes it. "not_found" naming how many there
 * are when there is no such attachment. */
int mime_extract_attachment(const char *mime, size_t len, size_t index,
			    struct buf *out, struct mime_part_info *info,
			    struct err *e);

/* An HTML body as plain text for a reader without a browser, into `out`
 * (reset first; its limit applies): paragraphs, line breaks, list items
 * ("- ", "1. "), table cells, quoted blocks ("> "), links with their
 * address, image alt text; scripts, styles and the head are left out;
 * entities decoded; whitespace collapsed as a browser would (kept inside
 * <pre>). The input is taken as UTF-8 whatever it declares. Never fails
 * on bad HTML (it is read the way a browser recovers). */
int mime_html_to_text(const char *html, size_t len, struct buf *out, struct err *e);

#endif
