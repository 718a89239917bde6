/*
 * provider.h — the administrator's Microsoft provider settings: defaults,
 * validation, the transport list, and the "OAuth not configured" check
 * every mailbox action makes first (naming what the administrator must
 * set). Reads and writes through store.h; secrets stay sealed.
 */
#ifndef INBOXSYNC_PROVIDER_H
#define INBOXSYNC_PROVIDER_H

#include "inboxsync/err.h"
#include "inboxsync/store.h"

#define PROVIDER_MICROSOFT "microsoft"
#define PROVIDER_DEFAULT_LOGIN_URL "https://login.microsoftonline.com"
#define PROVIDER_DEFAULT_GRAPH_URL "https://graph.microsoft.com/v1.0"
#define PROVIDER_DEFAULT_IMAP_HOST "outlook.office365.com"
#define PROVIDER_DEFAULT_IMAP_PORT 993
#define PROVIDER_DEFAULT_SMTP_HOST "smtp.office365.com"
#define PROVIDER_DEFAULT_SMTP_PORT 587

/* Fill `p` with the defaults of INTERFACE.md (tenant common, global cloud
 * endpoints, both transports, enabled) and no client id or secret. */
void provider_defaults(struct store_provider *p);

/* Parse "graph,imap" into STORE_TRANSPORT_* bits. Errors "usage". */
int provider_parse_transports(const char *list, unsigned *mask, struct err *e);

/* "graph,imap" for a mask (static storage). */
const char *provider_transports_str(unsigned mask);

/* Bit of a transport name ("graph"/"imap"), 0 when unknown. */
unsigned provider_transport_bit(const char *name);

/* Human name of a transport: "Microsoft Graph", "IMAP OAuth2". */
const char *provider_transport_label(const char *name);

/* Validate settings before saving: client id present, URLs absolute and
 * https (http only for loopback), ports in range, at least one transport.
 * Errors "usage" naming the field. */
int provider_validate(const struct store_provider *p, struct err *e);

/* A client secret this process was given outside the store (the
 * configuration's client_secret_file, or the systemd credential
 * client-secret), sealed with the process's key: it takes the place of the
 * stored secret wherever the settings are read for use (provider_get,
 * provider_require), never where they are saved. Copies `sealed`; NULL
 * forgets it. Call before any thread starts. */
void provider_set_secret_override(const char *sealed);

/* The Microsoft provider settings (store_get_provider) with the override
 * above applied. Returns 1 found, 0 not set up, -1 with `e`. */
int provider_get(struct store *st, struct store_provider *out, struct err *e);

/* The check every mailbox action makes: the provider exists, is enabled,
 * and (when `transport` is not NULL) that transport is enabled. Fills `out`
 * when not NULL (caller clears). Errors ERR_PERMANENT
 * "oauth_not_configured" whose message says what the administrator must
 * do. */
int provider_require(struct store *st, const char *transport,
		     struct store_provider *out, struct err *e);

#endif
