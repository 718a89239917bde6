/*
 * http_addr.c — which network addresses a URL that a user typed in (a
 * webhook) may reach (see http.h): the classification of IPv4 and IPv6
 * addresses into public and not, and a resolving check of a URL's host.
 * The client applies the same classification to the address it actually
 * connects to, so a name that resolves differently later gains nothing.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include "inboxsync/http.h"

struct v4_range {
	uint32_t net;
	int bits;
};

/* Not reachable on the public internet, or not meant to be. */
static const struct v4_range v4_private[] = {
	{ 0x00000000u, 8 },   /* "this" network */
	{ 0x0a000000u, 8 },   /* 10/8 */
	{ 0x64400000u, 10 },  /* 100.64/10 carrier-grade NAT */
	{ 0x7f000000u, 8 },   /* loopback */
	{ 0xa9fe0000u, 16 },  /* link-local (cloud metadata lives here) */
	{ 0xac100000u, 12 },  /* 172.16/12 */
	{ 0xc0000000u, 24 },  /* IETF protocol assignments */
	{ 0xc0000200u, 24 },  /* TEST-NET-1 */
	{ 0xc0a80000u, 16 },  /* 192.168/16 */
	{ 0xc6120000u, 15 },  /* benchmarking */
	{ 0xc6336400u, 24 },  /* TEST-NET-2 */
	{ 0xcb007100u, 24 },  /* TEST-NET-3 */
	{ 0xe0000000u, 4 },   /* multicast */
	{ 0xf0000000u, 4 },   /* reserved, broadcast */
};

static bool v4_is_private(uint32_t a)
{
	for (size_t i = 0; i < sizeof(v4_private) / sizeof(v4_private[0]); i++) {
		uint32_t mask = 0xffffffffu << (32 - v4_private[i].bits);

		if ((a & mask) == v4_private[i].net)
			return true;
	}
	return false;
}

static uint32_t v4_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool v6_is_private(const unsigned char *a)
{
	static const unsigned char zero[16];
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const unsigned char doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
		return true;                              /* :: and ::1 */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0 ||
	    memcmp(a, zero, 12) == 0)                     /* v4 inside v6 */
		return v4_is_private(v4_at(a + 12));
	if ((a[0] & 0xfe) == 0xfc)                        /* fc00::/7 unique local */
		return true;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)        /* fe80::/10 link-local */
		return true;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)        /* fec0::/10 site-local */
		return true;
	if (a[0] == 0xff)                                 /* multicast */
		return true;
	return memcmp(a, doc, 4) == 0;                    /* documentation */
}

bool http_addr_is_private(const struct sockaddr *sa)
{
	if (!sa)
		return true;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return v4_is_private(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		return v6_is_private(in6->sin6_addr.s6_addr);
	}
	return true; /* anything else (unix sockets...) is not the internet */
}

int http_check_public_url(const char *url, struct err *e)
{
	CURLU *u = curl_url();
	char *host = NULL;
	struct addrinfo hints, *res = NULL;
	int rc = -1, gai;
	size_t n;

	if (!u)
		return err_set(e, ERR_TRANSIENT, "oom", "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		err_set(e, ERR_PERMANENT, "bad_url", "'%.200s' is not an absolute URL", url);
		goto out;
	}
	n = strlen(host);
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') { /* an IPv6 literal */
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(host, NULL, &hints, &res);
	if (gai != 0) {
		err_set(e, ERR_PERMANENT, "bad_url", "the host %.200s does not resolve (%s)",
			host, gai_strerror(gai));
		goto out;
	}
	rc = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (http_addr_is_private(ai->ai_addr)) {
			rc = err_set(e, ERR_PERMANENT, "private_address", "%.200s is a "
				     "loopback, private or link-local address: the server "
				     "does not send to those unless it runs with "
				     "--allow-private-webhooks", host);
			break;
		}
	}
	freeaddrinfo(res);
out:
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}
