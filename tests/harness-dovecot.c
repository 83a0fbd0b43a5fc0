/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-version.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_WAIT_MSECS 5000

/* Unprivileged owner of the test mailboxes; present on every Debian. */
#define MAIL_USER "nobody"
#define MAIL_GROUP "nogroup"

void dc_server_init(struct dc_server *srv, const char *root,
		    const char *name)
{
	memset(srv, 0, sizeof(*srv));
	srv->name = harness_printf("%s", name);
	srv->dir = harness_printf("%s/%s", root, name);
	srv->conf_path = harness_printf("%s/dovecot.conf", srv->dir);
	srv->log_path = harness_printf("%s/dovecot.log", srv->dir);
	srv->listen = "127.0.0.1";
	srv->protocols = "imap";
	srv->imap_port = harness_free_port();
	srv->pop3_port = harness_free_port();
	srv->submission_port = harness_free_port();
	srv->sieve_port = harness_free_port();
	harness_make_dir(srv->dir, 0755, NULL);
}

/* Dovecot 2.4's config process knows the plugin's settings only from the
   module in its settings module directory (src/settings/), which is
   compiled in: servers and doveadm run in a mount namespace of their own
   with a copy of that directory, plus the build tree's module, bound over
   it, so that every instance sees the plugin's settings as an installed
   plugin would have them and the system is left as it was. 2.3 needs
   none (REFERRAL_SETTINGS_MODULE is empty). */
static bool settings_module_needed(void)
{
	return REFERRAL_SETTINGS_MODULE[0] != '\0';
}

/* The mount namespace's options: unshare makes the new namespace's mounts
   private, so a bind mount stays in it; in a chroot
   (scripts/debian13-root) it cannot, "/" being no mount point there, but
   the chroot's own namespace is private already: keep its propagation. */
static const char *unshare_propagation(void)
{
	static int private = -1;

	if (private < 0)
		private = system("unshare --mount true 2>/dev/null") == 0;
	return private ? "" : " --propagation unchanged";
}

/* "mount --bind <dir> <settings module dir> && " for the server, or "" */
static char *settings_bind(const struct dc_server *srv)
{
	char *dir, *cmd;

	if (!settings_module_needed())
		return harness_printf("%s", "");
	/* made once per server: the running master's namespace has it
	   mounted, and its processes map the modules in it; the module is
	   copied last, so it tells a complete copy */
	dir = harness_printf("%s/settings-modules", srv->dir);
	cmd = harness_printf("test -e %1$s/libreferral_settings.so || { "
			     "mkdir -p %1$s && "
			     "{ cp -p %2$s/*.so %1$s/ 2>/dev/null; true; } && "
			     "cp -p %3$s %1$s/; }", dir,
			     DOVECOT_SETTINGS_MODULE_DIR,
			     REFERRAL_SETTINGS_MODULE);
	if (system(cmd) != 0)
		harness_die("cannot copy the settings modules: %s", cmd);
	free(cmd);
	cmd = harness_printf("mount --bind %s %s && ", dir,
			     DOVECOT_SETTINGS_MODULE_DIR);
	free(dir);
	return cmd;
}

/* A shell command that runs "<binary> <args>" (args go through the
   shell) with extra_binds ("mount --bind ... && " each, or "") and the
   settings module's bind in a namespace of their own when any is needed,
   else as it is (malloc()ed). */
static char *namespace_cmd(const struct dc_server *srv, const char *extra_binds,
			   const char *binary, const char *args)
{
	char *binds = settings_bind(srv), *cmd;

	if (binds[0] == '\0' && extra_binds[0] == '\0')
		cmd = harness_printf("exec %s %s", binary, args);
	else {
		cmd = harness_printf("exec unshare --mount%s sh -c '%s%sexec "
				     "%s \"$@\"' %s %s", unshare_propagation(),
				     extra_binds, binds, binary, binary, args);
	}
	free(binds);
	return cmd;
}

