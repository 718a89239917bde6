/*
 * test_sim_render.c — how m365sim writes message pages (msgjson.c,
 * msgcache.c and the encoders they use), without HTTP: a page's text is
 * exactly jansson's compact dump of the same messages rendered as trees,
 * for every kind of message and every render option, whether the text was
 * rendered now or kept from an earlier page; kept text never outlives the
 * state it was written from, and the cache stays within its budget. Also
 * the fast encoders against the library ones they replace.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
#include "mailbox.h"
#include "mime.h"
#include "msgcache.h"
#include "msgcontent.h"
#include "msgjson.h"
#include "seed.h"
#include "sim.h"

#define ENGINE_SELECT "id,changeKey,conversationId,internetMessageId,subject,from,toRecipients," \
	"ccRecipients,receivedDateTime,sentDateTime,isRead,isDraft,flag,hasAttachments," \
	"parentFolderId,bodyPreview,categories"

static uint64_t mask_of(const char *names)
{
	char copy[1024], *save = NULL;
	uint64_t mask = 0;

	snprintf(copy, sizeof(copy), "%s", names);
	for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		int bit = msgjson_field_bit(s);

		assert_true(bit >= 0);
		mask |= 1ULL << bit;
	}
	return mask;
}

/* "[" + json_dumps of each item's tree, comma-separated + "]". */
static char *expected_page(struct sim_world *w, struct sim_mailbox *mb,
			   const struct msgjson_item *items, size_t n,
			   const struct render_opts *o)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "[", NULL);
	for (size_t i = 0; i < n; i++) {
		json_t *v = items[i].removed
			? msgjson_removed(w, mb, items[i].num, items[i].gen, o->immutable, "deleted")
			: msgjson_render(w, mb, items[i].num, o);
		char *text = json_dumps(v, JSON_COMPACT);

		assert_non_null(text);
		buf_printf(&b, NULL, "%s%s", i ? "," : "", text);
		free(text);
		json_decref(v);
	}
	buf_puts(&b, "]", NULL);
	return buf_detach(&b, NULL);
}

static void assert_page_matches(struct sim_world *w, struct sim_mailbox *mb,
				const struct msgjson_item *items, size_t n,
				const struct render_opts *o)
{
	char *want = expected_page(w, mb, items, n, o);
	struct buf got;

	buf_init(&got, 0);
	buf_puts(&got, "[", NULL);
	assert_int_equal(msgjson_render_items(w, mb, items, n, o, &got), 0);
	buf_puts(&got, "]", NULL);
	assert_string_equal(buf_str(&got), want);
	buf_free(&got);
	free(want);
}

/* A mailbox with seeded mail in every folder, and stored messages of
 * every kind: edited seeded ones, drafts, HTML and text bodies, odd
 * characters that jansson must escape. */
static struct sim_mailbox *varied_mailbox(struct sim_world *w)
{
	struct sim_mailbox *mb = w->users[0]->mbox;
	uint32_t inbox = mbx_wk(mb, WK_INBOX), drafts = mbx_wk(mb, WK_DRAFTS);
	char why[100];

	assert_int_equal(seed_mailbox(mb, SIM_NONE, 1200, 11, 0, false, why, sizeof(why)), 0);
	for (uint32_t num = 0; num < 40; num++) {
		struct sim_msg_ext *ext = msgcontent_materialize(w, mb, num * 7);

		json_object_set_new(ext->fields, "categories", json_pack("[s]", "Red \"quoted\" \\ / é"));
		json_object_set_new(ext->fields, "subject", json_string("tab\there\nnew line \x01 ☃"));
		mbx_msg_touch(mb, num * 7);
	}
	for (int k = 0; k < 20; k++) {
		struct sim_msg_ext *ext = calloc(1, sizeof(*ext));

		ext->fields = json_pack("{s:s, s:{s:s, s:s}, s:s, s:[{s:{s:s, s:s}}], s:s}",
					"subject", k % 2 ? "Draft </script>" : "",
					"body", "contentType", k % 2 ? "html" : "text",
					"content", k % 2 ? "<p>Hi &amp; bye</p>" : "plain\r\ntext",
					"bodyPreview", "Hi & bye",
					"toRecipients", "emailAddress", "name", "Ünïcödé", "address", "u@example.com",
					"internetMessageId", "<draft@example.com>");
		mbx_msg_add(mb, k % 3 ? drafts : inbox, 1700000000 + k, (uint16_t)(k % 3 ? MSG_DRAFT : MSG_READ), ext);
	}
	return mb;
}

