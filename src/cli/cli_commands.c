/*
 * cli_commands.c — the table of every inboxsync command. Adding a command
 * is one line here plus its `struct cli_command` in a cmd_*.c file.
 */
#include "cli/cli.h"

extern const struct cli_command cli_provider_set, cli_provider_show,
	cli_provider_check;
extern const struct cli_command cli_account_add, cli_account_list,
	cli_account_show, cli_account_remove, cli_account_authorize,
	cli_account_test, cli_account_stop;
extern const struct cli_command cli_folders_fetch, cli_folders_list,
	cli_folders_select, cli_folders_unselect;
extern const struct cli_command cli_sync, cli_messages_list, cli_messages_show,
	cli_messages_attachment, cli_messages_mark, cli_messages_move,
	cli_messages_delete;
extern const struct cli_command cli_send, cli_outbox_list, cli_outbox_retry,
	cli_outbox_remove;
extern const struct cli_command cli_migrate, cli_serve, cli_demo;
extern const struct cli_command cli_config_check, cli_config_sample;
extern const struct cli_command cli_backup, cli_key_rotate;
extern const struct cli_command cli_user_add, cli_user_list, cli_user_passwd,
	cli_user_remove, cli_token_create, cli_token_list, cli_token_revoke;

const struct cli_command *const cli_commands[] = {
	&cli_provider_set,
	&cli_provider_show,
	&cli_provider_check,
	&cli_account_add,
	&cli_account_list,
	&cli_account_show,
	&cli_account_authorize,
	&cli_account_test,
	&cli_account_stop,
	&cli_account_remove,
	&cli_folders_fetch,
	&cli_folders_list,
	&cli_folders_select,
	&cli_folders_unselect,
	&cli_sync,
	&cli_messages_list,
	&cli_messages_show,
	&cli_messages_attachment,
	&cli_messages_mark,
	&cli_messages_move,
	&cli_messages_delete,
	&cli_send,
	&cli_outbox_list,
	&cli_outbox_retry,
	&cli_outbox_remove,
	&cli_serve,
	&cli_demo,
	&cli_user_add,
	&cli_user_list,
	&cli_user_passwd,
	&cli_user_remove,
	&cli_token_create,
	&cli_token_list,
	&cli_token_revoke,
	&cli_migrate,
	&cli_backup,
	&cli_key_rotate,
	&cli_config_check,
	&cli_config_sample,
	NULL,
};
