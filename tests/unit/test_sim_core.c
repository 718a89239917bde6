/*
 * test_sim_core.c — m365sim's building blocks without HTTP (linked from
 * m365sim_core): the hash map, id and cursor sealing, deterministic seeded
 * content, mailbox indexes and change logs, scope parsing and the config
 * table.
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
#include "cursor.h"
#include "ids.h"
#include "mailbox.h"
#include "mime.h"
#include "msgcontent.h"
#include "oauth.h"
#include "seed.h"
#include "seedgen.h"
#include "sim.h"
#include "strmap.h"

static int count_cb(const char *k, void *v, void *ctx)
{
	(void)k;
	(void)v;
	(*(int *)ctx)++;
	return 0;
}

static void test_strmap(void **state)
{
	struct strmap m;
	char key[32];
	int n = 0;

	(void)state;
	smap_init(&m);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_null(smap_put(&m, key, (void *)(intptr_t)(i + 1)));
	}
	assert_int_equal((intptr_t)smap_get(&m, "k500"), 501);
	assert_int_equal((intptr_t)smap_put(&m, "k500", (void *)7), 501);
	assert_int_equal((intptr_t)smap_remove(&m, "k500"), 7);
	assert_null(smap_get(&m, "k500"));
	smap_foreach(&m, count_cb, &n);
	assert_int_equal(n, 999);
	smap_free(&m);
}

static void test_ids_and_cursors(void **state)
{
	struct sim_world *w = world_new(1);
	struct id_parts p;
	struct cursor c = { 0 }, d;
	char *rest, *imm, *fid, *tok;

	(void)state;
	rest = ids_message(w, 3, 12345, 7, false);
	imm = ids_message(w, 3, 12345, 7, true);
	fid = ids_folder(w, 3, 9);
	assert_string_not_equal(rest, imm);
	assert_int_equal(ids_parse(w, rest, &p), 0);
	assert_int_equal(p.kind, ID_REST);
	assert_int_equal(p.a, 12345);
	assert_int_equal(p.b, 7);
	assert_int_equal(ids_parse(w, imm, &p), 0);
	assert_int_equal(p.kind, ID_IMMUTABLE);
	assert_int_equal(ids_parse(w, fid, &p), 0);
	assert_int_equal(p.kind, ID_FOLDER);
	assert_int_equal(p.a, 9);
	assert_int_equal(rest[strlen(rest) - 1], '=');
	/* case matters and tampering is detected */
	rest[6] = (char)(rest[6] == 'A' ? 'a' : 'A');
	assert_int_equal(ids_parse(w, rest, &p), -1);
	assert_int_equal(ids_parse(w, "", &p), -1);
	assert_int_equal(ids_parse(w, "AAMk!!", &p), -1);

	c.kind = CUR_CHANGES;
	c.flags = CUR_DESC;
	c.mbox = 1;
	c.folder = 4;
	c.generation = 2;
	c.since = 100;
	c.upto = 200;
	c.pos_seq = 150;
	c.pos_received = -5;
	c.pos_num = SIM_NONE;
	c.select = 0xdeadbeefULL;
	tok = cursor_encode(w, &c);
	assert_int_equal(cursor_decode(w, tok, &d), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	tok[3] = (char)(tok[3] == 'x' ? 'y' : 'x');
	assert_int_equal(cursor_decode(w, tok, &d), -1);
	free(tok);
	free(rest);
	free(imm);
	free(fid);
	world_free(w);
}

