/*
 * mailbox.c — folders, the message array, sorted folder indexes and change
 * logs (see mailbox.h). Every mutation that a delta query must see goes
 * through a function here so the change log cannot be forgotten.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "mailbox.h"
#include "msgcache.h"

struct u32vec {
	uint32_t *v;
	size_t n, cap;
};

static const struct {
	const char *name;
	const char *display;
} wk_table[WK__COUNT] = {
	[WK_NONE] = { "", "" },
	[WK_ROOT] = { "msgfolderroot", "Top of Information Store" },
	[WK_INBOX] = { "inbox", "Inbox" },
	[WK_SENT] = { "sentitems", "Sent Items" },
	[WK_DRAFTS] = { "drafts", "Drafts" },
	[WK_DELETED] = { "deleteditems", "Deleted Items" },
	[WK_ARCHIVE] = { "archive", "Archive" },
	[WK_JUNK] = { "junkemail", "Junk Email" },
};

const char *mbx_wk_name(enum sim_wk wk)
{
	return wk < WK__COUNT ? wk_table[wk].name : "";
}

const char *mbx_wk_display(enum sim_wk wk)
{
	return wk < WK__COUNT ? wk_table[wk].display : "";
}

enum sim_wk mbx_wk_parse(const char *name)
{
	for (int i = WK_ROOT; i < WK__COUNT; i++)
		if (name && strcasecmp(name, wk_table[i].name) == 0)
			return (enum sim_wk)i;
	return WK_NONE;
}

static uint32_t new_folder(struct sim_mailbox *mb, uint32_t parent,
			   const char *name, enum sim_wk wk, bool hidden)
{
	struct sim_folder *f;

	if (mb->nfolders == mb->capfolders) {
		mb->capfolders = mb->capfolders ? mb->capfolders * 2 : 16;
		mb->folders = xrealloc(mb->folders,
				       mb->capfolders * sizeof(*mb->folders));
	}
	f = &mb->folders[mb->nfolders];
	memset(f, 0, sizeof(*f));
	f->num = (uint32_t)mb->nfolders;
	f->parent = parent;
	f->name = xstrdup(name);
	f->wk = wk;
	f->hidden = hidden;
	mb->nfolders++;
	mbx_flog(mb, f->num, CHG_ENTER);
	return f->num;
}

struct sim_mailbox *mbx_new(uint32_t num, struct sim_user *owner,
			    const struct sim_config *cfg)
{
	struct sim_mailbox *mb = xcalloc(1, sizeof(*mb));

	mb->num = num;
	mb->owner = owner;
	mb->cfg = cfg;
	smap_init(&mb->imids);
	mb->render_cache = msgcache_new();
	new_folder(mb, SIM_NONE, mbx_wk_display(WK_ROOT), WK_ROOT, false);
	for (int wk = WK_INBOX; wk < WK__COUNT; wk++)
		new_folder(mb, 0, mbx_wk_display((enum sim_wk)wk),
			   (enum sim_wk)wk, false);
	return mb;
}

void mbx_ext_free(struct sim_msg_ext *ext)
{
	if (!ext)
		return;
	json_decref(ext->fields);
	json_decref(ext->attachments);
	free(ext->mime);
	free(ext);
}

static int free_vec(const char *key, void *value, void *ctx)
{
	struct u32vec *v = value;

	(void)key;
	(void)ctx;
	free(v->v);
	free(v);
	return 1;
}

void mbx_free(struct sim_mailbox *mb)
{
	if (!mb)
		return;
	for (size_t i = 0; i < mb->nfolders; i++) {
		free(mb->folders[i].name);
		free(mb->folders[i].idx);
		free(mb->folders[i].log);
	}
	free(mb->folders);
	for (size_t i = 0; i < mb->nmsgs; i++)
		mbx_ext_free(mb->msgs[i].ext);
	free(mb->msgs);
	free(mb->all);
	smap_foreach(&mb->imids, free_vec, NULL);
	smap_free(&mb->imids);
	free(mb->batches);
	free(mb->flog);
	msgcache_free(mb->render_cache);
	free(mb);
}

struct sim_folder *mbx_folder(struct sim_mailbox *mb, uint32_t num)
{
	if (num >= mb->nfolders || mb->folders[num].gone)
		return NULL;
	return &mb->folders[num];
}

uint32_t mbx_wk(const struct sim_mailbox *mb, enum sim_wk wk)
{
	for (size_t i = 0; i < mb->nfolders; i++)
		if (mb->folders[i].wk == wk && !mb->folders[i].gone)
			return (uint32_t)i;
	return SIM_NONE;
}

uint32_t mbx_child(struct sim_mailbox *mb, uint32_t parent, const char *name)
{
	for (size_t i = 0; i < mb->nfolders; i++) {
		struct sim_folder *f = &mb->folders[i];

		if (!f->gone && f->parent == parent &&
		    strcasecmp(f->name, name) == 0)
			return (uint32_t)i;
	}
	return SIM_NONE;
}

uint32_t mbx_folder_by_path(struct sim_mailbox *mb, const char *path)
{
	uint32_t cur = mbx_wk(mb, WK_ROOT);
	const char *p = path;

	while (p && *p && cur != SIM_NONE) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		char *name = xstrndup(p, len);

		cur = mbx_child(mb, cur, name);
		free(name);
		p = slash ? slash + 1 : NULL;
	}
	return cur;
}

char *mbx_folder_path(struct sim_mailbox *mb, uint32_t num)
{
	struct sim_folder *f = mbx_folder(mb, num);
	char *parent, *out;

	if (!f || f->parent == SIM_NONE)
		return xstrdup("");
	parent = mbx_folder_path(mb, f->parent);
	out = *parent ? xasprintf("%s/%s", parent, f->name) : xstrdup(f->name);
	free(parent);
	return out;
}

uint32_t mbx_child_count(struct sim_mailbox *mb, uint32_t num,
			 bool include_hidden)
{
	uint32_t n = 0;

	for (size_t i = 0; i < mb->nfolders; i++) {
		struct sim_folder *f = &mb->folders[i];

		if (!f->gone && f->parent == num && (include_hidden || !f->hidden))
			n++;
	}
	return n;
}

uint32_t mbx_folder_create(struct sim_mailbox *mb, uint32_t parent,
			   const char *name, bool hidden)
{
	if (mbx_child(mb, parent, name) != SIM_NONE)
		return SIM_NONE;
	return new_folder(mb, parent, name, WK_NONE, hidden);
}

int mbx_folder_rename(struct sim_mailbox *mb, uint32_t num, const char *name)
{
	struct sim_folder *f = mbx_folder(mb, num);
	uint32_t clash;

	if (!f)
		return -1;
	clash = mbx_child(mb, f->parent, name);
	if (clash != SIM_NONE && clash != num)
		return -1;
	free(f->name);
	f->name = xstrdup(name);
	mbx_flog(mb, num, CHG_UPDATE);
	return 0;
}

int mbx_folder_move(struct sim_mailbox *mb, uint32_t num, uint32_t parent)
{
	struct sim_folder *f = mbx_folder(mb, num);

	if (!f || !mbx_folder(mb, parent))
		return -1;
	for (uint32_t p = parent; p != SIM_NONE; p = mb->folders[p].parent)
		if (p == num)
			return -1;
	if (mbx_child(mb, parent, f->name) != SIM_NONE)
		return -1;
	f->parent = parent;
	mbx_flog(mb, num, CHG_UPDATE);
	return 0;
}

void mbx_folder_delete(struct sim_mailbox *mb, uint32_t num)
{
	struct sim_folder *f = mbx_folder(mb, num);

	if (!f)
		return;
	for (size_t i = 0; i < mb->nfolders; i++)
		if (!mb->folders[i].gone && mb->folders[i].parent == num)
			mbx_folder_delete(mb, (uint32_t)i);
	f = &mb->folders[num];
	while (f->nidx)
		mbx_msg_destroy(mb, f->idx[f->nidx - 1]);
	f->gone = true;
	free(f->idx);
	f->idx = NULL;
	f->capidx = 0;
	free(f->log);
	f->log = NULL;
	f->nlog = f->loghead = f->caplog = 0;
	mbx_flog(mb, num, CHG_LEAVE);
}

void mbx_flog(struct sim_mailbox *mb, uint32_t folder, uint32_t kind)
{
	uint64_t seq = ++mb->seq;

	if (mb->nflog == mb->capflog) {
		mb->capflog = mb->capflog ? mb->capflog * 2 : 32;
		mb->flog = xrealloc(mb->flog, mb->capflog * sizeof(*mb->flog));
	}
	mb->flog[mb->nflog].seq = seq;
	mb->flog[mb->nflog].folder = folder;
	mb->flog[mb->nflog].kind = kind;
	mb->nflog++;
	if (folder < mb->nfolders)
		mb->folders[folder].fseq = seq;
}

void mbx_expire_delta(struct sim_mailbox *mb, uint32_t folder)
{
	if (folder != SIM_NONE) {
		if (folder < mb->nfolders)
			mb->folders[folder].generation++;
		return;
	}
	for (size_t i = 0; i < mb->nfolders; i++)
		mb->folders[i].generation++;
	mb->fgeneration++;
}

/* ---- sorted indexes ---- */

