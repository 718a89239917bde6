/*
 * sim_throughput.c — benchmark driver for bench/sim_throughput.sh: fully
 * delta-syncs one or more folders of a running m365sim (one thread and one
 * keep-alive connection per folder), following @odata.nextLink to the
 * deltaLink, and prints one JSON line with pages/s and messages/s, both
 * wall-clock (the whole round) and server-side (curl's transfer times).
 *
 * Pages are requested back to back, the way a client that parses on
 * another thread (inboxsync prefetches) keeps the server busy: the next
 * link is read from the head of the page (Graph puts the links before
 * "value"), and every page is parsed with jansson only after the round —
 * checking that link and counting the messages. Parsing 1 MB of JSON
 * between requests on a 2-core machine made each 1000-message page take
 * about 18 ms instead of 7 (cold caches, cores woken from idle), which
 * measured the driver as much as m365sim.
 *
 * It is also the protocol floor of bench/run.sh (the reference client):
 * it follows exactly Microsoft's rules and nothing else — the pages of a
 * folder's round are a chain (each next link comes from the page before),
 * different folders' rounds run side by side, and a mailbox takes at most
 * MAX_INFLIGHT (default 4) requests at once — with the page sizes the
 * engine uses (PAGESIZE "50,500": the first page 50, the rest 500).
 *
 * usage: sim_throughput URL TOKEN PAGESIZE[,NEXT] SELECT LABEL FOLDER...
 *        (SELECT "-" = no $select, i.e. full messages)
 * environment: MAX_INFLIGHT (requests at once, default 4)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <jansson.h>

/* One response body, grown by doubling. */
struct page {
	char *p;
	size_t len, cap;
	char *next;           /* @odata.nextLink read from its head, or NULL */
};

struct job {
	const char *url, *token, *folder, *select;
	long pagesize, first_pagesize;
	long pages, messages;
	double server_s, parse_s;
	double first_page_s;  /* from the start until the first page is in */
	struct page *all;
	size_t nall, capall;
	int failed;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
	struct page *g = ud;