static void test_seedgen_is_deterministic(void **state)
{
	struct sim_batch b = { .seed = 77, .count = 10000, .folder = SIM_NONE,
			       .end = SEED_DEFAULT_END, .span = SEED_DEFAULT_SPAN };
	struct seed_content a, c;
	int roles[4] = { 0 };
	int64_t prev = 0;
	uint32_t bnum, idx;

	(void)state;
	for (uint32_t i = 0; i < b.count; i++) {
		int64_t t = seedgen_received(&b, i);

		assert_true(t >= prev);
		prev = t;
		roles[seedgen_role(&b, i)]++;
	}
	assert_true(prev <= SEED_DEFAULT_END);
	assert_true(roles[ROLE_INBOX] > 6500 && roles[ROLE_INBOX] < 7500);
	assert_true(roles[ROLE_SENT] > 1200 && roles[ROLE_SENT] < 1800);
	assert_true(roles[ROLE_ARCHIVE] > 700 && roles[ROLE_ARCHIVE] < 1300);
	assert_true(roles[ROLE_PROJECTS] > 300 && roles[ROLE_PROJECTS] < 700);
	seedgen_content(&b, 1, 4242, "Adele Vance", "adele@contoso.com", &a);
	seedgen_content(&b, 1, 4242, "Adele Vance", "adele@contoso.com", &c);
	assert_memory_equal(&a, &c, sizeof(a));
	assert_int_equal(seedgen_parse_imid(a.imid, &bnum, &idx), 0);
	assert_int_equal(bnum, 1);
	assert_int_equal(idx, 4242);
	assert_true(seedgen_imid_matches(&b, 1, 4242, a.imid));
	assert_false(seedgen_imid_matches(&b, 1, 4243, a.imid));
	/* a thread member refers to its parent */
	for (uint32_t i = 1; i < 100; i++) {
		seedgen_content(&b, 1, i, "Adele Vance", "adele@contoso.com", &a);
		if (a.depth > 0) {
			seedgen_content(&b, 1, i - 1, "Adele Vance", "adele@contoso.com", &c);
			assert_string_equal(a.in_reply_to, c.imid);
			assert_string_equal(a.references[0], a.root_imid);
			assert_memory_equal(a.subject, "RE: ", 4);
			break;
		}
	}
}

static void test_mailbox_indexes_and_logs(void **state)
{
	struct sim_world *w = world_new(1);
	struct sim_mailbox *mb = w->users[0]->mbox;
	uint32_t inbox = mbx_wk(mb, WK_INBOX), archive = mbx_wk(mb, WK_ARCHIVE);
	struct sim_folder *f;
	uint64_t before;
	char why[100];

	(void)state;
	assert_int_equal(seed_mailbox(mb, inbox, 500, 3, 0, false, why, sizeof(why)), 0);
	f = &mb->folders[inbox];
	assert_int_equal(f->nidx, 500);
	for (size_t i = 1; i < f->nidx; i++)
		assert_true(mb->msgs[f->idx[i - 1]].received <= mb->msgs[f->idx[i]].received);
	before = mb->seq;
	mbx_msg_move(mb, f->idx[10], archive);
	assert_int_equal(mb->folders[inbox].nidx, 499);
	assert_int_equal(mb->folders[archive].nidx, 1);
	assert_int_equal(mb->folders[inbox].nlog - mb->folders[inbox].loghead, 1);
	assert_int_equal(mb->folders[inbox].log[mb->folders[inbox].nlog - 1].kind, CHG_LEAVE);
	assert_true(mb->seq > before);
	mbx_msg_destroy(mb, mb->folders[archive].idx[0]);
	assert_int_equal(mb->folders[archive].nidx, 0);
	assert_int_equal(mb->live, 499);
	/* unread bookkeeping */
	{
		uint32_t num = mb->folders[inbox].idx[0];
		uint32_t unread = mb->folders[inbox].unread;
		bool was_read = mb->msgs[num].flags & MSG_READ;

		mbx_msg_set_read(mb, num, !was_read);
		assert_int_equal(mb->folders[inbox].unread, was_read ? unread + 1 : unread - 1);
	}
	/* folders */
	assert_int_not_equal(mbx_folder_create(mb, inbox, "A", false), SIM_NONE);
	assert_int_equal(mbx_folder_create(mb, inbox, "a", false), SIM_NONE);
	assert_int_not_equal(mbx_folder_by_path(mb, "Inbox/A"), SIM_NONE);
	mbx_expire_delta(mb, inbox);
	assert_int_equal(mb->folders[inbox].generation, 1);
	world_free(w);
}

