/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-proc.h"
#include "harness-net.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
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

#define START_TIMEOUT_MSECS 30000
#define STOP_TIMEOUT_MSECS 10000
#define MAX_PROCS 32
/* Free ports are taken from FREE_PORT_LOW up to the kernel's ephemeral
   ports: a port from bind() to port 0 is one the kernel may give the
   next outgoing connection of any process before our server listens on
   it (seen: "listen(127.0.0.1, 33419) failed: Address already in use"). */
#define FREE_PORT_LOW 10000

static pid_t *spawned[MAX_PROCS];
static unsigned int spawned_count;
static pid_t owner_pid;

void harness_die(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	fprintf(stderr, "harness: ");
	vfprintf(stderr, fmt, args);
	fprintf(stderr, "\n");
	va_end(args);
	harness_stop_all();
	exit(EXIT_FAILURE);
}

char *harness_printf(const char *fmt, ...)
{
	va_list args;
	char *str;

	va_start(args, fmt);
	if (vasprintf(&str, fmt, args) < 0)
		harness_die("out of memory");
	va_end(args);
	return str;
}

bool harness_starts_with(const char *str, const char *prefix)
{
	return strncmp(str, prefix, strlen(prefix)) == 0;
}

void harness_msleep(unsigned int msecs)
{
	struct timespec ts = { msecs / 1000, (msecs % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) ;
}

char *harness_make_root(const char *prefix)
{
	char *root = harness_printf("/tmp/%s-XXXXXX", prefix);

	if (mkdtemp(root) == NULL)
		harness_die("mkdtemp(%s) failed: %s", root, strerror(errno));
	/* the servers' unprivileged processes must reach what is inside */
	if (chmod(root, 0755) < 0)
		harness_die("chmod(%s) failed: %s", root, strerror(errno));
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

void harness_make_dir(const char *path, unsigned int mode, const char *owner)
{
	struct passwd *pw;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		harness_die("mkdir(%s) failed: %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		harness_die("chmod(%s) failed: %s", path, strerror(errno));
	if (owner == NULL)
		return;
	if ((pw = getpwnam(owner)) == NULL)
		harness_die("user %s does not exist", owner);
	if (chown(path, pw->pw_uid, pw->pw_gid) < 0)
		harness_die("chown(%s) failed: %s", path, strerror(errno));
}

void harness_write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		harness_die("fopen(%s) failed: %s", path, strerror(errno));
	if (fputs(content, f) < 0 || fclose(f) != 0)
		harness_die("writing %s failed: %s", path, strerror(errno));
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
		harness_die("open_memstream() failed");
	if (f != NULL) {
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, mem);
		fclose(f);
	}
	fclose(mem);
	return buf;
}

/* The low end of the kernel's ephemeral ports, which outgoing
   connections (any process's) and bind() to port 0 take */
static unsigned int ephemeral_low(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned int low = 32768;

	if (f != NULL) {
		if (fscanf(f, "%u", &low) != 1)
			low = 32768;
		fclose(f);
	}
	return low;
}

in_port_t harness_free_port(void)
{
	/* handed out by this process: never twice, though the server of
	   the first one may not be listening yet */
	static in_port_t given[1024];
	static unsigned int given_count;
	unsigned int low = FREE_PORT_LOW, high = ephemeral_low(), i, tries;
	union harness_sockaddr addr;
	in_port_t port;
	int fd, ret;

	if (high <= low + 1000)
		harness_die("ephemeral ports start at %u: no room below", high);
	if (given_count == 0)
		srandom((unsigned int)getpid() ^ (unsigned int)time(NULL));
	for (tries = 0; tries < 1000; tries++) {
		port = low + random() % (high - low);
		for (i = 0; i < given_count && given[i] != port; i++) ;
		if (i < given_count)
			continue;
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			harness_die("socket() failed: %s", strerror(errno));
		(void)harness_sockaddr_ipv4(&addr, "127.0.0.1", port);
		ret = bind(fd, &addr.sa, sizeof(addr.sin));
		close(fd);
		if (ret < 0)
			continue;
		if (given_count < sizeof(given) / sizeof(given[0]))
			given[given_count++] = port;
		return port;
	}
	harness_die("finding a free port failed after %u tries", tries);
}

static bool port_accepts(const char *ip, in_port_t port)
{
	union harness_sockaddr addr;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ret;

	if (!harness_sockaddr_ipv4(&addr, ip, port))
		harness_die("not an IPv4 address: %s", ip);
	ret = connect(fd, &addr.sa, sizeof(addr.sin)) == 0;
	close(fd);
	return ret;
}

static pid_t fork_as(const char *log_path, const char *user,
		     const char *const *argv)
{
	struct passwd *pw = NULL;
	pid_t pid;

	if (user != NULL && (pw = getpwnam(user)) == NULL)
		harness_die("user %s does not exist", user);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		harness_die("fork() failed: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

		/* own process group, so a SIGKILL takes every child; and
		   die with the harness, so no server outlives a crash */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		if (pw != NULL &&
		    (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
		     setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)) {
			fprintf(stderr, "becoming %s failed: %s\n", user,
				strerror(errno));
			_exit(127);
		}
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s failed: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	return pid;
}

void harness_spawn(pid_t *pid, const char *log_path, const char *user,
		   const char *const *argv)
{
	if (spawned_count == MAX_PROCS)
		harness_die("too many servers");
	if (owner_pid == 0) {
		owner_pid = getpid();
		atexit(harness_stop_all);
	}
	*pid = fork_as(log_path, user, argv);
	spawned[spawned_count++] = pid;
}

void harness_wait_listening(pid_t *pid, const char *name, const char *ip,
			    in_port_t port, const char *log_path)
{
	unsigned int waited;

	for (waited = 0; waited < START_TIMEOUT_MSECS; waited += 50) {
		if (port_accepts(ip, port))
			return;
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = 0;
			harness_die("%s exited at start; its log:\n%s", name,
				    harness_read_file(log_path));
		}
		harness_msleep(50);
	}
	harness_die("%s did not listen on %s:%u in time; its log:\n%s",
		    name, ip, port, harness_read_file(log_path));
}

void harness_stop(pid_t *pid, const char *name)
{
	unsigned int waited, i;

	/* no longer harness_stop_all()'s: a server in a local variable
	   (a benchmark's, a test's) is gone after its function returns,
	   and its pid's memory holds anything by the time exit() runs */
	for (i = 0; i < spawned_count; i++) {
		if (spawned[i] == pid) {
			spawned[i] = spawned[--spawned_count];
			break;
		}
	}
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (waited = 0; waited < STOP_TIMEOUT_MSECS; waited += 50) {
		if (waitpid(*pid, NULL, WNOHANG) == *pid)
			break;
		harness_msleep(50);
	}
	if (waited >= STOP_TIMEOUT_MSECS) {
		fprintf(stderr, "harness: %s did not stop, killing\n", name);
		kill(-*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

void harness_stop_all(void)
{
	if (getpid() != owner_pid)
		return;
	while (spawned_count > 0)
		harness_stop(spawned[--spawned_count], "server");
}

char *harness_run_output(const char *cmd, int *status_r)
{
	char *out = NULL, chunk[4096];
	size_t size = 0, n;
	FILE *mem = open_memstream(&out, &size);
	FILE *p;

	fflush(NULL);
	p = popen(cmd, "r");
	if (p == NULL || mem == NULL)
		harness_die("popen(%s) failed: %s", cmd, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, n, mem);
	*status_r = pclose(p);
	fclose(mem);
	printf("$ %s\n%s", cmd, out);
	fflush(stdout);
	return out;
}

void harness_run(const char *log_path, const char *user,
		 const char *const *argv)
{
	pid_t pid = fork_as(log_path, user, argv);
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		harness_die("%s failed; its log:\n%s", argv[0],
			    harness_read_file(log_path));
	}
}
