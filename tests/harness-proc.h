#ifndef HARNESS_PROC_H
#define HARNESS_PROC_H

#include <stdbool.h>
#include <sys/types.h>
#include <netinet/in.h>

/* Process and file helpers for the test harness: every server a test
   starts (Dovecot, slapd, PostgreSQL) runs as a child of the test process,
   under a throwaway directory, on loopback ports picked at run time. */

/* Print the message and the stopped servers' fate, then exit(1): for set-up
   failures, where nothing can be tested. */
void harness_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* asprintf() that dies when out of memory. */
char *harness_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Does str begin with prefix? (A reply line with an expected start.) */
bool harness_starts_with(const char *str, const char *prefix);
void harness_msleep(unsigned int msecs);

/* Make a fresh 0755 directory under /tmp for one test run. */
char *harness_make_root(const char *prefix);
/* Remove a directory tree made by harness_make_root() (unless the
   environment sets KEEP_TEST_DIR, for post-mortems). */
void harness_remove_root(const char *root);
/* mkdir (if missing) and chmod; chown too when owner is not NULL. */
void harness_make_dir(const char *path, unsigned int mode, const char *owner);

void harness_write_file(const char *path, const char *content);
/* Whole file as a malloc()ed string ("" if it does not exist). */
char *harness_read_file(const char *path);

/* A free TCP port on 127.0.0.1, below the kernel's ephemeral ports and
   never the same twice in one process. */
in_port_t harness_free_port(void);

/* Start argv in the background, in its own process group, stdout and
   stderr appended to log_path, as user (NULL: as we are), and store its
   pid in *pid. It gets SIGTERM if the test process dies, and
   harness_stop_all() stops it at exit unless harness_stop() did (through
   *pid, which must stay valid until then). */
void harness_spawn(pid_t *pid, const char *log_path, const char *user,
		   const char *const *argv);
/* Wait until ip:port accepts connections; die with the log if
   *pid exits first or it takes too long. */
void harness_wait_listening(pid_t *pid, const char *name, const char *ip,
			    in_port_t port, const char *log_path);
/* SIGTERM, wait, SIGKILL after a timeout. Sets *pid to 0; no-op if 0.
   Either way harness_stop_all() forgets pid. */
void harness_stop(pid_t *pid, const char *name);
/* Stop every process harness_spawn() started from this process. Check
   forks a child per test, and children run atexit handlers too: only the
   process that started them stops them. */
void harness_stop_all(void);

/* Run a shell command and return its standard output (malloc()ed); its
   wait status goes to *status_r. The command and its output are echoed
   to stdout, for the test log. */
char *harness_run_output(const char *cmd, int *status_r);

/* Run argv to completion as user (NULL: as we are), output appended to
   log_path; die with the log unless it exits 0. */
void harness_run(const char *log_path, const char *user,
		 const char *const *argv);

#endif
