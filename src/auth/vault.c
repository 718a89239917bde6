/*
 * vault.c — libsodium secretbox sealing of secrets (see vault.h).
 * The key file is created atomically (O_EXCL) with mode 0600; a key file
 * readable by others is refused rather than silently used. A key rotation
 * adds a second key beside it (<key file>.next) until every secret is
 * sealed with that key; a vault reads both, and seals with the newer.
 * A vault that knows its store never makes a new key while the store
 * holds sealed values: a key file gone missing is an error to fix, not a
 * reason to start afresh with secrets nobody can open.
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
#include "inboxsync/crashpoint.h"
#include "inboxsync/store.h"
#include "inboxsync/vault.h"

#define KEY_FILE "secret.key"
#define PREFIX "v1:"
#define KEY_ID_HEX VAULT_KEY_ID_LEN /* 4 bytes of BLAKE2b(key), hex */

struct vault_key {
	int loaded;
	unsigned char key[crypto_secretbox_KEYBYTES];
	char id[KEY_ID_HEX + 1];
};

struct vault {
	char *path;
	char *next_path;           /* <path>.next: a rotation's new key */
	struct vault_key cur;      /* the key file */
	struct vault_key next;     /* the rotation's key, once seen */
	struct vault_key retired;  /* the key file's former key, after a
				      rotation finished (in memory only) */
	struct store *store;       /* where the sealed values live, or NULL */
};

static struct vault *vault_at(char *path)
{
	struct vault *v = xcalloc(1, sizeof(*v));

	v->path = path;
	v->next_path = xasprintf("%s.next", path);
	return v;
}

struct vault *vault_new(const char *data_dir)
{
	return vault_at(xasprintf("%s/%s", data_dir, KEY_FILE));
}

struct vault *vault_new_file(const char *key_file)
{
	return vault_at(xstrdup(key_file));
}

void vault_free(struct vault *v)
{
	if (!v)
		return;
	sodium_memzero(&v->cur, sizeof(v->cur));
	sodium_memzero(&v->next, sizeof(v->next));
	sodium_memzero(&v->retired, sizeof(v->retired));
	free(v->path);
	free(v->next_path);
	free(v);
}

const char *vault_key_path(const struct vault *v)
{
	return v->path;
}

void vault_guard_store(struct vault *v, struct store *st)
{
	v->store = st;
}

static void compute_key_id(struct vault_key *k)
{
	unsigned char h[4];

	crypto_generichash(h, sizeof(h), k->key, sizeof(k->key), NULL, 0);
	sodium_bin2hex(k->id, sizeof(k->id), h, sizeof(h));
}

/* Read the key file open at `fd` (named `path`) into `k`. */
static int read_key(struct vault_key *k, const char *path, int fd, struct err *e)
{
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(e, ERR_PERMANENT, "vault",
			       "cannot use key file %s: not a regular file", path);
	if (st.st_mode & 077) {
		err_set(e, ERR_PERMANENT, "vault",
			"the key file %s is open to other users (mode %03o); "
			"inboxsync uses it only when its owner alone may read it",
			path, (unsigned)(st.st_mode & 0777));
		return err_set_fix(e, FIX_PRIVATE_FILE, path);
	}
	n = read(fd, k->key, sizeof(k->key));
	if (n != (ssize_t)sizeof(k->key))
		return err_set(e, ERR_PERMANENT, "vault",
			       "key file %s is damaged (expected %zu bytes)",
			       path, sizeof(k->key));
	k->loaded = 1;
	compute_key_id(k);
	return 0;
}

/* The key file is gone: the error, never a new key. */
static int missing_key(const struct vault *v, struct err *e)
{
	err_set(e, ERR_PERMANENT, "vault_no_key",
		"the encryption key file %s is missing, so the secrets in the "
		"store cannot be decrypted (a new key would open none of them); "
		"restore it from the backup, or set the client secret again and "
		"re-authorize the accounts", v->path);
	return err_set_fix(e, FIX_RESTORE_BACKUP, v->path);
}

/* True when the vault's store holds a sealed value (or cannot tell). */
static int store_holds_secrets(const struct vault *v)
{
	struct store_sealed *list = NULL;
	struct err ignored;
	size_t n = 0;

	if (!v->store)
		return 0;
	if (store_list_sealed(v->store, NULL, 1, &list, &n, &ignored) < 0)
		return 1;
	store_sealed_list_free(list, n);
	return n > 0;
}

/* Load the key file into `k`; when `create` and the file is absent (and
 * no sealed value waits for the old key), make a new one. */
static int load_key_file(struct vault *v, struct vault_key *k, int create,
			 struct err *e)
{
	int fd, rc, err;

