/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "env-util.h"
#include "fd-util.h"
#include "execv-const.h"
#include "safe-mkstemp.h"
#include "write-full.h"
#include "master-interface.h"
#include "master-service.h"
#include "doveadm-settings.h"
#include "referral-compat.h"
#include "doveadm-referral-child.h"

#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define CHILD_TEMP_PREFIX "/tmp/referral-child."

/* How the child gets this doveadm's configuration: the fd to hand over
   (a doveadm, with Dovecot 2.4), else "-c <config file>" in argv unless
   that is the config socket (doveadm run by the doveadm service: doveadm
   -S, the HTTP API), which a child of Dovecot's reads by default. */
static int
child_config(enum referral_child_flags flags, ARRAY_TYPE(const_string) *argv)
{
	const char *config_path, *arg = "-c";
	int config_fd;
	struct stat st;

	if ((flags & REFERRAL_CHILD_FLAG_DOVEADM) != 0) {
		config_fd = referral_doveadm_config_fd();
		if (config_fd != -1)
			return config_fd;
	}
	config_path = master_service_get_config_path(master_service);
	if (stat(config_path, &st) == 0 && S_ISSOCK(st.st_mode))
		return -1;
	array_push_back(argv, &arg);
	arg = t_strdup(config_path);
	array_push_back(argv, &arg);
	return -1;
}

/* An unlinked temporary file, closed on exec: only the child it is
   dup2()ed into gets it. */
static int child_temp_file(const char **error_r)
{
	string_t *path = t_str_new(64);
	int fd;

	str_append(path, CHILD_TEMP_PREFIX);
	fd = safe_mkstemp_hostpid(path, 0600, (uid_t)-1, (gid_t)-1);
	if (fd == -1) {
		*error_r = t_strdup_printf("safe_mkstemp(%s) failed: %m",
					   str_c(path));
		return -1;
	}
	i_unlink(str_c(path));
	fd_close_on_exec(fd, TRUE);
	return fd;
}

/* What the child reads: input in a temporary file, or nothing */
static int child_input(const char *input, const char **error_r)
{
	int fd;

	if (input == NULL) {
		fd = open("/dev/null", O_RDONLY);
		if (fd == -1)
			*error_r = t_strdup_printf("open(/dev/null) failed: %m");
		else
			fd_close_on_exec(fd, TRUE);
		return fd;
	}
	fd = child_temp_file(error_r);
	if (fd == -1)
		return -1;
	if (write_full(fd, input, strlen(input)) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		*error_r = t_strdup_printf("write(input file) failed: %m");
		i_close_fd(&fd);
		return -1;
	}
	return fd;
}

bool referral_child_start(const char *program, const char *const *args,
			  const char *input, enum referral_child_flags flags,
			  struct referral_child *child_r,
			  const char **error_r)
{
	ARRAY_TYPE(const_string) argv;
	int in_fd, config_fd;
	pid_t pid;

	i_zero(child_r);
	child_r->program = program;
	child_r->out_fd = child_r->err_fd = -1;

	t_array_init(&argv, 16);
	array_push_back(&argv, &program);
	config_fd = child_config(flags, &argv);
	for (; *args != NULL; args++)
		array_push_back(&argv, args);
	array_append_zero(&argv);

	if ((in_fd = child_input(input, error_r)) == -1)
		return FALSE;
	if ((child_r->out_fd = child_temp_file(error_r)) == -1 ||
	    (child_r->err_fd = child_temp_file(error_r)) == -1) {
		i_close_fd(&in_fd);
		i_close_fd(&child_r->out_fd);
		return FALSE;
	}
	pid = fork();
	if (pid < 0) {
		*error_r = t_strdup_printf("fork() failed: %m");
		i_close_fd(&in_fd);
		i_close_fd(&child_r->out_fd);
		i_close_fd(&child_r->err_fd);
		return FALSE;
	}
	if (pid == 0) {
		if (dup2(in_fd, STDIN_FILENO) < 0 ||
		    dup2(child_r->out_fd, STDOUT_FILENO) < 0 ||
		    dup2(child_r->err_fd, STDERR_FILENO) < 0)
			i_fatal("dup2() failed: %m");
		if (config_fd != -1) {
			/* as doveadm's own "doveadm exec" hands it over */
			fd_close_on_exec(config_fd, FALSE);
			env_put(REFERRAL_DOVEADM_CONFIG_FD_ENV,
				dec2str(config_fd));
		}
		execv_const(program, array_front(&argv));
	}
	i_close_fd(&in_fd);
	child_r->pid = pid;
	return TRUE;
}

pid_t referral_child_wait_any(int *wait_status_r, const char **error_r)
{
	pid_t pid;

	while ((pid = waitpid(-1, wait_status_r, 0)) < 0) {
		if (errno != EINTR) {
			*error_r = t_strdup_printf("waitpid() failed: %m");
			return -1;
		}
	}
	return pid;
}

/* The whole of fd, from its start, appended to str (when not NULL) */
static int child_read_file(int fd, string_t *str, const char **error_r)
{
	char buf[4096];
	ssize_t ret;

	if (lseek(fd, 0, SEEK_SET) < 0) {
		*error_r = t_strdup_printf("lseek(output file) failed: %m");
		return -1;
	}
	while ((ret = read(fd, buf, sizeof(buf))) != 0) {
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			*error_r = t_strdup_printf(
				"read(output file) failed: %m");
			return -1;
		}
		str_append_data(str, buf, ret);
	}
	return 0;
}

int referral_child_end(struct referral_child *child, int wait_status,
		       string_t *out, string_t *err, const char **error_r)
{
	string_t *errors = err != NULL ? err : t_str_new(256);
	int ret = 0;

	if ((out != NULL && child_read_file(child->out_fd, out, error_r) < 0) ||
	    child_read_file(child->err_fd, errors, error_r) < 0)
		ret = -1;
	i_close_fd(&child->out_fd);
	i_close_fd(&child->err_fd);
	if (err == NULL && str_len(errors) > 0 &&
	    write_full(STDERR_FILENO, str_data(errors), str_len(errors)) < 0)
		i_error("write(stderr) failed: %m");
	if (ret < 0)
		return -1;
	if (!WIFEXITED(wait_status)) {
		*error_r = t_strdup_printf("%s died (wait status %d)",
					   child->program, wait_status);
		return -1;
	}
	return WEXITSTATUS(wait_status);
}

void referral_child_abandon(struct referral_child *child)
{
	i_close_fd(&child->out_fd);
	i_close_fd(&child->err_fd);
}

int referral_child_run(const char *program, const char *const *args,
		       const char *input, enum referral_child_flags flags,
		       string_t *out, string_t *err, const char **error_r)
{
	struct referral_child child;
	int wait_status;

	if (!referral_child_start(program, args, input, flags, &child,
				  error_r))
		return -1;
	while (waitpid(child.pid, &wait_status, 0) < 0) {
		if (errno != EINTR) {
			*error_r = t_strdup_printf("waitpid(%s) failed: %m",
						   program);
			referral_child_abandon(&child);
			return -1;
		}
	}
	return referral_child_end(&child, wait_status, out, err, error_r);
}
