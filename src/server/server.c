/*
 * server.c — the life of `serve` (see server.h): checking the store and
 * the options, starting the scheduler, the change-feed waiter, webhook
 * delivery and the HTTP daemon, and shutting them down in the order that
 * commits nothing by halves. Also the per-thread store, vault and HTTP
 * client that request handlers use.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/timeutil.h"
#include "server/server_internal.h"

#define SCHED_GRACE_MS 5000        /* passes finish their page within this */
#define ENGINE_BUDGET_MS 10000     /* a pass shares its worker after this */

int httpd_start(struct server *srv, const struct sockaddr *addr, bool ipv6,
		struct err *e);
int httpd_port(struct server *srv);
void httpd_quiesce(struct server *srv);
void httpd_stop(struct server *srv);

/* ---- the env of request threads ------------------------------------------------ */

struct thread_env {
	struct auth_env env;
};

static pthread_key_t env_key;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void thread_env_free(void *p)
{
	struct thread_env *t = p;

	store_close(t->env.store);
	vault_free(t->env.vault);
	http_client_free(t->env.http);
	free(t);
}

static void make_key(void)
{
	pthread_key_create(&env_key, thread_env_free);
}

void server_thread_env_init(void)
{
	pthread_once(&env_once, make_key);
}

const struct auth_env *server_thread_env(struct server *srv, struct err *e)
{
	struct thread_env *t = pthread_getspecific(env_key);

	if (t)
		return &t->env;
	t = xcalloc(1, sizeof(*t));
	if (store_open_existing(srv->cfg.store_path, &t->env.store, e) < 0) {
		free(t);
		return NULL;
	}
	t->env.vault = srv->cfg.key_file ? vault_new_file(srv->cfg.key_file)
					 : vault_new(srv->cfg.data_dir);
	vault_guard_store(t->env.vault, t->env.store);
	t->env.http = http_client_new(&(struct http_options){ .abort_flag = &srv->http_abort });
	pthread_setspecific(env_key, t);
	return &t->env;
}

void server_poke_sync(struct server *srv)
{
	pthread_mutex_lock(&srv->sched_lock);
	sched_service_poke(srv->sched);
	pthread_mutex_unlock(&srv->sched_lock);
}

/* ---- start-up ------------------------------------------------------------------ */

/* "HOST:PORT" (HOST an address, "localhost", or [IPv6]) into `out`. */
static int parse_listen(const char *listen, struct sockaddr_storage *out, bool *ipv6,
			char *host, size_t host_n, struct err *e)
{
	struct addrinfo hints, *res = NULL;
	const char *colon = strrchr(listen, ':');
	char port[8];
	size_t hn;

	if (!colon || colon == listen || strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof(port))
		goto bad;
	hn = (size_t)(colon - listen);
	if (listen[0] == '[') {
		if (hn < 3 || listen[hn - 1] != ']')
			goto bad;
		snprintf(host, host_n, "%.*s", (int)(hn - 2), listen + 1);
	} else {
		snprintf(host, host_n, "%.*s", (int)hn, listen);
	}
	str_copy(port, sizeof(port), colon + 1);
	for (const char *p = port; *p; p++)
		if (*p < '0' || *p > '9')
			goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
		goto bad;
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*ipv6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return 0;
bad:
	err_set(e, ERR_PERMANENT, "usage", "bad --listen '%.100s': expected HOST:PORT "
		"(e.g. 127.0.0.1:8025, 0.0.0.0:8025, [::1]:8025; port 0 picks one)", listen);
	return err_set_fix(e, FIX_CHECK_INPUT, "correct --listen");
}

static int set_public_url(struct server *srv, const char *host, struct err *e)
{
	const char *u = srv->cfg.public_url;
	size_t n;

	if (u && *u) {
		if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) {
			err_set(e, ERR_PERMANENT, "usage", "--public-url must start with "
				"https:// (or http://)");
			return err_set_fix(e, FIX_CHECK_INPUT, "correct --public-url");
		}
		str_copy(srv->public_url, sizeof(srv->public_url), u);
	} else {
		bool v6 = strchr(host, ':') != NULL;

		snprintf(srv->public_url, sizeof(srv->public_url), "http://%s%s%s:%d",
			 v6 ? "[" : "", host, v6 ? "]" : "", httpd_port(srv));
	}
	n = strlen(srv->public_url);
	while (n > 0 && srv->public_url[n - 1] == '/')
		srv->public_url[--n] = '\0';
	srv->secure_cookies = strncmp(srv->public_url, "https://", 8) == 0;
	snprintf(srv->redirect_uri, sizeof(srv->redirect_uri), "%s/oauth/callback",
		 srv->public_url);
	return 0;
}