static bool has_protocol(const struct dc_server *srv, const char *protocol)
{
	size_t len = strlen(protocol);
	const char *p;

	for (p = srv->protocols; (p = strstr(p, protocol)) != NULL; p += len) {
		if ((p == srv->protocols || p[-1] == ' ') &&
		    (p[len] == '\0' || p[len] == ' '))
			return true;
	}
	return false;
}

/* REFERRAL_VALGRIND (harness-dovecot.h): the settings, inside a login
   service's block, that run its processes under memcheck; "" without it.
   - The master execs the executable line split at spaces, after setting
     the process's limits but without dropping privileges or chrooting
     (drop_privileges() in master/service-process.c, 2.3 and 2.4 alike):
     the login process does that itself, after valgrind has started and
     opened its log as root. The harness's login services never chroot
     anyway, so valgrind and the plugin's debug info stay readable.
   - vsz_limit is the process's address space limit (256 MB for login
     services), far too small for valgrind's own mappings.
   - GDB=1 keeps Dovecot's module_dir_unload() from dlclose()ing the
     plugins (lib/module-dir.c): the stacks of blocks a plugin leaked
     keep its function names instead of "???". Nothing else reads it in
     Debian's (non-DEBUG) build. The master passes its children only the
     environment its settings name, so env sets it after the master's
     exec.
   - --vgdb=no: valgrind's gdbserver FIFOs would be made in /tmp as root
     and left behind by the process, which cannot remove them once it
     runs as dovenull.
   - Only definitely lost blocks count as errors: Dovecot frees little
     of what lives until exit, and a block lost only through a lost one
     is that one's leak. */
static char *valgrind_settings(const struct dc_server *srv,
			       const char *service)
{
	const char *dir = getenv("REFERRAL_VALGRIND");
	const char *reuse_env = getenv("REFERRAL_VALGRIND_REUSE");
	bool reuse = reuse_env != NULL && *reuse_env != '\0';

	if (dir == NULL || *dir == '\0')
		return harness_printf("%s", "");
	return harness_printf(
		"  executable = /usr/bin/env GDB=1 " VALGRIND_BINARY
		" --tool=memcheck --leak-check=full"
		" --show-leak-kinds=definite --errors-for-leak-kinds=definite"
		" --num-callers=40 --vgdb=no"
		" --suppressions=%s/tests/valgrind-dovecot.supp"
		" --log-file=%s/%s.%s.%%p.log " DOVECOT_LIBEXEC_DIR "/%s\n"
		"  vsz_limit = %s\n"
		"%s%s%s", TOP_SRCDIR, dir, srv->name, service, service,
		dc_syntax_vsz_unlimited(), reuse ? "  " : "",
		reuse ? dc_syntax_login_reuse() : "", reuse ? "\n" : "");
}

/* The login service of a protocol, listening on port (or on none, when
   the protocol is not enabled: the default ports are never used). */
static char *login_service(const struct dc_server *srv, const char *protocol,
			   const char *service, const char *listener,
			   const char *tls_listener, in_port_t port)
{
	char *valgrind = valgrind_settings(srv, service);
	char *conf;

	conf = harness_printf(
		"service %s {\n"
		"  chroot =\n"
		"%s"
		"  inet_listener %s {\n"
		"    port = %u\n"
		"  }\n"
		"%s%s%s"
		"}\n", service, valgrind, listener,
		has_protocol(srv, protocol) ? port : 0,
		tls_listener == NULL ? "" : "  inet_listener ",
		tls_listener == NULL ? "" : tls_listener,
		tls_listener == NULL ? "" : " {\n    port = 0\n  }\n");
	free(valgrind);
	return conf;
}

