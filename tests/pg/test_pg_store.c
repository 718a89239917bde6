/*
 * test_pg_store.c — what only the PostgreSQL store has to prove, against
 * a private server (tests/pg/with_pg.sh): events committed out of order
 * are still read in seq order without a gap; a node looking for due
 * accounts passes over one another node has locked instead of waiting;
 * a page commit costs at most two round trips; the schema is refused
 * until `migrate` made it current, and a newer one always; passwords
 * never appear in messages; a restarted server is reconnected to on the
 * next call, LISTEN included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include "inboxsync/store.h"
#include "inboxsync/timeutil.h"
#include "store/pg/pg_internal.h"
#include "store_fixture.h"

struct fixture {
	struct store_fixture sf;
	struct store *st;
	int64_t account;
	int64_t inbox;
};

static int setup(void **state)
{
	struct fixture *f;
	struct store_account a = { 0 };
	struct store_folder_in in = { { "F-inbox", "", "Inbox", MAIL_ROLE_INBOX, 0, 0 }, "Inbox" };
	struct store_folder fo;
	struct err e = { 0 };

	assert_non_null(getenv("INBOXSYNC_TEST_STORE_URL")); /* run by with_pg.sh */
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(store_fixture_new(&f->sf, "pg"), 0);
	assert_int_equal(store_open(f->sf.location, &f->st, &e), 0);
	assert_string_equal(store_backend_name(f->st), "postgresql");
	snprintf(a.name, sizeof(a.name), "work");
	snprintf(a.email, sizeof(a.email), "adele@contoso.com");
	snprintf(a.transport, sizeof(a.transport), "graph");
	assert_int_equal(store_add_account(f->st, &a, &e), 0);
	f->account = a.id;
	assert_int_equal(store_put_folder(f->st, f->account, &in, NULL, &e), 0);
	assert_int_equal(store_find_folder_by_remote(f->st, f->account, "F-inbox", &fo, &e), 1);
	f->inbox = fo.id;
	store_folder_clear(&fo);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	store_fixture_free(&f->sf);
	free(f);
	return 0;
}

static struct store *open_again(struct fixture *f)
{
	struct store *st = NULL;
	struct err e = { 0 };

	assert_int_equal(store_open(f->sf.location, &st, &e), 0);
	return st;
}

/* A maintenance connection to the fixture's database. */
static PGconn *admin(struct fixture *f)
{
	PGconn *c = PQconnectdb(f->sf.location);

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	return c;
}

static void admin_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

struct seqs {
	int64_t seq[16];
	char entity[16][16];
	int n;
};

static int collect(void *ctx, const struct store_event *ev)
{
	struct seqs *s = ctx;

	if (s->n < 16) {
		s->seq[s->n] = ev->seq;
		snprintf(s->entity[s->n], sizeof(s->entity[0]), "%s", ev->entity_id);
		s->n++;
	}
	return 0;
}

static void test_events_committed_late_are_not_skipped(void **state)
{
	struct fixture *f = *state;
	struct store *a = open_again(f), *b = open_again(f);
	struct store_event_query q = { 0 };
	struct store_account acc;
	struct seqs seen = { 0 };
	struct err e = { 0 };
	int64_t start = 0;

	store_last_event_seq(f->st, &start, &e);
	/* A writes its event first and keeps its transaction open... */
	assert_int_equal(store_begin(a, &e), 0);
	assert_int_equal(store_add_event(a, f->account, STORE_EVENT_SEND_CONFIRMED, "first",
					 NULL, &e), 0);
	assert_int_equal(store_get_account(a, f->account, &acc, &e), 1); /* on the server now */
	/* ...B writes and commits after it... */
	assert_int_equal(store_add_event(b, f->account, STORE_EVENT_SEND_CONFIRMED, "second",
					 NULL, &e), 0);
	/* ...a reader sees B's event and moves past it... */
	q.after_seq = start;
	assert_int_equal(store_read_events(f->st, &q, collect, &seen, &e), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.entity[0], "second");
	/* ...then A commits: its event comes after what the reader saw. */
	assert_int_equal(store_commit(a, &e), 0);
	q.after_seq = seen.seq[0];
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_read_events(f->st, &q, collect, &seen, &e), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.entity[0], "first");
	store_close(a);
	store_close(b);
}

static void authorize(struct store *st, int64_t id)
{
	struct store_account a;
	struct err e = { 0 };

	assert_int_equal(store_get_account(st, id, &a, &e), 1);
	a.authorized_at = 1;
	assert_int_equal(store_update_account(st, &a, &e), 0);
}