	if (sodium_init() < 0)
		return err_set(e, ERR_BUG, "vault", "libsodium failed to initialise");
	fd = open(v->path, O_RDONLY | O_CLOEXEC);
	err = fd < 0 ? errno : 0; /* the store's calls below change errno */
	if (fd < 0 && err == ENOENT && create && store_holds_secrets(v))
		return missing_key(v, e);
	if (fd < 0 && err == ENOENT && create) {
		fd = open(v->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST)
			return load_key_file(v, k, 0, e);
		if (fd < 0)
			return err_set(e, ERR_PERMANENT, "vault",
				       "cannot create key file %s: %s", v->path,
				       strerror(errno));
		randombytes_buf(k->key, sizeof(k->key));
		if (write(fd, k->key, sizeof(k->key)) != (ssize_t)sizeof(k->key) ||
		    fsync(fd) < 0) {
			close(fd);
			unlink(v->path);
			return err_set(e, ERR_PERMANENT, "vault",
				       "cannot write key file %s: %s", v->path,
				       strerror(errno));
		}
		close(fd);
		k->loaded = 1;
		compute_key_id(k);
		return 0;
	}
	if (fd < 0 && err == ENOENT)
		return missing_key(v, e);
	if (fd < 0)
		return err_set(e, ERR_PERMANENT, "vault", "cannot open key file %s: %s",
			       v->path, strerror(err));
	rc = read_key(k, v->path, fd, e);
	close(fd);
	return rc;
}

static int load_key(struct vault *v, int create, struct err *e)
{
	return v->cur.loaded ? 0 : load_key_file(v, &v->cur, create, e);
}

int vault_check(struct vault *v, struct err *e)
{
	struct vault_key k = { 0 };
	struct stat st;
	int fd, rc;

	fd = open(v->path, O_RDONLY | O_CLOEXEC);
	/* A missing one is refused where a secret is needed (missing_key):
	 * reading a copy of the store without its key is fine. */
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return err_set(e, ERR_PERMANENT, "vault", "cannot open key file %s: %s",
			       v->path, strerror(errno));
	/* Another user's key file (a reader given access to a copy) is
	 * judged when it is used: reading commands never open it. */
	if (fstat(fd, &st) == 0 && st.st_uid != geteuid()) {
		close(fd);
		return 0;
	}
	rc = read_key(&k, v->path, fd, e);
	close(fd);
	sodium_memzero(&k, sizeof(k));
	return rc;
}

/* Pick up a rotation's next key when one exists (another process may
 * have started the rotation since this vault was made). 0 when there is
 * none or it was loaded; -1 when it exists but cannot be used. */
static int load_next(struct vault *v, struct err *e)
{
	int fd, rc;

	if (v->next.loaded)
		return 0;
	fd = open(v->next_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0
		       : err_set(e, ERR_PERMANENT, "vault", "cannot open key file %s: %s",
				 v->next_path, strerror(errno));
	rc = read_key(&v->next, v->next_path, fd, e);
	close(fd);
	return rc;
}

/* The loaded key with id `id` (KEY_ID_HEX characters), or NULL. */
static const struct vault_key *key_by_id(const struct vault *v, const char *id)
{
	const struct vault_key *keys[] = { &v->cur, &v->next, &v->retired };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i]->loaded && strncmp(keys[i]->id, id, KEY_ID_HEX) == 0)
			return keys[i];
	return NULL;
}

/* Read the key file again: a rotation that finished in another process
 * since this vault loaded it replaced it (the former key stays readable
 * here as `retired`). Done before every seal with the key file's key, so
 * nothing new is sealed with a key that is gone from the disk. */
static int follow_key_file(struct vault *v, struct err *e)
{
	struct vault_key fresh = { 0 };

	if (load_key_file(v, &fresh, 0, e) < 0)
		return -1;
	if (strcmp(fresh.id, v->cur.id) != 0) {
		v->retired = v->cur;
		v->cur = fresh;
	}
	sodium_memzero(&fresh, sizeof(fresh));
	return 0;
}

/* A key id not among the loaded ones: a rotation may have happened since
 * the keys were read. Read the next key and the key file again. *k gets
 * the key, NULL when none has the id; -1 with `e` when the key file
 * cannot be read any more. */
static int reload_for(struct vault *v, const char *id, const struct vault_key **k,
		      struct err *e)
{
	struct err ignored;

	if (load_next(v, &ignored) == 0 && (*k = key_by_id(v, id)))
		return 0;
	if (follow_key_file(v, e) < 0)
		return -1;
	if (v->next.loaded && strcmp(v->next.id, v->cur.id) == 0)
		sodium_memzero(&v->next, sizeof(v->next));
	*k = key_by_id(v, id);
	return 0;
}

char *vault_seal(struct vault *v, const char *plain, size_t len, struct err *e)
{
	unsigned char *box;
	size_t box_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	size_t b64_len;
	char *out;

	const struct vault_key *k;

	if (load_key(v, 1, e) < 0 || load_next(v, e) < 0 ||
	    (!v->next.loaded && follow_key_file(v, e) < 0))
		return NULL;
	/* During a rotation everything new is sealed with the new key. */
	k = v->next.loaded ? &v->next : &v->cur;
	box = xmalloc(box_len);
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES,
			      (const unsigned char *)plain, len, box, k->key);
	b64_len = sodium_base64_ENCODED_LEN(box_len, sodium_base64_VARIANT_ORIGINAL);
	out = xmalloc(sizeof(PREFIX) + KEY_ID_HEX + 1 + b64_len);
	snprintf(out, sizeof(PREFIX) + KEY_ID_HEX + 2, PREFIX "%s:", k->id);
	sodium_bin2base64(out + strlen(out), b64_len, box, box_len,
			  sodium_base64_VARIANT_ORIGINAL);
	free(box);
	return out;
}