static void test_page_text_equals_the_jansson_tree(void **state)
{
	struct sim_world *w = world_new(1);
	struct sim_mailbox *mb = varied_mailbox(w);
	struct msgjson_item *items = calloc(mb->nmsgs + 8, sizeof(*items));
	const uint64_t masks[] = {
		0, mask_of(ENGINE_SELECT), mask_of("subject,webLink,parentFolderId"),
		mask_of("body,uniqueBody,internetMessageHeaders,bccRecipients,replyTo,sender,"
			"importance,inferenceClassification,isDeliveryReceiptRequested,"
			"isReadReceiptRequested,conversationIndex,createdDateTime,lastModifiedDateTime"),
	};
	size_t n = 0;

	(void)state;
	w->cfg.render_cache_mb = 0;
	for (size_t i = 0; i < mb->nmsgs; i++)
		items[n++].num = (uint32_t)i;
	items[5].removed = true;
	items[5].gen = 3;
	items[900].removed = true;
	for (size_t m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
		for (int variant = 0; variant < 12; variant++) {
			struct render_opts o = { masks[m], variant & 1, (variant >> 1) % 3,
						 variant >= 6 };

			assert_page_matches(w, mb, items, n, &o);
			/* small pages run on one thread, others split */
			assert_page_matches(w, mb, items + 100, 7, &o);
			assert_page_matches(w, mb, items, 0, &o);
		}
	}
	free(items);
	world_free(w);
}

static void test_kept_text_follows_the_message(void **state)
{
	struct sim_world *w = world_new(1);
	struct sim_mailbox *mb = varied_mailbox(w);
	uint32_t inbox = mbx_wk(mb, WK_INBOX), archive = mbx_wk(mb, WK_ARCHIVE);
	struct sim_folder *f = &mb->folders[inbox];
	struct msgjson_item *items = calloc(f->nidx, sizeof(*items));
	struct render_opts engine = { mask_of(ENGINE_SELECT), true, 0, true };
	struct render_opts rest = { mask_of(ENGINE_SELECT), false, 0, true };
	struct render_opts all = { 0, false, 1, false };
	size_t n = f->nidx;

	(void)state;
	assert_int_equal(w->cfg.render_cache_mb, 256);
	for (size_t i = 0; i < n; i++)
		items[i].num = f->idx[i];
	assert_page_matches(w, mb, items, n, &engine);      /* fills the cache */
	assert_true(msgcache_bytes(mb->render_cache) > 0);
	assert_page_matches(w, mb, items, n, &engine);      /* from the cache */
	assert_page_matches(w, mb, items, n, &rest);        /* other ids */
	assert_page_matches(w, mb, items, n, &all);         /* other fields */
	assert_page_matches(w, mb, items, n, &engine);
	/* every kind of change is seen by the next page */
	mbx_msg_set_read(mb, items[1].num, !(mb->msgs[items[1].num].flags & MSG_READ));
	mbx_msg_touch(mb, items[2].num);
	mb->msgs[items[3].num].flags = (uint16_t)(mb->msgs[items[3].num].flags ^ (1u << MSG_FLAG_SHIFT));
	msgcontent_materialize(w, mb, items[4].num);
	json_object_set_new(mb->msgs[items[4].num].ext->fields, "subject", json_string("edited"));
	assert_page_matches(w, mb, items, n, &engine);
	assert_page_matches(w, mb, items, n, &rest);
	mbx_msg_move(mb, items[6].num, archive);
	assert_page_matches(w, mb, items, n, &engine);
	assert_page_matches(w, mb, items, n, &rest);
	mbx_msg_move(mb, items[6].num, inbox);
	assert_page_matches(w, mb, items, n, &rest);
	/* switched off, the cache answers nothing (and kept text is gone
	 * once /_sim/config clears it) */
	w->cfg.render_cache_mb = 0;
	msgcache_clear(mb->render_cache);
	assert_int_equal(msgcache_bytes(mb->render_cache), 0);
	assert_page_matches(w, mb, items, n, &engine);
	assert_int_equal(msgcache_bytes(mb->render_cache), 0);
	free(items);
	world_free(w);
}

