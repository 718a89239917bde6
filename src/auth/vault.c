/*
 * vault.c — libsodium secretbox sealing of secrets (see vault.h).
 * The key file is created atomically (O_EXCL) with mode 0600; a key file
 * readable by others is refused rather than silently used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/vault.h"

#define KEY_FILE "secret.key"
#define PREFIX "v1:"
#define KEY_ID_HEX 8 /* 4 bytes of BLAKE2b(key), hex */

struct vault {
	char *path;
	int loaded;
	unsigned char key[crypto_secretbox_KEYBYTES];
	char key_id[KEY_ID_HEX + 1];
};

struct vault *vault_new(const char *data_dir)
{
	struct vault *v = xcalloc(1, sizeof(*v));

	v->path = xasprintf("%s/%s", data_dir, KEY_FILE);
	return v;
}

struct vault *vault_new_file(const char *key_file)
{
	struct vault *v = xcalloc(1, sizeof(*v));

	v->path = xstrdup(key_file);
	return v;
}

void vault_free(struct vault *v)
{
	if (!v)
		return;
	sodium_memzero(v->key, sizeof(v->key));
	free(v->path);
	free(v);
}

const char *vault_key_path(const struct vault *v)
{
	return v->path;
}

static void compute_key_id(struct vault *v)
{
	unsigned char h[4];

	crypto_generichash(h, sizeof(h), v->key, sizeof(v->key), NULL, 0);
	sodium_bin2hex(v->key_id, sizeof(v->key_id), h, sizeof(h));
}

static int read_key(struct vault *v, int fd, struct err *e)
{
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(e, ERR_PERMANENT, "vault",
			       "cannot use key file %s: not a regular file", v->path);
	if (st.st_mode & 077)
		return err_set(e, ERR_PERMANENT, "vault",
			       "key file %s is readable by other users (mode %03o); "
			       "run 'chmod 600 %s'", v->path,
			       (unsigned)(st.st_mode & 0777), v->path);
	n = read(fd, v->key, sizeof(v->key));
	if (n != (ssize_t)sizeof(v->key))
		return err_set(e, ERR_PERMANENT, "vault",
			       "key file %s is damaged (expected %zu bytes)",
			       v->path, sizeof(v->key));
	v->loaded = 1;
	compute_key_id(v);
	return 0;
}

/* Load the key; when `create` and the file is absent, make a new one. */
static int load_key(struct vault *v, int create, struct err *e)
{
	int fd, rc;

	if (v->loaded)
		return 0;
	if (sodium_init() < 0)
		return err_set(e, ERR_BUG, "vault", "libsodium failed to initialise");
	fd = open(v->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		fd = open(v->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST)
			return load_key(v, 0, e);
		if (fd < 0)
			return err_set(e, ERR_PERMANENT, "vault",
				       "cannot create key file %s: %s", v->path,
				       strerror(errno));
		randombytes_buf(v->key, sizeof(v->key));
		if (write(fd, v->key, sizeof(v->key)) != (ssize_t)sizeof(v->key) ||
		    fsync(fd) < 0) {
			close(fd);
			unlink(v->path);
			return err_set(e, ERR_PERMANENT, "vault",
				       "cannot write key file %s: %s", v->path,
				       strerror(errno));
		}
		close(fd);
		v->loaded = 1;
		compute_key_id(v);
		return 0;
	}
	if (fd < 0 && errno == ENOENT)
		return err_set(e, ERR_PERMANENT, "vault_no_key",
			       "the encryption key file %s is missing, so stored "
			       "secrets cannot be decrypted; restore it from backup, "
			       "or set the client secret again and re-authorize the "
			       "accounts", v->path);
	if (fd < 0)
		return err_set(e, ERR_PERMANENT, "vault", "cannot open key file %s: %s",
			       v->path, strerror(errno));
	rc = read_key(v, fd, e);
	close(fd);
	return rc;
}

char *vault_seal(struct vault *v, const char *plain, size_t len, struct err *e)
{
	unsigned char *box;
	size_t box_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	size_t b64_len;
	char *out;

	if (load_key(v, 1, e) < 0)
		return NULL;
	box = xmalloc(box_len);
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES,
			      (const unsigned char *)plain, len, box, v->key);
	b64_len = sodium_base64_ENCODED_LEN(box_len, sodium_base64_VARIANT_ORIGINAL);
	out = xmalloc(sizeof(PREFIX) + KEY_ID_HEX + 1 + b64_len);
	snprintf(out, sizeof(PREFIX) + KEY_ID_HEX + 2, PREFIX "%s:", v->key_id);
	sodium_bin2base64(out + strlen(out), b64_len, box, box_len,
			  sodium_base64_VARIANT_ORIGINAL);
	free(box);
	return out;
}

char *vault_unseal(struct vault *v, const char *sealed, struct err *e)
{
	const char *b64;
	unsigned char *box;
	size_t box_len, max;
	char *plain;

	if (!sealed || strncmp(sealed, PREFIX, sizeof(PREFIX) - 1) != 0 ||
	    strlen(sealed) < sizeof(PREFIX) - 1 + KEY_ID_HEX + 1 ||
	    sealed[sizeof(PREFIX) - 1 + KEY_ID_HEX] != ':') {
		err_set(e, ERR_PERMANENT, "vault_corrupt",
			"a stored secret is not in the expected encrypted form");
		return NULL;
	}
	if (load_key(v, 0, e) < 0)
		return NULL;
	if (strncmp(sealed + sizeof(PREFIX) - 1, v->key_id, KEY_ID_HEX) != 0) {
		err_set(e, ERR_PERMANENT, "vault_wrong_key",
			"a stored secret was encrypted with a different key "
			"(id %.8s) than the key file %s holds (id %s); restore the "
			"matching key file, or set the secret again and "
			"re-authorize", sealed + sizeof(PREFIX) - 1, v->path,
			v->key_id);
		return NULL;
	}
	b64 = sealed + sizeof(PREFIX) - 1 + KEY_ID_HEX + 1;
	max = strlen(b64);
	box = xmalloc(max + 1);
	if (sodium_base642bin(box, max, b64, strlen(b64), NULL, &box_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    box_len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
		free(box);
		err_set(e, ERR_PERMANENT, "vault_corrupt",
			"a stored secret is damaged (bad encoding)");
		return NULL;
	}
	size_t plain_len = box_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	plain = xmalloc(plain_len + 1);
	if (crypto_secretbox_open_easy((unsigned char *)plain,
				       box + crypto_secretbox_NONCEBYTES,
				       box_len - crypto_secretbox_NONCEBYTES, box,
				       v->key) != 0) {
		free(box);
		/* not NUL-terminated here: vault_free_plain's strlen would
		 * read past the end */
		sodium_memzero(plain, plain_len + 1);
		free(plain);
		err_set(e, ERR_PERMANENT, "vault_corrupt",
			"a stored secret failed authentication (damaged data)");
		return NULL;
	}
	plain[plain_len] = '\0';
	free(box);
	return plain;
}

void vault_free_plain(char *plain)
{
	if (!plain)
		return;
	sodium_memzero(plain, strlen(plain));
	free(plain);
}
