/*
 * admin.h — the /_sim admin and fault API (JSON, no token, loopback only).
 * admin.c owns the route table and the world/identity/ops routes;
 * admin_mail.c acts on mailboxes as another mail client would.
 */
#ifndef SIM_ADMIN_H
#define SIM_ADMIN_H

#include "http.h"
#include "sim.h"

typedef void admin_fn(struct sim_world *w, struct sim_req *rq,
		      struct sim_resp *rs);

/* admin_mail.c: rq->caps[0] is the mailbox e-mail; caps[1] an id. */
admin_fn admin_seed, admin_new_message, admin_patch_message,
	admin_move_message, admin_delete_message, admin_create_folder,
	admin_patch_folder, admin_delete_folder, admin_expire_delta,
	admin_dump, admin_list_messages;

/* Shared helpers (admin.c). */
/* Parse the JSON body (empty → {}); writes 400 and returns NULL on error. */
json_t *admin_body(struct sim_req *rq, struct sim_resp *rs);
/* 400/404 in Graph's error shape. */
void admin_error(struct sim_req *rq, struct sim_resp *rs, int status,
		 const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