static void write_config(struct dc_server *srv, const char *extra_config)
{
	char *home = harness_printf("%s/home", srv->dir);
	char *base, *imap, *pop3, *submission, *sieve, *conf;

	harness_make_dir(home, 0755, MAIL_USER);
	base = dc_syntax_base(home, MAIL_USER, MAIL_GROUP);
	imap = login_service(srv, "imap", "imap-login", "imap", "imaps",
			     srv->imap_port);
	pop3 = login_service(srv, "pop3", "pop3-login", "pop3", "pop3s",
			     srv->pop3_port);
	submission = login_service(srv, "submission", "submission-login",
				   "submission", NULL, srv->submission_port);
	sieve = login_service(srv, "sieve", "managesieve-login", "sieve",
			      NULL, srv->sieve_port);

	conf = harness_printf(
		"# Written by the dovecot-referral test harness for Dovecot "
		"%5$s.\n%6$s"
		"base_dir = %1$s/run\n"
		"state_dir = %1$s/state\n"
		"log_path = %1$s/dovecot.log\n"
		"info_log_path = %1$s/dovecot.log\n"
		"instance_name = referral-test-%2$s\n"
		"protocols = %3$s\n"
		"listen = %4$s\n"
		"ssl = no\n"
		"auth_mechanisms = plain login\n"
		"auth_failure_delay = 0\n"
		"auth_verbose = yes\n"
		"default_login_user = dovenull\n"
		"default_internal_user = dovecot\n"
		/* Submission relays to nothing here: only logins are
		   tested. */
		"hostname = localhost\n"
		"submission_relay_host = 127.0.0.1\n"
		"%7$s%8$s%9$s%10$s%11$s",
		srv->dir, srv->name, srv->protocols, srv->listen,
		dc_dovecot_version(), base, imap, pop3, submission, sieve,
		extra_config);
	harness_write_file(srv->conf_path, conf);
	free(conf);
	free(home);
	free(base);
	free(imap);
	free(pop3);
	free(submission);
	free(sieve);
}

void dc_server_start(struct dc_server *srv, const char *extra_config)
{
	char *args = harness_printf("-F -c %s", srv->conf_path);
	char *cmd = namespace_cmd(srv, "", DOVECOT_BINARY, args);
	/* the shell execs: the pid is the master's */
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	char *name = harness_printf("dovecot %s", srv->name);

	write_config(srv, extra_config);
	harness_spawn(&srv->pid, srv->log_path, NULL, argv);
	free(cmd);
	free(args);
	harness_wait_listening(&srv->pid, name, srv->listen,
			       has_protocol(srv, "imap") ? srv->imap_port :
			       srv->sieve_port, srv->log_path);
	free(name);
}

void dc_server_reload(struct dc_server *srv, const char *extra_config)
{
	char *out;

	write_config(srv, extra_config);
	if ((out = dc_server_doveadm(srv, "reload")) == NULL)
		harness_die("doveadm reload of %s failed", srv->name);
	free(out);
}

void dc_server_stop(struct dc_server *srv)
{
	unsigned int waited;

	harness_stop(&srv->pid, srv->name);
	if (srv->cpu_cgroup == NULL)
		return;
	/* the master is gone; its children may take a moment longer */
	for (waited = 0; rmdir(srv->cpu_cgroup) < 0; waited += 50) {
		if (errno != EBUSY || waited >= LOG_WAIT_MSECS) {
			fprintf(stderr, "harness: rmdir(%s) failed: %s\n",
				srv->cpu_cgroup, strerror(errno));
			break;
		}
		harness_msleep(50);
	}
	free(srv->cpu_cgroup);
	free(srv->cpu_usage_path);
	srv->cpu_cgroup = srv->cpu_usage_path = NULL;
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
		harness_msleep(50);
	}
	return true;
}

static bool log_has_line(const struct dc_server *srv, const char *needle1,
			 const char *needle2)
{
	char *log = harness_read_file(srv->log_path);
	char *line, *save = NULL;
	bool found = false;

	for (line = strtok_r(log, "\n", &save); line != NULL && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		found = strstr(line, needle1) != NULL &&
			strstr(line, needle2) != NULL;
	}
	free(log);
	return found;
}

bool dc_server_log_wait_line(const struct dc_server *srv, const char *needle1,
			     const char *needle2)
{
	unsigned int waited;

	for (waited = 0; !log_has_line(srv, needle1, needle2); waited += 50) {
		if (waited >= LOG_WAIT_MSECS)
			return false;
		harness_msleep(50);
	}
	return true;
}

bool dc_server_log_wait_login(const struct dc_server *srv, const char *rest)
{
	char *needle = harness_printf("%s%s", dc_log_logged_in(), rest);
	bool found = dc_server_log_wait(srv, needle);

	free(needle);
	return found;
}

