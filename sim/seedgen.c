/*
 * seedgen.c — deterministic seeded content (see seedgen.h). Tables of
 * people, subjects, sentences and attachment kinds; a splitmix64 stream
 * keyed by (seed, batch, index, purpose) picks from them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "seedgen.h"
#include "simutil.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct { const char *first, *last, *domain; } contacts[] = {
	{ "Alex", "Wilber", "fabrikam.com" },     { "Diego", "Siciliani", "fabrikam.com" },
	{ "Grady", "Archie", "northwindtraders.com" }, { "Henrietta", "Mueller", "northwindtraders.com" },
	{ "Isaiah", "Langer", "litware.com" },    { "Johanna", "Lorenz", "litware.com" },
	{ "Joni", "Sherman", "adatum.com" },      { "Lee", "Gu", "adatum.com" },
	{ "Lidia", "Holloway", "tailspintoys.com" }, { "Lynne", "Robbins", "tailspintoys.com" },
	{ "Miriam", "Graham", "woodgrovebank.com" }, { "Nestor", "Wilke", "woodgrovebank.com" },
	{ "Patti", "Fernandez", "wingtiptoys.com" }, { "Pradeep", "Gupta", "wingtiptoys.com" },
	{ "Christie", "Cline", "proseware.com" }, { "Enrico", "Cattaneo", "proseware.com" },
	{ "Irvin", "Sayers", "fourthcoffee.com" }, { "Emily", "Braun", "fourthcoffee.com" },
	{ "Kenji", "Tanaka", "treyresearch.net" }, { "Sofia", "Ramirez", "treyresearch.net" },
	{ "Megan", "Bowen", NULL },               { "Nestor", "Kowalski", NULL },
	{ "Allan", "Deyoung", NULL },             { "Debra", "Berger", NULL },
	{ "Ben", "Walters", NULL },               { "Cameron", "White", NULL },
	{ "Zrinka", "Makovac", NULL },            { "Ólafur", "Jónsson", NULL },
};

static const char *const topics[] = {
	"Q%d budget review", "Project Falcon status update", "Invoice #%d",
	"Team offsite planning", "Contract renewal", "Weekly sync notes",
	"Customer escalation: order %d", "Lunch on Friday?",
	"Security training reminder", "Travel itinerary for the %d summit",
	"Design review feedback", "Quarterly results", "Welcome to the team!",
	"Updated roadmap (v%d)", "Meeting minutes", "Action items from today",
	"Re-org announcement", "Vendor onboarding checklist",
	"Shipping delay for PO %d", "Holiday schedule", "Hiring update",
	"Your expense report #%d", "Draft proposal for review",
	"Server maintenance window", "Café order — Straße 7 office",
	"Partner summit %d agenda", "Benefits enrollment closes soon",
	"Board deck — final comments", "Support ticket %d resolved",
	"Newsletter: what's new this month",
};

static const char *const sentences[] = {
	"Thanks for sending this over so quickly.",
	"I have reviewed the numbers and they look reasonable to me.",
	"Could you double-check the totals in the second table?",
	"Let's discuss the open points in our next meeting.",
	"Please find the details below.",
	"The deadline has moved to the end of next week.",
	"I have looped in the rest of the team for visibility.",
	"We still need sign-off from legal before we can proceed.",
	"The customer asked for an update by Thursday.",
	"I will follow up with the vendor tomorrow morning.",
	"Attached is the latest version for your review.",
	"Let me know if anything is unclear.",
	"The shipment left the warehouse this morning.",
	"We agreed to revisit the budget in the next quarter.",
	"Our current estimate is about three weeks of work.",
	"The meeting room is booked from 10:00 to 11:30.",
	"I could not reproduce the issue on my machine.",
	"Can we move our call to the afternoon?",
	"Here is a summary of what we decided.",
	"The new process starts on the first of the month.",
	"Please treat this as confidential for now.",
	"Great work on the launch, everyone!",
	"The report is now available on the team site.",
	"We are waiting on two more quotes.",
	"I will be out of office next Monday.",
	"Could you share the slides after the session?",
	"Zoë from the Zürich office will join us as well.",
	"Prices are quoted in € and include VAT.",
	"This should not affect the current release.",
	"I suggest we keep the scope as it is.",
};

static const struct { const char *stem, *ext, *type; } kinds[] = {
	{ "report", "pdf", "application/pdf" },
	{ "budget", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
	{ "photo", "jpg", "image/jpeg" },
	{ "notes", "txt", "text/plain" },
	{ "slides", "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
	{ "contract", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "invoice", "pdf", "application/pdf" },
	{ "diagram", "png", "image/png" },
};

static const char *const mail_hosts[] = {
	"mail.gmail.com", "DM6PR11MB4012.namprd11.prod.outlook.com",
	"AM0PR04MB6745.eurprd04.prod.outlook.com", "smtp.fabrikam.com",
	"mx.northwindtraders.com", "SN6PR01MB3872.namprd01.prod.outlook.com",
};

enum purpose { P_ROLE = 1, P_TIME, P_FLAGS, P_THREAD, P_PEOPLE, P_SUBJECT,
	       P_ATT, P_BODY, P_IMID };

static uint64_t stream(const struct sim_batch *b, uint64_t index, enum purpose p)
{
	return sim_mix(b->seed ^ ((uint64_t)p << 56), index);
}

enum seed_role seedgen_role(const struct sim_batch *b, uint32_t i)
{
	uint64_t s = stream(b, i, P_ROLE);
	uint32_t r = sim_rng_below(&s, 100);

	if (r < 70)
		return ROLE_INBOX;
	if (r < 85)
		return ROLE_SENT;
	if (r < 95)
		return ROLE_ARCHIVE;
	return ROLE_PROJECTS;
}

bool seedgen_is_sent(const struct sim_batch *b, uint32_t i)
{
	if (b->folder == SIM_NONE)
		return seedgen_role(b, i) == ROLE_SENT;
	return b->sent;
}

int64_t seedgen_received(const struct sim_batch *b, uint32_t i)
{
	int64_t span = b->span > 0 ? b->span : 1;
	int64_t gap = span / (b->count ? b->count : 1);
	uint64_t s = stream(b, i, P_TIME);
	int64_t t = b->end - span + span * (int64_t)i / (int64_t)(b->count ? b->count : 1);

	if (gap > 1)
		t += (int64_t)(sim_rng_next(&s) % (uint64_t)gap);
	return t;
}

/* Thread layout: groups of 4 consecutive indexes; the first `size` of a
 * group form one thread, the rest are standalone messages. */
