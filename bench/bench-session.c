/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* What a referral saves against proxying, for a moved user who then works:
   the user's mailbox (MESSAGES messages of MESSAGE_SIZE bytes) is on
   server B. Proxied, the client logs in to A, which relays the whole
   session to B; referred, A answers the login with a referral and the
   client reads the mailbox on B. For each way this measures the CPU time
   of all of A's processes (from A's own cgroup, or /proc where no cgroup
   can be made), for the login and for the rest of the session, and the
   bytes A sends the client after the login reply.
   usage: bench-session MESSAGES MESSAGE_SIZE SESSIONS CSV
   Environment: BENCH_REUSE=1 runs A's imap-login in Dovecot's
   high-performance mode (service_count = 0), where a login does not
   start a process. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-net.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IP "127.0.0.1"
#define PASSWORD "Pw-bench"
#define IDLE_MSECS 2000
#define SETTLE_MSECS 100

/* Wait until the server has no session processes left, so that their CPU
   time has moved into the master's reaped-children counters (for /proc).
   With reuse, imap-login processes stay: only post-login ones count. */
static void wait_sessions_gone(const struct dc_server *srv, bool reuse)
{
	unsigned int i;

	for (i = 0; i < 100; i++) {
		unsigned int count, j;
		pid_t *children = dc_server_children(srv, &count);
		bool busy = false;

		for (j = 0; j < count; j++) {
			char *path = harness_printf("/proc/%d/comm",
						    children[j]);
			char *comm = harness_read_file(path);

			if (strcmp(comm, "imap\n") == 0 ||
			    (!reuse && strcmp(comm, "imap-login\n") == 0))
				busy = true;
			free(comm);
			free(path);
		}
		free(children);
		if (!busy)
			return;
		harness_msleep(50);
	}
	harness_die("%s still has session processes", srv->name);
}

struct client {
	int fd;
	char buf[256 * 1024];
	size_t len, pos;
	unsigned long long received;
};

static void client_connect(struct client *c, in_port_t port)
{
	union harness_sockaddr addr;

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	(void)harness_sockaddr_ipv4(&addr, IP, port);
	if (connect(c->fd, &addr.sa, sizeof(addr.sin)) < 0)
		harness_die("connect() failed: %s", strerror(errno));
}

static void client_send(struct client *c, const char *line)
{
	if (write(c->fd, line, strlen(line)) != (ssize_t)strlen(line))
		harness_die("write() failed: %s", strerror(errno));
}

/* Read until a line that starts with prefix; returns that line (static
   storage, valid until the next call). Bodies are generated without such
   lines, so scanning the stream line by line is enough. */