static void test_claim_skips_accounts_locked_by_another_node(void **state)
{
	struct fixture *f = *state;
	struct store *busy = open_again(f);
	struct store_account other = { 0 };
	struct err e = { 0 };
	int64_t *ids;
	size_t n;

	snprintf(other.name, sizeof(other.name), "other");
	snprintf(other.email, sizeof(other.email), "other@contoso.com");
	snprintf(other.transport, sizeof(other.transport), "graph");
	assert_int_equal(store_add_account(f->st, &other, &e), 0);
	authorize(f->st, f->account);
	authorize(f->st, other.id);
	/* another node is in the middle of writing the first account's row */
	assert_int_equal(store_begin(busy, &e), 0);
	assert_int_equal(store_set_account_state(busy, f->account, STORE_STATE_SYNCING, "",
						 FIX_NONE, NULL, &e), 0);
	/* this node neither waits for it nor takes it */
	assert_int_equal(store_claim_due_accounts(f->st, "node-a", 60, 10, &ids, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], other.id);
	free(ids);
	store_rollback(busy);
	assert_int_equal(store_claim_due_accounts(f->st, "node-a", 60, 10, &ids, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], f->account);
	free(ids);
	store_close(busy);
}

static void test_a_page_commit_is_two_round_trips(void **state)
{
	struct fixture *f = *state;
	enum { PAGE = 500 };
	struct mail_message *page = calloc(PAGE, sizeof(*page));
	char (*ids)[16] = calloc(PAGE, 16);
	struct store_page_result r = { 0 };
	struct err e = { 0 };
	long long before, n;
	int64_t gen;

	assert_int_equal(store_start_folder_round(f->st, f->inbox, false, &gen, &e), 0);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < PAGE; i++) {
			mail_message_init(&page[i]);
			snprintf(ids[i], 16, "M%d", i);
			page[i].remote_id = ids[i];
			page[i].subject = round ? "changed" : "new";
			page[i].change_key = round ? "k2" : "k1";
			page[i].received_at = 1000 + i;
		}
		/* what the engine does with a page: messages, cursor, commit */
		before = PG(f->st)->round_trips;
		assert_int_equal(store_begin(f->st, &e), 0);
		assert_int_equal(store_put_messages(f->st, f->account, f->inbox, page, PAGE, gen,
						    false, &r, &e), 0);
		assert_int_equal(store_set_folder_sync(f->st, f->inbox, STORE_PHASE_BACKFILL,
						       "cursor", &e), 0);
		assert_int_equal(store_commit(f->st, &e), 0);
		assert_true(PG(f->st)->round_trips - before <= 2);
	}
	assert_int_equal(r.created, PAGE);
	assert_int_equal(r.updated, PAGE);
	store_count_messages(f->st, f->account, &n, &e);
	assert_int_equal(n, PAGE);
	free(page);
	free(ids);
}

static void test_schema_refused_until_migrated(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	struct err e = { 0 };
	char url[600];
	int from = -1, to = -1;
	PGconn *c;

	/* a database nobody migrated */
	c = admin(f);
	admin_exec(c, "CREATE DATABASE never_migrated");
	PQfinish(c);
	snprintf(url, sizeof(url), "%s/never_migrated", getenv("INBOXSYNC_TEST_STORE_URL"));
	assert_int_equal(store_open(url, &st, &e), -1);
	assert_null(st);
	assert_string_equal(e.code, "store_schema");
	assert_int_equal(e.fix, FIX_MIGRATE);
	assert_int_equal(store_migrate(url, &from, &to, &e), 0);
	assert_int_equal(from, 0);
	assert_true(to >= 1);
	assert_int_equal(store_migrate(url, &from, &to, &e), 0); /* again: nothing to do */
	assert_int_equal(from, to);
	assert_int_equal(store_open(url, &st, &e), 0);
	assert_int_equal(store_schema_version(st), to);
	store_close(st);

	/* a schema from a newer inboxsync: refused by open and migrate */
	c = admin(f);
	admin_exec(c, "UPDATE inboxsync_schema SET version = 9999");
	PQfinish(c);
	assert_int_equal(store_open(f->sf.location, &st, &e), -1);
	assert_string_equal(e.code, "store_schema");
	assert_int_equal(e.fix, FIX_UPGRADE);
	assert_int_equal(store_migrate(f->sf.location, NULL, NULL, &e), -1);
	assert_int_equal(e.fix, FIX_UPGRADE);
	/* an older one: refused by open, with the way out */
	c = admin(f);
	admin_exec(c, "UPDATE inboxsync_schema SET version = 0");
	PQfinish(c);
	assert_int_equal(store_open(f->sf.location, &st, &e), -1);
	assert_string_equal(e.code, "store_schema");
	assert_int_equal(e.fix, FIX_MIGRATE);
}

