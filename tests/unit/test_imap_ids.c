/*
 * test_imap_ids.c — the IMAP driver's text formats: message ids (round
 * trip, mailboxes with colons and spaces, anything else refused), the
 * sync cursor (round trip of every field and the digests; every kind of
 * damage is ERR_RESYNC, never a crash), and flag digests (order-free
 * sums that change when a flag or a message changes), plus modified
 * UTF-7 folder names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "imap/imap_internal.h"

static void test_message_ids_round_trip(void **state)
{
	static const char *const boxes[] = { "INBOX", "Sent Items", "a:b:c", "&AMQ-rger" };
	char *mailbox;
	uint32_t v, u;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		char *id = imap_id_format(boxes[i], 4000000000u, 17);

		assert_int_equal(imap_id_parse(id, &mailbox, &v, &u), 0);
		assert_string_equal(mailbox, boxes[i]);
		assert_int_equal(v, 4000000000u);
		assert_int_equal(u, 17);
		free(mailbox);
		free(id);
	}
}

static void test_foreign_ids_are_refused(void **state)
{
	static const char *const bad[] = {
		"", "local:abc", "AAMkAGI2TG93AAA=", "1:2", "1:2:", ":2:INBOX", "1::INBOX",
		"0:2:INBOX", "1:0:INBOX", "4294967296:1:INBOX", "1:4294967296:INBOX", "-1:2:INBOX",
	};
	char *mailbox = NULL;
	uint32_t v, u;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(imap_id_parse(bad[i], &mailbox, &v, &u), -1);
	assert_int_equal(imap_id_parse(NULL, &mailbox, &v, &u), -1);
	assert_null(mailbox);
}

static void test_cursor_round_trip(void **state)
{
	struct imap_cursor c, d;
	struct err e = { 0 };
	char *text, *again;

	(void)state;
	imap_cursor_init(&c);
	imap_cursor_init(&d);
	c.kind = IMAP_CURSOR_LIVE;
	c.mode = IMAP_MODE_CONDSTORE;
	c.uidvalidity = 12345;
	c.uidnext = 4000000000u;
	c.modseq = UINT64_MAX;
	c.low = 3;
	c.seq = 4;
	c.scan = 5;
	for (uint32_t uid = 1; uid < 5000; uid += 7)
		imap_digests_add(&c.digests, uid, uid & 3);
	text = imap_cursor_format(&c);
	assert_int_equal(imap_cursor_parse(&d, text, &e), 0);
	assert_int_equal(d.kind, IMAP_CURSOR_LIVE);
	assert_int_equal(d.mode, IMAP_MODE_CONDSTORE);
	assert_int_equal(d.uidvalidity, 12345);
	assert_int_equal(d.uidnext, 4000000000u);
	assert_true(d.modseq == UINT64_MAX);
	assert_int_equal(d.low, 3);
	assert_int_equal(d.seq, 4);
	assert_int_equal(d.scan, 5);
	assert_int_equal(d.digests.n, c.digests.n);
	assert_int_equal(imap_digests_total(&d.digests), imap_digests_total(&c.digests));
	again = imap_cursor_format(&d);
	assert_string_equal(text, again);
	free(text);
	free(again);
	imap_cursor_free(&c);
	imap_cursor_free(&d);
}

static void test_damaged_cursors_restart_the_folder(void **state)
{
	static const char *const bad[] = {
		"", "imap1", "imap2;L;q;v=1;n=2;m=0;l=0;s=0;k=0;d=",
		"imap1;X;q;v=1;n=2;m=0;l=0;s=0;k=0;d=", "imap1;L;z;v=1;n=2;m=0;l=0;s=0;k=0;d=",
		"imap1;L;q;v=0;n=2;m=0;l=0;s=0;k=0;d=", "imap1;L;q;v=1;n=0;m=0;l=0;s=0;k=0;d=",
		"imap1;L;q;v=4294967296;n=2;m=0;l=0;s=0;k=0;d=",
		"imap1;L;q;v=1;n=2;m=18446744073709551616;l=0;s=0;k=0;d=",
		"imap1;L;q;v=1;n=2;m=0;l=0;s=0;k=0", "imap1;L;q;v=1;n=2;m=0;l=0;s=0;k=0;d=zz",
		"imap1;L;q;v=1;n=2;m=0;l=0;s=0;k=0;d=1:1:1,1:1:1",
		"imap1;L;q;v=1;n=2;m=0;l=0;s=0;k=0;d=2:1:1,1:1:1",
		"imap1;L;q;v=1;n=2;m=0;l=0;s=0;k=0;d=1:0:1", "imap1;L;q;v=1;n=2;m=0;l=0;s=0;k=0;d=1:1:1,",
		"imap1;L;q;v=1;n=2;m=0;l=0;s=0;k=0;d=1:1:11111111111111111",
		"imap1;L;q;v=1;n=2;m=0;l=0;s=0;k=0;d=1:1", "imap1;L;q;n=2;v=1;m=0;l=0;s=0;k=0;d=",
		"imap1;L;q;v=1;n=2;m=0;l=0;s=0;k=0;d=;",
	};
	struct imap_cursor c;

	(void)state;
	imap_cursor_init(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e = { 0 };

		if (imap_cursor_parse(&c, bad[i], &e) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(e.class, ERR_RESYNC);
		assert_string_equal(e.code, "bad_cursor");
	}
	imap_cursor_free(&c);
}

static void test_digests_see_a_flag_change_or_a_missing_message(void **state)
{
	struct imap_digests a, b, c;

	(void)state;
	imap_digests_init(&a);
	imap_digests_init(&b);
	imap_digests_init(&c);
	for (uint32_t uid = 1; uid <= 3000; uid++)
		imap_digests_add(&a, uid, uid % 3 ? 1 : 0);
	for (uint32_t uid = 3000; uid >= 1; uid--)
		imap_digests_add(&b, uid, uid % 3 ? 1 : 0); /* any order */
	assert_int_equal(a.n, 3);
	for (uint32_t bucket = 0; bucket < 3; bucket++) {
		struct imap_digest x = imap_digests_get(&a, bucket), y = imap_digests_get(&b, bucket);

		assert_int_equal(x.count, y.count);
		assert_true(x.sum == y.sum);
	}
	for (uint32_t uid = 1; uid <= 3000; uid++)
		if (uid != 1500)
			imap_digests_add(&c, uid, uid == 2500 ? 2 : uid % 3 ? 1 : 0);
	assert_true(imap_digests_get(&c, 0).sum == imap_digests_get(&a, 0).sum);
	assert_int_equal(imap_digests_get(&c, 1).count, imap_digests_get(&a, 1).count - 1);
	assert_true(imap_digests_get(&c, 2).sum != imap_digests_get(&a, 2).sum);
	imap_digests_put(&c, (struct imap_digest){ 1, 0, 0 });
	assert_int_equal(c.n, 2);
	assert_int_equal(imap_digests_total(&a), 3000);
	imap_digests_free(&a);
	imap_digests_free(&b);
	imap_digests_free(&c);
}

static void test_modified_utf7_names(void **state)
{
	static const struct { const char *wire, *utf8; } names[] = {
		{ "INBOX", "INBOX" }, { "&AMQ-rger", "\xc3\x84rger" },
		{ "Entw&APw-rfe", "Entw\xc3\xbcrfe" }, { "a&-b", "a&b" },
		{ "&ZeVnLIqe-", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
		{ "broken&AMQ", "broken&AMQ" }, { "&!!!-", "&!!!-" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *s = imap_mailbox_decode(names[i].wire);

		assert_string_equal(s, names[i].utf8);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_ids_round_trip),
		cmocka_unit_test(test_foreign_ids_are_refused),
		cmocka_unit_test(test_cursor_round_trip),
		cmocka_unit_test(test_damaged_cursors_restart_the_folder),
		cmocka_unit_test(test_digests_see_a_flag_change_or_a_missing_message),
		cmocka_unit_test(test_modified_utf7_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
