/*
 * mailbox.h — one user's mailbox as compact data: folders, messages and the
 * per-folder change logs that delta queries read.
 *
 * Messages live in one array indexed by a stable number (the immutable id).
 * A seeded message is a small fixed struct whose content is regenerated on
 * demand from (batch seed, index); only messages created or edited through
 * an API carry a `struct sim_msg_ext` with their full content. Each folder
 * keeps its messages sorted by (receivedDateTime, number) so paging is a
 * binary search, and an append-only change log ordered by a mailbox-wide
 * sequence number. This file owns structure and bookkeeping only; content
 * (JSON, MIME) lives in msgcontent.c / msgjson.c / mime.c.
 */
#ifndef SIM_MAILBOX_H
#define SIM_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "sim.h"
#include "strmap.h"

enum sim_wk {
	WK_NONE = 0, WK_ROOT, WK_INBOX, WK_SENT, WK_DRAFTS, WK_DELETED,
	WK_ARCHIVE, WK_JUNK, WK__COUNT
};

/* Well-known name ("inbox") and display name ("Inbox") of `wk`. */
const char *mbx_wk_name(enum sim_wk wk);
const char *mbx_wk_display(enum sim_wk wk);
/* WK_* for a well-known name (case-insensitive), or WK_NONE. */
enum sim_wk mbx_wk_parse(const char *name);

enum chg_kind { CHG_ENTER = 1, CHG_UPDATE = 2, CHG_LEAVE = 3 };

/* One entry of a folder's change log. For CHG_LEAVE, `gen` is the REST-id
 * generation the message had while it was in the folder. */
struct sim_change {
	uint64_t seq;
	int64_t time;
	uint32_t msg;
	uint32_t gen;
	uint32_t kind;
	uint32_t pad;
};

struct sim_folder {
	uint32_t num;
	uint32_t parent;          /* SIM_NONE for the root */
	char *name;
	enum sim_wk wk;
	bool hidden;
	bool gone;
	uint32_t *idx;            /* message numbers sorted by (received, num) */
	size_t nidx, capidx;
	uint32_t unread;
	struct sim_change *log;   /* live entries are [loghead, nlog) */
	size_t loghead, nlog, caplog;
	uint64_t floor_seq;       /* history at or below this seq is forgotten */
	uint32_t generation;      /* bumped by expire-delta: old cursors → 410 */
	uint64_t fseq;            /* seq of its last folder-log entry */
};

/* Message flags (struct sim_msg.flags). */
#define MSG_READ      0x0001u
#define MSG_DRAFT     0x0002u
#define MSG_GONE      0x0004u
#define MSG_HASATT    0x0008u
#define MSG_FLAG_MASK 0x0030u  /* 0 notFlagged, 1 flagged, 2 complete */
#define MSG_FLAG_SHIFT 4
#define MSG_IMP_MASK  0x00c0u  /* 0 normal, 1 low, 2 high */
#define MSG_IMP_SHIFT 6

struct sim_msg_ext {
	json_t *fields;       /* content: subject, body, from, recipients, ...;
			       * private keys start with '_' (_inReplyTo,
			       * _references) */
	json_t *attachments;  /* array of fileAttachment objects, or NULL */
	char *mime;           /* original MIME when created from MIME, or NULL */
	size_t mime_len;
};

struct sim_msg {
	int64_t received;
	uint64_t fseq;        /* seq of its latest log entry in its folder */
	uint64_t enter_seq;   /* seq when it entered its current folder */
	uint32_t folder;
	uint32_t gen;         /* REST-id generation, bumped on every move */
	uint32_t modified;    /* lastModifiedDateTime (epoch seconds) */
	uint32_t seed_index;  /* index in its seed batch, or SIM_NONE */
	uint32_t version;     /* changeKey counter */
	uint16_t batch;       /* seed batch number + 1, 0 = not seeded */
	uint16_t flags;
	struct sim_msg_ext *ext;
};

/* A deterministic batch of seeded messages (see seedgen.h). */
struct sim_batch {
	uint64_t seed;
	uint32_t count;
	uint32_t base;        /* message number of index 0 */
	uint32_t folder;      /* target folder, or SIM_NONE = spread */
	bool sent;            /* target folder is Sent Items */
	int64_t end;          /* newest receivedDateTime */
	int64_t span;         /* seconds covered */
};

/* One entry of the mailbox's folder change log (mailFolders/delta). */
struct sim_fchange {
	uint64_t seq;
	uint32_t folder;
	uint32_t kind;        /* CHG_ENTER (created), CHG_UPDATE, CHG_LEAVE */
};

struct msgcache;

struct sim_mailbox {
	uint32_t num;
	struct sim_user *owner;
	const struct sim_config *cfg;
	struct sim_folder *folders;
	size_t nfolders, capfolders;
	struct sim_msg *msgs;
	size_t nmsgs, capmsgs;
	uint32_t *all;            /* every live message, sorted like folders */
	size_t nall, capall;
	uint64_t seq;             /* last change sequence number used */
	struct strmap imids;      /* internetMessageId → struct u32vec (non-seeded) */
	struct sim_batch *batches;
	size_t nbatches;
	struct sim_fchange *flog;
	size_t nflog, capflog;
	uint32_t fgeneration;
	size_t live;
	struct msgcache *render_cache;  /* rendered seeded messages (msgcache.h) */
};