	if (g->len + size * n + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : (size_t)1 << 20;
		char *np;

		while (cap < g->len + size * n + 1)
			cap *= 2;
		np = realloc(g->p, cap);
		if (!np)
			return 0;
		g->p = np;
		g->cap = cap;
	}
	memcpy(g->p + g->len, ptr, size * n);
	g->len += size * n;
	g->p[g->len] = '\0';
	return size * n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The mailbox's request budget, shared by every folder's chain. */
static sem_t inflight;
static double t_start;

/* The nextLink of a page from its first 8 KB (before "value"), or NULL.
 * Links are URLs of base64url tokens: nothing in them is escaped. */
static char *head_next_link(const struct page *g)
{
	static const char key[] = "\"@odata.nextLink\":\"";
	size_t head = g->len < 8192 ? g->len : 8192;
	const char *v = memmem(g->p, head, "\"value\":", 8);
	const char *k = memmem(g->p, v ? (size_t)(v - g->p) : head, key, sizeof(key) - 1);
	const char *end;

	if (!k)
		return NULL;
	k += sizeof(key) - 1;
	end = memchr(k, '"', head - (size_t)(k - g->p));
	return end ? strndup(k, (size_t)(end - k)) : NULL;
}

/* After the round: parse every page, count messages, check the links. */
static void check_pages(struct job *j)
{
	double t0 = now_s();

	for (size_t i = 0; i < j->nall; i++) {
		struct page *g = &j->all[i];
		json_t *page = json_loadb(g->p, g->len, 0, NULL);
		const char *next = json_string_value(json_object_get(page, "@odata.nextLink"));
		bool last = i + 1 == j->nall;

		if (!page || !json_is_array(json_object_get(page, "value")) ||
		    (last ? (next || !json_object_get(page, "@odata.deltaLink"))
			  : (!next || !g->next || strcmp(next, g->next) != 0)))
			j->failed = 1;
		j->messages += (long)json_array_size(json_object_get(page, "value"));
		json_decref(page);
		free(g->p);
		free(g->next);
	}
	free(j->all);
	j->parse_s = now_s() - t0;
}

static void *run(void *arg)
{
	struct job *j = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL, *first = NULL;
	char auth[4096], pref[128], pref1[128];
	char *link;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", j->token);
	snprintf(pref, sizeof(pref), "Prefer: odata.maxpagesize=%ld, IdType=\"ImmutableId\"", j->pagesize);
	snprintf(pref1, sizeof(pref1), "Prefer: odata.maxpagesize=%ld, IdType=\"ImmutableId\"",
		 j->first_pagesize);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Accept: application/json");
	first = curl_slist_append(first, auth);
	first = curl_slist_append(first, "Accept: application/json");
	first = curl_slist_append(first, pref1);
	h = curl_slist_append(h, pref);
	if (strcmp(j->select, "-") == 0) {
		if (asprintf(&link, "%s/v1.0/me/mailFolders/%s/messages/delta?$orderby=receivedDateTime%%20desc",
			     j->url, j->folder) < 0)
			link = NULL;
	} else if (asprintf(&link, "%s/v1.0/me/mailFolders/%s/messages/delta?$orderby=receivedDateTime%%20desc&$select=%s",
			    j->url, j->folder, j->select) < 0) {
		link = NULL;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, first);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	while (link) {
		struct page g = { NULL, 0, 0, NULL };
		double t = 0;
		long status = 0;
		CURLcode rc;

		curl_easy_setopt(c, CURLOPT_URL, link);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
		free(link);
		link = NULL;
		sem_wait(&inflight);
		rc = curl_easy_perform(c);
		sem_post(&inflight);
		if (j->pages == 0)
			j->first_page_s = now_s() - t_start;
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		if (rc != CURLE_OK) {
			j->failed = 1;
			free(g.p);
			break;
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &t);
		j->server_s += t;
		if (status != 200 || !g.p) {
			j->failed = 1;
			free(g.p);
			break;
		}
		g.next = head_next_link(&g);
		if (g.next)
			link = strdup(g.next);
		if (j->nall == j->capall) {
			j->capall = j->capall ? j->capall * 2 : 256;
			j->all = realloc(j->all, j->capall * sizeof(*j->all));
			if (!j->all) {
				j->failed = 1;
				free(g.p);
				free(g.next);
				break;
			}
		}
		j->all[j->nall++] = g;
		j->pages++;
	}
	curl_slist_free_all(h);
	curl_slist_free_all(first);
	curl_easy_cleanup(c);
	return NULL;
}

int main(int argc, char **argv)
{
	struct job jobs[16];
	pthread_t t[16];
	int n = argc - 6;
	long pages = 0, messages = 0, first_size, size;
	double t0, wall, server = 0, parse = 0, first = 0;
	const char *max = getenv("MAX_INFLIGHT");
	char *comma;

	if (argc < 7 || n > 16) {
		fprintf(stderr, "usage: %s URL TOKEN PAGESIZE SELECT LABEL FOLDER...\n", argv[0]);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sem_init(&inflight, 0, max && atoi(max) > 0 ? (unsigned)atoi(max) : 4u);
	first_size = strtol(argv[3], &comma, 10);
	size = *comma == ',' ? strtol(comma + 1, NULL, 10) : first_size;
	t0 = t_start = now_s();
	for (int i = 0; i < n; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].url = argv[1];
		jobs[i].token = argv[2];
		jobs[i].pagesize = size;
		jobs[i].first_pagesize = first_size;
		jobs[i].select = argv[4];
		jobs[i].folder = argv[6 + i];
		pthread_create(&t[i], NULL, run, &jobs[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	wall = now_s() - t0;
	for (int i = 0; i < n; i++) {
		check_pages(&jobs[i]);
		if (jobs[i].failed) {
			fprintf(stderr, "sim_throughput: sync of %s failed\n", jobs[i].folder);
			return 1;
		}
		pages += jobs[i].pages;
		messages += jobs[i].messages;
		parse += jobs[i].parse_s;
		if (jobs[i].server_s > server)
			server = jobs[i].server_s;
		if (jobs[i].first_page_s > first)
			first = jobs[i].first_page_s;
	}
	printf("{\"figure\":\"sim_delta_throughput\",\"label\":\"%s\",\"streams\":%d,\"page_size\":%ld,"
	       "\"first_page_size\":%ld,"
	       "\"pages\":%ld,\"messages\":%ld,\"wall_ms\":%.0f,\"server_ms\":%.0f,"
	       "\"pages_per_s\":%.1f,\"messages_per_s\":%.0f,"
	       "\"server_pages_per_s\":%.1f,\"server_messages_per_s\":%.0f,"
	       "\"client_parse_ms\":%.0f,\"first_pages_ms\":%.0f}\n",
	       argv[5], n, size, first_size, pages, messages, wall * 1e3, server * 1e3,
	       (double)pages / wall, (double)messages / wall,
	       (double)pages / server, (double)messages / server, parse * 1e3, first * 1e3);
	curl_global_cleanup();
	return 0;
}
