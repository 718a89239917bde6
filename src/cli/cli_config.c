/*
 * cli_config.c — the settings every command runs with (config.h): which
 * configuration file (--config, $INBOXSYNC_CONFIG, else the system file
 * when it exists), then the environment, then the global flags; the data
 * directory's default; where the log goes; and the secrets the settings
 * point to (the database password for libpq, the client secret in place
 * of the stored one). Commands read cli->config; `config check` shows it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "inboxsync/alloc.h"
#include "inboxsync/config.h"
#include "inboxsync/log.h"
#include "inboxsync/provider.h"

static char *default_data_dir(void)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg)
		return xasprintf("%s/inboxsync", xdg);
	return xasprintf("%s/.local/share/inboxsync", home && *home ? home : ".");
}

/* The file to read: NULL for none. $INBOXSYNC_CONFIG set to "" means
 * none; the system file only counts when it exists. */
static const char *config_path(const struct cli *cli)
{
	const char *env = getenv("INBOXSYNC_CONFIG");

	if (cli->config_path)
		return cli->config_path;
	if (env)
		return *env ? env : NULL;
	return access(CONFIG_DEFAULT_PATH, F_OK) == 0 ? CONFIG_DEFAULT_PATH : NULL;
}

/* Replace *slot with a copy of `value`. */
static void set_text(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

static int is_postgresql(const char *location)
{
	return location && (strncmp(location, "postgresql://", 13) == 0 ||
			    strncmp(location, "postgres://", 11) == 0);
}

/* The PostgreSQL password from a file or credential reaches libpq through
 * its PGPASSWORD, set in this process only (it never shows in the process
 * list or in /proc/PID/environ, which keeps the environment it started
 * with). */
static int apply_database_password(const struct config *c, struct err *e)
{
	char *password;
	int rc;

	if (!is_postgresql(c->database))
		return 0;
	rc = config_read_secret(c, CONFIG_SECRET_DATABASE, &password, NULL, e);
	if (rc <= 0)
		return rc;
	log_add_secret(password);
	setenv("PGPASSWORD", password, 1);
	xfree_secret(password);
	return 0;
}

int cli_config_load(struct cli *cli)
{
	static const struct {
		const char *key;
		size_t offset;
	} flags[] = {
		{ "data_dir", offsetof(struct cli, data_dir) },
		{ "database", offsetof(struct cli, database) },
		{ "key_file", offsetof(struct cli, key_file) },
	};
	struct config *c = xcalloc(1, sizeof(*c));
	const char *path = config_path(cli);
	struct err e = { 0 };

	config_defaults(c);
	cli->config = c;
	if ((path && config_read_file(c, path, &e) < 0) || config_read_env(c, &e) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char **slot = (char **)((char *)cli + flags[i].offset);

		if (*slot && config_set(c, flags[i].key, *slot, CONFIG_FROM_FLAG, &e) < 0)
			goto fail;
	}
	if (cli->verbosity > 0)
		config_set(c, "log_level", "debug", CONFIG_FROM_FLAG, &e);
	if (!c->data_dir)
		c->data_dir = default_data_dir();
	set_text(&cli->data_dir, c->data_dir);
	set_text(&cli->database, c->database);
	set_text(&cli->key_file, c->key_file);
	if (apply_database_password(c, &e) < 0)
		goto fail;
	return 0;
fail:
	cli_fail(cli, &e);
	return -1;
}

void cli_config_free(struct cli *cli)
{
	if (!cli->config)
		return;
	config_free(cli->config);
	free(cli->config);
	cli->config = NULL;
	provider_set_secret_override(NULL);
}

int cli_config_client_secret(struct cli *cli, struct vault *v)
{
	static int done;
	struct err e = { 0 };
	char *secret, *sealed;
	int rc;

	if (done || !cli->config)
		return 0;
	done = 1;
	rc = config_read_secret(cli->config, CONFIG_SECRET_CLIENT, &secret, NULL, &e);
	if (rc <= 0) {
		if (rc < 0)
			cli_fail(cli, &e);
		return rc;
	}
	log_add_secret(secret);
	sealed = vault_seal(v, secret, strlen(secret), &e);
	xfree_secret(secret);
	if (!sealed) {
		cli_fail(cli, &e);
		return -1;
	}
	provider_set_secret_override(sealed);
	free(sealed);
	return 0;
}

void cli_config_start_log(const struct cli *cli)
{
	const struct config *c = cli->config;
	char *path;

	if (!c)
		return;
	if ((c->log_file && strcmp(c->log_file, "stderr") == 0) ||
	    (!c->log_file && log_use_journal())) {
		log_set_level(c->log_level);
		return;
	}
	path = c->log_file ? xstrdup(c->log_file)
			   : xasprintf("%s/inboxsync.log", cli->data_dir);
	/* A log file that cannot be opened leaves warnings on stderr. */
	if (log_set_file(path) == 0)
		log_set_level(c->log_level);
	free(path);
}
