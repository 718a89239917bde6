/*
 * test_imap_send.c — sending through the IMAP driver the way the outbox
 * drives it: a draft APPENDed to Drafts, submitted through Dovecot's
 * submission service (XOAUTH2 checked by m365sim) to a relay that
 * delivers into the recipients' mailboxes, one copy filed in Sent (and
 * none by us when the server files its own, as Exchange Online does), Bcc
 * kept off what recipients get, an earlier attempt found in Sent instead
 * of sending twice, a rejected recipient leaving the draft in place, and
 * a submission that got no answer reported as unknown. Against scripted
 * SMTP servers: XOAUTH2 is used even when OAUTHBEARER is offered too, and
 * Exchange's "SMTP AUTH disabled" comes with the administrator's fix.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "inboxsync/alloc.h"
#include "imap_fixture.h"
#include "smtp_fake.h"

static struct imap_fixture fx;

static int setup(void **state)
{
	static const struct dovecot_opts dv = { 0 };
	static const struct imap_driver_opts o = { .sent_copy = IMAP_SENT_COPY_APPEND };

	(void)state;
	return imap_fixture_start(&fx, &dv, &o);
}

static int teardown(void **state)
{
	(void)state;
	imap_fixture_stop(&fx);
	return 0;
}

static char *message(const char *id, const char *bcc, size_t *len)
{
	char *m = xasprintf("From: Adele Vance <" FIXTURE_USER ">\r\n"
			    "To: <" FIXTURE_USER ">\r\n%s%s%s"
			    "Subject: report %s\r\nMessage-ID: %s\r\n"
			    "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
			    "Content-Type: text/plain; charset=utf-8\r\n\r\nThe numbers.\r\n",
			    bcc ? "Bcc: <" : "", bcc ? bcc : "", bcc ? ">\r\n" : "", id, id);

	*len = strlen(m);
	return m;
}

struct found {
	int sent, drafts;
	char folder[64];
};

static int on_found(void *ctx, const char *id, const struct driver_state *s)
{
	struct found *f = ctx;

	(void)id;
	if (s->is_draft)
		f->drafts++;
	else
		f->sent++;
	if (strcmp(s->folder_remote_id, "Sent") == 0)
		str_copy(f->folder, sizeof(f->folder), "Sent");
	return 0;
}

static size_t count_in(const char *folder, const char *imid)
{
	struct imap_truth *t;
	size_t n, k = 0;

	assert_int_equal(imap_client_truth(imap_fixture_other(&fx), folder, &t, &n), 0);
	for (size_t i = 0; i < n; i++)
		k += strcmp(t[i].message_id, imid) == 0 && !t[i].deleted;
	free(t);
	return k;
}

static void test_draft_then_send_files_one_sent_copy(void **state)
{
	const char *imid = "<one.inboxsync@contoso.com>";
	size_t len;
	char *mime = message(imid, "bob@contoso.com", &len), *draft = NULL;
	struct driver_state st;
	struct found f = { 0, 0, "" };
	struct driver_page pg;
	struct buf raw;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(driver_create_draft(fx.d, mime, len, &draft, &e), 0);
	assert_non_null(strstr(draft, ":Drafts"));
	assert_int_equal(driver_get_state(fx.d, draft, &st, &e), 0);
	assert_true(st.exists);
	assert_true(st.is_draft);
	assert_string_equal(st.internet_message_id, imid);
	driver_state_free(&st);
	assert_int_equal(driver_send_draft(fx.d, draft, &e), 0);
	assert_int_equal(smtp_fake_accepted(fx.dove.relay), 1);
	/* the draft is no longer a draft; one copy in Sent; one delivered */
	assert_int_equal(driver_get_state(fx.d, draft, &st, &e), 0);
	assert_false(st.exists);
	driver_state_free(&st);
	assert_int_equal(count_in("Drafts", imid), 0);
	assert_int_equal(count_in("Sent", imid), 1);
	assert_int_equal(count_in("INBOX", imid), 1);
	assert_int_equal(driver_find_by_message_id(fx.d, imid, on_found, &f, &e), 0);
	assert_int_equal(f.drafts, 0);
	assert_int_equal(f.sent, 2); /* Sent and the Inbox (sent to ourselves) */
	assert_string_equal(f.folder, "Sent");
	/* what the recipients got has no Bcc */
	assert_int_equal(driver_list_newest(fx.d, "INBOX", 0, 1, &pg, &e), 0);
	assert_int_equal(pg.n, 1);
	assert_string_equal(pg.items[0].internet_message_id, imid);
	buf_init(&raw, 0);
	assert_int_equal(driver_fetch_mime(fx.d, pg.items[0].remote_id, &raw, &e), 0);
	assert_null(strstr(raw.data, "Bcc:"));
	assert_null(strstr(raw.data, "bob@contoso.com"));
	buf_free(&raw);
	driver_page_free(&pg);
	/* sending the same draft again: it is gone, nothing goes out twice */
	assert_int_equal(driver_send_draft(fx.d, draft, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	assert_string_equal(e.code, "draft_gone");
	assert_int_equal(smtp_fake_accepted(fx.dove.relay), 1);
	free(draft);
	free(mime);
}

static void test_earlier_attempt_found_in_sent_is_not_sent_again(void **state)
{
	const char *imid = "<two.inboxsync@contoso.com>";
	size_t len;
	char *mime = message(imid, NULL, &len), *draft = NULL;
	int accepted = smtp_fake_accepted(fx.dove.relay);
	struct err e = { 0 };

	(void)state;
	/* as if a crash came after the submission and the Sent copy */
	assert_int_equal(imap_client_append(imap_fixture_other(&fx), "Sent", mime, len, true,
					    false, NULL), 0);
	assert_int_equal(driver_create_draft(fx.d, mime, len, &draft, &e), 0);
	assert_int_equal(driver_send_draft(fx.d, draft, &e), 0);
	assert_int_equal(smtp_fake_accepted(fx.dove.relay), accepted);
	assert_int_equal(count_in("Sent", imid), 1);
	assert_int_equal(count_in("Drafts", imid), 0);
	free(draft);
	free(mime);
}

static void test_rejected_recipient_keeps_the_draft(void **state)
{
	const char *imid = "<three.inboxsync@contoso.com>";
	size_t len;
	char *mime = message(imid, NULL, &len), *draft = NULL;
	struct found f = { 0, 0, "" };
	struct err e = { 0 };

	(void)state;
	assert_int_equal(driver_create_draft(fx.d, mime, len, &draft, &e), 0);
	smtp_fake_set_fault(fx.dove.relay, SMTP_FAKE_REJECT_RCPT);
	assert_int_equal(driver_send_draft(fx.d, draft, &e), -1);
	smtp_fake_set_fault(fx.dove.relay, SMTP_FAKE_OK);
	assert_int_equal(e.class, ERR_PERMANENT);
	assert_string_equal(e.code, "rejected");
	assert_non_null(strstr(e.msg, "550"));
	assert_int_equal(count_in("Sent", imid), 0);
	/* the draft is back (under a new id) for a fixed resend */
	assert_int_equal(driver_find_by_message_id(fx.d, imid, on_found, &f, &e), 0);
	assert_int_equal(f.drafts, 1);
	assert_int_equal(f.sent, 0);
	free(draft);
	free(mime);
}

static void test_server_filing_its_own_copy_gets_none_from_us(void **state)
{
	static const struct imap_driver_opts o = { .sent_copy = IMAP_SENT_COPY_SERVER };
	const char *imid = "<four.inboxsync@contoso.com>";
	struct driver *d;
	size_t len;
	char *mime = message(imid, NULL, &len), *draft = NULL;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(imap_fixture_open(&fx, &o, &d), 0);
	assert_int_equal(driver_create_draft(d, mime, len, &draft, &e), 0);
	assert_int_equal(driver_send_draft(d, draft, &e), 0);
	assert_int_equal(count_in("Sent", imid), 0); /* this relay files none */
	assert_int_equal(count_in("INBOX", imid), 1);
	driver_free(d);
	free(draft);
	free(mime);
}

/* ---- against scripted SMTP servers ---------------------------------------------- */

static struct driver *driver_to(struct smtp_fake *smtp)
{
	char imap[64], host[64];
	struct driver_endpoint ep = {
		.imap_server = imap, .smtp_server = host, .user = FIXTURE_USER,
		.auth = { imap_fixture_token, &fx },
	};
	struct driver *d = NULL;
	struct err e = { 0 };

	snprintf(imap, sizeof(imap), "127.0.0.1:%d", fx.dove.imap_port);
	snprintf(host, sizeof(host), "127.0.0.1:%d", smtp_fake_port(smtp));
	assert_int_equal(imap_driver_open(&ep, &d, &e), 0);
	return d;
}

static void test_xoauth2_is_used_when_oauthbearer_is_offered_too(void **state)
{
	struct smtp_fake_opts so = { .auth = true, .auth_mechanisms = "OAUTHBEARER XOAUTH2" };
	struct smtp_fake *smtp = smtp_fake_start(&so);
	struct driver *d = driver_to(smtp);
	struct err e = { 0 };
	char *mech, *resp;

	(void)state;
	assert_int_equal(driver_test_send(d, &e), 0);
	mech = smtp_fake_last_mechanism(smtp);
	resp = smtp_fake_last_auth_response(smtp);
	assert_string_equal(mech, "XOAUTH2");
	assert_non_null(strstr(resp, "user=" FIXTURE_USER "\001auth=Bearer "));
	assert_int_equal(smtp_fake_accepted(smtp), 0);
	free(mech);
	free(resp);
	driver_free(d);
	smtp_fake_stop(smtp);
}

static void test_smtp_auth_disabled_names_the_admin_fix(void **state)
{
	struct smtp_fake_opts so = { .auth = true };
	struct smtp_fake *smtp = smtp_fake_start(&so);
	struct driver *d = driver_to(smtp);
	int refreshes = fx.refreshes;
	struct err e = { 0 };

	(void)state;
	smtp_fake_set_fault(smtp, SMTP_FAKE_AUTH_DISABLED);
	assert_int_equal(driver_test_send(d, &e), -1);
	assert_int_equal(e.class, ERR_AUTH);
	assert_string_equal(e.code, "smtp_auth");
	assert_int_equal(e.fix, FIX_ENABLE_MAIL_AUTH);
	assert_string_equal(e.fix_arg, "SMTP");
	assert_non_null(strstr(e.msg, "SMTP AUTH is disabled"));
	assert_non_null(strstr(e.msg, "5.7.139"));
	assert_null(strstr(e.msg, "Set-"));
	/* tried once more with a fresh token before saying so */
	assert_int_equal(fx.refreshes, refreshes + 1);
	driver_free(d);
	smtp_fake_stop(smtp);
}

/* A draft saved, then sent to a scripted SMTP server failing with
 * `fault`: the send fails with `class`, and afterwards the mailbox holds
 * `drafts` drafts and no sent copy of it. */
static void send_failing(const char *imid, enum smtp_fake_fault fault, enum err_class class,
			 const char *code, int drafts)
{
	struct smtp_fake_opts so = { .auth = true };
	struct smtp_fake *smtp = smtp_fake_start(&so);
	struct driver *d = driver_to(smtp);
	struct found f = { 0, 0, "" };
	size_t len;
	char *mime = message(imid, NULL, &len), *draft = NULL;
	struct err e = { 0 };

	assert_int_equal(driver_create_draft(d, mime, len, &draft, &e), 0);
	smtp_fake_set_fault(smtp, fault);
	assert_int_equal(driver_send_draft(d, draft, &e), -1);
	assert_int_equal(e.class, class);
	if (code)
		assert_string_equal(e.code, code);
	assert_int_equal(driver_find_by_message_id(d, imid, on_found, &f, &e), 0);
	assert_int_equal(f.drafts, drafts);
	assert_int_equal(f.sent, 0);
	assert_int_equal(smtp_fake_accepted(smtp), 0);
	driver_free(d);
	smtp_fake_stop(smtp);
	free(draft);
	free(mime);
}

static void test_no_answer_after_the_message_is_unknown_not_resent(void **state)
{
	(void)state;
	/* not a draft any more, nothing in Sent: the outbox waits and looks */
	send_failing("<five.inboxsync@contoso.com>", SMTP_FAKE_DROP_AFTER_DATA, ERR_TRANSIENT,
		     "send_unknown", 0);
}

static void test_temporary_refusal_before_the_message_puts_the_draft_back(void **state)
{
	(void)state;
	send_failing("<six.inboxsync@contoso.com>", SMTP_FAKE_TEMPFAIL_MAIL, ERR_TRANSIENT,
		     "smtp_tempfail", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_draft_then_send_files_one_sent_copy),
		cmocka_unit_test(test_earlier_attempt_found_in_sent_is_not_sent_again),
		cmocka_unit_test(test_rejected_recipient_keeps_the_draft),
		cmocka_unit_test(test_server_filing_its_own_copy_gets_none_from_us),
		cmocka_unit_test(test_xoauth2_is_used_when_oauthbearer_is_offered_too),
		cmocka_unit_test(test_smtp_auth_disabled_names_the_admin_fix),
		cmocka_unit_test(test_no_answer_after_the_message_is_unknown_not_resent),
		cmocka_unit_test(test_temporary_refusal_before_the_message_puts_the_draft_back),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