/* utime+stime+cutime+cstime of a process in clock ticks (cutime/cstime:
   the children it has reaped), and its parent. */
static int proc_stat(pid_t pid, unsigned long long *ticks_r, pid_t *ppid_r)
{
	char *path = harness_printf("/proc/%d/stat", pid);
	char *stat = harness_read_file(path), *p;
	unsigned long long utime, stime, cutime, cstime;
	int ppid, ret = -1;

	/* the command may hold spaces and parentheses: skip past the last
	   ')' */
	p = strrchr(stat, ')');
	if (p != NULL &&
	    sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		   "%llu %llu %llu %llu", &ppid, &utime, &stime, &cutime,
		   &cstime) == 5) {
		*ticks_r = utime + stime + cutime + cstime;
		*ppid_r = ppid;
		ret = 0;
	}
	free(stat);
	free(path);
	return ret;
}

pid_t *dc_server_children(const struct dc_server *srv, unsigned int *count_r)
{
	DIR *dir = opendir("/proc");
	struct dirent *d;
	pid_t *pids = NULL;
	unsigned int count = 0, alloc = 0;

	if (dir == NULL)
		harness_die("opendir(/proc) failed: %s", strerror(errno));
	while ((d = readdir(dir)) != NULL) {
		pid_t pid = atoi(d->d_name), ppid;
		unsigned long long ticks;

		if (pid <= 0 || proc_stat(pid, &ticks, &ppid) < 0 ||
		    ppid != srv->pid)
			continue;
		if (count == alloc) {
			alloc = alloc == 0 ? 32 : alloc * 2;
			pids = realloc(pids, alloc * sizeof(*pids));
			if (pids == NULL)
				harness_die("out of memory");
		}
		pids[count++] = pid;
	}
	closedir(dir);
	*count_r = count;
	return pids;
}

/* Move process pid into the cgroup whose cgroup.procs file is procs. */
static bool cgroup_move(const char *procs, pid_t pid)
{
	FILE *f = fopen(procs, "w");
	bool ok;

	if (f == NULL)
		return false;
	ok = fprintf(f, "%d\n", pid) > 0;
	/* the kernel refuses a move when the write reaches it */
	return fclose(f) == 0 && ok;
}

static bool cgroup_mkdir(const char *dir)
{
	if (mkdir(dir, 0755) == 0)
		return true;
	/* a run that died (harness_die() stops the servers but leaves their
	   cgroups) leaves an empty one behind: one with this name is such a
	   leftover */
	return errno == EEXIST && rmdir(dir) == 0 && mkdir(dir, 0755) == 0;
}

bool dc_server_cpu_cgroup(struct dc_server *srv)
{
	/* cgroup v1's cpuacct controller, then v2 (Debian 12 mounts the
	   unified hierarchy beside v1 in some containers, or alone) */
	static const struct {
		const char *root, *usage_file;
		bool usecs;
	} kinds[] = {
		{ "/sys/fs/cgroup/cpuacct", "cpuacct.usage", false },
		{ "/sys/fs/cgroup/unified", "cpu.stat", true },
		{ "/sys/fs/cgroup", "cpu.stat", true },
	};
	unsigned int i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char *dir = harness_printf("%s/referral-%s-%d", kinds[i].root,
					   srv->name, (int)srv->pid);
		char *procs = harness_printf("%s/cgroup.procs", dir);
		char *usage = harness_printf("%s/%s", dir, kinds[i].usage_file);
		pid_t *children;
		unsigned int count, j;

		if (!cgroup_mkdir(dir) || access(usage, R_OK) < 0 ||
		    !cgroup_move(procs, srv->pid)) {
			(void)rmdir(dir);
			free(dir);
			free(procs);
			free(usage);
			continue;
		}
		/* children forked from now on are born in the cgroup; move
		   the ones the master has already started */
		children = dc_server_children(srv, &count);
		for (j = 0; j < count; j++) {
			if (!cgroup_move(procs, children[j]) &&
			    kill(children[j], 0) == 0) {
				harness_die("cannot move %d into %s",
					    children[j], dir);
			}
		}
		free(children);
		free(procs);
		srv->cpu_cgroup = dir;
		srv->cpu_usage_path = usage;
		srv->cpu_usage_usecs = kinds[i].usecs;
		return true;
	}
	return false;
}

