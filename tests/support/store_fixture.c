/*
 * store_fixture.c — fresh stores for tests (see store_fixture.h). The
 * SQLite case needs nothing but a file; a server backend is prepared by
 * its own helper, which the run names in $INBOXSYNC_TEST_STORE_URL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store_fixture.h"

int store_fixture_new(struct store_fixture *f, const char *tag)
{
	const char *url = getenv("INBOXSYNC_TEST_STORE_URL");

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/inboxsync-%s-XXXXXX", tag);
	if (!mkdtemp(f->dir)) {
		perror("mkdtemp");
		return -1;
	}
	if (url && *url) {
		fprintf(stderr, "store_fixture: INBOXSYNC_TEST_STORE_URL=%s is set, but "
			"this build has no server backend for tests\n", url);
		return -1;
	}
	snprintf(f->location, sizeof(f->location), "%s/store.db", f->dir);
	return 0;
}

void store_fixture_free(struct store_fixture *f)
{
	char cmd[256];

	if (!f->dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "store_fixture: could not remove %s\n", f->dir);
	memset(f, 0, sizeof(*f));
}
