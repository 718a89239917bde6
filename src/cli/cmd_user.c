/*
 * cmd_user.c — `user add/list/passwd/remove` and `token create/list/revoke`
 * for the operator: the people who may use the server and the API tokens
 * their applications present. Passwords are read from a file or stdin
 * (never from the command line, where other users could see them); the
 * rules and the hashing are the service's (service_users.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "inboxsync/alloc.h"

/* Read a password from `path` or stdin: the first line, without its line
 * ending, at most SERVICE_PASSWORD_MAX bytes. */
static int read_password(const char *path, char *out, size_t n, struct err *e)
{
	FILE *f = path ? fopen(path, "r") : stdin;
	size_t len;

	out[0] = '\0';
	if (!f)
		return err_set(e, ERR_PERMANENT, "usage", "cannot read the password file "
			       "%s: %s", path, strerror(errno));
	if (!fgets(out, (int)n, f)) {
		if (path)
			fclose(f);
		return err_set(e, ERR_PERMANENT, "usage", "no password in %s",
			       path ? path : "standard input");
	}
	if (path)
		fclose(f);
	len = strcspn(out, "\r\n");
	if (out[len] == '\0' && len + 1 >= n) {
		memset(out, 0, n);
		return err_set(e, ERR_PERMANENT, "usage", "the password is longer than "
			       "%d bytes", SERVICE_PASSWORD_MAX);
	}
	out[len] = '\0';
	return 0;
}

/* --password-file F | --password-stdin into `pw`; exit code or -1. */
static int password_option(struct cli *cli, const char *file, bool from_stdin,
			   char *pw, size_t n)
{
	struct err e = { 0 };

	if (file && from_stdin)
		return cli_usage(cli, "give the password either with --password-file or "
				 "with --password-stdin, not both");
	if (!file && !from_stdin)
		return cli_usage(cli, "give the password with --password-file F or "
				 "--password-stdin (never on the command line)");
	if (read_password(file, pw, n, &e) < 0)
		return cli_fail(cli, &e);
	return -1;
}

static int cmd_user_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "admin", no_argument, NULL, 'a' },
		{ "password-file", required_argument, NULL, 'f' },
		{ "password-stdin", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct service_actor op = SERVICE_OPERATOR;
	const struct auth_env *env;
	const char *file = NULL;
	char pw[SERVICE_PASSWORD_MAX + 2];
	struct store_user u;
	struct err e = { 0 };
	bool admin = false, from_stdin = false;
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		switch (opt) {
		case 'a': admin = true; break;
		case 'f': file = optarg; break;
		case 's': from_stdin = true; break;
		case 'j': cli->json = true; break;
		}
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind + 1 != argc)
		return cli_usage(cli, "name the user: 'inboxsync user add USER "
				 "(--password-file F | --password-stdin)'");
	if ((rc = password_option(cli, file, from_stdin, pw, sizeof(pw))) >= 0)
		return rc;
	if (!(env = cli_env(cli))) {
		memset(pw, 0, sizeof(pw));
		return EXIT_FAILED;
	}
	rc = service_user_add(env, &op, argv[optind], pw, admin, &u, &e);
	memset(pw, 0, sizeof(pw));
	if (rc < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		cli_print_json(service_user_json(&u));
	else
		printf("User '%s' added%s.\n", u.name, u.admin ? " (administrator)" : "");
	store_user_clear(&u);
	return EXIT_OK;
}

static int cmd_user_list(struct cli *cli, int argc, char **argv)
{
	struct service_actor op = SERVICE_OPERATOR;
	const struct auth_env *env;
	struct store_user *list;
	struct err e = { 0 };
	size_t n;
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 0, "")) >= 0)
		return rc;
	if (!(env = cli_env(cli)))
		return EXIT_FAILED;
	if (service_user_list(env, &op, &list, &n, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json) {
		json_t *arr = jdoc_array();

		for (size_t i = 0; i < n; i++)
			jdoc_push(arr, service_user_json(&list[i]));
		cli_print_json(arr);
	} else {
		char c1[200];

		printf("%-32s %-6s %s\n", "USER", "ADMIN", "PASSWORD");
		for (size_t i = 0; i < n; i++)
			printf("%s %-6s %s\n", cli_text_cell(list[i].name, 32, 1, c1, sizeof(c1)),
			       list[i].admin ? "yes" : "no",
			       list[i].password_hash ? "set" : "none (cannot sign in)");
	}
	store_user_list_free(list, n);
	return EXIT_OK;
}