/* Create a mailbox with the root and the well-known folders. */
struct sim_mailbox *mbx_new(uint32_t num, struct sim_user *owner,
			    const struct sim_config *cfg);
void mbx_free(struct sim_mailbox *mb);

/* Folder by number (NULL when out of range or deleted). */
struct sim_folder *mbx_folder(struct sim_mailbox *mb, uint32_t num);
/* Folder number of a well-known folder. */
uint32_t mbx_wk(const struct sim_mailbox *mb, enum sim_wk wk);
/* Child of `parent` named `name` (case-insensitive), or SIM_NONE. */
uint32_t mbx_child(struct sim_mailbox *mb, uint32_t parent, const char *name);
/* Folder by display path below the root ("Inbox/Projects"), or SIM_NONE. */
uint32_t mbx_folder_by_path(struct sim_mailbox *mb, const char *path);
/* Display path of a folder (heap), "" for the root. */
char *mbx_folder_path(struct sim_mailbox *mb, uint32_t num);
/* Number of live child folders (hidden ones counted only if asked). */
uint32_t mbx_child_count(struct sim_mailbox *mb, uint32_t num,
			 bool include_hidden);

/* Create a folder; returns its number, or SIM_NONE when a sibling has the
 * same name. */
uint32_t mbx_folder_create(struct sim_mailbox *mb, uint32_t parent,
			   const char *name, bool hidden);
/* Rename; -1 when a sibling already has that name. */
int mbx_folder_rename(struct sim_mailbox *mb, uint32_t num, const char *name);
/* Move under a new parent; -1 on a name clash or a cycle. */
int mbx_folder_move(struct sim_mailbox *mb, uint32_t num, uint32_t parent);
/* Delete a folder, its subfolders and their messages. */
void mbx_folder_delete(struct sim_mailbox *mb, uint32_t num);

/* Free a message's extended content (NULL-safe). */
void mbx_ext_free(struct sim_msg_ext *ext);

/* Message by number (NULL when out of range or gone). Pointers into the
 * message array are invalidated by mbx_msg_add and mbx_add_batch. */
struct sim_msg *mbx_msg(struct sim_mailbox *mb, uint32_t num);
/* Add a message (takes ownership of ext, may be NULL for seeded ones);
 * logs its arrival. Returns the message number. */
uint32_t mbx_msg_add(struct sim_mailbox *mb, uint32_t folder,
		     int64_t received, uint16_t flags,
		     struct sim_msg_ext *ext);
/* Record that a message changed (new changeKey, lastModified, log entry). */
void mbx_msg_touch(struct sim_mailbox *mb, uint32_t num);
/* Set or clear MSG_READ keeping unread counts right (no log entry). */
void mbx_msg_set_read(struct sim_mailbox *mb, uint32_t num, bool is_read);
/* Move to another folder: new REST id, leave/enter log entries. */
void mbx_msg_move(struct sim_mailbox *mb, uint32_t num, uint32_t folder);
/* Move to `folder` with a new receivedDateTime (a draft being sent):
 * keeps the message number (immutable id), new REST id. */
void mbx_msg_resend(struct sim_mailbox *mb, uint32_t num, uint32_t folder,
		    int64_t received);
/* Remove for good (logs the departure, frees content). */
void mbx_msg_destroy(struct sim_mailbox *mb, uint32_t num);
/* Register the internetMessageId of a non-seeded message. */
void mbx_imid_add(struct sim_mailbox *mb, const char *imid, uint32_t num);
/* Message numbers registered under `imid` (may be 0). */
size_t mbx_imid_lookup(struct sim_mailbox *mb, const char *imid,
		       const uint32_t **nums);

/* Append `count` seeded messages. `folder_of(i)` gives each one's folder;
 * `received_of(i)` its time; `flags_of(i)` its flags. When `log` is true
 * their arrival is logged (runtime seeding), else they are pre-existing. */
struct seed_plan {
	void *ctx;
	uint32_t (*folder_of)(void *ctx, uint32_t i);
	int64_t (*received_of)(void *ctx, uint32_t i);
	uint16_t (*flags_of)(void *ctx, uint32_t i);
};
uint16_t mbx_add_batch(struct sim_mailbox *mb, const struct sim_batch *b,
		       const struct seed_plan *plan, bool log);

/* Position helpers over a sorted index (folder->idx or mb->all): the first
 * position whose key is > (received, num) — or >= when `inclusive`. */
size_t mbx_upper(struct sim_mailbox *mb, const uint32_t *idx, size_t n,
		 int64_t received, uint32_t num, bool inclusive);

/* Folder change log used by mailFolders/delta. */
void mbx_flog(struct sim_mailbox *mb, uint32_t folder, uint32_t kind);

/* Invalidate delta cursors: one folder (bump its generation) or, with
 * SIM_NONE, every folder and the folder-delta cursors. */
void mbx_expire_delta(struct sim_mailbox *mb, uint32_t folder);

/* Index of the first live change log entry with seq > `seq`. */
size_t mbx_log_after(const struct sim_folder *f, uint64_t seq);

#endif
