/*
 * imap_send.c — sending over IMAP + SMTP, shaped for the outbox's
 * exactly-once rules (docs/sending.md, docs/imap-design.md):
 *   create_draft  APPEND to Drafts with \Draft (APPENDUID gives its id);
 *   send_draft    read the draft; if Sent already holds its Message-ID it
 *                 went out before: done. Else remove the draft (from here
 *                 on "not a draft any more" means "submitted or being
 *                 submitted"), submit over SMTP, then file the Sent copy
 *                 once (APPEND, unless the server files its own, as
 *                 Exchange Online does). The draft goes as the last step
 *                 before the SMTP transaction, when all it allocates is
 *                 allocated, and the Sent copy follows without allocating
 *                 on the way: running out of memory leaves the draft (not
 *                 sent) or the Sent copy (sent), never neither. A
 *                 submission that certainly did not happen puts the
 *                 draft back;
 *   test_send     an SMTP login that stops before MAIL FROM.
 * A refused SMTP login is tried once more with a fresh token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libetpan/uidplus.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/mime.h"
#include "imap/imap_internal.h"

static const struct imap_folder *folder_for(struct imap_driver *g, enum mail_role role,
					    struct err *e)
{
	const struct imap_folder *f;

	if (imap_driver_folders(g, false, e) < 0)
		return NULL;
	f = imap_folder_by_role(&g->folders, role);
	if (!f)
		err_set(e, ERR_PERMANENT, "no_folder", "the mailbox on %.200s has no %s "
			"folder (no SPECIAL-USE attribute or usual name marks one)",
			g->host, mail_role_label(role));
	return f;
}

/* APPEND `mime` to `mailbox` with `flags` (IMAP_FLAG_*): *uid gets its UID
 * (APPENDUID, else a search by Message-ID), 0 when unknown. */
static int append_message(struct imap_driver *g, const char *mailbox, const char *mime,
			  size_t len, unsigned flags, const char *imid,
			  uint32_t *uidvalidity, uint32_t *uid, struct err *e)
{
	struct mailimap_flag_list *list = mailimap_flag_list_new_empty();
	struct imap_session *s = &g->main;
	int r;

	*uid = *uidvalidity = 0;
	if (flags & IMAP_FLAG_SEEN)
		mailimap_flag_list_add(list, mailimap_flag_new_seen());
	if (flags & IMAP_FLAG_DRAFT)
		mailimap_flag_list_add(list, mailimap_flag_new_draft());
	if (imap_driver_session(g, e) < 0) {
		mailimap_flag_list_free(list);
		return -1;
	}
	imap_session_limits(s, 0, IMAP_SMALL_RESPONSE);
	r = mailimap_uidplus_append(s->imap, mailbox, list, NULL, mime, len, uidvalidity, uid);
	mailimap_flag_list_free(list);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "filing a message in", mailbox, false, e);
	if (*uid && *uidvalidity)
		return 0;
	/* no UIDPLUS: the newest message with this Message-ID and size */
	if (imid && imap_session_open(s, mailbox, true, true, e) == 0) {
		struct imap_found *found;
		size_t n;

		*uidvalidity = s->uidvalidity;
		if (imap_search_message_id(s, imid, &found, &n, e) == 0) {
			for (size_t i = n; i-- > 0 && !*uid;)
				if (found[i].size == (int64_t)len)
					*uid = found[i].uid;
			free(found);
		}
	}
	return 0;
}

int imap_op_create_draft(struct driver *d, const char *mime, size_t len,
			 char **draft_id, struct err *e)
{
	struct imap_driver *g = imap_of(d);
	const struct imap_folder *drafts = folder_for(g, MAIL_ROLE_DRAFTS, e);
	struct mime_envelope env;
	uint32_t validity, uid;
	int rc;

	*draft_id = NULL;
	if (!drafts)
		return -1;
	if (mime_envelope(mime, len, &env, e) < 0)
		return -1;
	rc = append_message(g, drafts->name, mime, len, IMAP_FLAG_DRAFT | IMAP_FLAG_SEEN,
			    env.message_id, &validity, &uid, e);
	mime_envelope_free(&env);
	if (rc < 0)
		return err_prefix(e, "saving the draft: ");
	if (!uid)
		return err_set(e, ERR_TRANSIENT, "draft_unknown", "the draft was saved in "
			       "%.200s but the server did not say under which UID; it is "
			       "looked up again", drafts->name);
	*draft_id = imap_id_format(drafts->name, validity, uid);
	return 0;
}