static void test_cache_stays_within_its_budget(void **state)
{
	struct msgcache *mc = msgcache_new();
	struct msgcache_stamp st = { 42, 1700000000, 5, 2, 0, 1, 0 }, other = st;
	char text[1000];
	struct buf out;

	(void)state;
	memset(text, 'x', sizeof(text));
	buf_init(&out, 0);
	for (uint32_t num = 0; num < 500; num++) {
		msgcache_put(mc, num * 977, &st, text, sizeof(text), 64 * 1024);
		assert_true(msgcache_bytes(mc) <= 64 * 1024);
	}
	/* the latest entry is there; older ones were dropped to make room */
	assert_true(msgcache_get(mc, 499 * 977, &st, &out));
	assert_int_equal(out.len, sizeof(text));
	assert_false(msgcache_get(mc, 0, &st, &out));
	/* a different state is a miss, replacing keeps one entry */
	other.version++;
	assert_false(msgcache_get(mc, 499 * 977, &other, &out));
	msgcache_put(mc, 499 * 977, &other, "y", 1, 64 * 1024);
	assert_false(msgcache_get(mc, 499 * 977, &st, &out));
	buf_reset(&out);
	assert_true(msgcache_get(mc, 499 * 977, &other, &out));
	assert_string_equal(buf_str(&out), "y");
	/* too large for the budget, or past the index: not kept */
	msgcache_put(mc, 7, &st, text, sizeof(text), 100);
	assert_false(msgcache_get(mc, 7, &st, &out));
	msgcache_put(mc, UINT32_MAX, &st, "z", 1, 64 * 1024);
	assert_false(msgcache_get(mc, UINT32_MAX, &st, &out));
	msgcache_clear(mc);
	assert_int_equal(msgcache_bytes(mc), 0);
	buf_free(&out);
	msgcache_free(mc);
}

static void test_base64_matches_libsodium(void **state)
{
	unsigned char raw[100];
	char want[200];

	(void)state;
	for (size_t n = 0; n < sizeof(raw); n++) {
		const int variants[] = { sodium_base64_VARIANT_ORIGINAL,
					 sodium_base64_VARIANT_URLSAFE,
					 sodium_base64_VARIANT_URLSAFE_NO_PADDING };

		randombytes_buf(raw, n);
		for (size_t v = 0; v < 3; v++) {
			char *got = v == 0 ? sim_b64(raw, n) : sim_b64url(raw, n, v == 1);

			sodium_bin2base64(want, sizeof(want), raw, n, variants[v]);
			assert_string_equal(got, want);
			free(got);
		}
	}
}

/* The preview as it was first written (one byte at a time into a buf). */
static char *reference_preview(const char *text)
{
	struct buf b;
	bool space = false;
	size_t chars = 0;

	buf_init(&b, 0);
	for (const unsigned char *p = (const unsigned char *)text; *p && chars < 255; p++) {
		if (*p == ' ' || (*p >= '\t' && *p <= '\r')) {
			space = b.len > 0;
			continue;
		}
		if (space) {
			buf_append(&b, " ", 1, NULL);
			chars++;
			space = false;
		}
		buf_append(&b, p, 1, NULL);
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	while (b.len && ((unsigned char)b.data[b.len - 1] & 0xc0) == 0xc0)
		b.data[--b.len] = '\0';
	return buf_detach(&b, NULL);
}

static void test_preview_cuts_like_before(void **state)
{
	const char *pieces[] = { " ", "\r\n\r\n", "\t", "word", "€", "Zoë", "x", "  \v\f" };
	char text[2048];

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t len = 0;
		uint32_t r = randombytes_uniform(300);

		while (len + 8 < sizeof(text) && r--) {
			const char *p = pieces[randombytes_uniform(8)];

			memcpy(text + len, p, strlen(p));
			len += strlen(p);
		}
		text[len] = '\0';
		{
			char *want = reference_preview(text), *got = msgcontent_preview(text);

			assert_string_equal(got, want);
			free(want);
			free(got);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_text_equals_the_jansson_tree),
		cmocka_unit_test(test_kept_text_follows_the_message),
		cmocka_unit_test(test_cache_stays_within_its_budget),
		cmocka_unit_test(test_base64_matches_libsodium),
		cmocka_unit_test(test_preview_cuts_like_before),
	};
	int rc;

	if (sodium_init() < 0)
		return 1;
	simmime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	simmime_shutdown();
	return rc;
}
