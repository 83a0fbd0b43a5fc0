/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* Login throughput and latency, with the plugin and without, side by side:
   server "plugin" and server "stock" have the same configuration and the
   same SQLite passdb, except that "plugin" loads the module. For each kind
   of user, rounds with each server alone (alternating which goes first)
   give per server the median of the rounds' logins per second and their
   spread, the latency, and the CPU time all of the server's processes
   spent per login (from each server's cgroup, or /proc where none can be
   made). The ratios come from rounds with both servers loaded at once,
   half of the connections each, so that both see the same machine: the
   medians and spreads of the rounds' plugin/stock throughput ratios and
   CPU-per-login ratios.

   usage: bench-logins ROUNDS SECONDS CONCURRENCY CSV
   Environment: BENCH_ONLY=<users>[,<users>...] runs those kinds only;
   BENCH_AA=1 runs the same comparison with the plugin loaded into neither
   server, which shows how far apart two identical servers measure here
   (the noise floor of the ratios); BENCH_NOOP=1 loads a login plugin
   that does nothing (noop-plugin.c) instead of the referral plugin: what
   loading any login plugin costs; BENCH_LINE=1 one that only logs a line
   per nologin referral (line-plugin.c): stock plus that line, the
   referral plugin's floor for nologin users; BENCH_REUSE=1 runs imap-login in
   Dovecot's high-performance mode (service_count = 0: processes serve many
   connections, so a login plugin is loaded once, not per connection).
   One login is a whole connection: connect, greeting, LOGIN, the tagged
   reply (the latency is measured from connect to it), LOGOUT and its
   reply, close. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-net.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IP "127.0.0.1"
#define PASSWORD "Pw-bench"
#define MAX_CONCURRENCY 256
#define MAX_ROUNDS 100

struct scenario {
	const char *name, *user, *password;
	/* the tagged reply must start with this, on both servers */
	const char *reply_prefix;
	/* and with this on the server that loads the referral plugin
	   ("plugin"), when it answers otherwise than stock */
	const char *plugin_reply_prefix;
	/* a fresh loopback source address per login: Dovecot's auth penalty
	   would otherwise slow every failed login down */
	bool own_address;
};

static const struct scenario scenarios[] = {
	{ "local", "local", PASSWORD, "b OK ", NULL, false },
	{ "nologin", "moved", PASSWORD, "b NO [REFERRAL ", NULL, false },
	{ "suggest", "suggest", PASSWORD, "b OK ", "b OK [REFERRAL ", false },
	{ "proxy", "proxied", PASSWORD, "b OK ", NULL, false },
	/* proxy with referral=suggest: the plugin's OK has the referral,
	   stock's the capabilities; the same proxied login otherwise */
	{ "proxy-suggest", "proxysuggest", PASSWORD, "b OK ",
	  "b OK [REFERRAL ", false },
	{ "wrong-password", "local", "wrong", "b NO [AUTHENTICATIONFAILED] ",
	  NULL, true },
};

struct slot {
	int fd;
	/* the greeting came; the login's tagged reply came (LOGOUT sent) */
	bool greeted, replied;
	struct timespec start;
	char buf[16384];
	size_t len;
};

struct round_result {
	double logins_per_sec;
	double p50_ms, p99_ms;
	double cpu_ms_per_login;
	unsigned int logins, errors;
};

static uint32_t next_source;

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double elapsed_ms(const struct timespec *start)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec - start->tv_sec) * 1e3 +
		(ts.tv_nsec - start->tv_nsec) / 1e6;
}

static void slot_open(struct slot *slot, in_port_t port, bool own_address)
{
	union harness_sockaddr addr;

	memset(slot, 0, sizeof(*slot));
	clock_gettime(CLOCK_MONOTONIC, &slot->start);
	slot->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (slot->fd < 0)
		harness_die("socket() failed: %s", strerror(errno));
	if (own_address) {
		/* 127.16.0.1 and up: a /12 of loopback addresses */
		uint32_t ip = 0x7f100001 + (next_source++ % 0xffffe);
		union harness_sockaddr src;

		(void)harness_sockaddr_ipv4(&src, "0.0.0.0", 0);
		src.sin.sin_addr.s_addr = htonl(ip);
		if (bind(slot->fd, &src.sa, sizeof(src.sin)) < 0)
			harness_die("bind() failed: %s", strerror(errno));
	}
	(void)harness_sockaddr_ipv4(&addr, IP, port);
	if (connect(slot->fd, &addr.sa, sizeof(addr.sin)) < 0 &&
	    errno != EINPROGRESS)
		harness_die("connect() failed: %s", strerror(errno));
}

