/*
 * no_imap.c — the IMAP driver's entry point for the fuzz libraries: the
 * Graph targets link the driver registry (src/sync/driver.c), which names
 * the IMAP driver too, but no fuzz target opens a driver through it, so
 * the IMAP code (and libetpan) stays out of their build. Opening one says
 * so instead of pretending to work.
 */
#include "inboxsync/imap.h"

int imap_driver_open(const struct driver_endpoint *ep, struct driver **out,
		     struct err *e)
{
	(void)ep;
	*out = NULL;
	return err_set(e, ERR_BUG, "unsupported",
		       "the IMAP driver is not part of the fuzz build");
}
