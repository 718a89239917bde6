/*
 * test_message_text.c — the API's message pages written as text
 * (service_message_text.c, service_text_cache.c) are byte for byte what
 * the jansson tree they replace dumps to: single messages over tricky
 * values (NULL and empty fields, unicode, control characters, quotes and
 * backslashes, invalid UTF-8, very long fields), with and without the
 * cache of rendered messages, the cache following every change of a
 * message, and whole pages read back from a store that holds such values,
 * walked by cursor and by folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "inboxsync/alloc.h"
#include "inboxsync/service.h"
#include "inboxsync/store.h"
#include "store_fixture.h"

/* What the API wrote before: the tree, dumped compact. */
static char *tree_text(const struct store_message *m)
{
	json_t *doc = service_message_json(m, false);
	char *s = json_dumps(doc, JSON_COMPACT);

	json_decref(doc);
	assert_non_null(s);
	return s;
}

static void assert_same_text(const struct store_message *m, struct service_text_cache *c)
{
	char *want = tree_text(m);
	struct buf out;
	struct err e = { 0 };

	buf_init(&out, 0);
	assert_int_equal(service_message_text(m, c, &out, &e), 0);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, out.len);
	buf_free(&out);
	free(want);
}

/* Text, without cache, then with it twice (a miss, then a hit). */
static void assert_renders_alike(const struct store_message *m)
{
	struct service_text_cache *c = service_text_cache_new(64, 1 << 20);

	assert_same_text(m, NULL);
	assert_same_text(m, c);
	assert_same_text(m, c);
	service_text_cache_free(c);
}

static const char *const tricky[] = {
	"",
	"plain ascii",
	"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x93\xa7 \xe2\x80\xa8 \xe2\x80\xa9",
	"\x01\x02\x07\x08\t\n\x0b\x0c\r\x1b\x1f\x7f",
	"\"quoted\" \\back\\slash\\ /slash/ </script>",
	"invalid \xff\xfe utf-8 and caf\xc3\xa9",
	"truncated \xe6\x97",
	"overlong \xc0\xaf and surrogate \xed\xa0\x80",
	"\xc3\xa9",
	"\x80",
};
#define N_TRICKY (sizeof(tricky) / sizeof(tricky[0]))

static void fill(struct store_message *sm, struct mail_address *people,
		 const char **cats, const char *s, int64_t id)
{
	memset(sm, 0, sizeof(*sm));
	mail_message_init(&sm->m);
	sm->id = id;
	sm->folder_path = s;
	sm->m.remote_id = s;
	sm->m.internet_message_id = s;
	sm->m.conversation_id = s;
	sm->m.subject = s;
	sm->m.preview = s;
	sm->m.from = (struct mail_address){ s, s };
	people[0] = (struct mail_address){ s, "a@contoso.com" };
	people[1] = (struct mail_address){ "B", s };
	people[2] = (struct mail_address){ NULL, NULL };
	sm->m.to = (struct mail_address_list){ people, 3, true };
	sm->m.cc = (struct mail_address_list){ people + 1, 1, true };
	cats[0] = s;
	cats[1] = NULL;
	cats[2] = "Blue";
	sm->m.categories = (struct mail_string_list){ cats, 3, true };
	sm->m.received_at = 1700000000;
	sm->m.sent_at = 1699999999;
	sm->m.is_read = 1;
	sm->m.is_flagged = 0;
	sm->m.has_attachments = MAIL_UNKNOWN;
	sm->body_fetched = true;
	sm->pending = false;
}

static void test_tricky_values_render_alike(void **state)
{
	struct mail_address people[3];
	const char *cats[3];
	struct store_message sm;

	(void)state;
	for (size_t i = 0; i < N_TRICKY; i++) {
		fill(&sm, people, cats, tricky[i], (int64_t)i + 1);
		assert_renders_alike(&sm);
	}
}

static void test_null_and_absent_fields_render_alike(void **state)
{
	struct store_message sm;

	(void)state;
	/* Everything unknown: NULL strings, no lists, flags unknown, times 0. */
	memset(&sm, 0, sizeof(sm));
	mail_message_init(&sm.m);
	sm.id = 7;
	assert_renders_alike(&sm);
	/* Lists known and empty, flags false, strings empty. */
	sm.folder_path = "";
	sm.m.remote_id = sm.m.subject = sm.m.preview = "";
	sm.m.to.known = sm.m.cc.known = sm.m.categories.known = true;
	sm.m.is_read = sm.m.is_flagged = sm.m.has_attachments = 0;
	assert_renders_alike(&sm);
	/* A message the store has no row id for is rendered, never cached. */
	sm.id = 0;
	assert_renders_alike(&sm);
}

