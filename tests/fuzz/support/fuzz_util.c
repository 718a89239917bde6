/*
 * fuzz_util.c — checks shared by the fuzz targets (see fuzz_util.h).
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "fuzz_util.h"

void must(bool ok)
{
	if (!ok)
		abort();
}

bool text_is_shown(const char *s)
{
	if (!s || !g_utf8_validate(s, -1, NULL))
		return false;
	for (const char *p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return false;
	}
	return true;
}

void must_be_error(const struct err *e)
{
	must(e->class > ERR_NONE && e->class <= ERR_BUG);
	must(e->msg[0] != '\0');
	must(memchr(e->msg, '\0', sizeof(e->msg)) != NULL);
	must(memchr(e->code, '\0', sizeof(e->code)) != NULL);
	must(text_is_shown(e->msg));
	must(text_is_shown(e->code));
}

static void must_be_addresses(const struct mail_address_list *l)
{
	must(l->n == 0 || (l->known && l->items));
	for (size_t i = 0; i < l->n; i++)
		must(l->items[i].name && l->items[i].address);
}

void must_be_page(const struct driver_page *page, bool is_delta)
{
	if (is_delta)
		must((page->next_cursor != NULL) != (page->done_cursor != NULL));
	else
		must(!page->next_cursor && !page->done_cursor);
	must(page->n == 0 || page->items);
	for (size_t i = 0; i < page->n; i++) {
		const struct mail_message *m = &page->items[i];

		must(m->remote_id && m->remote_id[0]);
		if (m->removed)
			continue;
		must(m->is_read >= MAIL_UNKNOWN && m->is_read <= 1);
		must(m->is_flagged >= MAIL_UNKNOWN && m->is_flagged <= 1);
		must(m->is_draft >= MAIL_UNKNOWN && m->is_draft <= 1);
		must(m->has_attachments >= MAIL_UNKNOWN && m->has_attachments <= 1);
		must(!m->from.address || m->from.name);
		must_be_addresses(&m->to);
		must_be_addresses(&m->cc);
		must(m->categories.n == 0 || (m->categories.known && m->categories.items));
		for (size_t k = 0; k < m->categories.n; k++)
			must(m->categories.items[k] != NULL);
	}
}

char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
