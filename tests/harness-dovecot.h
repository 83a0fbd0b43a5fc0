#ifndef HARNESS_DOVECOT_H
#define HARNESS_DOVECOT_H

#include "harness-proc.h"

/* A throwaway Dovecot instance: everything (config, sockets, state, log,
   mail) lives in dir, it listens on 127.0.0.1 on ports picked at run time,
   and it never reads /etc/dovecot. */
struct dc_server {
	char *name;
	char *dir;
	char *conf_path;
	char *log_path;
	/* set before dc_server_start() to change the defaults: listen
	   address "127.0.0.1", protocols "imap" (any of imap, pop3,
	   submission, sieve) */
	const char *listen;
	const char *protocols;
	/* free ports picked by dc_server_init(); may be changed before
	   dc_server_start() */
	in_port_t imap_port, pop3_port, submission_port, sieve_port;
	pid_t pid;
	/* set by dc_server_cpu_cgroup(): the instance's own cgroup and the
	   file that holds its CPU time */
	char *cpu_cgroup, *cpu_usage_path;
	bool cpu_usage_usecs;
};

#define DC_ALL_PROTOCOLS "imap pop3 submission sieve"

/* With REFERRAL_VALGRIND=<dir> in the environment (scripts/valgrind),
   every login service of every instance runs its processes under
   valgrind's memcheck, each process logging to
   <dir>/<server name>.<service>.<pid>.log (dir without spaces: the
   master splits the executable line at them), with the suppressions of
   tests/valgrind-dovecot.supp. REFERRAL_VALGRIND_REUSE=1 adds
   dc_syntax_login_reuse(): one process per service serves every
   connection, where Dovecot's default is a process per connection, each
   of which valgrind takes a second or two to start. */

/* Prepare dir <root>/<name> and pick the ports, so the passdb and the
   configuration can name them before the start. */
void dc_server_init(struct dc_server *srv, const char *root,
		    const char *name);
/* Write the config (the harness's base settings, a listener for each
   protocol, then extra_config: passdb, plugins, ...) and start "dovecot
   -F" in the background; returns when the first protocol's port accepts
   connections. Aborts the process with the log on
   failure, since nothing can be tested then. */
void dc_server_start(struct dc_server *srv, const char *extra_config);
/* Write a new config (extra_config as for dc_server_start) and apply it
   to the running instance with "doveadm reload". */
void dc_server_reload(struct dc_server *srv, const char *extra_config);
/* Stop the instance and wait for it (SIGKILL after a timeout). Safe to call
   twice and for a server that never started. */
void dc_server_stop(struct dc_server *srv);
/* Lines of the server log that say Panic or Fatal, or NULL if none. */
char *dc_server_log_errors(const struct dc_server *srv);
/* Does the log contain needle now? */
bool dc_server_log_has(const struct dc_server *srv, const char *needle);
/* Wait for needle to appear in the log, up to a few seconds: Dovecot's log
   process writes a moment after the event. */
bool dc_server_log_wait(const struct dc_server *srv, const char *needle);
/* Wait, as dc_server_log_wait(), for one line that contains both
   needles. */
bool dc_server_log_wait_line(const struct dc_server *srv, const char *needle1,
			     const char *needle2);
/* dc_server_log_wait() for the info line of a successful login: the
   version's wording of its start (dc_log_logged_in()), then rest. */
bool dc_server_log_wait_login(const struct dc_server *srv, const char *rest);
/* Run "doveadm -c <config> <args>" against the running server and return
   its standard output (malloc()ed), or NULL if it failed. */
char *dc_server_doveadm(const struct dc_server *srv, const char *args);

/* Run "doveadm -c <config> <args>" with the doveadm modules of
   module_dir (the build tree's) in place of the installed ones: doveadm
   loads plugins only from its compiled-in module directory
   (installed_dir), so it runs in a mount namespace of its own with
   module_dir bound over installed_dir, and the system is left as it was.
   args go through the shell. Returns standard output (malloc()ed);
   standard error goes to err_path, the exit status to *status_r (-1 when
   doveadm did not exit normally). */
char *dc_server_doveadm_plugin(const struct dc_server *srv,
			       const char *module_dir,
			       const char *installed_dir, const char *args,
			       const char *err_path, int *status_r);
/* The same with doveadm's standard output and error on a terminal (a
   pseudo-terminal of script(1)): returns both, as the terminal showed
   them (malloc()ed). */
char *dc_server_doveadm_plugin_tty(const struct dc_server *srv,
				   const char *module_dir,
				   const char *installed_dir,
				   const char *args, int *status_r);

/* Count the running instance's CPU time in a cgroup of its own: to the
   nanosecond (cgroup v1 cpuacct) or microsecond (v2), for every process
   it has started, alive or gone. Without it /proc is read, which counts
   in clock ticks (10 ms) and sees an exited process only once the master
   has reaped it. Returns false (and /proc stays in use) when no cgroup can
   be made here; dc_server_stop() removes it. */
bool dc_server_cpu_cgroup(struct dc_server *srv);
/* All CPU time the instance has used so far, in seconds: from its cgroup
   if dc_server_cpu_cgroup() made one, otherwise from /proc (its master,
   the master's live children, i.e. every Dovecot service process, and the
   children it has reaped). */
double dc_server_cpu_secs(const struct dc_server *srv);
/* The master's children right now (every Dovecot service process), from
   /proc: a malloc()ed array of *count_r pids. */
pid_t *dc_server_children(const struct dc_server *srv, unsigned int *count_r);

#endif
