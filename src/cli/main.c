/*
 * main.c — inboxsync command-line entry point (being built up).
 */
#include <stdio.h>

int main(void)
{
	puts("inboxsync " INBOXSYNC_VERSION);
	return 0;
}
