/*
 * key_rotation.c — re-sealing every stored secret under a new key (see
 * key_rotation.h). Works in batches of values listed outside the new
 * key's prefix, so memory stays flat however many accounts there are and
 * each batch shrinks what is left; a value rewritten by someone else
 * meanwhile already carries the new key (every vault seals with it during
 * a rotation) and is not listed again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/crashpoint.h"
#include "inboxsync/key_rotation.h"
#include "inboxsync/log.h"

#define BATCH 256
/* Passes that rewrite nothing yet still find values to rewrite before
 * giving up. */
#define MAX_IDLE_PASSES 50

/* One batch of at most `max` values outside `prefix`: re-seal each, in
 * one transaction.
 * *listed and *bad get how many were listed and how many no key opens.
 * Returns how many were rewritten or found rewritten meanwhile, or -1. */
static long long rotate_batch(struct store *st, struct vault *v, const char *prefix,
			      size_t max, size_t *listed, long long *bad,
			      struct key_rotation_report *r, struct err *e)
{
	struct store_sealed *list;
	size_t n;
	long long progress = 0;

	*bad = 0;
	if (store_list_sealed(st, prefix, max, &list, &n, e) < 0)
		return -1;
	*listed = n;
	/* One transaction per batch: a batch is kept whole or not at all,
	 * and either way every value opens with one of the two keys. */
	if (store_begin(st, e) < 0) {
		store_sealed_list_free(list, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct err why = { 0 };
		char *plain = vault_unseal(v, list[i].sealed, &why), *sealed;
		bool replaced = false;

		if (!plain) {
			(*bad)++;
			r->unreadable_kind = list[i].kind;
			continue;
		}
		sealed = vault_seal(v, plain, strlen(plain), e);
		vault_free_plain(plain);
		if (!sealed || store_replace_sealed(st, &list[i], sealed, &replaced, e) < 0) {
			free(sealed);
			store_rollback(st);
			store_sealed_list_free(list, n);
			return -1;
		}
		free(sealed);
		if (replaced)
			r->rewritten++;
		else
			r->changed++;
		progress++;
		crashpoint("vault:after_reseal");
	}
	store_sealed_list_free(list, n);
	if (store_commit(st, e) < 0)
		return -1;
	crashpoint("vault:after_batch");
	return progress; /* 0: nothing left but what no key opens */
}

/* Re-seal until only values no key opens are left outside `prefix`
 * (each listing makes room for those, so they never hide the rest). A
 * value that keeps coming back under the old key means a process that
 * seals with the old key all along: give up rather than loop. */
static int rotate_all(struct store *st, struct vault *v, const char *prefix,
		      struct key_rotation_report *r, struct err *e)
{
	size_t known_bad = 0;
	int idle = 0;

	for (;;) {
		long long before = r->rewritten, bad, got;
		size_t listed, max = BATCH + known_bad;

		got = rotate_batch(st, v, prefix, max, &listed, &bad, r, e);
		if (got < 0)
			return -1;
		if (got == 0 && listed < max) {
			r->unreadable = bad;
			return 0;
		}
		known_bad = (size_t)bad;
		if (got > 0 && r->rewritten == before && ++idle > MAX_IDLE_PASSES)
			return err_set(e, ERR_TRANSIENT, "vault_busy", "stored secrets "
				       "keep being rewritten with the old key by another "
				       "process; stop every inboxsync process that uses "
				       "this store and rotate again (both keys are kept)");
	}
}

/* No key file: fine when nothing was ever sealed (there is no key to
 * rotate yet), else the key is lost and the vault's error stands. */
static int nothing_sealed(struct store *st, struct key_rotation_report *r,
			  struct err *e)
{
	struct store_sealed *list;
	struct err saved = *e;
	size_t n;

	if (store_list_sealed(st, NULL, 1, &list, &n, e) < 0)
		return -1;
	store_sealed_list_free(list, n);
	if (n) {
		*e = saved;
		return -1;
	}
	r->no_key = true;
	err_clear(e);
	return 0;
}

int key_rotation_run(struct store *st, struct vault *v,
		     struct key_rotation_report *r, struct err *e)
{
	char prefix[VAULT_PREFIX_LEN + 1];
	int rc;

	memset(r, 0, sizeof(*r));
	rc = vault_rotate_begin(v, r->old_id, r->new_id, e);
	if (rc < 0 && e && strcmp(e->code, "vault_no_key") == 0)
		return nothing_sealed(st, r, e);
	if (rc < 0)
		return -1;
	crashpoint("vault:after_next_key");
	r->resumed = rc == 1;
	if (vault_seal_prefix(v, prefix, e) < 0)
		return -1;
	log_info("vault", "%s the rotation from key %s to key %s",
		 r->resumed ? "resuming" : "starting", r->old_id, r->new_id);
	if (rotate_all(st, v, prefix, r, e) < 0)
		return -1;
	if (r->unreadable)
		return err_set(e, ERR_PERMANENT, "vault_unreadable",
			       "%lld stored secrets (%s among them) cannot be opened "
			       "with the old key (%s) nor the new one (%s): the rotation "
			       "is not finished "
			       "and both keys are kept; restore the key file these "
			       "secrets were sealed with, or remove what holds them, then "
			       "rotate again", r->unreadable, r->unreadable_kind,
			       r->old_id, r->new_id);
	crashpoint("vault:before_finish");
	if (vault_rotate_finish(v, e) < 0)
		return -1;
	crashpoint("vault:after_finish");
	/* Anything another process sealed with the old key just before it
	 * saw the new one: this vault still holds the old key. */
	if (rotate_all(st, v, prefix, r, e) < 0)
		return -1;
	log_info("vault", "rotated to key %s: %lld secrets sealed again", r->new_id,
		 r->rewritten);
	return 0;
}