static int key_cmp(const struct sim_msg *m, uint32_t num, int64_t received,
		   uint32_t knum)
{
	if (m->received != received)
		return m->received < received ? -1 : 1;
	if (num != knum)
		return num < knum ? -1 : 1;
	return 0;
}

size_t mbx_upper(struct sim_mailbox *mb, const uint32_t *idx, size_t n,
		 int64_t received, uint32_t num, bool inclusive)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(&mb->msgs[idx[mid]], idx[mid], received, num);

		if (c < 0 || (c == 0 && !inclusive))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void idx_insert(struct sim_mailbox *mb, uint32_t **idx, size_t *n,
		       size_t *cap, uint32_t num)
{
	struct sim_msg *m = &mb->msgs[num];
	size_t pos = mbx_upper(mb, *idx, *n, m->received, num, false);

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*idx = xrealloc(*idx, *cap * sizeof(**idx));
	}
	memmove(*idx + pos + 1, *idx + pos, (*n - pos) * sizeof(**idx));
	(*idx)[pos] = num;
	(*n)++;
}

static void idx_remove(struct sim_mailbox *mb, uint32_t *idx, size_t *n,
		       uint32_t num)
{
	struct sim_msg *m = &mb->msgs[num];
	size_t pos = mbx_upper(mb, idx, *n, m->received, num, true);

	if (pos >= *n || idx[pos] != num)
		return;
	memmove(idx + pos, idx + pos + 1, (*n - pos - 1) * sizeof(*idx));
	(*n)--;
}

