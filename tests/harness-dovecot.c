/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MSECS 20000
#define STOP_TIMEOUT_MSECS 10000
#define LOG_WAIT_MSECS 5000
#define MAX_SERVERS 16

/* Unprivileged owner of the test mailboxes; present on every Debian. */
#define MAIL_USER "nobody"
#define MAIL_GROUP "nogroup"

static struct dc_server *started[MAX_SERVERS];
static unsigned int started_count;
/* Check forks a child per test, and children run atexit handlers too:
   only this process stops the servers. */
static pid_t owner_pid;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						     noreturn));
static void die(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	fprintf(stderr, "harness: ");
	vfprintf(stderr, fmt, args);
	fprintf(stderr, "\n");
	va_end(args);
	dc_servers_stop_all();
	exit(EXIT_FAILURE);
}

char *harness_printf(const char *fmt, ...)
{
	va_list args;
	char *str;

	va_start(args, fmt);
	if (vasprintf(&str, fmt, args) < 0)
		die("out of memory");
	va_end(args);
	return str;
}

static void msleep(unsigned int msecs)
{
	struct timespec ts = { msecs / 1000, (msecs % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) ;
}

char *harness_make_root(const char *prefix)
{
	char *root = harness_printf("/tmp/%s-XXXXXX", prefix);

	if (mkdtemp(root) == NULL)
		die("mkdtemp(%s) failed: %s", root, strerror(errno));
	/* Dovecot's unprivileged processes must reach what is inside */
	if (chmod(root, 0755) < 0)
		die("chmod(%s) failed: %s", root, strerror(errno));
	return root;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	if (remove(path) < 0 && errno != ENOENT)
		fprintf(stderr, "harness: remove(%s): %s\n", path,
			strerror(errno));
	return 0;
}

void harness_remove_root(const char *root)
{
	if (getenv("KEEP_TEST_DIR") != NULL) {
		fprintf(stderr, "harness: keeping %s\n", root);
		return;
	}
	(void)nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

in_port_t harness_free_port(void)
{
	union harness_sockaddr addr;
	socklen_t len = sizeof(addr.sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket() failed: %s", strerror(errno));
	(void)harness_sockaddr_ipv4(&addr, "127.0.0.1", 0);
	if (bind(fd, &addr.sa, sizeof(addr.sin)) < 0 ||
	    getsockname(fd, &addr.sa, &len) < 0)
		die("finding a free port failed: %s", strerror(errno));
	close(fd);
	return ntohs(addr.sin.sin_port);
}

void harness_write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		die("fopen(%s) failed: %s", path, strerror(errno));
	if (fputs(content, f) < 0 || fclose(f) != 0)
		die("writing %s failed: %s", path, strerror(errno));
}

char *harness_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&buf, &size);
	char chunk[4096];
	size_t n;

	if (mem == NULL)
		die("open_memstream() failed");
	if (f != NULL) {
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, mem);
		fclose(f);
	}
	fclose(mem);
	return buf;
}

static void make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		die("mkdir(%s) failed: %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		die("chmod(%s) failed: %s", path, strerror(errno));
}

void dc_server_init(struct dc_server *srv, const char *root,
		    const char *name)
{
	memset(srv, 0, sizeof(*srv));
	srv->name = harness_printf("%s", name);
	srv->dir = harness_printf("%s/%s", root, name);
	srv->conf_path = harness_printf("%s/dovecot.conf", srv->dir);
	srv->log_path = harness_printf("%s/dovecot.log", srv->dir);
	srv->imap_port = harness_free_port();
	make_dir(srv->dir, 0755);
}

static void write_config(struct dc_server *srv, const char *extra_config)
{
	char *home = harness_printf("%s/home", srv->dir);
	struct passwd *pw = getpwnam(MAIL_USER);
	struct group *gr = getgrnam(MAIL_GROUP);
	char *conf;

	if (pw == NULL || gr == NULL)
		die("user %s or group %s missing", MAIL_USER, MAIL_GROUP);
	make_dir(home, 0755);
	if (chown(home, pw->pw_uid, gr->gr_gid) < 0)
		die("chown(%s) failed: %s", home, strerror(errno));

	conf = harness_printf(
		"# Written by the dovecot-referral test harness.\n"
		"base_dir = %1$s/run\n"
		"state_dir = %1$s/state\n"
		"log_path = %1$s/dovecot.log\n"
		"info_log_path = %1$s/dovecot.log\n"
		"instance_name = referral-test-%2$s\n"
		"protocols = imap\n"
		"listen = 127.0.0.1\n"
		"ssl = no\n"
		"disable_plaintext_auth = no\n"
		"auth_mechanisms = plain login\n"
		"auth_failure_delay = 0\n"
		"auth_verbose = yes\n"
		"default_login_user = dovenull\n"
		"default_internal_user = dovecot\n"
		"mail_location = maildir:~/Maildir\n"
		"service imap-login {\n"
		"  chroot =\n"
		"  inet_listener imap {\n"
		"    port = %3$u\n"
		"  }\n"
		"  inet_listener imaps {\n"
		"    port = 0\n"
		"  }\n"
		"}\n"
		"userdb {\n"
		"  driver = static\n"
		"  args = uid=%4$s gid=%5$s home=%6$s/%%u\n"
		"}\n"
		"%7$s",
		srv->dir, srv->name, srv->imap_port, MAIL_USER, MAIL_GROUP,
		home, extra_config);
	harness_write_file(srv->conf_path, conf);
	free(conf);
	free(home);
}