static int cmd_user_passwd(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'f' },
		{ "password-stdin", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct service_actor op = SERVICE_OPERATOR;
	const struct auth_env *env;
	const char *file = NULL;
	char pw[SERVICE_PASSWORD_MAX + 2];
	struct err e = { 0 };
	bool from_stdin = false;
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		if (opt == 'f')
			file = optarg;
		else if (opt == 's')
			from_stdin = true;
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind + 1 != argc)
		return cli_usage(cli, "name the user whose password to set");
	if ((rc = password_option(cli, file, from_stdin, pw, sizeof(pw))) >= 0)
		return rc;
	if (!(env = cli_env(cli))) {
		memset(pw, 0, sizeof(pw));
		return EXIT_FAILED;
	}
	rc = service_user_passwd(env, &op, argv[optind], pw, &e);
	memset(pw, 0, sizeof(pw));
	if (rc < 0)
		return cli_fail(cli, &e);
	if (!cli->json)
		printf("Password of '%s' changed; their web sessions have ended.\n",
		       argv[optind]);
	else
		cli_print_json(jdoc_pack("{s:s,s:b}", "username", argv[optind], "ok", 1));
	return EXIT_OK;
}

static int cmd_user_remove(struct cli *cli, int argc, char **argv)
{
	struct service_actor op = SERVICE_OPERATOR;
	const struct auth_env *env;
	struct err e = { 0 };
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 1, "USER")) >= 0)
		return rc;
	if (!(env = cli_env(cli)))
		return EXIT_FAILED;
	if (service_user_remove(env, &op, argv[optind], &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		cli_print_json(jdoc_pack("{s:s,s:b}", "username", argv[optind], "removed", 1));
	else
		printf("User '%s' removed with their accounts, mail, tokens and "
		       "webhooks.\n", argv[optind]);
	return EXIT_OK;
}

/* ---- tokens ------------------------------------------------------------------- */

static int cmd_token_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "label", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct service_actor op = SERVICE_OPERATOR;
	const struct auth_env *env;
	const char *label = "";
	char token[SERVICE_SECRET_LEN];
	struct store_token t;
	struct err e = { 0 };
	int opt, rc;

	while ((rc = cli_getopt(cli, argc, argv, "h", opts, &opt, NULL)) == 0 && opt != -1) {
		if (opt == 'l')
			label = optarg;
		else if (opt == 'j')
			cli->json = true;
	}
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind + 1 != argc)
		return cli_usage(cli, "name the user the token acts for");
	if (!(env = cli_env(cli)))
		return EXIT_FAILED;
	if (service_token_create(env, &op, argv[optind], label, &t, token, &e) < 0)
		return cli_fail(cli, &e);
	/* The token alone on the first line, also with --json. */
	printf("%s\n", token);
	if (cli->json) {
		json_t *doc = service_token_json(&t, argv[optind]);

		jdoc_set(doc, "token", jdoc_string(token));
		cli_print_json(doc);
	} else {
		fprintf(stderr, "Token %lld for '%s' created. It is shown only now: keep "
			"it; send it as 'Authorization: Bearer TOKEN'.\n",
			(long long)t.id, argv[optind]);
	}
	memset(token, 0, sizeof(token));
	return EXIT_OK;
}