/* ---- change logs ---- */

static void log_trim(struct sim_mailbox *mb, struct sim_folder *f, int64_t now)
{
	int64_t oldest = now - mb->cfg->delta_history_seconds;

	while (f->loghead < f->nlog &&
	       (f->log[f->loghead].time < oldest ||
		(long)(f->nlog - f->loghead) > mb->cfg->delta_history_changes)) {
		f->floor_seq = f->log[f->loghead].seq;
		f->loghead++;
	}
	if (f->loghead > 1024 && f->loghead * 2 > f->nlog) {
		memmove(f->log, f->log + f->loghead,
			(f->nlog - f->loghead) * sizeof(*f->log));
		f->nlog -= f->loghead;
		f->loghead = 0;
	}
}

static uint64_t log_append(struct sim_mailbox *mb, uint32_t folder,
			   uint32_t msg, uint32_t gen, uint32_t kind)
{
	struct sim_folder *f = &mb->folders[folder];
	uint64_t seq = ++mb->seq;
	int64_t now = simtime_now();

	if (f->nlog == f->caplog) {
		f->caplog = f->caplog ? f->caplog * 2 : 64;
		f->log = xrealloc(f->log, f->caplog * sizeof(*f->log));
	}
	f->log[f->nlog].seq = seq;
	f->log[f->nlog].time = now;
	f->log[f->nlog].msg = msg;
	f->log[f->nlog].gen = gen;
	f->log[f->nlog].kind = kind;
	f->log[f->nlog].pad = 0;
	f->nlog++;
	log_trim(mb, f, now);
	return seq;
}

