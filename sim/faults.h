/*
 * faults.h — injected faults: rules set by POST /_sim/faults that make the
 * next K matching requests (or all matching requests for T seconds) fail
 * or misbehave. Status faults (429, 503, 500) replace the response without
 * running the handler; body faults (drop, slow, malformed, oversized) run
 * the handler and then damage how its response is delivered. Thread-safe
 * (own mutex).
 */
#ifndef SIM_FAULTS_H
#define SIM_FAULTS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

enum fault_kind {
	FAULT_NONE = 0, FAULT_429, FAULT_503, FAULT_500, FAULT_DROP,
	FAULT_SLOW, FAULT_MALFORMED, FAULT_OVERSIZED
};

/* What the server must do to one response. */
struct fault_hit {
	enum fault_kind kind;
	long retry_after;     /* seconds, -1 = no Retry-After */
	long delay_ms;        /* slow: pause between chunks */
	long bytes;           /* drop: bytes sent before closing; slow: chunk
			       * size; oversized: total body size */
};

struct faults;

struct faults *flt_new(void);
void flt_free(struct faults *f);

/* Add a rule from its JSON form (see sim/README.md). Returns 0, or -1 with
 * a message in `why`. */
int flt_add(struct faults *f, const json_t *rule, char *why, size_t whylen);
/* Remove every rule. */
void flt_clear(struct faults *f);
/* The active rules as JSON (new reference). */
json_t *flt_to_json(struct faults *f);

/* Find the first rule matching (path, query, mailbox email or NULL) and
 * consume one use of it. `inner` requests ($batch items) only match status
 * faults. Returns true and fills `hit` when one applies. */
bool flt_match(struct faults *f, const char *path, const char *query,
		  const char *mailbox, bool inner, struct fault_hit *hit);

/* Name of a kind ("429", "drop", ...). */
const char *flt_kind_name(enum fault_kind k);

#endif
