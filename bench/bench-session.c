/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* What a referral saves against proxying, for a moved user who then works:
   the user's mailbox (MESSAGES messages of MESSAGE_SIZE bytes) is on
   server B. Proxied, the client logs in to A, which relays the whole
   session to B; referred, A answers the login with a referral and the
   client reads the mailbox on B. For each way this measures the CPU time
   of all of A's processes (from /proc: the master, its live children and
   the children it has reaped) and the bytes A sends the client after the
   login reply.
   usage: bench-session MESSAGES MESSAGE_SIZE SESSIONS CSV */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-net.h"
#include "harness-passdb.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IP "127.0.0.1"
#define PASSWORD "Pw-bench"

struct session_result {
	unsigned long long bytes_after_login;
	unsigned long long fetched_bytes;
	double a_cpu_secs;
};

/* Wait until the server has no session processes left, so that their CPU
   time has moved into the master's reaped-children counters. */
static void wait_sessions_gone(const struct dc_server *srv)
{
	unsigned int i;

	for (i = 0; i < 100; i++) {
		DIR *dir = opendir("/proc");
		struct dirent *d;
		bool busy = false;

		while ((d = readdir(dir)) != NULL) {
			pid_t pid = atoi(d->d_name), ppid;
			char *path, *comm;

			if (pid <= 0)
				continue;
			if (harness_proc_ppid(pid, &ppid) < 0 ||
			    ppid != srv->pid)
				continue;
			path = harness_printf("/proc/%d/comm", pid);
			comm = harness_read_file(path);
			if (strncmp(comm, "imap", 4) == 0)
				busy = true;
			free(comm);
			free(path);
		}
		closedir(dir);
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

/* LOGIN as user on port, then work: SELECT, FETCH every body, LOGOUT.
   Returns the bytes received after the login reply. */
static unsigned long long work_session(in_port_t port, const char *user)
{
	struct client *c = malloc(sizeof(*c));
	unsigned long long after_login;
	char *cmd = harness_printf("b LOGIN %s " PASSWORD "\r\n", user);

	client_connect(c, port);
	client_read_until(c, "* OK");
	client_send(c, cmd);
	if (strncmp(client_read_until(c, "b "), "b OK", 4) != 0)
		harness_die("login as %s failed", user);
	after_login = c->received - c->pos;
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
	return after_login;
}

/* LOGIN on A; return the referral's port on B (the URL is
   imap://worker;AUTH=*@127.0.0.1:<port>/) and the bytes A sent after its
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
	if (strncmp(reply, "b NO [REFERRAL imap://worker;", 29) != 0 ||
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
	char *root, *db, *passdb, *extra, port_b[8];
	unsigned long long proxy_bytes = 0, referral_bytes = 0, fetched = 0;
	double cpu0, proxy_cpu, referral_cpu, ratio;
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
	extra = harness_printf("auth_verbose = no\nlogin_plugin_dir = %s\n"
			       "login_plugins = referral\n%s",
			       REFERRAL_PLUGIN_DIR, passdb);
	dc_server_start(&a, extra);
	free(extra);

	/* warm up B's indexes and both servers' processes */
	fetched = work_session(b.imap_port, "worker");
	(void)work_session(a.imap_port, "proxyworker");
	{
		unsigned long long ignored;

		(void)referred_login(a.imap_port, &ignored);
	}
	wait_sessions_gone(&a);

	cpu0 = dc_server_cpu_secs(&a);
	for (i = 0; i < sessions; i++)
		proxy_bytes += work_session(a.imap_port, "proxyworker");
	wait_sessions_gone(&a);
	proxy_cpu = (dc_server_cpu_secs(&a) - cpu0) / sessions;

	cpu0 = dc_server_cpu_secs(&a);
	for (i = 0; i < sessions; i++) {
		unsigned long long after;
		in_port_t port = referred_login(a.imap_port, &after);

		referral_bytes += after;
		(void)work_session(port, "worker");
	}
	wait_sessions_gone(&a);
	referral_cpu = (dc_server_cpu_secs(&a) - cpu0) / sessions;
	ratio = referral_cpu / proxy_cpu;

	printf("a moved user reads %u messages (%.1f MB) on B, %u sessions "
	       "each way; per session:\n", messages, fetched / 1e6, sessions);
	printf("%-10s %16s %22s\n", "way", "A's CPU (ms)",
	       "bytes A sent after login");
	printf("%-10s %16.1f %22llu\n", "proxied", proxy_cpu * 1e3,
	       proxy_bytes / sessions);
	printf("%-10s %16.1f %22llu\n", "referred", referral_cpu * 1e3,
	       referral_bytes / sessions);
	printf("referred/proxied CPU on A: %.2f %%\n", ratio * 100);

	csv = fopen(argv[4], "w");
	if (csv == NULL)
		harness_die("fopen(%s) failed", argv[4]);
	fprintf(csv, "way,a_cpu_ms_per_session,bytes_after_login,"
		"mailbox_bytes\n");
	fprintf(csv, "proxied,%.1f,%llu,%llu\n", proxy_cpu * 1e3,
		proxy_bytes / sessions, fetched);
	fprintf(csv, "referred,%.1f,%llu,%llu\n", referral_cpu * 1e3,
		referral_bytes / sessions, fetched);
	fclose(csv);

	dc_server_stop(&a);
	dc_server_stop(&b);
	harness_remove_root(root);
	return 0;
}