static bool port_accepts(in_port_t port)
{
	union harness_sockaddr addr;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ret;

	(void)harness_sockaddr_ipv4(&addr, "127.0.0.1", port);
	ret = connect(fd, &addr.sa, sizeof(addr.sin)) == 0;
	close(fd);
	return ret;
}

void dc_server_start(struct dc_server *srv, const char *extra_config)
{
	unsigned int waited;
	int status;

	write_config(srv, extra_config);
	if (started_count == MAX_SERVERS)
		die("too many servers");
	if (started_count == 0) {
		owner_pid = getpid();
		atexit(dc_servers_stop_all);
	}

	fflush(NULL);
	srv->pid = fork();
	if (srv->pid < 0)
		die("fork() failed: %s", strerror(errno));
	if (srv->pid == 0) {
		int fd = open(srv->log_path, O_WRONLY | O_CREAT | O_APPEND,
			      0644);

		/* own process group, so a SIGKILL takes every child; and
		   die with the harness, so no Dovecot outlives a crash */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl(DOVECOT_BINARY, "dovecot", "-F", "-c", srv->conf_path,
		      (char *)NULL);
		fprintf(stderr, "exec %s failed: %s\n", DOVECOT_BINARY,
			strerror(errno));
		_exit(127);
	}
	started[started_count++] = srv;

	for (waited = 0; waited < START_TIMEOUT_MSECS; waited += 50) {
		if (port_accepts(srv->imap_port))
			return;
		if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
			srv->pid = 0;
			die("dovecot %s exited at start; its log:\n%s",
			    srv->name, harness_read_file(srv->log_path));
		}
		msleep(50);
	}
	die("dovecot %s did not listen on port %u in time; its log:\n%s",
	    srv->name, srv->imap_port, harness_read_file(srv->log_path));
}

void dc_server_stop(struct dc_server *srv)
{
	unsigned int waited;

	if (srv->pid <= 0)
		return;
	kill(srv->pid, SIGTERM);
	for (waited = 0; waited < STOP_TIMEOUT_MSECS; waited += 50) {
		if (waitpid(srv->pid, NULL, WNOHANG) == srv->pid)
			break;
		msleep(50);
	}
	if (waited >= STOP_TIMEOUT_MSECS) {
		fprintf(stderr, "harness: dovecot %s did not stop, killing\n",
			srv->name);
		kill(-srv->pid, SIGKILL);
		waitpid(srv->pid, NULL, 0);
	}
	srv->pid = 0;
}

void dc_servers_stop_all(void)
{
	if (getpid() != owner_pid)
		return;
	while (started_count > 0)
		dc_server_stop(started[--started_count]);
}

char *dc_server_log_errors(const struct dc_server *srv)
{
	char *log = harness_read_file(srv->log_path);
	char *found = NULL, *line, *save = NULL;
	size_t size = 0;
	FILE *out = NULL;

	for (line = strtok_r(log, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "Panic:") == NULL &&
		    strstr(line, "Fatal:") == NULL)
			continue;
		if (out == NULL)
			out = open_memstream(&found, &size);
		fprintf(out, "%s\n", line);
	}
	if (out != NULL)
		fclose(out);
	free(log);
	return found;
}

bool dc_server_log_has(const struct dc_server *srv, const char *needle)
{
	char *log = harness_read_file(srv->log_path);
	bool found = strstr(log, needle) != NULL;

	free(log);
	return found;
}

bool dc_server_log_wait(const struct dc_server *srv, const char *needle)
{
	unsigned int waited;

	for (waited = 0; !dc_server_log_has(srv, needle); waited += 50) {
		if (waited >= LOG_WAIT_MSECS)
			return false;
		msleep(50);
	}
	return true;
}

char *dc_server_doveadm(const struct dc_server *srv, const char *args)
{
	char *cmd = harness_printf("%s -c %s %s", DOVEADM_BINARY,
				   srv->conf_path, args);
	char *out = NULL, chunk[4096];
	size_t size = 0, n;
	FILE *mem = open_memstream(&out, &size);
	FILE *p = popen(cmd, "r");
	int status;

	free(cmd);
	if (p == NULL || mem == NULL)
		die("popen(doveadm) failed: %s", strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, n, mem);
	status = pclose(p);
	fclose(mem);
	if (status != 0) {
		free(out);
		return NULL;
	}
	return out;
}