static int thread_pos(const struct sim_batch *b, uint32_t i)
{
	static const int sizes[] = { 1, 1, 2, 3, 4 };
	uint64_t s = stream(b, i / 4, P_THREAD);
	int size = sizes[sim_rng_below(&s, ARRAY_LEN(sizes))];
	int pos = (int)(i % 4);

	return pos < size ? pos : -1;
}

static int natt_of(const struct sim_batch *b, uint32_t i)
{
	uint64_t s = stream(b, i, P_ATT);
	uint32_t r = sim_rng_below(&s, 100);

	return r < 88 ? 0 : (int)(1 + r % 3);
}

uint16_t seedgen_flags(const struct sim_batch *b, uint32_t i)
{
	uint64_t s = stream(b, i, P_FLAGS);
	uint32_t r = sim_rng_below(&s, 1000);
	uint16_t f = 0;
	bool recent = b->count && i >= b->count - b->count / 20;

	if (seedgen_is_sent(b, i) || r >= (recent ? 600u : 40u))
		f |= MSG_READ;
	r = sim_rng_below(&s, 100);
	if (r < 3)
		f |= (uint16_t)(1u << MSG_FLAG_SHIFT);
	else if (r < 4)
		f |= (uint16_t)(2u << MSG_FLAG_SHIFT);
	r = sim_rng_below(&s, 100);
	if (r < 4)
		f |= (uint16_t)(2u << MSG_IMP_SHIFT);
	else if (r < 6)
		f |= (uint16_t)(1u << MSG_IMP_SHIFT);
	if (natt_of(b, i))
		f |= MSG_HASATT;
	return f;
}

/* A bounded writer for the generated strings: snprintf cost more than
 * the rest of a seeded message's header fields together. Output is always
 * NUL-terminated and truncated where snprintf would truncate it. */
struct text {
	char *p;
	char *end;    /* the last byte, kept for the NUL */
};

static struct text text_at(char *buf, size_t size)
{
	struct text t = { buf, buf + size - 1 };

	*buf = '\0';
	return t;
}

static void text_putn(struct text *t, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] && t->p < t->end; i++)
		*t->p++ = s[i];
	*t->p = '\0';
}

static void text_puts(struct text *t, const char *s)
{
	text_putn(t, s, (size_t)-1);
}

static void text_uint(struct text *t, uint64_t v)
{
	char digits[24];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	text_putn(t, digits + n, sizeof(digits) - n);
}

