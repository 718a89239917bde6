/*
 * mime_html.c — an HTML body as plain text (see mime.h). libxml2's HTML
 * parser reads the document the way a browser recovers from bad markup
 * and decodes entities; this file walks the tree and lays the text out:
 * blocks on their own lines, list items and table cells marked, quotes
 * prefixed, links followed by their address. No network access, no
 * scripts: the parser only builds a tree.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include "inboxsync/mime.h"

#define MAX_DEPTH 200              /* deeper nesting is read as flat text */
#define MAX_LISTS 16

/* Where the text stands while it is laid out. */
struct layout {
	struct buf *out;
	struct err *e;
	int rc;
	int newlines;              /* line breaks owed before the next text */
	bool at_start;             /* nothing written yet */
	bool space;                /* a space owed before the next text */
	bool line_open;            /* the current line has text */
	int pre;                   /* inside <pre> */
	int quote;                 /* <blockquote> depth */
	int lists;
	long items[MAX_LISTS];     /* 0 = bullets, else the next number */
};

/* How an element breaks the text. */
enum kind { INLINE, BREAK, BLOCK, PARAGRAPH, SKIP };

static const struct {
	const char *name;
	enum kind kind;
} elements[] = {
	{ "script", SKIP }, { "style", SKIP }, { "head", SKIP }, { "title", SKIP },
	{ "noscript", SKIP }, { "template", SKIP }, { "svg", SKIP },
	{ "br", BREAK },
	{ "p", PARAGRAPH }, { "h1", PARAGRAPH }, { "h2", PARAGRAPH }, { "h3", PARAGRAPH },
	{ "h4", PARAGRAPH }, { "h5", PARAGRAPH }, { "h6", PARAGRAPH },
	{ "ul", PARAGRAPH }, { "ol", PARAGRAPH }, { "table", PARAGRAPH },
	{ "blockquote", PARAGRAPH }, { "pre", PARAGRAPH }, { "hr", PARAGRAPH },
	{ "dl", PARAGRAPH }, { "figure", PARAGRAPH },
	{ "div", BLOCK }, { "li", BLOCK }, { "tr", BLOCK }, { "dt", BLOCK },
	{ "dd", BLOCK }, { "section", BLOCK }, { "article", BLOCK },
	{ "header", BLOCK }, { "footer", BLOCK }, { "address", BLOCK },
	{ "form", BLOCK }, { "center", BLOCK }, { "caption", BLOCK },
	{ "tbody", BLOCK }, { "thead", BLOCK }, { "tfoot", BLOCK },
};

static enum kind kind_of(const char *name)
{
	for (size_t i = 0; i < sizeof(elements) / sizeof(elements[0]); i++)
		if (strcasecmp(elements[i].name, name) == 0)
			return elements[i].kind;
	return INLINE;
}

static void put(struct layout *l, const char *s, size_t n)
{
	if (l->rc == 0 && n)
		l->rc = buf_append(l->out, s, n, l->e);
}

/* A word as shown: a no-break space (&nbsp;) is a plain space that does
 * not collapse, so copied text has ordinary spaces. */
static void put_word(struct layout *l, const char *s, size_t n)
{
	const char *end = s + n;

	while (s < end) {
		const char *nb = memchr(s, 0xc2, (size_t)(end - s));

		if (!nb || nb + 1 >= end) {
			put(l, s, (size_t)(end - s));
			return;
		}
		put(l, s, (size_t)(nb - s));
		if ((unsigned char)nb[1] == 0xa0) {
			put(l, " ", 1);
		} else {
			put(l, nb, 2);
		}
		s = nb + 2;
	}
}

static void owe_lines(struct layout *l, int n)
{
	if (!l->at_start && n > l->newlines)
		l->newlines = n;
	l->space = false;
}

/* Settle what is owed before text: line breaks (with the quote marks of
 * the new line) or a space. */
static void before_text(struct layout *l)
{
	if (l->newlines) {
		for (int i = 0; i < l->newlines; i++)
			put(l, "\n", 1);
		l->newlines = 0;
		l->line_open = false;
	}
	if (!l->line_open) {
		for (int i = 0; i < l->quote; i++)
			put(l, "> ", 2);
	} else if (l->space) {
		put(l, " ", 1);
	}
	l->space = false;
	l->line_open = true;
	l->at_start = false;
}

static void text(struct layout *l, const char *s)
{
	if (l->pre) {
		for (; *s; s++) {
			if (*s == '\r')
				continue;
			if (*s == '\n') {
				l->newlines++;
				continue;
			}
			before_text(l);
			put(l, s, 1);
		}
		return;
	}
	while (*s) {
		size_t word = strcspn(s, " \t\r\n\f\v");

		if (word) {
			before_text(l);
			put_word(l, s, word);
			s += word;
		}
		if (*s) {
			l->space = l->line_open;
			s += strspn(s, " \t\r\n\f\v");
		}
	}
}

static const char *attr(xmlNode *n, const char *name)
{
	for (xmlAttr *a = n->properties; a; a = a->next)
		if (a->children && a->children->content &&
		    strcasecmp((const char *)a->name, name) == 0)
			return (const char *)a->children->content;
	return NULL;
}