char *vault_unseal(struct vault *v, const char *sealed, struct err *e)
{
	const struct vault_key *k;
	const char *b64, *id;
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
	id = sealed + sizeof(PREFIX) - 1;
	if (!(k = key_by_id(v, id)) && reload_for(v, id, &k, e) < 0)
		return NULL;
	if (!k) {
		err_set(e, ERR_PERMANENT, "vault_wrong_key",
			"a stored secret was encrypted with a different key "
			"(id %.8s) than the key file %s holds (id %s); restore the "
			"matching key file, or set the secret again and "
			"re-authorize", id, v->path, v->cur.id);
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
				       k->key) != 0) {
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
	xfree_secret(plain);
}

/* ---- key rotation and backups ------------------------------------------- */

/* Sync the directory that holds `path`, so a rename in it is durable. */
static int sync_dir_of(const char *path, struct err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = err_set(e, ERR_PERMANENT, "vault", "cannot sync the directory %s: %s",
			     dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

/* Write `k` to a new file `path` (mode 0600, synced); `exclusive` refuses
 * an existing file, else the key goes through `path`.tmp and a rename so
 * that `path` is either absent or whole. */
static int write_key_file(const char *path, const struct vault_key *k, int exclusive,
			  struct err *e)
{
	char *tmp = exclusive ? xstrdup(path) : xasprintf("%s.tmp", path);
	int fd, rc = -1;

	if (!exclusive)
		unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err_set(e, ERR_PERMANENT, "vault", "cannot create %s: %s", tmp,
			strerror(errno));
		goto out;
	}
	if (write(fd, k->key, sizeof(k->key)) != (ssize_t)sizeof(k->key) || fsync(fd) < 0) {
		err_set(e, ERR_PERMANENT, "vault", "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (!exclusive)
		crashpoint("vault:before_next_rename");
	if (!exclusive && rename(tmp, path) < 0) {
		err_set(e, ERR_PERMANENT, "vault", "cannot rename %s to %s: %s", tmp, path,
			strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = sync_dir_of(path, e);
out:
	free(tmp);
	return rc;
}

int vault_rotate_begin(struct vault *v, char old_id[VAULT_KEY_ID_LEN + 1],
		       char new_id[VAULT_KEY_ID_LEN + 1], struct err *e)
{
	int resumed;

	if (load_key(v, 0, e) < 0 || load_next(v, e) < 0)
		return -1;
	resumed = v->next.loaded;
	if (!resumed) {
		struct vault_key k = { 0 };

		randombytes_buf(k.key, sizeof(k.key));
		compute_key_id(&k);
		if (write_key_file(v->next_path, &k, 0, e) < 0) {
			sodium_memzero(&k, sizeof(k));
			return -1;
		}
		k.loaded = 1;
		v->next = k;
		sodium_memzero(&k, sizeof(k));
	}
	snprintf(old_id, VAULT_KEY_ID_LEN + 1, "%s", v->cur.id);
	snprintf(new_id, VAULT_KEY_ID_LEN + 1, "%s", v->next.id);
	return resumed;
}

int vault_seal_prefix(struct vault *v, char out[VAULT_PREFIX_LEN + 1], struct err *e)
{
	if (load_key(v, 1, e) < 0 || load_next(v, e) < 0)
		return -1;
	snprintf(out, VAULT_PREFIX_LEN + 1, PREFIX "%s:",
		 v->next.loaded ? v->next.id : v->cur.id);
	return 0;
}

int vault_rotate_finish(struct vault *v, struct err *e)
{
	if (!v->next.loaded || !v->cur.loaded)
		return err_set(e, ERR_BUG, "vault", "no key rotation was begun");
	if (rename(v->next_path, v->path) < 0)
		return err_set(e, ERR_PERMANENT, "vault", "cannot rename %s to %s: %s",
			       v->next_path, v->path, strerror(errno));
	if (sync_dir_of(v->path, e) < 0)
		return -1;
	v->retired = v->cur;
	v->cur = v->next;
	sodium_memzero(&v->next, sizeof(v->next));
	return 0;
}

int vault_rotation_pending(const struct vault *v)
{
	return access(v->next_path, F_OK) == 0;
}

int vault_export_key(struct vault *v, const char *dest, struct err *e)
{
	if (vault_rotation_pending(v))
		return err_set(e, ERR_PERMANENT, "vault_rotating", "a key rotation "
			       "is under way (%s exists): the store needs both keys "
			       "until it is finished; finish the rotation first",
			       v->next_path);
	if (load_key(v, 0, e) < 0)
		return -1;
	return write_key_file(dest, &v->cur, 1, e);
}
