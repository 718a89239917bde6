/*
 * empty.c — keeps the test-support library non-empty while it has no other
 * sources; holds nothing else.
 */
extern int inboxsync_testsupport_placeholder;
int inboxsync_testsupport_placeholder;