static double cgroup_cpu_secs(const struct dc_server *srv)
{
	char *usage = harness_read_file(srv->cpu_usage_path);
	const char *p = usage;
	unsigned long long value;
	double secs;

	if (srv->cpu_usage_usecs) {
		/* cpu.stat: "usage_usec <n>" is one of its lines */
		p = strstr(usage, "usage_usec ");
		p = p == NULL ? NULL : p + strlen("usage_usec ");
	}
	if (p == NULL || sscanf(p, "%llu", &value) != 1)
		harness_die("cannot read %s", srv->cpu_usage_path);
	secs = srv->cpu_usage_usecs ? value / 1e6 : value / 1e9;
	free(usage);
	return secs;
}

static double proc_cpu_secs(const struct dc_server *srv)
{
	unsigned long long ticks = 0, t;
	unsigned int count, i;
	pid_t ppid, *children;

	if (proc_stat(srv->pid, &ticks, &ppid) < 0)
		harness_die("cannot read /proc for %s", srv->name);
	children = dc_server_children(srv, &count);
	for (i = 0; i < count; i++) {
		/* a child that has just exited is counted once reaped */
		if (proc_stat(children[i], &t, &ppid) == 0)
			ticks += t;
	}
	free(children);
	return (double)ticks / sysconf(_SC_CLK_TCK);
}

char *dc_server_doveadm_plugin(const struct dc_server *srv,
			       const char *module_dir,
			       const char *installed_dir, const char *args,
			       const char *err_path, int *status_r)
{
	char *bind = harness_printf("mount --bind %s %s && ", module_dir,
				    installed_dir);
	char *all = harness_printf("-c %s %s 2>%s", srv->conf_path, args,
				   err_path);
	char *cmd = namespace_cmd(srv, bind, DOVEADM_BINARY, all);
	char *out;
	int status;

	out = harness_run_output(cmd, &status);
	free(cmd);
	free(all);
	free(bind);
	*status_r = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return out;
}

char *dc_server_doveadm_plugin_tty(const struct dc_server *srv,
				   const char *module_dir,
				   const char *installed_dir,
				   const char *args, int *status_r)
{
	char *bind = harness_printf("mount --bind %s %s && ", module_dir,
				    installed_dir);
	char *all = harness_printf("-c %s %s", srv->conf_path, args);
	char *cmd = namespace_cmd(srv, bind, DOVEADM_BINARY, all);
	char *tty_cmd, *out;
	size_t size = 0;
	FILE *quoted;
	char *q;
	const char *p;
	int status;

	/* script -c takes one shell command: cmd in single quotes */
	quoted = open_memstream(&q, &size);
	fputc('\'', quoted);
	for (p = cmd; *p != '\0'; p++) {
		if (*p == '\'')
			fputs("'\\''", quoted);
		else
			fputc(*p, quoted);
	}
	fputc('\'', quoted);
	fclose(quoted);
	/* -e: doveadm's exit status; the transcript file is not needed */
	tty_cmd = harness_printf("script -qec %s /dev/null </dev/null", q);
	out = harness_run_output(tty_cmd, &status);
	free(tty_cmd);
	free(q);
	free(cmd);
	free(all);
	free(bind);
	*status_r = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return out;
}

char *dc_server_doveadm(const struct dc_server *srv, const char *args)
{
	char *all = harness_printf("-c %s %s", srv->conf_path, args);
	char *cmd = namespace_cmd(srv, "", DOVEADM_BINARY, all);
	char *out;
	int status;

	out = harness_run_output(cmd, &status);
	free(cmd);
	free(all);
	if (status != 0) {
		free(out);
		return NULL;
	}
	return out;
}

double dc_server_cpu_secs(const struct dc_server *srv)
{
	return srv->cpu_cgroup != NULL ? cgroup_cpu_secs(srv) :
		proc_cpu_secs(srv);
}