/* Is a message with `imid` in the Sent folder? 1 yes, 0 no, -1 error. */
static int in_sent(struct imap_driver *g, const char *sent, const char *imid,
		   struct err *e)
{
	struct imap_found *found;
	size_t n;

	if (imap_driver_open_mailbox(g, sent, true, true, e) < 0 ||
	    imap_search_message_id(&g->main, imid, &found, &n, e) < 0)
		return -1;
	free(found);
	return n > 0;
}

/* Run `call` with the source's token, and once more with a fresh one
 * when the SMTP server refuses the login (ERR_AUTH). */
typedef int (*smtp_call)(struct imap_driver *g, const char *token, void *ctx,
			 struct err *e);

static int with_token(struct imap_driver *g, smtp_call call, void *ctx, struct err *e)
{
	char *token = NULL, *rejected = NULL;
	int rc = -1;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (imap_driver_token(g, rejected, &token, e) < 0)
			break;
		rc = call(g, token, ctx, e);
		imap_secret_free(rejected);
		rejected = token;
		token = NULL;
		if (rc == 0 || e->class != ERR_AUTH)
			break;
	}
	imap_secret_free(rejected);
	return rc;
}

struct submission {
	const struct mime_envelope *env;
	const char *data;
	size_t len;
	const struct smtp_last_step *last_step;
	bool ambiguous;
};

static int submit_with(struct imap_driver *g, const char *token, void *ctx, struct err *e)
{
	struct submission *sub = ctx;

	return smtp_submit(g->smtp_host, g->smtp_port, g->ca_file, g->user, token, g->user,
			   (const char *const *)sub->env->rcpts, sub->env->n_rcpts, sub->data,
			   sub->len, sub->last_step, &sub->ambiguous, e);
}

/* Submit (the copy without Bcc when there is one), running `last_step`
 * just before the transaction. */
static int submit(struct imap_driver *g, const struct mime_envelope *env,
		  const char *mime, size_t len, const struct smtp_last_step *last_step,
		  bool *ambiguous, struct err *e)
{
	struct submission sub = {
		env, env->without_bcc ? env->without_bcc : mime,
		env->without_bcc ? env->without_bcc_len : len, last_step, false,
	};
	int rc = with_token(g, submit_with, &sub, e);

	*ambiguous = sub.ambiguous;
	return rc;
}

/* \Deleted + UID EXPUNGE of the draft (it stops being a draft). */
static int remove_draft(struct imap_driver *g, const char *mailbox, uint32_t uid,
			struct err *e)
{
	struct mailimap_flag_list *list = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *att;
	struct mailimap_set *set = imap_set_range(uid, uid);
	struct imap_session *s = &g->main;
	int r;

	if (imap_driver_open_mailbox(g, mailbox, false, false, e) < 0) {
		mailimap_flag_list_free(list);
		mailimap_set_free(set);
		return -1;
	}
	mailimap_flag_list_add(list, mailimap_flag_new_deleted());
	att = mailimap_store_att_flags_new_add_flags_silent(list);
	imap_session_limits(s, 0, IMAP_SMALL_RESPONSE);
	r = mailimap_uid_store(s->imap, set, att);
	mailimap_store_att_flags_free(att);
	if (r == MAILIMAP_NO_ERROR)
		r = (s->caps & IMAP_CAP_UIDPLUS) ? mailimap_uid_expunge(s->imap, set)
						  : MAILIMAP_NO_ERROR;
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_session_fail(s, r, "removing the draft from", mailbox, false, e);
	return 0;
}

/* The draft removed as the submission's last step (smtp_last_step), once
 * however often the login is tried. */
struct draft_removal {
	struct imap_driver *g;
	const char *mailbox;
	uint32_t uid;
	bool removed;
};