static void test_scopes_and_config(void **state)
{
	char bad[100];
	json_t *s;
	enum oa_resource r;
	struct sim_config c;
	json_t *cfg;

	(void)state;
	s = idp_scope_parse("openid mail.read https://graph.microsoft.com/User.Read offline_access", bad, sizeof(bad));
	assert_non_null(s);
	assert_true(idp_scope_has(s, "https://graph.microsoft.com/Mail.Read"));
	assert_int_equal(idp_scope_single_resource(s, &r), 0);
	assert_int_equal(r, RES_GRAPH);
	json_decref(s);
	s = idp_scope_parse("https://outlook.office.com/IMAP.AccessAsUser.All Mail.Send", bad, sizeof(bad));
	assert_int_equal(idp_scope_single_resource(s, &r), -1);
	json_decref(s);
	assert_null(idp_scope_parse("Calendars.Read", bad, sizeof(bad)));
	assert_string_equal(bad, "Calendars.Read");
	assert_null(idp_scope_parse("https://evil.example/x", bad, sizeof(bad)));

	simcfg_defaults(&c);
	assert_int_equal(c.rate_limit_requests, 10000);
	assert_int_equal(c.concurrency_limit, 4);
	cfg = json_pack("{s:{s:i}}", "rate_limit", "requests", 5);
	assert_int_equal(simcfg_apply(&c, cfg, bad, sizeof(bad)), 0);
	assert_int_equal(c.rate_limit_requests, 5);
	json_decref(cfg);
	cfg = json_pack("{s:i}", "concurrency_limit", -3);
	assert_int_equal(simcfg_apply(&c, cfg, bad, sizeof(bad)), -1);
	assert_int_equal(c.concurrency_limit, 4);
	json_decref(cfg);
	cfg = json_pack("{s:b}", "bogus", 1);
	assert_int_equal(simcfg_apply(&c, cfg, bad, sizeof(bad)), -1);
	json_decref(cfg);
}

static void test_seeded_mime_is_deterministic(void **state)
{
	struct sim_world *w = world_new(1);
	struct sim_mailbox *mb = w->users[0]->mbox;
	struct buf a, b;
	char why[100];

	(void)state;
	assert_int_equal(seed_mailbox(mb, SIM_NONE, 50, 9, 0, false, why, sizeof(why)), 0);
	for (uint32_t i = 0; i < 50; i++) {
		buf_init(&a, 0);
		buf_init(&b, 0);
		assert_int_equal(simmime_build(w, mb, i, &a), 0);
		assert_int_equal(simmime_build(w, mb, i, &b), 0);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data, b.data, a.len);
		{
			json_t *f = NULL, *atts = NULL;

			assert_int_equal(simmime_parse(a.data, a.len, &f, &atts, why, sizeof(why)), 0);
			json_t *orig = msgcontent_fields(w, mb, i, 0);

			assert_string_equal(json_string_value(json_object_get(f, "internetMessageId")),
					    json_string_value(json_object_get(orig, "internetMessageId")));
			assert_string_equal(json_string_value(json_object_get(f, "subject")),
					    json_string_value(json_object_get(orig, "subject")));
			assert_int_equal(json_array_size(atts) > 0, (mb->msgs[i].flags & MSG_HASATT) != 0);
			json_decref(orig);
			json_decref(f);
			json_decref(atts);
		}
		buf_free(&a);
		buf_free(&b);
	}
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strmap),
		cmocka_unit_test(test_ids_and_cursors),
		cmocka_unit_test(test_seedgen_is_deterministic),
		cmocka_unit_test(test_mailbox_indexes_and_logs),
		cmocka_unit_test(test_scopes_and_config),
		cmocka_unit_test(test_seeded_mime_is_deterministic),
	};
	int rc;

	if (sodium_init() < 0)
		return 1;
	simmime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	simmime_shutdown();
	return rc;
}
