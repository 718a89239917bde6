/*
 * holder.c — lease holder names and the check for a holder that died on
 * this host (holder.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "inboxsync/holder.h"

#define HOST_SHOWN 63

static void this_host(char host[HOST_SHOWN + 1])
{
	host[0] = '\0';
	if (gethostname(host, HOST_SHOWN) < 0)
		host[0] = '\0';
	host[HOST_SHOWN] = '\0';
}

void holder_name(char *out, size_t n, const char *node, const char *tag)
{
	char host[HOST_SHOWN + 1];

	this_host(host);
	snprintf(out, n, "%s%s%s:%ld:%s", node ? node : "", node ? "/" : "", host,
		 (long)getpid(), tag ? tag : "");
}

bool holder_is_dead(const char *holder)
{
	char host[HOST_SHOWN + 1], *end;
	size_t len;
	long pid;

	if (!holder || strchr(holder, '/'))
		return false;
	this_host(host);
	len = strlen(host);
	if (!len || strncmp(holder, host, len) != 0 || holder[len] != ':')
		return false;
	errno = 0;
	pid = strtol(holder + len + 1, &end, 10);
	if (errno || end == holder + len + 1 || *end != ':' || pid <= 0 ||
	    pid == (long)getpid())
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}