/* The password of the test server's URL. */
static const char *password_of(const char *url, char *out, size_t n)
{
	const char *colon = strchr(url + strlen("postgresql://"), ':');
	const char *at = strchr(url, '@');

	assert_non_null(colon);
	assert_non_null(at);
	snprintf(out, n, "%.*s", (int)(at - colon - 1), colon + 1);
	return out;
}

static void test_passwords_never_in_messages(void **state)
{
	struct fixture *f = *state;
	const char *base = getenv("INBOXSYNC_TEST_STORE_URL");
	struct store *st = NULL;
	struct store_user *users;
	struct err e = { 0 };
	char pw[128], url[700];
	size_t n;
	PGconn *c;

	password_of(base, pw, sizeof(pw));
	assert_true(strlen(pw) >= 8);
	/* a database that does not exist */
	snprintf(url, sizeof(url), "%s/no_such_database", base);
	assert_int_equal(store_open(url, &st, &e), -1);
	assert_null(strstr(e.msg, pw));
	assert_non_null(strstr(e.msg, "postgresql://inboxsync@127.0.0.1:"));
	/* a wrong password, given in the query string */
	snprintf(url, sizeof(url), "postgresql://inboxsync@127.0.0.1:%s/%s?password=wrong-%s",
		 strrchr(base, ':') + 1, f->sf.name, pw);
	assert_int_equal(store_open(url, &st, &e), -1);
	assert_null(strstr(e.msg, pw));
	assert_null(strstr(e.msg, "wrong-"));
	/* a statement failing on an open store */
	c = admin(f);
	admin_exec(c, "DROP TABLE api_tokens; DROP TABLE sessions; DROP TABLE users CASCADE");
	PQfinish(c);
	assert_int_equal(store_list_users(f->st, &users, &n, &e), -1);
	assert_string_equal(e.code, "store_schema");
	assert_null(strstr(e.msg, pw));
	assert_non_null(strstr(e.msg, f->sf.name));
}

static void restart_server(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "bash '%s' restart '%s'", getenv("INBOXSYNC_TEST_PG_SERVER"),
		 getenv("INBOXSYNC_TEST_PG_DIR"));
	assert_int_equal(system(cmd), 0);
}

static void test_reconnects_after_the_server_restarts(void **state)
{
	struct fixture *f = *state;
	struct store *writer;
	struct store_account a;
	struct err e = { 0 };
	int64_t last = 0, gen;
	int rc;

	assert_int_equal(store_wait_events(f->st, 0, 10, &e), 1); /* LISTENing now */
	restart_server();
	/* the server said goodbye to the idle connection: the first call
	 * notices before sending and reconnects */
	rc = store_get_account(f->st, f->account, &a, &e);
	assert_int_equal(rc, 1);
	assert_string_equal(a.name, "work");

	/* a transaction cut by a restart keeps nothing and says so */
	assert_int_equal(store_begin(f->st, &e), 0);
	assert_int_equal(store_claim_lease(f->st, f->account, "node-a", 60, &gen, NULL, &e), 1);
	restart_server();
	store_set_folder_sync(f->st, f->inbox, STORE_PHASE_LIVE, "c", &e); /* queued */
	assert_int_equal(store_commit(f->st, &e), -1);
	assert_int_equal(e.class, ERR_TRANSIENT);
	{
		struct store_folder fo;

		assert_int_equal(store_get_folder(f->st, f->inbox, &fo, &e), 1);
		assert_null(fo.cursor);
		store_folder_clear(&fo);
	}
	{
		struct store_lease l;

		assert_int_equal(store_get_lease(f->st, f->account, &l, &e), 0);
		assert_string_equal(l.holder, "");
	}

	/* and LISTEN is back: a commit elsewhere wakes the waiter */
	store_last_event_seq(f->st, &last, &e);
	writer = open_again(f);
	assert_int_equal(store_add_event(writer, f->account, STORE_EVENT_SEND_CONFIRMED, "k",
					 NULL, &e), 0);
	store_close(writer);
	assert_int_equal(store_wait_events(f->st, last, 30000, &e), 1);
}

static void test_backup_is_pg_dump_s_job(void **state)
{
	struct fixture *f = *state;
	struct err e = { 0 };

	assert_int_equal(store_backup(f->st, "/tmp/never-written.db", &e), -1);
	assert_string_equal(e.code, "unsupported");
	assert_int_equal(access("/tmp/never-written.db", F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_events_committed_late_are_not_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_skips_accounts_locked_by_another_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_page_commit_is_two_round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_refused_until_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passwords_never_in_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnects_after_the_server_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_is_pg_dump_s_job, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
