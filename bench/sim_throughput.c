/*
 * sim_throughput.c — benchmark driver for bench/sim_throughput.sh: fully
 * delta-syncs one or more folders of a running m365sim (one thread and one
 * keep-alive connection per folder), following @odata.nextLink to the
 * deltaLink, and prints one JSON line with pages/s and messages/s, both
 * wall-clock (including parsing here) and server-side (curl's transfer
 * time only).
 *
 * usage: sim_throughput URL TOKEN PAGESIZE SELECT LABEL FOLDER...
 *        (SELECT "-" = no $select, i.e. full messages)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <jansson.h>

struct job {
	const char *url, *token, *folder, *select;
	long pagesize;
	long pages, messages;
	double server_s;
	int failed;
};

struct grow {
	char *p;
	size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
	struct grow *g = ud;
	char *np = realloc(g->p, g->len + size * n + 1);

	if (!np)
		return 0;
	g->p = np;
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

static void *run(void *arg)
{
	struct job *j = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char auth[4096], pref[128];
	char *link;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", j->token);
	snprintf(pref, sizeof(pref), "Prefer: odata.maxpagesize=%ld, IdType=\"ImmutableId\"", j->pagesize);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, pref);
	if (strcmp(j->select, "-") == 0) {
		if (asprintf(&link, "%s/v1.0/me/mailFolders/%s/messages/delta?$orderby=receivedDateTime%%20desc",
			     j->url, j->folder) < 0)
			link = NULL;
	} else if (asprintf(&link, "%s/v1.0/me/mailFolders/%s/messages/delta?$orderby=receivedDateTime%%20desc&$select=%s",
			    j->url, j->folder, j->select) < 0) {
		link = NULL;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	while (link) {
		struct grow g = { NULL, 0 };
		double t = 0;
		long status = 0;
		json_t *page;
		const char *next;

		curl_easy_setopt(c, CURLOPT_URL, link);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
		if (curl_easy_perform(c) != CURLE_OK) {
			j->failed = 1;
			free(g.p);
			break;
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &t);
		j->server_s += t;
		page = status == 200 ? json_loadb(g.p, g.len, 0, NULL) : NULL;
		free(g.p);
		free(link);
		link = NULL;
		if (!page) {
			j->failed = 1;
			break;
		}
		j->pages++;
		j->messages += (long)json_array_size(json_object_get(page, "value"));
		next = json_string_value(json_object_get(page, "@odata.nextLink"));
		if (next)
			link = strdup(next);
		json_decref(page);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

int main(int argc, char **argv)
{
	struct job jobs[16];
	pthread_t t[16];
	int n = argc - 6;
	long pages = 0, messages = 0;
	double t0, wall, server = 0;

	if (argc < 7 || n > 16) {
		fprintf(stderr, "usage: %s URL TOKEN PAGESIZE SELECT LABEL FOLDER...\n", argv[0]);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].url = argv[1];
		jobs[i].token = argv[2];
		jobs[i].pagesize = strtol(argv[3], NULL, 10);
		jobs[i].select = argv[4];
		jobs[i].folder = argv[6 + i];
		pthread_create(&t[i], NULL, run, &jobs[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		if (jobs[i].failed) {
			fprintf(stderr, "sim_throughput: sync of %s failed\n", jobs[i].folder);
			return 1;
		}
		pages += jobs[i].pages;
		messages += jobs[i].messages;
		if (jobs[i].server_s > server)
			server = jobs[i].server_s;
	}
	wall = now_s() - t0;
	printf("{\"figure\":\"sim_delta_throughput\",\"label\":\"%s\",\"streams\":%d,\"page_size\":%s,"
	       "\"pages\":%ld,\"messages\":%ld,\"wall_ms\":%.0f,\"server_ms\":%.0f,"
	       "\"pages_per_s\":%.1f,\"messages_per_s\":%.0f,"
	       "\"server_pages_per_s\":%.1f,\"server_messages_per_s\":%.0f}\n",
	       argv[5], n, argv[3], pages, messages, wall * 1e3, server * 1e3,
	       (double)pages / wall, (double)messages / wall,
	       (double)pages / server, (double)messages / server);
	curl_global_cleanup();
	return 0;
}