size_t mbx_log_after(const struct sim_folder *f, uint64_t seq)
{
	size_t lo = f->loghead, hi = f->nlog;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->log[mid].seq <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- messages ---- */

struct sim_msg *mbx_msg(struct sim_mailbox *mb, uint32_t num)
{
	if (num >= mb->nmsgs || (mb->msgs[num].flags & MSG_GONE))
		return NULL;
	return &mb->msgs[num];
}

static void grow_msgs(struct sim_mailbox *mb, size_t extra)
{
	if (mb->nmsgs + extra <= mb->capmsgs)
		return;
	while (mb->capmsgs < mb->nmsgs + extra)
		mb->capmsgs = mb->capmsgs ? mb->capmsgs * 2 : 256;
	mb->msgs = xrealloc(mb->msgs, mb->capmsgs * sizeof(*mb->msgs));
}

static void enter_folder(struct sim_mailbox *mb, uint32_t num, uint32_t folder)
{
	struct sim_folder *f = &mb->folders[folder];
	struct sim_msg *m = &mb->msgs[num];

	m->folder = folder;
	idx_insert(mb, &f->idx, &f->nidx, &f->capidx, num);
	if (!(m->flags & MSG_READ))
		f->unread++;
	m->enter_seq = m->fseq = log_append(mb, folder, num, m->gen, CHG_ENTER);
}

static void leave_folder(struct sim_mailbox *mb, uint32_t num)
{
	struct sim_msg *m = &mb->msgs[num];
	struct sim_folder *f = &mb->folders[m->folder];

	idx_remove(mb, f->idx, &f->nidx, num);
	if (!(m->flags & MSG_READ) && f->unread)
		f->unread--;
	log_append(mb, m->folder, num, m->gen, CHG_LEAVE);
}

void mbx_imid_add(struct sim_mailbox *mb, const char *imid, uint32_t num)
{
	struct u32vec *v;

	if (!imid || !*imid)
		return;
	v = smap_get(&mb->imids, imid);
	if (!v) {
		v = xcalloc(1, sizeof(*v));
		smap_put(&mb->imids, imid, v);
	}
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 2;
		v->v = xrealloc(v->v, v->cap * sizeof(*v->v));
	}
	v->v[v->n++] = num;
}

static void imid_remove(struct sim_mailbox *mb, const char *imid, uint32_t num)
{
	struct u32vec *v = imid ? smap_get(&mb->imids, imid) : NULL;

	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		if (v->v[i] == num) {
			v->v[i] = v->v[--v->n];
			break;
		}
	}
	if (!v->n) {
		smap_remove(&mb->imids, imid);
		free(v->v);
		free(v);
	}
}

size_t mbx_imid_lookup(struct sim_mailbox *mb, const char *imid,
		       const uint32_t **nums)
{
	struct u32vec *v = smap_get(&mb->imids, imid);

	*nums = v ? v->v : NULL;
	return v ? v->n : 0;
}

uint32_t mbx_msg_add(struct sim_mailbox *mb, uint32_t folder,
		     int64_t received, uint16_t flags, struct sim_msg_ext *ext)
{
	uint32_t num;
	struct sim_msg *m;

	grow_msgs(mb, 1);
	num = (uint32_t)mb->nmsgs++;
	m = &mb->msgs[num];
	memset(m, 0, sizeof(*m));
	m->received = received;
	m->flags = flags;
	m->seed_index = SIM_NONE;
	m->modified = (uint32_t)simtime_now();
	m->ext = ext;
	idx_insert(mb, &mb->all, &mb->nall, &mb->capall, num);
	enter_folder(mb, num, folder);
	if (ext && ext->fields)
		mbx_imid_add(mb, json_string_value(json_object_get(
					 ext->fields, "internetMessageId")), num);
	mb->live++;
	return num;
}

void mbx_msg_touch(struct sim_mailbox *mb, uint32_t num)
{
	struct sim_msg *m = mbx_msg(mb, num);

	if (!m)
		return;
	m->version++;
	m->modified = (uint32_t)simtime_now();
	m->fseq = log_append(mb, m->folder, num, m->gen, CHG_UPDATE);
}

void mbx_msg_set_read(struct sim_mailbox *mb, uint32_t num, bool is_read)
{
	struct sim_msg *m = mbx_msg(mb, num);
	struct sim_folder *f;

	if (!m || !!(m->flags & MSG_READ) == is_read)
		return;
	f = &mb->folders[m->folder];
	if (is_read) {
		m->flags |= MSG_READ;
		if (f->unread)
			f->unread--;
	} else {
		m->flags &= (uint16_t)~MSG_READ;
		f->unread++;
	}
}

void mbx_msg_move(struct sim_mailbox *mb, uint32_t num, uint32_t folder)
{
	struct sim_msg *m = mbx_msg(mb, num);

	if (!m || !mbx_folder(mb, folder) || m->folder == folder)
		return;
	leave_folder(mb, num);
	m->gen++;
	m->version++;
	m->modified = (uint32_t)simtime_now();
	enter_folder(mb, num, folder);
}

void mbx_msg_resend(struct sim_mailbox *mb, uint32_t num, uint32_t folder,
		    int64_t received)
{
	struct sim_msg *m = mbx_msg(mb, num);

	if (!m || !mbx_folder(mb, folder))
		return;
	leave_folder(mb, num);
	idx_remove(mb, mb->all, &mb->nall, num);
	m->received = received;
	m->gen++;
	m->version++;
	m->modified = (uint32_t)simtime_now();
	idx_insert(mb, &mb->all, &mb->nall, &mb->capall, num);
	enter_folder(mb, num, folder);
}

