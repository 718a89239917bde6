/*
 * key_rotation.h — re-encrypting every stored secret under a new key
 * (`inboxsync key rotate`). The vault keeps the old and the new key
 * readable while it runs (vault.h), each secret is rewritten by compare
 * and swap (store_replace_sealed), and the old key leaves the disk only
 * once no secret needs it: killed at any point, every secret stays
 * readable and running it again resumes where it stopped.
 */
#ifndef INBOXSYNC_KEY_ROTATION_H
#define INBOXSYNC_KEY_ROTATION_H

#include <stdbool.h>
#include "inboxsync/err.h"
#include "inboxsync/store.h"
#include "inboxsync/vault.h"

struct key_rotation_report {
	char old_id[VAULT_KEY_ID_LEN + 1];
	char new_id[VAULT_KEY_ID_LEN + 1];
	bool resumed;              /* an interrupted rotation was continued */
	bool no_key;               /* no key yet and nothing sealed: nothing to do */
	long long rewritten;       /* secrets sealed again with the new key */
	long long changed;         /* rewritten meanwhile by another process */
	long long unreadable;      /* secrets neither key opens */
	const char *unreadable_kind; /* what one of them is (static) */
};

/* Rotate the key of `v` over every sealed value of `st`: begin (or
 * resume) the rotation, re-seal in batches until no value outside the new
 * key is left, then finish (the new key becomes the key file) and make a
 * last pass for anything sealed with the old key meanwhile. Values
 * neither key opens stop it before the old key is dropped: -1 with
 * ERR_PERMANENT "vault_unreadable" (counted in the report); the rotation
 * then stays under way, both keys kept. Other errors as the store and the
 * vault give them. Blocks on the store. */
/* Without a key file and with nothing sealed there is nothing to rotate:
 * 0 with r->no_key. Crash points (crashpoint.h): vault:before_next_rename,
 * vault:after_next_key, vault:after_reseal (each value, inside its batch's
 * transaction), vault:after_batch, vault:before_finish, vault:after_finish. */
int key_rotation_run(struct store *st, struct vault *v,
		     struct key_rotation_report *r, struct err *e);

#endif