/* The store must be one this program knows, and reachable. */
static int check_store(const struct server_config *cfg, struct err *e)
{
	struct store *st;
	int64_t seq;
	int rc;

	if (store_open(cfg->store_path, &st, e) < 0)
		return -1;
	rc = store_last_event_seq(st, &seq, e);
	store_close(st);
	return rc;
}

static void stop_all(struct server *srv)
{
	struct sched_service *sched;

	srv->stopping = 1;
	httpd_quiesce(srv);           /* no new connections */
	feed_stop(srv->feed);         /* long polls answer now */
	webhooks_signal_stop(srv->webhooks);
	pthread_mutex_lock(&srv->sched_lock);
	sched = srv->sched;
	srv->sched = NULL;
	pthread_mutex_unlock(&srv->sched_lock);
	sched_service_stop(sched, SCHED_GRACE_MS);
	webhooks_stop(srv->webhooks);
	srv->webhooks = NULL;
	srv->http_abort = 1;          /* handlers still waiting on Microsoft */
	httpd_stop(srv);
	feed_free(srv->feed);
	srv->feed = NULL;
	signin_throttle_free(srv->throttle);
	srv->throttle = NULL;
	service_text_cache_free(srv->texts); /* after the daemon: no handler uses it */
	srv->texts = NULL;
}

int server_run(const struct server_config *cfg,
	       void (*on_listening)(void *ctx, const char *url), void *ctx,
	       struct err *e)
{
	struct server *srv = xcalloc(1, sizeof(*srv));
	struct sched_config sc = { 0 };
	struct sockaddr_storage addr;
	char host[256];
	bool ipv6 = false;
	int rc = -1;

	srv->cfg = *cfg;
	pthread_mutex_init(&srv->sched_lock, NULL);
	if (!srv->cfg.listen)
		srv->cfg.listen = SERVER_LISTEN_DEFAULT;
	srv->started_at = time_now();
	if (cfg->node_id && *cfg->node_id) {
		str_copy(srv->node_id, sizeof(srv->node_id), cfg->node_id);
	} else {
		char h[64] = "";

		gethostname(h, sizeof(h) - 1);
		snprintf(srv->node_id, sizeof(srv->node_id), "%.63s:%ld", h, (long)getpid());
	}
	if (parse_listen(srv->cfg.listen, &addr, &ipv6, host, sizeof(host), e) < 0 ||
	    check_store(&srv->cfg, e) < 0)
		goto out;
	server_metrics_describe();
	http_set_observer(server_observe_http);
	srv->throttle = signin_throttle_new();
	srv->texts = service_text_cache_new(SERVER_TEXT_CACHE_SLOTS, SERVER_TEXT_CACHE_BYTES);
	if (httpd_start(srv, (const struct sockaddr *)&addr, ipv6, e) < 0)
		goto out;
	if (set_public_url(srv, host, e) < 0)
		goto out;
	{
		bool v6 = strchr(host, ':') != NULL;

		snprintf(srv->listen_url, sizeof(srv->listen_url), "http://%s%s%s:%d",
			 v6 ? "[" : "", host, v6 ? "]" : "", httpd_port(srv));
	}
	sc.store_path = srv->cfg.store_path;
	sc.data_dir = srv->cfg.data_dir;
	sc.key_file = srv->cfg.key_file;
	sc.workers = srv->cfg.workers;
	sc.poll_interval_s = srv->cfg.poll_interval_s;
	sc.lease_ttl_s = srv->cfg.lease_ttl_s;
	sc.node_id = srv->node_id;
	sc.engine.budget_ms = ENGINE_BUDGET_MS;
	if (feed_start(srv, &srv->feed, e) < 0 ||
	    sched_service_start(&sc, &srv->sched, e) < 0 ||
	    webhooks_start(srv, &srv->webhooks, e) < 0)
		goto out;
	log_info("server", "listening on %s (public URL %s, node %s)", srv->listen_url,
		 srv->public_url, srv->node_id);
	if (on_listening)
		on_listening(ctx, srv->listen_url);
	while (!*cfg->stop)
		time_sleep_ms(100);
	log_info("server", "stopping");
	rc = 0;
out:
	stop_all(srv);
	http_set_observer(NULL);
	pthread_mutex_destroy(&srv->sched_lock);
	free(srv);
	return rc;
}
