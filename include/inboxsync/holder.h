/*
 * holder.h — names of lease holders (sync leases, the refresh lock) that
 * say where the holder runs: "HOST:PID:TAG", so that a lease left behind by
 * a process that died on this host (SIGKILL, a crash, the power button of
 * a laptop) can be taken over at once instead of after its expiry. Names
 * with a node prefix ("NODE/HOST:PID:TAG", serve in a fleet) are never
 * judged: another machine may share the host name, and a fleet waits for
 * the lease TTL as the contract says.
 */
#ifndef INBOXSYNC_HOLDER_H
#define INBOXSYNC_HOLDER_H

#include <stdbool.h>
#include <stddef.h>

/* "[NODE/]HOST:PID:TAG" into `out` (size n; the host is cut to 63 bytes).
 * `node` may be NULL. */
void holder_name(char *out, size_t n, const char *node, const char *tag);

/* True when `holder` names a process of this host (no node prefix) that no
 * longer exists (and is not this process). */
bool holder_is_dead(const char *holder);

#endif
