/*
 * vault.h — encryption at rest for secrets (client secret, refresh and
 * access tokens) with libsodium secretbox. The key is 32 random bytes in
 * `<data dir>/secret.key` (mode 0600), created on first seal. Sealed text
 * is "v1:<key id>:<base64(nonce || ciphertext)>", so a wrong key is told
 * apart from damaged data. Plaintext never leaves this module except to the
 * caller that asked for it.
 *
 * Key rotation keeps two keys readable: the key file and `<key file>.next`
 * beside it, the new key. While the next key exists every vault seals
 * with it and unseals with either, so a rotation interrupted at any point
 * leaves every secret readable, and running it again resumes it. A vault
 * that meets a key id it does not know reads the key files again, so a
 * long-running process follows a rotation another process finished.
 */
#ifndef INBOXSYNC_VAULT_H
#define INBOXSYNC_VAULT_H

#include <stddef.h>
#include "inboxsync/err.h"

#define VAULT_KEY_ID_LEN 8            /* hex characters of a key id */
#define VAULT_PREFIX_LEN (3 + VAULT_KEY_ID_LEN + 1) /* "v1:<id>:" */

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

struct store;

/* The store whose sealed values this vault opens (not owned; NULL: none
 * known). While that store holds any sealed value, a missing key file is
 * never replaced by a new key, which would open none of them: sealing
 * fails with "vault_no_key" (FIX_RESTORE_BACKUP) instead. */
void vault_guard_store(struct vault *v, struct store *st);

/* Check the key file now instead of at first use (at start): a present
 * one must be a regular file of the right size that only its owner may
 * read ("vault" with FIX_PRIVATE_FILE when it is open to others; a key
 * file of another user is left to its first use). A missing one is 0
 * here: what needs a secret fails then with "vault_no_key" (and no new
 * key is made while the guarded store holds sealed values). */
int vault_check(struct vault *v, struct err *e);

/* ---- key rotation and backups ---------------------------------------- */

/* Start a rotation, or resume one that was interrupted: unless
 * `<key file>.next` exists, write a new random key there (through a
 * temporary file, synced, then renamed into place, so it is whole or
 * absent), then load it. `old_id` and `new_id` get the two key ids.
 * Returns 1 when a rotation was already under way, 0 when it starts now,
 * -1 with ERR_PERMANENT "vault..." (no key file, unwritable directory). */
int vault_rotate_begin(struct vault *v, char old_id[VAULT_KEY_ID_LEN + 1],
		       char new_id[VAULT_KEY_ID_LEN + 1], struct err *e);

/* The text every value sealed now starts with ("v1:<key id>:", the next
 * key's during a rotation) into `out`. Loads (or creates) the key. */
int vault_seal_prefix(struct vault *v, char out[VAULT_PREFIX_LEN + 1], struct err *e);

/* Finish a rotation: the next key becomes the key file (atomic rename,
 * the directory synced) and the old key is gone from the disk. This vault
 * still unseals what the old key sealed until it is freed. ERR_BUG when
 * no rotation was begun with this vault. */
int vault_rotate_finish(struct vault *v, struct err *e);

/* 1 when a rotation is under way (`<key file>.next` exists), else 0. */
int vault_rotation_pending(const struct vault *v);

/* Write a copy of the key to `dest` (a new file, mode 0600, synced), for a
 * backup that must travel with the store. Refused ("vault_rotating")
 * while a rotation is under way: the store then needs both keys. */
int vault_export_key(struct vault *v, const char *dest, struct err *e);

#endif