void mbx_msg_destroy(struct sim_mailbox *mb, uint32_t num)
{
	struct sim_msg *m = mbx_msg(mb, num);

	if (!m)
		return;
	leave_folder(mb, num);
	idx_remove(mb, mb->all, &mb->nall, num);
	if (m->ext && m->ext->fields)
		imid_remove(mb, json_string_value(json_object_get(
					m->ext->fields, "internetMessageId")), num);
	mbx_ext_free(m->ext);
	m->ext = NULL;
	m->flags |= MSG_GONE;
	mb->live--;
}

/* ---- seeded batches ---- */

static int cmp_key_r(const void *a, const void *b, void *ctx)
{
	struct sim_mailbox *mb = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return key_cmp(&mb->msgs[x], x, mb->msgs[y].received, y);
}

/* Merge the sorted run `add` (n) into the sorted index idx. */
static void idx_merge(struct sim_mailbox *mb, uint32_t **idx, size_t *n,
		      size_t *cap, uint32_t *add, size_t nadd)
{
	uint32_t *out;
	size_t i = 0, j = 0, k = 0;

	qsort_r(add, nadd, sizeof(*add), cmp_key_r, mb);
	out = xmalloc((*n + nadd + 1) * sizeof(*out));
	while (i < *n || j < nadd) {
		if (j >= nadd || (i < *n && cmp_key_r(&(*idx)[i], &add[j], mb) < 0))
			out[k++] = (*idx)[i++];
		else
			out[k++] = add[j++];
	}
	free(*idx);
	*idx = out;
	*cap = *n + nadd + 1;
	*n = k;
}

uint16_t mbx_add_batch(struct sim_mailbox *mb, const struct sim_batch *b,
		       const struct seed_plan *plan, bool log)
{
	uint16_t bnum;
	uint32_t **per = xcalloc(mb->nfolders, sizeof(*per));
	size_t *nper = xcalloc(mb->nfolders, sizeof(*nper));
	size_t *capper = xcalloc(mb->nfolders, sizeof(*capper));
	uint32_t *all_add;

	mb->batches = xrealloc(mb->batches, (mb->nbatches + 1) * sizeof(*mb->batches));
	mb->batches[mb->nbatches] = *b;
	mb->batches[mb->nbatches].base = (uint32_t)mb->nmsgs;
	bnum = (uint16_t)(++mb->nbatches);
	grow_msgs(mb, b->count);
	all_add = xmalloc(((size_t)b->count + 1) * sizeof(*all_add));
	for (uint32_t i = 0; i < b->count; i++) {
		uint32_t num = (uint32_t)mb->nmsgs++;
		struct sim_msg *m = &mb->msgs[num];
		uint32_t folder = plan->folder_of(plan->ctx, i);

		memset(m, 0, sizeof(*m));
		m->received = plan->received_of(plan->ctx, i);
		m->flags = plan->flags_of(plan->ctx, i);
		m->folder = folder;
		m->seed_index = i;
		m->batch = bnum;
		m->modified = (uint32_t)m->received;
		all_add[i] = num;
		if (nper[folder] == capper[folder]) {
			capper[folder] = capper[folder] ? capper[folder] * 2 : 64;
			per[folder] = xrealloc(per[folder], capper[folder] * sizeof(uint32_t));
		}
		per[folder][nper[folder]++] = num;
		if (!(m->flags & MSG_READ))
			mb->folders[folder].unread++;
		mb->live++;
	}
	idx_merge(mb, &mb->all, &mb->nall, &mb->capall, all_add, b->count);
	for (size_t f = 0; f < mb->nfolders; f++) {
		struct sim_folder *fo = &mb->folders[f];

		if (nper[f])
			idx_merge(mb, &fo->idx, &fo->nidx, &fo->capidx, per[f], nper[f]);
		free(per[f]);
	}
	if (log)
		for (uint32_t i = 0; i < b->count; i++) {
			struct sim_msg *m = &mb->msgs[all_add[i]];

			m->enter_seq = m->fseq =
				log_append(mb, m->folder, all_add[i], 0, CHG_ENTER);
		}
	free(all_add);
	free(per);
	free(nper);
	free(capper);
	return bnum;
}
