/*
 * fuzz_imap_replies.c — libFuzzer target for what the IMAP and SMTP probes
 * and SMTP submission make of a server's words (src/imap/imap_curl.c, the
 * libcurl sessions, and src/imap/imap_probe.c): any bytes as the lines
 * the server sent (fed to the probe's debug callback in pieces, through a
 * small ring so old lines are dropped), then the refusal found among them
 * (tagged NO/BAD, 4xx/5xx, a base64 SASL continuation) quoted in the
 * error for each kind of failure; the LIST answer counted; and the same
 * bytes as a server setting. The files are compiled into this target so
 * their static functions are reachable without a network.
 */
#include "../../src/imap/imap_curl.c"
#include "../../src/imap/imap_probe.c"

#include <stdint.h>
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const CURLcode failures[] = {
	CURLE_LOGIN_DENIED, CURLE_COULDNT_CONNECT, CURLE_SSL_CONNECT_ERROR,
	CURLE_WEIRD_SERVER_REPLY, CURLE_WRITE_ERROR,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, host[256];
	struct imap_curl p;
	struct err e;
	int port;

	if (size < 2)
		return 0;
	memset(&p, 0, sizeof(p));
	p.proto = data[0] & 1 ? "SMTP" : "IMAP";
	p.host = "mail.fuzz.example";
	p.port = data[0] & 1 ? 587 : 993;
	p.body_too_large = data[0] & 2;
	buf_init(&p.body, (size_t)4 << 20);
	buf_init(&p.server_lines, 512); /* small: the ring drops old lines */
	if (data[0] & 4) /* curl's own words may quote the server too */
		snprintf(p.errbuf, sizeof(p.errbuf), "%.*s", (int)(size - 2),
			 (const char *)data + 2);
	/* the server's lines arrive in pieces of up to 64 bytes */
	for (size_t off = 2; off < size; off += 1 + data[1] % 64) {
		size_t n = size - off < 1u + data[1] % 64 ? size - off : 1u + data[1] % 64;

		on_debug(NULL, CURLINFO_HEADER_IN, (char *)data + off, n, &p);
		on_body((char *)data + off, 1, n, &p);
	}
	err_clear(&e);
	must(imap_curl_fail(&p, (int)failures[(data[0] >> 3) % 5], "imap_auth",
			    "Usual causes: none.", &e) == -1);
	must_be_error(&e);
	must(count_list_lines(buf_str(&p.body)) >= 0);
	buf_free(&p.body);
	buf_free(&p.server_lines);

	text = fuzz_strdup(data + 2, size - 2);
	err_clear(&e);
	if (imap_parse_server(text, "outlook.office365.com", 993, host, sizeof(host),
			      &port, &e) == 0)
		must(host[0] && port >= 1 && port <= 65535);
	else
		must_be_error(&e);
	free(text);
	return 0;
}
