/*
 * vault.h — encryption at rest for secrets (client secret, refresh and
 * access tokens) with libsodium secretbox. The key is 32 random bytes in
 * `<data dir>/secret.key` (mode 0600), created on first seal. Sealed text
 * is "v1:<key id>:<base64(nonce || ciphertext)>", so a wrong key is told
 * apart from damaged data. Plaintext never leaves this module except to the
 * caller that asked for it.
 */
#ifndef INBOXSYNC_VAULT_H
#define INBOXSYNC_VAULT_H

#include <stddef.h>
#include "inboxsync/err.h"

struct vault;

/* A vault for the key file in `data_dir`. Loads nothing yet: the key is read
 * (or created) on first use. Never NULL. */
struct vault *vault_new(const char *data_dir);

/* A vault for the key file at `key_file` (every node of a fleet shares one
 * key: --key-file). Never NULL. */
struct vault *vault_new_file(const char *key_file);

/* Wipe the key from memory and free. NULL-safe. */
void vault_free(struct vault *v);

/* Encrypt `len` bytes of `plain` into a fresh sealed string (caller frees).
 * Creates the key file (0600) when absent. Returns NULL with ERR_PERMANENT
 * "vault" when the key file cannot be created or read. */
char *vault_seal(struct vault *v, const char *plain, size_t len,
		 struct err *e);

/* Decrypt `sealed` into a fresh NUL-terminated string (caller frees with
 * vault_free_plain, which wipes it). Returns NULL with ERR_PERMANENT:
 *   "vault_no_key"    — the key file is missing (secrets cannot be read)
 *   "vault_wrong_key" — sealed with another key than the key file holds
 *   "vault_corrupt"   — not a sealed string, or it fails authentication */
char *vault_unseal(struct vault *v, const char *sealed, struct err *e);

/* Zero and free a plaintext returned by vault_unseal. NULL-safe. */
void vault_free_plain(char *plain);

/* Path of the key file (for messages). */
const char *vault_key_path(const struct vault *v);

#endif