/* `width` lowercase hex digits of v, zero-padded. */
static void text_hex(struct text *t, uint64_t v, int width)
{
	char digits[16];

	for (int i = width - 1; i >= 0; i--) {
		digits[i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	}
	text_putn(t, digits, (size_t)width);
}

static void person_contact(uint32_t k, const char *owner_addr,
			   struct seed_person *p)
{
	const char *at = strchr(owner_addr, '@');
	const char *dom = contacts[k].domain ? contacts[k].domain
					     : (at ? at + 1 : "contoso.com");
	struct text name = text_at(p->name, sizeof(p->name));
	struct text addr = text_at(p->addr, sizeof(p->addr));
	char local[64];
	size_t n = 0;

	for (const char *c = contacts[k].first; *c && n + 2 < sizeof(local); c++)
		if ((unsigned char)*c < 0x80)
			local[n++] = (char)(*c | 0x20);
	for (const char *c = contacts[k].last; *c && n + 2 < sizeof(local); c++)
		if ((unsigned char)*c < 0x80) {
			local[n++] = (char)(*c | 0x20);
			break;
		}
	local[n] = '\0';
	text_puts(&name, contacts[k].first);
	text_puts(&name, " ");
	text_puts(&name, contacts[k].last);
	text_puts(&addr, local);
	text_puts(&addr, "@");
	text_puts(&addr, dom);
	p->contact = (int)k;
}

/* "<" 12 hex digits "." batch "." index "@" host ">" */
static void imid_of(const struct sim_batch *b, uint16_t bnum, uint32_t i,
		    char out[128])
{
	uint64_t s = stream(b, ((uint64_t)bnum << 32) | i, P_IMID);
	uint64_t h = sim_rng_next(&s);
	struct text t = text_at(out, 128);

	text_puts(&t, "<");
	text_hex(&t, h & 0xffffffffffffULL, 12);
	text_puts(&t, ".");
	text_uint(&t, bnum);
	text_puts(&t, ".");
	text_uint(&t, i);
	text_puts(&t, "@");
	text_puts(&t, mail_hosts[h % ARRAY_LEN(mail_hosts)]);
	text_puts(&t, ">");
}

/* The thread's subject, "RE: " first for a reply. */
static void subject_of(const struct sim_batch *b, uint32_t root, bool reply,
		       char *out, size_t n)
{
	uint64_t s = stream(b, root, P_SUBJECT);
	const char *topic = topics[sim_rng_below(&s, ARRAY_LEN(topics))];
	int num = (int)(1 + sim_rng_below(&s, 9000));
	const char *hole = strstr(topic, "%d");
	struct text t = text_at(out, n);

	if (reply)
		text_puts(&t, "RE: ");
	if (!hole) {
		text_puts(&t, topic);
		return;
	}
	if (strncmp(topic, "Q%d", 3) == 0)
		num = 1 + num % 4;
	text_putn(&t, topic, (size_t)(hole - topic));
	text_uint(&t, (uint64_t)num);
	text_puts(&t, hole + 2);
}

void seedgen_content(const struct sim_batch *b, uint16_t bnum, uint32_t i,
		     const char *owner_name, const char *owner_addr,
		     struct seed_content *c)
{
	int pos = thread_pos(b, i);
	uint32_t root = pos > 0 ? i - (uint32_t)pos : i;
	uint64_t ps = stream(b, root, P_PEOPLE);
	uint32_t contact = sim_rng_below(&ps, ARRAY_LEN(contacts));
	struct seed_person owner = { 0 }, other = { 0 }; /* copied whole into c */
	struct text t;
	uint64_t as;

	memset(c, 0, sizeof(*c));
	t = text_at(owner.name, sizeof(owner.name));
	text_puts(&t, owner_name);
	t = text_at(owner.addr, sizeof(owner.addr));
	text_puts(&t, owner_addr);
	owner.contact = SEED_OWNER;
	person_contact(contact, owner_addr, &other);
	if (seedgen_is_sent(b, i)) {
		c->from = owner;
		c->to[c->nto++] = other;
	} else {
		c->from = other;
		c->to[c->nto++] = owner;
	}
	for (uint32_t k = sim_rng_below(&ps, 4); k > 1 && c->ncc < 2; k--)
		person_contact(sim_rng_below(&ps, ARRAY_LEN(contacts)), owner_addr,
			       &c->cc[c->ncc++]);
	if (sim_rng_below(&ps, 5) == 0)
		person_contact(sim_rng_below(&ps, ARRAY_LEN(contacts)), owner_addr,
			       &c->to[c->nto++]);

	subject_of(b, root, pos > 0, c->subject, sizeof(c->subject));
	imid_of(b, bnum, i, c->imid);
	imid_of(b, bnum, root, c->root_imid);
	c->depth = pos > 0 ? pos : 0;
	for (int k = 0; pos > 0 && k < pos && k < 4; k++)
		imid_of(b, bnum, root + (uint32_t)k, c->references[c->nrefs++]);
	if (pos > 0)
		imid_of(b, bnum, i - 1, c->in_reply_to);

	c->received = seedgen_received(b, i);
	c->sent = c->received - (seedgen_is_sent(b, i) ? 0 : 3 + (int64_t)(i % 240));

	as = stream(b, i, P_ATT);
	c->natt = natt_of(b, i);
	for (int k = 0; k < c->natt; k++) {
		uint32_t kind = sim_rng_below(&as, ARRAY_LEN(kinds));
		uint32_t r = sim_rng_below(&as, 1000);

		snprintf(c->att[k].name, sizeof(c->att[k].name), "%s-%u.%s",
			 kinds[kind].stem, 100 + sim_rng_below(&as, 900), kinds[kind].ext);
		snprintf(c->att[k].content_type, sizeof(c->att[k].content_type), "%s",
			 kinds[kind].type);
		c->att[k].size = r < 25 ? 2500000 + sim_rng_below(&as, 200000)
					: 1024u << sim_rng_below(&as, 9);
		c->att[k].size += sim_rng_below(&as, 1024);
		c->att[k].seed = sim_rng_next(&as);
	}
	{
		uint64_t bs = stream(b, i, P_BODY);
		uint32_t r = sim_rng_below(&bs, 100);

		c->body_seed = sim_rng_next(&bs);
		c->body_sentences = r < 2 ? 200 + sim_rng_below(&bs, 400)
					  : 2 + sim_rng_below(&bs, 30);
	}
}

void seedgen_body_text(const struct seed_content *c, struct buf *out,
		       size_t max)
{
	uint64_t s = c->body_seed;
	const char *sp = strchr(c->to[0].name, ' ');

	buf_puts(out, "Hi ", NULL);
	buf_append(out, c->to[0].name,
		   sp ? (size_t)(sp - c->to[0].name) : strlen(c->to[0].name), NULL);
	buf_puts(out, ",\r\n\r\n", NULL);
	for (uint32_t k = 0; k < c->body_sentences; k++) {
		if (max && out->len >= max)
			return;
		buf_puts(out, sentences[sim_rng_below(&s, ARRAY_LEN(sentences))], NULL);
		buf_puts(out, (k % 4 == 3) ? "\r\n\r\n" : " ", NULL);
	}
	buf_puts(out, "\r\n\r\nBest regards,\r\n", NULL);
	buf_puts(out, c->from.name, NULL);
	buf_puts(out, "\r\n", NULL);
}

void seedgen_attachment_bytes(const struct seed_content *c, int k,
			      struct buf *out)
{
	uint64_t s = c->att[k].seed;
	bool text = strcmp(c->att[k].content_type, "text/plain") == 0;
	uint32_t left = c->att[k].size;

	while (left) {
		if (text) {
			const char *t = sentences[sim_rng_below(&s, ARRAY_LEN(sentences))];
			size_t n = strlen(t);

			if (n + 2 > left)
				n = left > 2 ? left - 2 : left;
			buf_append(out, t, n, NULL);
			left -= (uint32_t)n;
			if (left >= 2) {
				buf_append(out, "\r\n", 2, NULL);
				left -= 2;
			}
		} else {
			uint64_t v = sim_rng_next(&s);
			uint32_t n = left < 8 ? left : 8;

			buf_append(out, &v, n, NULL);
			left -= n;
		}
	}
}

int seedgen_parse_imid(const char *imid, uint32_t *bnum, uint32_t *index)
{
	const char *p = imid;
	char *end;
	unsigned long a, b;

	if (!p || *p != '<')
		return -1;
	p++;
	for (int k = 0; k < 12; k++, p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -1;
	if (*p++ != '.')
		return -1;
	a = strtoul(p, &end, 10);
	if (end == p || *end != '.' || a == 0 || a > 65535)
		return -1;
	p = end + 1;
	b = strtoul(p, &end, 10);
	if (end == p || *end != '@' || b > UINT32_MAX)
		return -1;
	*bnum = (uint32_t)a;
	*index = (uint32_t)b;
	return 0;
}

bool seedgen_imid_matches(const struct sim_batch *b, uint16_t bnum,
			  uint32_t index, const char *imid)
{
	char mine[128];

	if (index >= b->count)
		return false;
	imid_of(b, bnum, index, mine);
	return strcmp(mine, imid) == 0;
}