static void test_long_fields_render_alike(void **state)
{
	size_t sizes[] = { 255, 4000, 4096, 17000, 300000 };
	struct mail_address people[3];
	const char *cats[3];
	struct store_message sm;

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char *s = xmalloc(sizes[k] + 1);

		for (size_t i = 0; i < sizes[k]; i++)
			s[i] = "a\"\\\n\x01\xc3\xa9z"[i % 8];
		s[sizes[k]] = '\0';
		fill(&sm, people, cats, s, 100 + (int64_t)k);
		assert_renders_alike(&sm);
		free(s);
	}
}

static void test_many_recipients_render_alike(void **state)
{
	struct mail_address people[200];
	const char *cats[3] = { "a", "b", "c" };
	char names[200][24];
	struct store_message sm;

	(void)state;
	memset(&sm, 0, sizeof(sm));
	mail_message_init(&sm.m);
	sm.id = 9;
	for (int i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "P\xc3\xa9rson %d", i);
		people[i] = (struct mail_address){ names[i], names[i] };
	}
	sm.m.to = (struct mail_address_list){ people, 200, true };
	sm.m.cc = (struct mail_address_list){ people, 100, true };
	sm.m.categories = (struct mail_string_list){ cats, 3, true };
	assert_renders_alike(&sm);
}

/* The cache never answers with the text of a message as it was. */
static void test_cache_follows_every_change(void **state)
{
	struct service_text_cache *c = service_text_cache_new(8, 1 << 20);
	struct mail_address people[3];
	const char *cats[3];
	struct store_message sm;

	(void)state;
	fill(&sm, people, cats, "same", 42);
	assert_same_text(&sm, c);
	sm.m.is_read = 0;
	assert_same_text(&sm, c);
	sm.body_fetched = false;
	assert_same_text(&sm, c);
	sm.pending = true;
	assert_same_text(&sm, c);
	sm.folder_path = "Archive";
	assert_same_text(&sm, c);
	sm.m.subject = "emas"; /* same length, other bytes */
	assert_same_text(&sm, c);
	sm.m.subject = NULL;   /* "" and NULL render differently */
	assert_same_text(&sm, c);
	sm.m.subject = "";
	assert_same_text(&sm, c);
	people[1].name = "C";
	assert_same_text(&sm, c);
	sm.m.to.n = 2;
	assert_same_text(&sm, c);
	sm.m.categories.n = 0;
	assert_same_text(&sm, c);
	sm.m.received_at = 0;
	assert_same_text(&sm, c);
	/* Another row in the same slot, and the first again. */
	sm.id = 42 + 8;
	assert_same_text(&sm, c);
	sm.id = 42;
	assert_same_text(&sm, c);
	service_text_cache_free(c);
}

static void test_cap_is_an_error_and_leaves_out_unchanged(void **state)
{
	struct mail_address people[3];
	const char *cats[3];
	struct store_message sm;
	struct buf out;
	struct err e = { 0 };

	(void)state;
	fill(&sm, people, cats, "a subject that does not fit", 5);
	buf_init(&out, 64);
	buf_puts(&out, "{", NULL);
	assert_int_equal(service_message_text(&sm, NULL, &out, &e), -1);
	assert_string_equal(e.code, "too_large");
	assert_string_equal(buf_str(&out), "{");
	buf_free(&out);
}

/* ---- pages from a store ------------------------------------------------------ */

struct page_fixture {
	struct store_fixture sf;
	struct store *st;
	struct auth_env env;
	struct store_account a;
	int64_t inbox, archive, junk;
};

static int64_t add_folder(struct page_fixture *f, const char *remote, const char *path,
			  enum mail_role role, bool selected)
{
	struct store_folder_in in = { { remote, "", path, role, 10, 2 }, path };
	struct store_folder out;
	struct err e = { 0 };

	assert_int_equal(store_put_folder(f->st, f->a.id, &in, NULL, &e), 0);
	assert_int_equal(store_find_folder_by_remote(f->st, f->a.id, remote, &out, &e), 1);
	store_folder_clear(&out);
	assert_int_equal(store_select_folder(f->st, out.id, selected, role, &e), 0);
	return out.id;
}