static const char *client_read_until(struct client *c, const char *prefix)
{
	static char line[4096];
	size_t plen = strlen(prefix);

	for (;;) {
		char *start = c->buf + c->pos;
		char *nl = memchr(start, '\n', c->len - c->pos);

		if (nl != NULL) {
			size_t len = nl - start;

			c->pos += len + 1;
			if (len >= plen && memcmp(start, prefix, plen) == 0) {
				len = len < sizeof(line) ? len :
					sizeof(line) - 1;
				memcpy(line, start, len);
				line[len] = '\0';
				return line;
			}
			continue;
		}
		memmove(c->buf, start, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
		if (c->len == sizeof(c->buf))
			harness_die("line too long");
		ssize_t ret = read(c->fd, c->buf + c->len,
				   sizeof(c->buf) - c->len);
		if (ret <= 0)
			harness_die("connection closed waiting for %s", prefix);
		c->len += ret;
		c->received += ret;
	}
}

/* A's CPU time over one way's sessions, in seconds, split where the
   client has its login reply (see main()). */
struct a_cpu {
	const struct dc_server *a;
	double mark, login, after_login;
};

/* Add A's CPU time since the last mark to *bucket. */
static void a_cpu_mark(struct a_cpu *cpu, double *bucket)
{
	double now = dc_server_cpu_secs(cpu->a);

	if (bucket != NULL)
		*bucket += now - cpu->mark;
	cpu->mark = now;
}

/* Let A finish with a connection that has ended (its log lines, a
   process exiting) before its CPU time is read. */
static void a_settle(const struct dc_server *a, bool reuse)
{
	wait_sessions_gone(a, reuse);
	harness_msleep(SETTLE_MSECS);
}

/* LOGIN as user on port, then work: SELECT, FETCH every body, LOGOUT.
   Returns the bytes received after the login reply. With cpu, A's CPU
   time up to the login reply goes to cpu->login, the rest to
   cpu->after_login. */
static unsigned long long work_session(in_port_t port, const char *user,
				       struct a_cpu *cpu, bool reuse)
{
	struct client *c = malloc(sizeof(*c));
	unsigned long long after_login;
	char *cmd = harness_printf("b LOGIN %s " PASSWORD "\r\n", user);

	client_connect(c, port);
	client_read_until(c, "* OK");
	client_send(c, cmd);
	if (strncmp(client_read_until(c, "b "), "b OK", 4) != 0)
		harness_die("login as %s failed", user);
	if (cpu != NULL)
		a_cpu_mark(cpu, &cpu->login);
	/* what came before the reply's end; the rest of the buffer came
	   after it */
	after_login = c->received - (c->len - c->pos);
	client_send(c, "c SELECT INBOX\r\n");
	client_read_until(c, "c OK");
	client_send(c, "d FETCH 1:* BODY.PEEK[]\r\n");
	client_read_until(c, "d OK");
	client_send(c, "e LOGOUT\r\n");
	client_read_until(c, "e OK");
	after_login = c->received - after_login;
	close(c->fd);
	free(c);
	free(cmd);
	if (cpu != NULL) {
		a_settle(cpu->a, reuse);
		a_cpu_mark(cpu, &cpu->after_login);
	}
	return after_login;
}

/* LOGIN on A; return the referral's port on B (the URL is
   imap://worker@127.0.0.1:<port>/) and the bytes A sent after its
   reply (none are expected: the client hangs up). */
static in_port_t referred_login(in_port_t port, unsigned long long *after_r)
{
	struct client *c = malloc(sizeof(*c));
	const char *reply, *p;
	in_port_t ref_port;

	client_connect(c, port);
	client_read_until(c, "* OK");
	client_send(c, "b LOGIN moveworker " PASSWORD "\r\n");
	reply = client_read_until(c, "b ");
	p = strstr(reply, "@" IP ":");
	if (strncmp(reply, "b NO [REFERRAL imap://worker@", 29) != 0 ||
	    p == NULL)
		harness_die("no referral: %s", reply);
	ref_port = atoi(p + strlen("@" IP ":"));
	*after_r = c->len - c->pos;
	close(c->fd);
	free(c);
	return ref_port;
}

static void fill_mailbox(const struct dc_server *b, unsigned int messages,
			 unsigned int size)
{
	char *home = harness_printf("%s/home/worker", b->dir);
	char *maildir = harness_printf("%s/Maildir", home);
	const char *subdirs[] = { "", "/cur", "/new", "/tmp" };
	char *body = malloc(size + 1), *path, *header;
	unsigned int i;

	path = harness_printf("%s/home", b->dir);
	harness_make_dir(path, 0755, "nobody");
	free(path);
	harness_make_dir(home, 0700, "nobody");
	for (i = 0; i < 4; i++) {
		path = harness_printf("%s%s", maildir, subdirs[i]);
		harness_make_dir(path, 0700, "nobody");
		free(path);
	}
	/* lines of 'x': nothing in a body looks like a tagged reply */
	memset(body, 'x', size);
	for (i = 76; i < size; i += 78) {
		body[i] = '\r';
		body[i + 1] = '\n';
	}
	body[size] = '\0';
	for (i = 0; i < messages; i++) {
		path = harness_printf("%s/cur/%u.bench.%u:2,S", maildir,
				      1700000000 + i, i);
		header = harness_printf("From: sender@example.com\r\n"
					"To: worker@example.com\r\n"
					"Subject: message %u\r\n\r\n", i);
		char *message = harness_printf("%s%s", header, body);
		harness_write_file(path, message);
		if (chown(path, 65534, 65534) < 0)
			harness_die("chown(%s) failed", path);
		free(message);
		free(header);
		free(path);
	}
	free(body);
	free(maildir);
	free(home);
}

int main(int argc, char *argv[])
{
	unsigned int messages, size, sessions, i;
	struct dc_server a, b;
	char *root, *db, *passdb, *extra, *plugins, port_b[8];
	unsigned long long proxy_bytes = 0, referral_bytes = 0, fetched = 0;
	unsigned long long ignored;
	struct a_cpu proxy, referral;
	double cpu0, mbytes, idle_cpu;
	bool reuse = getenv("BENCH_REUSE") != NULL, cgroup;
	FILE *csv;

	if (argc != 5 || (messages = atoi(argv[1])) == 0 ||
	    (size = atoi(argv[2])) < 100 || (sessions = atoi(argv[3])) == 0) {
		fprintf(stderr, "usage: %s MESSAGES MESSAGE_SIZE SESSIONS CSV\n",
			argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	root = harness_make_root("referral-bench-session");
	dc_server_init(&b, root, "b");
	dc_server_init(&a, root, "a");
	snprintf(port_b, sizeof(port_b), "%u", b.imap_port);
	/* both of A's users are "worker" on B: one proxied, one referred */
	const struct passdb_user users[] = {
		{ .user = "worker", .password = "{PLAIN}" PASSWORD },
		{ .user = "proxyworker", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b, .destuser = "worker",
		  .proxy = "Y" },
		{ .user = "moveworker", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b, .destuser = "worker",
		  .nologin = "Y" },
	};
	db = harness_printf("%s/users.db", root);
	passdb_create(db, users, sizeof(users) / sizeof(users[0]));
	passdb = passdb_sql_block(db, "b", PASSDB_QUERY_PLAIN);
	fill_mailbox(&b, messages, size);
	extra = harness_printf("auth_verbose = no\n%s", passdb);
	dc_server_start(&b, extra);
	free(extra);
	free(passdb);
	passdb = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);
	extra = harness_printf("auth_verbose = no\n%s%s%s%s%s", plugins,
			       !reuse ? "" : "service imap-login {\n  ",
			       !reuse ? "" : dc_syntax_login_reuse(),
			       !reuse ? "" : "\n  process_min_avail = 2\n}\n",
			       passdb);
	free(plugins);
	dc_server_start(&a, extra);
	free(extra);
	cgroup = dc_server_cpu_cgroup(&a);

	/* warm up B's indexes and both servers' processes */
	fetched = work_session(b.imap_port, "worker", NULL, reuse);
	(void)work_session(a.imap_port, "proxyworker", NULL, reuse);
	(void)referred_login(a.imap_port, &ignored);
	a_settle(&a, reuse);

	/* what A spends doing nothing, for comparison */
	cpu0 = dc_server_cpu_secs(&a);
	harness_msleep(IDLE_MSECS);
	idle_cpu = (dc_server_cpu_secs(&a) - cpu0) * 1000 / IDLE_MSECS;

	/* Proxied: the login ends with B's OK relayed by A; after it, A
	   relays the session. Referred: the login ends with the referral
	   and the client leaving A (A's work for that connection, its log
	   lines included); after it, the client works on B. */
	memset(&proxy, 0, sizeof(proxy));
	memset(&referral, 0, sizeof(referral));
	proxy.a = referral.a = &a;
	a_cpu_mark(&proxy, NULL);
	for (i = 0; i < sessions; i++)
		proxy_bytes += work_session(a.imap_port, "proxyworker",
					    &proxy, reuse);
	a_cpu_mark(&referral, NULL);
	for (i = 0; i < sessions; i++) {
		unsigned long long after;
		in_port_t port = referred_login(a.imap_port, &after);

		a_settle(&a, reuse);
		a_cpu_mark(&referral, &referral.login);
		referral_bytes += after;
		(void)work_session(port, "worker", NULL, reuse);
		a_settle(&a, reuse);
		a_cpu_mark(&referral, &referral.after_login);
	}

	mbytes = fetched / 1e6;
	printf("a moved user reads %u messages (%.1f MB) on B, %u sessions "
	       "each way; A's imap-login in %s mode; CPU time from %s\n",
	       messages, mbytes, sessions,
	       reuse ? "high-performance" : "the default (high-security)",
	       cgroup ? a.cpu_cgroup : "/proc (clock ticks)");
	printf("per session: %-9s %10s %10s %10s %14s\n", "way",
	       "A's CPU ms", "login", "after it", "bytes A sent");
	for (i = 0; i < 2; i++) {
		const struct a_cpu *cpu = i == 0 ? &proxy : &referral;

		printf("             %-9s %10.2f %10.2f %10.2f %14llu\n",
		       i == 0 ? "proxied" : "referred",
		       (cpu->login + cpu->after_login) * 1e3 / sessions,
		       cpu->login * 1e3 / sessions,
		       cpu->after_login * 1e3 / sessions,
		       (i == 0 ? proxy_bytes : referral_bytes) / sessions);
	}
	printf("A when idle: %.3f ms of CPU per second\n", idle_cpu * 1e3);
	if (proxy.after_login > 0) {
		printf("referred/proxied CPU on A: %.2f %% of the whole "
		       "session, %.3f %% after the login; relaying costs A "
		       "%.2f ms per MB\n",
		       100 * (referral.login + referral.after_login) /
		       (proxy.login + proxy.after_login),
		       100 * referral.after_login / proxy.after_login,
		       proxy.after_login * 1e3 / sessions / mbytes);
	} else {
		/* /proc's clock ticks and a tiny session */
		printf("referred/proxied CPU on A: not measured, relaying "
		       "took less CPU than the clock counts\n");
	}

	csv = fopen(argv[4], "w");
	if (csv == NULL)
		harness_die("fopen(%s) failed", argv[4]);
	fprintf(csv, "mode,way,mailbox_bytes,a_cpu_ms_per_session,"
		"a_cpu_ms_login,a_cpu_ms_after_login,bytes_after_login\n");
	for (i = 0; i < 2; i++) {
		const struct a_cpu *cpu = i == 0 ? &proxy : &referral;

		fprintf(csv, "%s,%s,%llu,%.3f,%.3f,%.3f,%llu\n",
			reuse ? "high-performance" : "default",
			i == 0 ? "proxied" : "referred", fetched,
			(cpu->login + cpu->after_login) * 1e3 / sessions,
			cpu->login * 1e3 / sessions,
			cpu->after_login * 1e3 / sessions,
			(i == 0 ? proxy_bytes : referral_bytes) / sessions);
	}
	fclose(csv);

	dc_server_stop(&a);
	dc_server_stop(&b);
	harness_remove_root(root);
	return 0;
}
