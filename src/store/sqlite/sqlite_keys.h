/*
 * sqlite_keys.h — the key SQLite's messages table finds a remote id by.
 * Part of the SQLite store (sqlite_connection.c); the store's unit tests
 * include it too, to make keys collide on purpose.
 */
#ifndef INBOXSYNC_SQLITE_KEYS_H
#define INBOXSYNC_SQLITE_KEYS_H

#include <stdint.h>

/* The 64-bit key a message's remote id is indexed by (messages.remote_key,
 * migration 005): SipHash-2-4 of the id, the same in C and in the SQL
 * function inboxsync_remote_key(text) every connection has. Two ids with
 * the same key in one account (chance about n^2 / 2^65) are told apart by
 * the id itself: the second is stored with remote_key NULL, and every
 * lookup matches `(remote_key = K OR remote_key IS NULL) AND remote_id =
 * ID`, so neither is ever lost or taken for the other. */
int64_t sq_remote_key(const char *remote_id);
/* The bits of the key kept (all by default): tests narrow it so that ids
 * collide often. Set before a store is opened, never changed after. */
extern uint64_t sq_remote_key_mask;

#endif
