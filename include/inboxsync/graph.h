/*
 * graph.h — the Microsoft Graph mail driver (driver.h over Graph v1.0).
 * Every request carries Prefer: IdType="ImmutableId" and a client-request-id;
 * 401 triggers one token refresh and one retry; 429/503 become
 * ERR_THROTTLED/ERR_TRANSIENT with Retry-After; 410 / syncStateNotFound /
 * resyncRequired become ERR_RESYNC. Batches ($batch, <= 20 requests) keep
 * at most 4 requests of one mailbox running at once (dependsOn chains).
 */
#ifndef INBOXSYNC_GRAPH_H
#define INBOXSYNC_GRAPH_H

#include <stddef.h>
#include "inboxsync/driver.h"
#include "inboxsync/http.h"

struct graph_config {
	const char *base_url;          /* "https://graph.microsoft.com/v1.0" */
	struct http_client *http;      /* borrowed; one per thread */
	struct driver_auth auth;       /* token source (resource "graph") */
	size_t max_response;           /* 0 = 32 MiB per response */
	size_t default_page_size;      /* 0 = 100 */
	int max_concurrency;           /* 1..4, default 4 */
};

/* New Graph driver. Never NULL. Free with driver_free. */
struct driver *graph_driver_new(const struct graph_config *cfg);

/* The registry's opener (driver.h's driver_transport.open). Never fails. */
int graph_driver_open(const struct driver_endpoint *ep, struct driver **out,
		      struct err *e);

/* $select used for message metadata (for tests and docs). */
extern const char graph_message_select[];

#endif
