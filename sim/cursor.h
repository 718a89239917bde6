/*
 * cursor.h — what a delta $skiptoken / $deltatoken carries. The state lives
 * in the token (sealed with a MAC by ids_seal), not in the server, so any
 * number of clients can page independently; "expiry" is the folder's
 * generation (bumped by expire-delta) and its retained change history.
 */
#ifndef SIM_CURSOR_H
#define SIM_CURSOR_H

#include <stdbool.h>
#include <stdint.h>
#include "sim.h"

enum cursor_kind {
	CUR_INITIAL = 1,   /* paging the initial round: position in the index */
	CUR_CHANGES = 2,   /* paging a change round: position in the log */
	CUR_DELTA = 3,     /* a deltaLink: start a change round since `since` */
	CUR_FOLDERS_INITIAL = 4,
	CUR_FOLDERS_CHANGES = 5,
	CUR_FOLDERS_DELTA = 6,
};

#define CUR_DESC        0x01  /* $orderby=receivedDateTime desc */
#define CUR_FILTER      0x02  /* $filter=receivedDateTime ge|gt lo */
#define CUR_FILTER_INCL 0x04  /* ge (else gt) */
#define CUR_CT_SHIFT    4     /* changeType: 0 all, 1 created, 2 updated, 3 deleted */
#define CUR_CT_MASK     0x70

struct cursor {
	uint8_t kind;
	uint8_t flags;
	uint32_t mbox, folder, generation;
	uint64_t since;        /* round snapshot (initial) / window start */
	uint64_t upto;         /* change round: last seq of the window */
	uint64_t pos_seq;      /* change round: last log seq handled */
	int64_t pos_received;  /* initial: key of the last emitted message */
	uint32_t pos_num;      /* initial: ... its number (SIM_NONE = start) */
	uint32_t emitted;      /* initial with $filter: items so far */
	uint32_t top;          /* $top of the initial request (page size) */
	uint64_t select;       /* $select mask, 0 = default */
	int64_t filter_lo;
};

/* Encode into a sealed URL-safe token (heap). */
char *cursor_encode(const struct sim_world *w, const struct cursor *c);
/* Decode; -1 when the token is malformed or was not issued by us. */
int cursor_decode(const struct sim_world *w, const char *tok, struct cursor *c);

#endif
