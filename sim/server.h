/*
 * server.h — the libmicrohttpd front end: listens on 127.0.0.1, turns each
 * HTTP request into a struct sim_req, runs it through sim_handle() and
 * sends the struct sim_resp back (over HTTP, or HTTPS with GnuTLS), damaging the delivery when a body fault
 * (drop, slow, malformed, oversized) was injected. One thread per
 * connection; nothing sleeps while holding the world lock.
 */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include <stddef.h>
#include "sim.h"

struct sim_server;

struct simtls_files;

/* Start listening on 127.0.0.1:port (0 = any free port), over HTTPS with
 * `tls` (certificate and key PEM, which must outlive the server) or plain
 * HTTP when it is NULL. Returns the server, or NULL with a reason in
 * `why`. Sets w->base_url ("http[s]://127.0.0.1:PORT"). */
struct sim_server *simsrv_start(struct sim_world *w, unsigned port,
				const struct simtls_files *tls,
				char *why, size_t whylen);
/* The port actually bound. */
unsigned simsrv_port(const struct sim_server *s);
/* Stop accepting, finish or abort in-flight responses, free the server. */
void simsrv_stop(struct sim_server *s);

#endif