/* Messages with every tricky value in every text field the store keeps,
 * some sharing a received time (the cursor's tie-break on the row id). */
static void put_tricky(struct page_fixture *f, int64_t folder, int base)
{
	struct mail_message items[N_TRICKY * 2];
	struct mail_address people[N_TRICKY][2];
	const char *cats[N_TRICKY][2];
	char ids[N_TRICKY * 2][32];
	struct err e = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < N_TRICKY; i++) {
		for (int k = 0; k < 2; k++, n++) {
			struct mail_message *m = &items[n];

			mail_message_init(m);
			snprintf(ids[n], sizeof(ids[n]), "M-%d-%zu-%d", base, i, k);
			m->remote_id = ids[n];
			m->subject = tricky[i];
			m->preview = tricky[(i + 1) % N_TRICKY];
			m->internet_message_id = tricky[(i + 2) % N_TRICKY];
			m->conversation_id = k ? tricky[i] : "";
			m->from = (struct mail_address){ tricky[i], k ? tricky[i] : NULL };
			people[i][0] = (struct mail_address){ tricky[i], "a@contoso.com" };
			people[i][1] = (struct mail_address){ "B", tricky[(i + 3) % N_TRICKY] };
			m->to = (struct mail_address_list){ people[i], k ? 2 : 1, true };
			m->cc = (struct mail_address_list){ people[i], k ? 0 : 2, true };
			cats[i][0] = tricky[i];
			cats[i][1] = "Blue";
			m->categories = (struct mail_string_list){ cats[i], k ? 2 : 0, true };
			m->received_at = 1700000000 + (int64_t)(i / 2) * 60;
			m->sent_at = i % 4 == 3 ? 0 : m->received_at - 5;
			m->is_read = (int)(i % 2);
			m->is_flagged = k;
			m->has_attachments = i % 3 == 0 ? MAIL_UNKNOWN : (int)(i % 3 - 1);
		}
	}
	assert_int_equal(store_put_messages(f->st, f->a.id, folder, items, n, 1, false, NULL,
					    &e), 0);
}

static int page_setup(void **state)
{
	struct page_fixture *f = calloc(1, sizeof(*f));
	struct err e = { 0 };

	assert_int_equal(store_fixture_new(&f->sf, "message_text"), 0);
	assert_int_equal(store_open(f->sf.location, &f->st, &e), 0);
	snprintf(f->a.name, sizeof(f->a.name), "work");
	snprintf(f->a.email, sizeof(f->a.email), "adele@contoso.com");
	snprintf(f->a.transport, sizeof(f->a.transport), "graph");
	assert_int_equal(store_add_account(f->st, &f->a, &e), 0);
	f->env.store = f->st;
	f->inbox = add_folder(f, "F-inbox", "Inbox", MAIL_ROLE_INBOX, true);
	f->archive = add_folder(f, "F-archive", "Archive/caf\xc3\xa9 \"2024\"", MAIL_ROLE_NONE, true);
	f->junk = add_folder(f, "F-junk", "Junk Email", MAIL_ROLE_JUNK, false);
	put_tricky(f, f->inbox, 1);
	put_tricky(f, f->archive, 2);
	put_tricky(f, f->junk, 3);
	*state = f;
	return 0;
}

static int page_teardown(void **state)
{
	struct page_fixture *f = *state;

	store_close(f->st);
	store_fixture_free(&f->sf);
	free(f);
	return 0;
}

static int add_tree(void *ctx, const struct store_message *m)
{
	json_array_append_new(ctx, service_message_json(m, false));
	return 0;
}

/* The page as the API built it before (api_mail.c), or NULL with `e`. */
static char *page_tree(struct page_fixture *f, const struct service_message_query *q,
		       struct err *e)
{
	json_t *arr = json_array(), *doc;
	char *next = NULL, *s;

	if (service_messages_list(&f->env, &f->a, q, add_tree, arr, &next, e) < 0) {
		json_decref(arr);
		return NULL;
	}
	doc = json_pack("{s:o,s:o}", "messages", arr, "next_cursor",
			next ? json_string(next) : json_null());
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	free(next);
	return s;
}

/* Both renderings of one page agree; the next cursor (NULL at the end). */
static char *assert_page_alike(struct page_fixture *f, const struct service_message_query *q,
			       struct service_text_cache *c, size_t *n_messages)
{
	struct err e1 = { 0 }, e2 = { 0 };
	char *want = page_tree(f, q, &e1), *next = NULL;
	struct buf out;
	int rc;
	json_t *doc;