static void slot_send(struct slot *slot, const char *line)
{
	/* short lines into an empty socket buffer: written whole */
	if (write(slot->fd, line, strlen(line)) != (ssize_t)strlen(line))
		harness_die("write() failed: %s", strerror(errno));
}

/* Handle input; returns 1 when the login's tagged reply has come (ok_r
   says whether it was the expected one), 2 when the LOGOUT sent after it
   has its reply, 0 to wait, -1 on EOF/error. */
static int slot_input(struct slot *slot, const struct scenario *sc,
		      bool plugin, bool *ok_r)
{
	const char *prefix = plugin && sc->plugin_reply_prefix != NULL ?
		sc->plugin_reply_prefix : sc->reply_prefix;

	ssize_t ret = read(slot->fd, slot->buf + slot->len,
			   sizeof(slot->buf) - slot->len - 1);
	char *line, *nl;
	int result = 0;

	if (ret <= 0)
		return ret < 0 && errno == EAGAIN ? 0 : -1;
	slot->len += ret;
	slot->buf[slot->len] = '\0';
	line = slot->buf;
	while (result == 0 && (nl = strstr(line, "\r\n")) != NULL) {
		*nl = '\0';
		if (!slot->greeted) {
			slot->greeted = true;
			char *cmd = harness_printf("b LOGIN %s %s\r\n",
						   sc->user, sc->password);
			slot_send(slot, cmd);
			free(cmd);
		} else if (!slot->replied && strncmp(line, "b ", 2) == 0) {
			slot->replied = true;
			*ok_r = strncmp(line, prefix, strlen(prefix)) == 0;
			if (!*ok_r)
				fprintf(stderr, "unexpected reply: %s\n", line);
			result = 1;
		} else if (slot->replied && strncmp(line, "c ", 2) == 0) {
			result = 2;
		}
		line = nl + 2;
	}
	memmove(slot->buf, line, slot->len - (line - slot->buf));
	slot->len -= line - slot->buf;
	return result;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct latencies {
	double *values;
	size_t count, alloc;
};

static void latencies_add(struct latencies *lat, double value)
{
	if (lat->count == lat->alloc) {
		lat->alloc = lat->alloc == 0 ? 4096 : lat->alloc * 2;
		lat->values = realloc(lat->values,
				      lat->alloc * sizeof(double));
		if (lat->values == NULL)
			harness_die("out of memory");
	}
	lat->values[lat->count++] = value;
}

/* One round: the connections are spread over the servers (slot i logs in
   to servers[i % count]), so with two servers both run at the same time,
   under the same load, and each gets half of the connections. */
static void run_round(const struct dc_server *const servers[],
		      unsigned int count, const struct scenario *sc,
		      double seconds, unsigned int concurrency,
		      struct round_result results_r[])
{
	struct slot slots[MAX_CONCURRENCY];
	struct pollfd pfds[MAX_CONCURRENCY];
	struct latencies lat[2];
	double cpu_start[2], elapsed;
	double start = now_secs(), end = start + seconds;
	unsigned int i, c;

	memset(lat, 0, sizeof(lat));
	for (c = 0; c < count; c++) {
		memset(&results_r[c], 0, sizeof(results_r[c]));
		cpu_start[c] = dc_server_cpu_secs(servers[c]);
	}
	for (i = 0; i < concurrency; i++)
		slot_open(&slots[i], servers[i % count]->imap_port,
			  sc->own_address);
	while (now_secs() < end) {
		for (i = 0; i < concurrency; i++) {
			pfds[i].fd = slots[i].fd;
			pfds[i].events = POLLIN;
		}
		if (poll(pfds, concurrency, 1000) < 0 && errno != EINTR)
			harness_die("poll() failed: %s", strerror(errno));
		for (i = 0; i < concurrency; i++) {
			bool ok = false;
			int ret;

			if (pfds[i].revents == 0)
				continue;
			ret = slot_input(&slots[i], sc, strcmp(
				servers[i % count]->name, "plugin") == 0, &ok);
			if (ret == 0)
				continue;
			if (ret == 1 && ok) {
				/* the login counts; the connection ends with
				   the LOGOUT's reply, so that the processes
				   serving it are done with it too (a
				   suggest-mode reply comes before the
				   post-login process has started) */
				latencies_add(&lat[i % count],
					      elapsed_ms(&slots[i].start));
				slot_send(&slots[i], "c LOGOUT\r\n");
				continue;
			}
			if (ret == 1 || !slots[i].replied)
				results_r[i % count].errors++;
			close(slots[i].fd);
			slot_open(&slots[i], servers[i % count]->imap_port,
				  sc->own_address);
		}
	}
	for (i = 0; i < concurrency; i++)
		close(slots[i].fd);
	elapsed = now_secs() - start;

	/* let the last connections' processes finish */
	harness_msleep(200);
	for (c = 0; c < count; c++) {
		struct round_result *res = &results_r[c];

		res->logins = lat[c].count;
		res->logins_per_sec = lat[c].count / elapsed;
		if (lat[c].count == 0)
			continue;
		res->cpu_ms_per_login = (dc_server_cpu_secs(servers[c]) -
					 cpu_start[c]) * 1e3 / lat[c].count;
		qsort(lat[c].values, lat[c].count, sizeof(double),
		      cmp_double);
		res->p50_ms = lat[c].values[lat[c].count / 2];
		res->p99_ms = lat[c].values[(lat[c].count * 99) / 100];
		free(lat[c].values);
	}
}

/* Is name one of the comma-separated items of list? */
static bool list_has(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p;

	for (p = list; (p = strstr(p, name)) != NULL; p += len) {
		if ((p == list || p[-1] == ',') &&
		    (p[len] == '\0' || p[len] == ','))
			return true;
	}
	return false;
}

static double median(double *values, unsigned int count)
{
	qsort(values, count, sizeof(double), cmp_double);
	return count % 2 == 1 ? values[count / 2] :
		(values[count / 2 - 1] + values[count / 2]) / 2;
}

/* median and min..max of values (sorted in place) */
struct spread {
	double median, min, max;
};

static struct spread spread_of(double *values, unsigned int count)
{
	struct spread sp;

	sp.median = median(values, count);
	sp.min = values[0];
	sp.max = values[count - 1];
	return sp;
}

/* Rounds for the absolute numbers: each server alone, in turn. */
static unsigned int solo_rounds(unsigned int rounds)
{
	/* two or more, so that each server goes first once, except in the
	   one-round smoke run */
	if (rounds == 1)
		return 1;
	return rounds < 8 ? 2 : (rounds + 3) / 4;
}

struct scenario_result {
	struct spread rate[2], p50[2], p99[2], cpu[2];
	struct spread thru_ratio, cpu_ratio;
	unsigned int errors;
};

static void run_scenario(const struct dc_server *servers,
			 const struct scenario *sc, unsigned int rounds,
			 double seconds, unsigned int concurrency,
			 struct scenario_result *result_r)
{
	unsigned int solo = solo_rounds(rounds), r, c;
	double rate[2][MAX_ROUNDS], p50[2][MAX_ROUNDS], p99[2][MAX_ROUNDS];
	double cpu[2][MAX_ROUNDS], thru_ratio[MAX_ROUNDS];
	double cpu_ratio[MAX_ROUNDS];
	struct round_result res[2];

	memset(result_r, 0, sizeof(*result_r));
	/* warm up both: processes started, caches filled */
	for (c = 0; c < 2; c++) {
		const struct dc_server *one[] = { &servers[c] };

		run_round(one, 1, sc, seconds / 4, concurrency, res);
	}
	for (r = 0; r < solo; r++) {
		for (c = 0; c < 2; c++) {
			/* alternate which server goes first */
			unsigned int which = (r + c) % 2;
			const struct dc_server *one[] = { &servers[which] };

			run_round(one, 1, sc, seconds, concurrency, res);
			rate[which][r] = res[0].logins_per_sec;
			p50[which][r] = res[0].p50_ms;
			p99[which][r] = res[0].p99_ms;
			cpu[which][r] = res[0].cpu_ms_per_login;
			result_r->errors += res[0].errors;
		}
	}
	for (c = 0; c < 2; c++) {
		result_r->rate[c] = spread_of(rate[c], solo);
		result_r->p50[c] = spread_of(p50[c], solo);
		result_r->p99[c] = spread_of(p99[c], solo);
		result_r->cpu[c] = spread_of(cpu[c], solo);
	}
	for (r = 0; r < rounds; r++) {
		/* both at once; the servers swap connection slots every
		   round */
		unsigned int first = r % 2;
		const struct dc_server *both[] = {
			&servers[first], &servers[1 - first]
		};

		run_round(both, 2, sc, seconds, concurrency, res);
		if (res[0].logins == 0 || res[1].logins == 0)
			harness_die("%s: a server made no logins in a round",
				    sc->name);
		/* res[] follows both[], so servers[0]'s result is
		   res[first] */
		thru_ratio[r] = res[first].logins_per_sec /
			res[1 - first].logins_per_sec;
		cpu_ratio[r] = res[first].cpu_ms_per_login /
			res[1 - first].cpu_ms_per_login;
		result_r->errors += res[0].errors + res[1].errors;
	}
	result_r->thru_ratio = spread_of(thru_ratio, rounds);
	result_r->cpu_ratio = spread_of(cpu_ratio, rounds);
}

int main(int argc, char *argv[])
{
	unsigned int rounds, concurrency, s, c, total_errors = 0;
	struct dc_server b, servers[2];
	bool aa = getenv("BENCH_AA") != NULL;
	bool noop = getenv("BENCH_NOOP") != NULL;
	bool line = getenv("BENCH_LINE") != NULL;
	/* the server compared with stock: its name is the plugin it loads */
	const char *first = aa ? "stock-2" : noop ? "noop" : line ? "line" :
		"plugin";
	const char *names[2] = { first, "stock" };
	const char *only = getenv("BENCH_ONLY");
	double seconds;
	char *root, *db, *passdb, *extra;
	bool cgroups = true;
	FILE *csv;

	if (argc != 5) {
		fprintf(stderr, "usage: %s ROUNDS SECONDS CONCURRENCY CSV\n",
			argv[0]);
		return 2;
	}
	rounds = atoi(argv[1]);
	seconds = atof(argv[2]);
	concurrency = atoi(argv[3]);
	/* an even concurrency: both servers get as many connections */
	if (rounds == 0 || rounds > MAX_ROUNDS || concurrency == 0 ||
	    concurrency % 2 != 0 ||
	    concurrency > MAX_CONCURRENCY || seconds <= 0) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	root = harness_make_root("referral-bench");
	dc_server_init(&b, root, "b");
	dc_server_init(&servers[0], root, names[0]);
	dc_server_init(&servers[1], root, names[1]);
	char port_b[8];
	snprintf(port_b, sizeof(port_b), "%u", b.imap_port);
	const struct passdb_user users[] = {
		{ .user = "local", .password = "{PLAIN}" PASSWORD },
		{ .user = "moved", .password = "{PLAIN}" PASSWORD,
		  .host = "imap2.example.com", .nologin = "Y" },
		{ .user = "suggest", .password = "{PLAIN}" PASSWORD,
		  .host = "imap2.example.com" },
		{ .user = "proxied", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b, .proxy = "Y" },
		{ .user = "proxysuggest", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b, .proxy = "Y",
		  .referral = "suggest" },
	};
	db = harness_printf("%s/users.db", root);
	passdb_create(db, users, sizeof(users) / sizeof(users[0]));
	/* B only checks passwords: it is where "proxied" and "proxysuggest"
	   are proxied to */
	passdb = passdb_sql_block(db, "b", PASSDB_QUERY_PLAIN);

	/* no per-user connection limit: every login of a round is the same
	   user from the same address */
	char *reuse = getenv("BENCH_REUSE") == NULL ? harness_printf("%s", "") :
		harness_printf("service imap-login {\n  %s\n"
			       "  process_min_avail = 2\n}\n",
			       dc_syntax_login_reuse());
	char *plugins = dc_syntax_login_plugins(aa ? "" :
		noop || line ? first : "referral",
		noop || line ? CONTROL_PLUGIN_DIR : REFERRAL_PLUGIN_DIR);
	extra = harness_printf("mail_max_userip_connections = 0\n"
			       "auth_verbose = no\n%s", passdb);
	dc_server_start(&b, extra);
	free(extra);
	free(passdb);
	passdb = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	extra = harness_printf("mail_max_userip_connections = 0\n"
			       "auth_verbose = no\n%s%s%s", reuse, plugins,
			       passdb);
	free(plugins);
	dc_server_start(&servers[0], extra);
	free(extra);
	extra = harness_printf("mail_max_userip_connections = 0\n"
			       "auth_verbose = no\n%s%s", reuse, passdb);
	dc_server_start(&servers[1], extra);
	free(extra);
	free(reuse);
	/* both servers' CPU time counted the same way, or the ratios would
	   compare two ways of counting */
	cgroups = dc_server_cpu_cgroup(&servers[0]);
	if (cgroups != dc_server_cpu_cgroup(&servers[1]))
		harness_die("a cgroup could be made for one server only");

	csv = fopen(argv[4], "w");
	if (csv == NULL)
		harness_die("fopen(%s) failed: %s", argv[4], strerror(errno));
	fprintf(csv, "scenario,server,logins_per_sec_median,"
		"logins_per_sec_min,logins_per_sec_max,p50_ms,p99_ms,"
		"cpu_ms_per_login,throughput_ratio,throughput_ratio_min,"
		"throughput_ratio_max,cpu_ratio,cpu_ratio_min,"
		"cpu_ratio_max\n");
	printf("%u concurrent connections; CPU time from %s%s\n"
	       "each server alone: %u rounds of %.1f s each "
	       "(logins/s: median, min..max; latency and CPU per login: "
	       "medians)\n"
	       "same time: %u rounds of %.1f s with both servers loaded at "
	       "once, half of the connections each; %s/%s ratios, median "
	       "(min..max) of the rounds\n\n", concurrency,
	       cgroups ? "each server's cgroup, like " : "",
	       cgroups ? servers[0].cpu_cgroup : "/proc (clock ticks)",
	       solo_rounds(rounds), seconds, rounds, seconds, names[0],
	       names[1]);
	printf("%-15s %-7s %9s %17s %7s %7s %8s\n", "users", "server",
	       "logins/s", "(min..max)", "p50 ms", "p99 ms", "CPU ms");

	for (s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]); s++) {
		struct scenario_result res;

		if (only != NULL && !list_has(only, scenarios[s].name))
			continue;
		run_scenario(servers, &scenarios[s], rounds, seconds,
			     concurrency, &res);
		total_errors += res.errors;
		for (c = 0; c < 2; c++) {
			printf("%-15s %-7s %9.1f %8.1f..%-8.1f %7.1f %7.1f "
			       "%8.2f\n", c == 0 ? scenarios[s].name : "",
			       names[c], res.rate[c].median, res.rate[c].min,
			       res.rate[c].max, res.p50[c].median,
			       res.p99[c].median, res.cpu[c].median);
			fprintf(csv, "%s,%s,%.1f,%.1f,%.1f,%.2f,%.2f,%.3f,"
				"%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n",
				scenarios[s].name, names[c],
				res.rate[c].median, res.rate[c].min,
				res.rate[c].max, res.p50[c].median,
				res.p99[c].median, res.cpu[c].median,
				res.thru_ratio.median, res.thru_ratio.min,
				res.thru_ratio.max, res.cpu_ratio.median,
				res.cpu_ratio.min, res.cpu_ratio.max);
		}
		printf("  same time: throughput %.3f (%.3f..%.3f), "
		       "CPU per login %.3f (%.3f..%.3f)\n",
		       res.thru_ratio.median, res.thru_ratio.min,
		       res.thru_ratio.max, res.cpu_ratio.median,
		       res.cpu_ratio.min, res.cpu_ratio.max);
	}
	fclose(csv);
	printf("\nunexpected replies or dropped connections: %u\n",
	       total_errors);

	dc_server_stop(&servers[0]);
	dc_server_stop(&servers[1]);
	dc_server_stop(&b);
	for (c = 0; c < 2; c++) {
		char *errors = dc_server_log_errors(&servers[c]);

		if (errors != NULL)
			harness_die("%s logged:\n%s", names[c], errors);
	}
	harness_remove_root(root);
	return total_errors == 0 ? 0 : 1;
}
