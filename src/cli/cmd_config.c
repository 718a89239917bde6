/*
 * cmd_config.c — `config check`: the settings every command runs with,
 * each with where its value came from, after checking that the secrets
 * they point to can be read (their values are never shown); `config
 * sample`: a configuration file with every setting documented. The
 * settings themselves are read by cli_config.c before any command runs,
 * so a file with a mistake fails every command with the line to fix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "inboxsync/alloc.h"
#include "inboxsync/config.h"
#include "inboxsync/vault.h"

#define VALUE_MAX 1024

/* The value shown for key `i`: the setting, or for the few whose default
 * the command line works out (the store, the key) the effective one. */
static void effective_value(struct cli *cli, const struct config_key *k, size_t i,
			    char *out, size_t n)
{
	config_value_text(cli->config, i, out, n);
	if (*out)
		return;
	if (strcmp(k->name, "database") == 0) {
		char *path = cli_store_path(cli);

		snprintf(out, n, "%s", path);
		free(path);
	} else if (strcmp(k->name, "key_file") == 0) {
		snprintf(out, n, "%s", vault_key_path(cli_vault(cli)));
	}
}

struct secret_report {
	const char *name;
	enum config_secret which;
	int found;
	char *where;
};

static int check_secrets(struct cli *cli, struct secret_report *r, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		struct err e = { 0 };
		char *secret = NULL;

		r[i].found = config_read_secret(cli->config, r[i].which, &secret,
						&r[i].where, &e);
		xfree_secret(secret);
		if (r[i].found < 0) {
			cli_fail_stderr(cli, &e);
			rc = -1;
		}
	}
	return rc;
}

static void print_text(struct cli *cli, const struct secret_report *r, size_t nr)
{
	const struct config_key *keys;
	char value[VALUE_MAX];
	size_t n;

	keys = config_keys(&n);
	printf("# configuration file: %s\n", cli->config->file ? cli->config->file
							    : "none (defaults)");
	for (size_t i = 0; i < n; i++) {
		effective_value(cli, &keys[i], i, value, sizeof(value));
		if (*value)
			printf("%-24s = %s  # %s\n", keys[i].name, value,
			       config_source_name(cli->config->from[i]));
		else
			printf("%-24s =   # not set: %s\n", keys[i].name,
			       keys[i].dflt_help ? keys[i].dflt_help : "");
	}
	for (size_t i = 0; i < nr; i++)
		printf("# %s: %s%s\n", r[i].name, r[i].found > 0 ? "read from " : "",
		       r[i].found > 0 ? r[i].where : r[i].found < 0 ? "UNREADABLE"
						     : "not given");
}

/* A value as JSON of its type: numbers and booleans as such. */
static json_t *json_value(const struct config_key *k, const char *text)
{
	if (!*text)
		return jdoc_null();
	if (k->type == CONFIG_INT)
		return jdoc_int(strtoll(text, NULL, 10));
	if (k->type == CONFIG_BOOL)
		return jdoc_bool(strcmp(text, "true") == 0);
	return jdoc_string(text);
}

static void print_json(struct cli *cli, const struct secret_report *r, size_t nr,
		       bool ok)
{
	const struct config_key *keys;
	char value[VALUE_MAX];
	json_t *settings = jdoc_object(), *secrets = jdoc_object();
	size_t n;

	keys = config_keys(&n);
	for (size_t i = 0; i < n; i++) {
		effective_value(cli, &keys[i], i, value, sizeof(value));
		jdoc_set(settings, keys[i].name,
			 jdoc_pack("{s:o,s:s}", "value", json_value(&keys[i], value),
				   "source", config_source_name(cli->config->from[i])));
	}
	for (size_t i = 0; i < nr; i++)
		jdoc_set(secrets, r[i].name,
			 jdoc_pack("{s:b,s:o}", "set", r[i].found > 0, "from",
				   r[i].found > 0 ? jdoc_string(r[i].where) : jdoc_null()));
	cli_print_json(jdoc_pack("{s:b,s:o,s:o,s:o}", "valid", ok, "file",
				 cli->config->file ? jdoc_string(cli->config->file)
						   : jdoc_null(),
				 "settings", settings, "secrets", secrets));
}

static int cmd_config_check(struct cli *cli, int argc, char **argv)
{
	struct secret_report r[] = {
		{ "client_secret", CONFIG_SECRET_CLIENT, 0, NULL },
		{ "database_password", CONFIG_SECRET_DATABASE, 0, NULL },
	};
	size_t nr = sizeof(r) / sizeof(r[0]);
	int rc = cli_simple_args(cli, argc, argv, 0, "");
	bool ok;

	if (rc >= 0)
		return rc;
	ok = check_secrets(cli, r, nr) == 0;
	if (cli->json)
		print_json(cli, r, nr, ok);
	else
		print_text(cli, r, nr);
	for (size_t i = 0; i < nr; i++)
		free(r[i].where);
	if (!ok)
		return EXIT_FAILED;
	if (!cli->json && cli->verbosity >= 0)
		fprintf(stderr, "inboxsync: the configuration is valid\n");
	return EXIT_OK;
}

static int cmd_config_sample(struct cli *cli, int argc, char **argv)
{
	int rc = cli_simple_args(cli, argc, argv, 0, "");

	if (rc >= 0)
		return rc;
	config_write_sample(stdout);
	return EXIT_OK;
}

const struct cli_command cli_config_check = {
	"config", "check", cmd_config_check, "[--json]",
	"Check the settings and print the ones every command runs with.\n\n"
	"Reads the configuration file (--config FILE, else $INBOXSYNC_CONFIG,\n"
	"else " CONFIG_DEFAULT_PATH " when it exists), then the INBOXSYNC_*\n"
	"environment variables, then the global flags: each overrides the one\n"
	"before. Prints each setting with where its value came from, and\n"
	"whether the client secret and the database password were found (their\n"
	"files are read to check them; the values are never shown, and a\n"
	"password inside a database URL is masked). A mistake in the file\n"
	"fails every command (exit 1) with the line to fix.",
};

const struct cli_command cli_config_sample = {
	"config", "sample", cmd_config_sample, "",
	"Print a configuration file with every setting, its default and what\n"
	"it does, each commented out, ready to be edited (see inboxsync.conf(5)).",
};