/* The text an element holds, for comparing a link with its address. */
static void collect(xmlNode *n, char *out, size_t cap, size_t *at, int depth)
{
	for (xmlNode *c = n->children; c && depth < MAX_DEPTH; c = c->next) {
		if (c->type == XML_TEXT_NODE && c->content) {
			size_t len = strlen((const char *)c->content);

			if (*at + len < cap) {
				memcpy(out + *at, c->content, len);
				*at += len;
				out[*at] = '\0';
			}
		} else if (c->type == XML_ELEMENT_NODE) {
			collect(c, out, cap, at, depth + 1);
		}
	}
}

static void walk(struct layout *l, xmlNode *n, int depth);

static void list_item(struct layout *l)
{
	char mark[32];
	long *item = l->lists ? &l->items[l->lists - 1] : NULL;

	before_text(l);
	for (int i = 1; i < l->lists; i++)
		put(l, "  ", 2);
	if (item && *item) {
		snprintf(mark, sizeof(mark), "%ld. ", (*item)++);
		put(l, mark, strlen(mark));
	} else {
		put(l, "- ", 2);
	}
	l->space = false;
}

static void element(struct layout *l, xmlNode *n, int depth)
{
	const char *name = (const char *)n->name;
	enum kind k = kind_of(name);
	bool list = !strcasecmp(name, "ul") || !strcasecmp(name, "ol");

	if (k == SKIP)
		return;
	if (k == BREAK) {
		l->newlines++;
		l->space = false;
		return;
	}
	if (!strcasecmp(name, "img")) {
		const char *alt = attr(n, "alt");

		if (alt && *alt) {
			before_text(l);
			put(l, "[", 1);
			put(l, alt, strlen(alt));
			put(l, "]", 1);
		}
		return;
	}
	if ((!strcasecmp(name, "td") || !strcasecmp(name, "th")) &&
	    l->line_open && !l->newlines) {
		/* Cells of one row on one line, apart. */
		put(l, " |", 2);
		l->space = true;
	}
	if (k == PARAGRAPH)
		owe_lines(l, 2);
	else if (k == BLOCK)
		owe_lines(l, 1);
	if (!strcasecmp(name, "blockquote"))
		l->quote++;
	if (!strcasecmp(name, "pre"))
		l->pre++;
	if (list && l->lists < MAX_LISTS)
		l->items[l->lists++] = !strcasecmp(name, "ol") ? 1 : 0;
	if (!strcasecmp(name, "li"))
		list_item(l);
	if (!strcasecmp(name, "hr")) {
		before_text(l);
		put(l, "----------------------------------------", 40);
	}
	walk(l, n, depth + 1);
	if (!strcasecmp(name, "a")) {
		const char *href = attr(n, "href");
		char shown[1024] = "";
		size_t at = 0;

		collect(n, shown, sizeof(shown), &at, depth);
		if (href && *href && strncasecmp(href, "mailto:", 7) != 0 &&
		    !strstr(shown, href) && href[0] != '#') {
			before_text(l);
			put(l, " <", 2);
			put(l, href, strlen(href));
			put(l, ">", 1);
		}
	}
	if (list && l->lists > 0)
		l->lists--;
	if (!strcasecmp(name, "pre"))
		l->pre--;
	if (!strcasecmp(name, "blockquote")) {
		owe_lines(l, 1);
		l->quote--;
	}
	if (k == PARAGRAPH)
		owe_lines(l, 2);
	else if (k == BLOCK)
		owe_lines(l, 1);
}

/* Below MAX_DEPTH: the text of the subtree as one run, walked without
 * recursion (nesting can be as deep as the body is long). */
static void flat(struct layout *l, xmlNode *top)
{
	xmlNode *c = top->children;

	while (c && c != top && l->rc == 0) {
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
		    c->content)
			text(l, (const char *)c->content);
		if (c->type == XML_ELEMENT_NODE && c->children &&
		    kind_of((const char *)c->name) != SKIP) {
			c = c->children;
			continue;
		}
		while (c != top && !c->next)
			c = c->parent;
		if (c != top)
			c = c->next;
	}
}

static void walk(struct layout *l, xmlNode *n, int depth)
{
	for (xmlNode *c = n->children; c && l->rc == 0; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (c->content)
				text(l, (const char *)c->content);
		} else if (c->type == XML_ELEMENT_NODE) {
			if (depth < MAX_DEPTH)
				element(l, c, depth);
			else if (kind_of((const char *)c->name) != SKIP)
				flat(l, c);
		}
	}
}

int mime_html_to_text(const char *html, size_t len, struct buf *out, struct err *e)
{
	struct layout l = { .out = out, .e = e, .at_start = true };
	htmlDocPtr doc;

	buf_reset(out);
	if (!html || !len)
		return 0;
	if (len > (size_t)1 << 30)
		return err_set(e, ERR_PERMANENT, "too_large", "the HTML body is too large to show");
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
			     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
			     HTML_PARSE_NONET | (int)XML_PARSE_HUGE);
	if (!doc)
		return 0; /* nothing readable: no text */
	walk(&l, (xmlNode *)doc, 0);
	xmlFreeDoc(doc);
	if (l.rc == 0)
		put(&l, "\n", l.at_start ? 0 : 1);
	return l.rc;
}
