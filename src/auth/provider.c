/*
 * provider.c — Microsoft provider settings: defaults, transports,
 * validation, the "OAuth not configured" gate and a client secret given
 * outside the store (see provider.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/http.h"
#include "inboxsync/provider.h"

static const struct transport_info {
	const char *name;
	unsigned bit;
	const char *label;
} transports[] = {
	{ "graph", STORE_TRANSPORT_GRAPH, "Microsoft Graph" },
	{ "imap", STORE_TRANSPORT_IMAP, "IMAP OAuth2" },
};

#define N_TRANSPORTS (sizeof(transports) / sizeof(transports[0]))

void provider_defaults(struct store_provider *p)
{
	memset(p, 0, sizeof(*p));
	str_copy(p->name, sizeof(p->name), PROVIDER_MICROSOFT);
	str_copy(p->tenant, sizeof(p->tenant), "common");
	str_copy(p->login_url, sizeof(p->login_url), PROVIDER_DEFAULT_LOGIN_URL);
	str_copy(p->graph_url, sizeof(p->graph_url), PROVIDER_DEFAULT_GRAPH_URL);
	str_copy(p->imap_host, sizeof(p->imap_host), PROVIDER_DEFAULT_IMAP_HOST);
	p->imap_port = PROVIDER_DEFAULT_IMAP_PORT;
	str_copy(p->smtp_host, sizeof(p->smtp_host), PROVIDER_DEFAULT_SMTP_HOST);
	p->smtp_port = PROVIDER_DEFAULT_SMTP_PORT;
	p->enabled = true;
	p->transports = STORE_TRANSPORT_GRAPH | STORE_TRANSPORT_IMAP;
}

unsigned provider_transport_bit(const char *name)
{
	for (size_t i = 0; name && i < N_TRANSPORTS; i++)
		if (strcmp(transports[i].name, name) == 0)
			return transports[i].bit;
	return 0;
}

const char *provider_transport_label(const char *name)
{
	for (size_t i = 0; name && i < N_TRANSPORTS; i++)
		if (strcmp(transports[i].name, name) == 0)
			return transports[i].label;
	return name ? name : "?";
}

int provider_parse_transports(const char *list, unsigned *mask, struct err *e)
{
	char item[32];
	const char *p = list;

	*mask = 0;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		unsigned bit;

		if (n == 0 || n >= sizeof(item))
			return err_set(e, ERR_PERMANENT, "usage",
				       "bad transport list '%s': expected names "
				       "separated by commas, e.g. graph,imap", list);
		memcpy(item, p, n);
		item[n] = '\0';
		bit = provider_transport_bit(item);
		if (!bit)
			return err_set(e, ERR_PERMANENT, "usage",
				       "unknown transport '%s': choose graph or imap",
				       item);
		*mask |= bit;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!*mask)
		return err_set(e, ERR_PERMANENT, "usage",
			       "no transport given: choose graph, imap or both");
	return 0;
}

const char *provider_transports_str(unsigned mask)
{
	static const char *const names[] = { "", "graph", "imap", "graph,imap" };

	return names[mask & 3u];
}

static int check_port(int port, const char *what, struct err *e)
{
	if (port < 1 || port > 65535)
		return err_set(e, ERR_PERMANENT, "usage",
			       "%s port %d is out of range (1-65535)", what, port);
	return 0;
}

int provider_validate(const struct store_provider *p, struct err *e)
{
	if (!p->client_id[0])
		return err_set(e, ERR_PERMANENT, "usage",
			       "the client id is missing: give --client-id with the "
			       "Application (client) ID of the app registered in "
			       "Microsoft Entra");
	if (!p->tenant[0] || strpbrk(p->tenant, "/?#& "))
		return err_set(e, ERR_PERMANENT, "usage",
			       "bad tenant '%s': use common, organizations, consumers, "
			       "a tenant id or a domain", p->tenant);
	if (http_check_url(p->login_url, e) < 0) {
		str_copy(e->code, sizeof(e->code), "usage");
		return err_prefix(e, "login URL: ");
	}
	if (http_check_url(p->graph_url, e) < 0) {
		str_copy(e->code, sizeof(e->code), "usage");
		return err_prefix(e, "Graph URL: ");
	}
	if (check_port(p->imap_port, "IMAP", e) < 0 ||
	    check_port(p->smtp_port, "SMTP", e) < 0)
		return -1;
	if (!p->imap_host[0] || !p->smtp_host[0])
		return err_set(e, ERR_PERMANENT, "usage", "IMAP and SMTP hosts must not be empty");
	if (!(p->transports & (STORE_TRANSPORT_GRAPH | STORE_TRANSPORT_IMAP)))
		return err_set(e, ERR_PERMANENT, "usage",
			       "at least one transport (graph, imap) must be enabled");
	return 0;
}

/* Sealed; set once at start-up, read by every thread after. */
static char *secret_override;

void provider_set_secret_override(const char *sealed)
{
	free(secret_override);
	secret_override = xstrdup(sealed);
}

int provider_get(struct store *st, struct store_provider *out, struct err *e)
{
	int rc = store_get_provider(st, PROVIDER_MICROSOFT, out, e);

	if (rc > 0 && secret_override) {
		free(out->client_secret_sealed);
		out->client_secret_sealed = xstrdup(secret_override);
	}
	return rc;
}

int provider_require(struct store *st, const char *transport,
		     struct store_provider *out, struct err *e)
{
	struct store_provider p;
	unsigned bit = provider_transport_bit(transport);
	int rc = provider_get(st, &p, e);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		err_set(e, ERR_PERMANENT, "oauth_not_configured",
			"OAuth not configured: Microsoft is not set up as a provider "
			"yet (it needs an app registered in Microsoft Entra: client "
			"ID, client secret, redirect URI)");
		return err_set_fix(e, FIX_CONFIGURE_PROVIDER,
				   "enter the app's client ID, client secret and tenant");
	}
	if (!p.enabled) {
		store_provider_clear(&p);
		err_set(e, ERR_PERMANENT, "oauth_not_configured",
			"OAuth not configured: Microsoft is disabled as an OAuth "
			"provider");
		return err_set_fix(e, FIX_ENABLE_PROVIDER, NULL);
	}
	if (transport && !(p.transports & bit)) {
		const char *enabled = provider_transports_str(p.transports);

		store_provider_clear(&p);
		err_set(e, ERR_PERMANENT, "oauth_not_configured",
			"OAuth not configured: the %s transport is not enabled "
			"(enabled: %s)", provider_transport_label(transport), enabled);
		return err_set_fix(e, FIX_ENABLE_TRANSPORT, transport);
	}
	if (out)
		*out = p;
	else
		store_provider_clear(&p);
	return 0;
}