static int cmd_token_list(struct cli *cli, int argc, char **argv)
{
	struct service_actor op = SERVICE_OPERATOR;
	const struct auth_env *env;
	struct store_token *list;
	char (*names)[128];
	struct err e = { 0 };
	size_t n;
	int rc;

	if ((rc = cli_getopt_json_only(cli, argc, argv)) >= 0)
		return rc;
	if (optind + 1 < argc)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (!(env = cli_env(cli)))
		return EXIT_FAILED;
	if (service_token_list(env, &op, optind < argc ? argv[optind] : NULL, &list, &n,
			       &names, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json) {
		json_t *arr = jdoc_array();

		for (size_t i = 0; i < n; i++)
			jdoc_push(arr, service_token_json(&list[i], names[i]));
		cli_print_json(arr);
	} else {
		char c1[200], c2[200], t1[32], t2[32];

		printf("%-6s %-20s %-24s %-20s %s\n", "ID", "USER", "LABEL", "CREATED",
		       "LAST USED");
		for (size_t i = 0; i < n; i++)
			printf("%-6lld %s %s %-20s %s\n", (long long)list[i].id,
			       cli_text_cell(names[i], 20, 1, c1, sizeof(c1)),
			       cli_text_cell(list[i].label, 24, 1, c2, sizeof(c2)),
			       cli_time(list[i].created_at, t1), cli_time(list[i].last_used_at, t2));
	}
	free(list);
	free(names);
	return EXIT_OK;
}

static int cmd_token_revoke(struct cli *cli, int argc, char **argv)
{
	struct service_actor op = SERVICE_OPERATOR;
	const struct auth_env *env;
	struct err e = { 0 };
	char *end;
	long long id;
	int rc;

	if ((rc = cli_simple_args(cli, argc, argv, 1, "TOKEN_ID")) >= 0)
		return rc;
	id = strtoll(argv[optind], &end, 10);
	if (*end || id <= 0)
		return cli_usage(cli, "'%s' is not a token id (see 'inboxsync token list')",
				 argv[optind]);
	if (!(env = cli_env(cli)))
		return EXIT_FAILED;
	if (service_token_revoke(env, &op, id, &e) < 0)
		return cli_fail(cli, &e);
	if (cli->json)
		cli_print_json(jdoc_pack("{s:I,s:b}", "id", id, "revoked", 1));
	else
		printf("Token %lld revoked.\n", id);
	return EXIT_OK;
}

const struct cli_command cli_user_add = {
	"user", "add", cmd_user_add, "USER [--admin] (--password-file F | --password-stdin) [--json]",
	"Add a user who may sign in to the web UI and own mailbox accounts.\n\n"
	"The password is read from a file or standard input (its first line),\n"
	"never from the command line, and stored only as an argon2id hash.\n\n"
	"  --admin           may manage the provider and users\n"
	"  --password-file F read the password from F\n"
	"  --password-stdin  read the password from standard input",
};

const struct cli_command cli_user_list = {
	"user", "list", cmd_user_list, "[--json]",
	"List the users, which of them are administrators and who has a password.",
};

const struct cli_command cli_user_passwd = {
	"user", "passwd", cmd_user_passwd, "USER (--password-file F | --password-stdin)",
	"Set a user's password (their web sessions end).",
};

const struct cli_command cli_user_remove = {
	"user", "remove", cmd_user_remove, "USER [--json]",
	"Remove a user with everything they own: accounts and their mail, API\n"
	"tokens, sessions, webhooks. The built-in 'local' cannot be removed.",
};

const struct cli_command cli_token_create = {
	"token", "create", cmd_token_create, "USER [--label L] [--json]",
	"Create an API token for USER. The token is printed once, alone on the\n"
	"first line of standard output (also with --json); only a hash is kept.\n"
	"Applications send it as 'Authorization: Bearer TOKEN'.",
};

const struct cli_command cli_token_list = {
	"token", "list", cmd_token_list, "[USER] [--json]",
	"List API tokens (of one user, or of everyone): id, label, when made and\n"
	"last used. Tokens themselves are never shown again.",
};

const struct cli_command cli_token_revoke = {
	"token", "revoke", cmd_token_revoke, "TOKEN_ID [--json]",
	"Revoke an API token: it stops working at once.",
};
