#ifndef DOVEADM_REFERRAL_CHILD_H
#define DOVEADM_REFERRAL_CHILD_H

/* Dovecot's own doveconf and doveadm, run as children of this doveadm
   with its configuration: one at a time (referral_child_run()), or
   several at once (referral_child_start() each, then
   referral_child_wait_any() and referral_child_end()). What a child reads
   and writes goes through unlinked temporary files, so that a child never
   waits for us to read its output while we wait for another one. */

enum referral_child_flags {
	/* The child is a doveadm: where Dovecot can hand over the
	   configuration this doveadm has read (2.4), it gets that instead
	   of parsing dovecot.conf again. */
	REFERRAL_CHILD_FLAG_DOVEADM = 0x01,
};

struct referral_child {
	pid_t pid;
	/* for the messages */
	const char *program;
	/* its standard output and error, read when it has ended */
	int out_fd, err_fd;
};

/* Start program with args (NULL-terminated, after the configuration's
   own arguments) and input (if not NULL) on its standard input. FALSE
   (error_r) when it could not be started. */
bool referral_child_start(const char *program, const char *const *args,
			  const char *input, enum referral_child_flags flags,
			  struct referral_child *child_r,
			  const char **error_r);
/* Wait until any child of this process ends: its pid and wait status,
   or -1 (error_r) when there is none to wait for. */
pid_t referral_child_wait_any(int *wait_status_r, const char **error_r);
/* The child has ended with wait_status: its standard output appended to
   out (if not NULL), its standard error to err (when err is NULL, written
   to ours); the files closed. Returns its exit status, or -1 (error_r)
   when it did not exit. */
int referral_child_end(struct referral_child *child, int wait_status,
		       string_t *out, string_t *err, const char **error_r);
/* The child cannot be waited for (waitpid() failed): its files closed,
   its output lost. */
void referral_child_abandon(struct referral_child *child);
/* Start, wait for and end one child. Returns its exit status, or -1
   (error_r) when it could not be run or did not exit. */
int referral_child_run(const char *program, const char *const *args,
		       const char *input, enum referral_child_flags flags,
		       string_t *out, string_t *err, const char **error_r);

#endif