	buf_init(&out, 0);
	rc = service_message_page_text(&f->env, &f->a, q, c, &out, &e2);
	if (!want) {
		assert_int_equal(rc, -1);
		assert_string_equal(e1.code, e2.code);
		assert_string_equal(e1.msg, e2.msg);
		buf_free(&out);
		return NULL;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(buf_str(&out), want);
	doc = json_loads(want, 0, NULL);
	assert_non_null(doc);
	*n_messages = json_array_size(json_object_get(doc, "messages"));
	if (json_string_value(json_object_get(doc, "next_cursor")))
		next = xstrdup(json_string_value(json_object_get(doc, "next_cursor")));
	json_decref(doc);
	buf_free(&out);
	free(want);
	return next;
}

/* Walk every page of `folder` (NULL = the selected ones) by `limit`. */
static size_t walk(struct page_fixture *f, const char *folder, size_t limit,
		   struct service_text_cache *c)
{
	char *cursor = NULL;
	size_t total = 0, pages = 0;

	do {
		struct service_message_query q = { folder, limit, cursor };
		size_t n = 0;
		char *next = assert_page_alike(f, &q, c, &n);

		free(cursor);
		cursor = next;
		total += n;
		assert_true(++pages < 1000);
	} while (cursor);
	return total;
}

static void test_pages_from_the_store_render_alike(void **state)
{
	struct page_fixture *f = *state;
	struct service_text_cache *c = service_text_cache_new(16, 1 << 20);

	for (int round = 0; round < 2; round++) { /* the second from the cache */
		assert_int_equal(walk(f, NULL, 3, c), N_TRICKY * 4);
		assert_int_equal(walk(f, NULL, 1000, c), N_TRICKY * 4);
		assert_int_equal(walk(f, "Inbox", 1, c), N_TRICKY * 2);
		assert_int_equal(walk(f, "Archive/caf\xc3\xa9 \"2024\"", 7, NULL), N_TRICKY * 2);
	}
	service_text_cache_free(c);
}

static void test_page_errors_are_the_same(void **state)
{
	struct page_fixture *f = *state;
	const struct service_message_query bad[] = {
		{ "Junk Email", 10, NULL },   /* not selected */
		{ "Nowhere", 10, NULL },      /* no such folder */
		{ NULL, 10, "not-a-cursor" },
		{ NULL, 10, "1.0" },
		{ NULL, 1001, NULL },
	};
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(assert_page_alike(f, &bad[i], NULL, &n));
}

/* A cursor on an undated message, and an account with no mail. */
static void test_undated_cursor_and_empty_account(void **state)
{
	struct page_fixture *f = *state;
	const struct service_message_query q = { NULL, 50, "0.999999" };
	struct store_account none = { 0 };
	struct buf out;
	struct mail_message undated[2];
	struct err e = { 0 };
	size_t n = 0;

	for (int i = 0; i < 2; i++) {
		mail_message_init(&undated[i]);
		undated[i].remote_id = i ? "U-1" : "U-0";
		undated[i].subject = tricky[5];
	}
	assert_int_equal(store_put_messages(f->st, f->a.id, f->inbox, undated, 2, 1, false,
					    NULL, &e), 0);
	free(assert_page_alike(f, &q, NULL, &n));
	assert_true(n > 0);
	none.id = f->a.id + 1000;
	buf_init(&out, 0);
	assert_int_equal(service_message_page_text(&f->env, &none,
			 &(struct service_message_query){ NULL, 5, NULL }, NULL, &out, &e), 0);
	assert_string_equal(buf_str(&out), "{\"messages\":[],\"next_cursor\":null}");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tricky_values_render_alike),
		cmocka_unit_test(test_null_and_absent_fields_render_alike),
		cmocka_unit_test(test_long_fields_render_alike),
		cmocka_unit_test(test_many_recipients_render_alike),
		cmocka_unit_test(test_cache_follows_every_change),
		cmocka_unit_test(test_cap_is_an_error_and_leaves_out_unchanged),
		cmocka_unit_test_setup_teardown(test_pages_from_the_store_render_alike,
						page_setup, page_teardown),
		cmocka_unit_test_setup_teardown(test_page_errors_are_the_same,
						page_setup, page_teardown),
		cmocka_unit_test_setup_teardown(test_undated_cursor_and_empty_account,
						page_setup, page_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
