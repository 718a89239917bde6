/*
 * sched_internal.h — what the two schedulers of src/sync (sched.c for
 * `sync`, sched_service.c for `serve`) share: opening the store, vault and
 * HTTP client a worker thread works with.
 */
#ifndef INBOXSYNC_SCHED_INTERNAL_H
#define INBOXSYNC_SCHED_INTERNAL_H

#include "inboxsync/sched.h"

/* A worker's own store connection, vault (cfg->key_file, else the data
 * dir's key) and HTTP client (aborted by cfg->http_abort). */
int sched_env_open(const struct sched_config *cfg, struct auth_env *env, struct err *e);
void sched_env_close(struct auth_env *env);

#endif
