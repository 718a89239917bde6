/*
 * banned.h — functions the code does not use, made impossible to use
 * (git's banned.h): unbounded copies and formats, the non-reentrant
 * tokenizer, number parsing without error checks. Use str_copy, the buf
 * type, snprintf with its result checked, strtok_r or a plain loop, strtol
 * with an end pointer. Included by err.h, so by nearly every file.
 */
#ifndef INBOXSYNC_BANNED_H
#define INBOXSYNC_BANNED_H

/* The headers that declare them come first, so including them again
 * later (their guards skip the body) does not meet the poison. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(INBOXSYNC_ALLOW_BANNED)
#pragma GCC poison strcpy strcat sprintf vsprintf gets strtok atoi atol
#endif

#endif