static int remove_draft_step(void *ctx, struct err *e)
{
	struct draft_removal *r = ctx;

	if (r->removed)
		return 0;
	if (remove_draft(r->g, r->mailbox, r->uid, e) < 0)
		return -1;
	r->removed = true;
	return 0;
}

/* After a submission: the Sent copy in `sent`, unless the server files
 * it. Sent did not hold it before the submission (send_draft looked), so
 * it is APPENDed straight away: until it is there nothing on the server
 * says the message went, so nothing may be allocated first. */
static void file_sent_copy(struct imap_driver *g, const char *sent, const char *mime,
			   size_t len, const char *imid)
{
	uint32_t validity, uid;
	struct err e;

	if (g->sent_copy == IMAP_SENT_COPY_SERVER)
		return;
	if (append_message(g, sent, mime, len, IMAP_FLAG_SEEN, imid, &validity, &uid, &e) < 0)
		/* the message went out: that is what counts; the copy is only
		 * missing from Sent */
		log_warn("imap", "sent %s, but filing its copy in Sent failed: %s", imid, e.msg);
}

int imap_op_send_draft(struct driver *d, const char *draft_id, struct err *e)
{
	struct imap_driver *g = imap_of(d);
	const struct imap_folder *sent = folder_for(g, MAIL_ROLE_SENT, e);
	char *mailbox = NULL;
	uint32_t validity, uid, v2, u2;
	struct mime_envelope env = { 0 };
	struct draft_removal removal = { g, NULL, 0, false };
	struct smtp_last_step last_step = { remove_draft_step, &removal };
	struct buf raw;
	bool found = false, ambiguous;
	int rc = -1, there;

	if (!sent)
		return -1;
	buf_init(&raw, g->max_message);
	if (imap_item_parse(draft_id, &mailbox, &validity, &uid, e) < 0)
		goto out;
	if (imap_driver_open_mailbox(g, mailbox, true, false, e) < 0)
		goto out;
	if (g->main.uidvalidity == validity &&
	    imap_fetch_raw(&g->main, uid, g->max_message, &raw, &found, e) < 0)
		goto out;
	if (!found) {
		err_set(e, ERR_TRANSIENT, "draft_gone", "the draft %.200s is no longer in "
			"%.200s; what happened to it is looked up", draft_id, mailbox);
		goto out;
	}
	if (mime_envelope(raw.data, raw.len, &env, e) < 0)
		goto out;
	if (!env.message_id) {
		err_set(e, ERR_PERMANENT, "bad_message", "the draft has no Message-ID");
		goto out;
	}
	there = in_sent(g, sent->name, env.message_id, e);
	if (there < 0)
		goto out;
	if (there) {
		/* already sent by an earlier attempt: only the draft is left over */
		if (remove_draft(g, mailbox, uid, e) < 0)
			log_warn("imap", "%s was sent before; its draft stays: %s",
				 env.message_id, e->msg);
		rc = 0;
		goto out;
	}
	removal.mailbox = mailbox;
	removal.uid = uid;
	if (submit(g, &env, raw.data, raw.len, &last_step, &ambiguous, e) < 0) {
		struct err pe;

		if (removal.removed && !ambiguous && append_message(g, mailbox, raw.data, raw.len,
						 IMAP_FLAG_DRAFT | IMAP_FLAG_SEEN, env.message_id,
						 &v2, &u2, &pe) < 0)
			log_warn("imap", "%s was not sent and its draft could not be put "
				 "back: %s", env.message_id, pe.msg);
		goto out;
	}
	file_sent_copy(g, sent->name, raw.data, raw.len, env.message_id);
	rc = 0;
out:
	mime_envelope_free(&env);
	buf_free(&raw);
	free(mailbox);
	return rc;
}

static int login_with(struct imap_driver *g, const char *token, void *ctx, struct err *e)
{
	struct imap_curl_target t = { "SMTP", "smtp", "smtps", SMTP_PORT_IMPLICIT_TLS,
				      g->smtp_host, g->smtp_port, g->ca_file, 0 };

	(void)ctx;
	return smtp_login_check(&t, g->user, token, e);
}

int imap_op_test_send(struct driver *d, struct err *e)
{
	return with_token(imap_of(d), login_with, NULL, e);
}
