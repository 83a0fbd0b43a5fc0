/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* "doveadm referral notify": a move notice into the INBOX of each
   referred user, where the person reads mail now, saved and looked for
   by Dovecot's own "doveadm save" and "doveadm fetch"/"doveadm search",
   run as children with this doveadm's configuration. So the storage is
   Dovecot's, and a user whom the passdb proxies (proxy with
   referral=suggest) gets it on the backend through doveadm's own
   proxying (doveadm_port). The users, their passdb fields and their
   targets are "referral lookup"'s (doveadm-referral.h). Two passes: all
   users looked up (notify_user()), then the notices looked for, in one
   process for the batch, and saved, a few users at once
   (notify_finish()). */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "hash.h"
#include "hostpid.h"
#include "safe-mkstemp.h"
#include "write-full.h"
#include "master-service.h"
#include "doveadm.h"
#include "doveadm-print.h"
#include "referral-notice.h"
#include "referral-reason.h"
#include "referral-settings.h"
#include "referral-url.h"
#include "doveadm-referral-child.h"
#include "doveadm-referral.h"

#include <stdio.h>
#include <unistd.h>
#include <time.h>

enum notify_result {
	NOTIFY_RESULT_SAVED = 0,
	NOTIFY_RESULT_PRESENT,
	NOTIFY_RESULT_WOULD_SAVE,
	NOTIFY_RESULT_UNTOUCHED,
	NOTIFY_RESULT_REFUSED,
	NOTIFY_RESULT_UNKNOWN,
	NOTIFY_RESULT_FAILED,

	NOTIFY_RESULT_COUNT
};

static const char *const notify_result_names[NOTIFY_RESULT_COUNT] = {
	"saved", "present", "would-save", "untouched", "refused", "unknown",
	"failed",
};

#define NOTIFY_PROXY_NEEDS_DOVEADM_PORT \
	"proxied with referral=suggest: the notice belongs on the " \
	"backend, which needs doveadm_port and doveadm_password here (and " \
	"a doveadm listener there)"
/* how often the progress line on a terminal is rewritten */
#define NOTIFY_PROGRESS_INTERVAL_SECS 1
/* How many "doveadm save" children run at once. A save is mostly a
   process starting and reading its configuration; on 2 cores three at
   once took half the time of one at a time (doc/design.md). More would
   take CPU from the server's own users for little gain. */
#define NOTIFY_SAVES_AT_ONCE 3
/* the notices, for the one "doveadm search" of the whole batch */
#define NOTIFY_MESSAGE_ID_SEARCH "@notice.dovecot-referral.invalid"

/* One printed row: looked up in the first pass, and for a referred user
   (pending) saved or found in the second. */
struct notify_row {
	const char *user, *mode, *imap_target, *message_id, *message, *error;
	enum notify_result result;
	/* referred: the notice is yet to be looked for and saved */
	bool pending;
	/* the mail is on the backend: doveadm's proxying takes it there */
	bool proxied;
};
ARRAY_DEFINE_TYPE(notify_row, struct notify_row);

/* A "doveadm save" that is running */
struct notify_save {
	struct referral_child child;
	struct notify_row *row;
};

struct notify_context {
	/* first: lookup_run() calls notify_user() with it */
	struct lookup_context lookup;
	struct referral_notice notice;
	bool dry_run, progress;
	unsigned int counts[NOTIFY_RESULT_COUNT];
	unsigned int users;
	time_t last_progress;

	pool_t pool;
	ARRAY_TYPE(notify_row) rows;
	/* the users that have a row: a user named again in the batch (-F
	   and -A, a line twice) is done once, so that two rows never save
	   the same notice twice */
	HASH_TABLE(const char *, const char *) seen;
	/* "<user>\t<Message-ID>" of every notice in the INBOX of the
	   batch's local referred users, when present_known */
	HASH_TABLE(const char *, const char *) present;
	bool present_known;

	struct notify_save saves[NOTIFY_SAVES_AT_ONCE];
	unsigned int saves_running;
};

/* The arguments of a child "doveadm", args (NULL-terminated) after the
   options: the child gets this doveadm's configuration. Unless proxied,
   with doveadm_port=0: the user's mail is here, and a doveadm that may
   proxy asks the passdb (service doveadm) first, where Dovecot 2.4 fails
   a command for a user with host and nologin ("Command requested
   referral"). */
static const char *const *
notify_doveadm_args(bool proxied, const char *const *args)
{
	ARRAY_TYPE(const_string) argv;
	const char *arg;

	t_array_init(&argv, 24);
	if (doveadm_debug) {
		arg = "-D";
		array_push_back(&argv, &arg);
	}
	if (!proxied) {
		arg = "-o";
		array_push_back(&argv, &arg);
		arg = "doveadm_port=0";
		array_push_back(&argv, &arg);
	}
	for (; *args != NULL; args++)
		array_push_back(&argv, args);
	array_append_zero(&argv);
	return array_front(&argv);
}

/* Run "doveadm <args>" (notify_doveadm_args()): its standard output into
   out, standard error into err. Returns the exit status, -1 if it could
   not be run or did not exit (err says why). */
static int
notify_doveadm(bool proxied, const char *const *args, string_t *out,
	       string_t *err)
{
	const char *error;
	int status;

	status = referral_child_run(DOVEADM_BINARY,
				    notify_doveadm_args(proxied, args), NULL,
				    REFERRAL_CHILD_FLAG_DOVEADM, out, err,
				    &error);
	if (status < 0)
		str_append(err, error);
	return status;
}

/* doveadm's standard error, one line, for the error column */
static const char *notify_error_text(string_t *err, int status)
{
	const char *text = t_str_trim(str_c(err), " \t\r\n");

	text = t_strarray_join(t_strsplit_spaces(text, "\r\n"), "; ");
	if (status == EX_CANTCREAT && *text == '\0')
		text = "quota exceeded";
	if (*text == '\0')
		return t_strdup_printf("doveadm exit status %d", status);
	return t_strdup_printf("%s (doveadm exit status %d)", text, status);
}

/* 1: the notice with message_id is in user's INBOX, 0: it is not, -1:
   the search failed (error_r). */
static int
notify_present(bool proxied, const char *user, const char *message_id,
	       const char **error_r)
{
	const char *args[] = {
		"search", "-u", user, "mailbox", "INBOX",
		"header", "Message-ID", message_id, NULL
	};
	string_t *out = t_str_new(128), *err = t_str_new(128);
	int status;

	status = notify_doveadm(proxied, args, out, err);
	if (status != 0) {
		*error_r = t_strconcat("search failed: ",
				       notify_error_text(err, status), NULL);
		return -1;
	}
	return str_len(out) > 0 ? 1 : 0;
}

static void notify_progress(struct notify_context *nctx, bool last)
{
	time_t now = time(NULL);

	if (!nctx->progress ||
	    (!last && now - nctx->last_progress < NOTIFY_PROGRESS_INTERVAL_SECS))
		return;
	nctx->last_progress = now;
	fprintf(stderr, "\r%u users: %u saved, %u present, %u would be "
		"saved, %u failed%s", nctx->users,
		nctx->counts[NOTIFY_RESULT_SAVED],
		nctx->counts[NOTIFY_RESULT_PRESENT],
		nctx->counts[NOTIFY_RESULT_WOULD_SAVE],
		nctx->counts[NOTIFY_RESULT_FAILED], last ? "\n" : "");
	fflush(stderr);
}

/* Whether the notice is in the user's INBOX: from the batch's search
   (notify_find_present()) when it covered the user, else from a search of
   its own. 1: it is, 0: it is not, -1: the search failed (error_r). */
static int
notify_row_present(struct notify_context *nctx, const struct notify_row *row,
		   const char **error_r)
{
	const char *key;

	if (!row->proxied && nctx->present_known &&
	    strpbrk(row->user, "\t\r\n") == NULL) {
		key = t_strconcat(row->user, "\t", row->message_id, NULL);
		return hash_table_lookup(nctx->present, key) != NULL ? 1 : 0;
	}
	return notify_present(row->proxied, row->user, row->message_id,
			      error_r);
}

/* A referred user's result is known (error: why it failed) */
static void
notify_row_done(struct notify_context *nctx, struct notify_row *row,
		enum notify_result result, const char *error)
{
	row->result = result;
	if (error != NULL)
		row->error = p_strdup(nctx->pool, error);
	nctx->counts[result]++;
	notify_progress(nctx, FALSE);
}

/* A save has ended with status (the exit status, or -1 when error says
   why it did not exit); its slot is free again. */
static void
notify_save_ended(struct notify_context *nctx, struct notify_save *save,
		  int status, string_t *err)
{
	if (status == 0)
		notify_row_done(nctx, save->row, NOTIFY_RESULT_SAVED, NULL);
	else {
		notify_row_done(nctx, save->row, NOTIFY_RESULT_FAILED,
				t_strconcat("save failed: ",
					    notify_error_text(err, status),
					    NULL));
	}
	save->row = NULL;
	nctx->saves_running--;
}

/* Wait until one of the running saves ends. */
static void notify_save_wait(struct notify_context *nctx)
{
	struct notify_save *save;
	string_t *err = t_str_new(128);
	const char *error;
	unsigned int i;
	int wait_status, status;
	pid_t pid;

	i_assert(nctx->saves_running > 0);
	pid = referral_child_wait_any(&wait_status, &error);
	if (pid < 0) {
		/* no child left to wait for: every running save is lost */
		for (i = 0; i < N_ELEMENTS(nctx->saves); i++) {
			save = &nctx->saves[i];
			if (save->row == NULL)
				continue;
			referral_child_abandon(&save->child);
			str_truncate(err, 0);
			str_append(err, error);
			notify_save_ended(nctx, save, -1, err);
		}
		return;
	}
	for (i = 0; i < N_ELEMENTS(nctx->saves); i++) {
		save = &nctx->saves[i];
		if (save->row != NULL && save->child.pid == pid)
			break;
	}
	if (i == N_ELEMENTS(nctx->saves)) {
		/* not a save: doveadm has no other children to wait for */
		return;
	}
	status = referral_child_end(&save->child, wait_status, NULL, err,
				    &error);
	if (status < 0)
		str_append(err, error);
	notify_save_ended(nctx, save, status, err);
}

/* Start saving row's notice, when one of the slots is free. */
static void notify_save_start(struct notify_context *nctx,
			      struct notify_row *row)
{
	const char *args[] = { "save", "-u", row->user, "-m", "INBOX", NULL };
	struct notify_save *save = NULL;
	const char *error;
	unsigned int i;

	while (nctx->saves_running == N_ELEMENTS(nctx->saves))
		notify_save_wait(nctx);
	for (i = 0; i < N_ELEMENTS(nctx->saves); i++) {
		if (nctx->saves[i].row == NULL) {
			save = &nctx->saves[i];
			break;
		}
	}
	i_assert(save != NULL);
	if (!referral_child_start(DOVEADM_BINARY,
				  notify_doveadm_args(row->proxied, args),
				  row->message, REFERRAL_CHILD_FLAG_DOVEADM,
				  &save->child, &error)) {
		notify_row_done(nctx, row, NOTIFY_RESULT_FAILED,
				t_strconcat("save failed: ", error, NULL));
		return;
	}
	save->row = row;
	nctx->saves_running++;
}

/* The second pass for a referred user: look, then save. */
static void notify_row_finish(struct notify_context *nctx,
			      struct notify_row *row)
{
	const char *error;
	int ret;

	ret = notify_row_present(nctx, row, &error);
	if (ret < 0)
		notify_row_done(nctx, row, NOTIFY_RESULT_FAILED, error);
	else if (ret > 0)
		notify_row_done(nctx, row, NOTIFY_RESULT_PRESENT, NULL);
	else if (nctx->dry_run)
		notify_row_done(nctx, row, NOTIFY_RESULT_WOULD_SAVE, NULL);
	else {
		/* once: a failure is reported, not retried (quota stays
		   full) */
		notify_save_start(nctx, row);
	}
}

/* The first pass for a referred user: the notice's Message-ID and
   message; FALSE (error_r) when it cannot be built. */
static bool
notify_referred(struct notify_context *nctx, const char *user,
		const struct lookup_result *lookup, struct notify_row *row,
		const char **error_r)
{
	struct referral_reason_params params;
	const char *message;

	referral_reason_params_set(&params, "IMAP", !lookup->nologin,
				   &lookup->target, REFERRAL_IMAP_DEFAULT_PORT,
				   lookup->dest_user, user);
	row->message_id = p_strdup(nctx->pool, referral_notice_message_id(
		user, lookup->target.host, lookup->target.port,
		lookup->dest_user));
	/* checked before the batch: fails only for this user's values */
	if (!referral_notice_build(&nctx->notice, &params, &message,
				   error_r))
		return FALSE;
	row->message = p_strdup(nctx->pool, message);
	row->proxied = lookup->mode == LOOKUP_MODE_PROXY_SUGGEST;
	row->pending = TRUE;
	return TRUE;
}

/* lookup_run()'s user_fn: the first pass, the passdb lookup and what is
   to be done */
static void notify_user(struct lookup_context *ctx, const char *user)
{
	struct notify_context *nctx =
		container_of(ctx, struct notify_context, lookup);
	struct lookup_result lookup;
	struct notify_row *row;
	const char *error;
	pool_t pool;

	if (hash_table_lookup(nctx->seen, user) != NULL)
		return;
	pool = pool_alloconly_create("referral notify", 1024);
	lookup_user_result(ctx, user, pool, &lookup);
	ctx->mode_counts[lookup.mode]++;
	row = array_append_space(&nctx->rows);
	row->user = p_strdup(nctx->pool, user);
	hash_table_insert(nctx->seen, row->user, row->user);
	row->mode = lookup_mode_names[lookup.mode];
	row->imap_target = p_strdup(nctx->pool, lookup.imap_target);
	error = lookup.error;
	switch (lookup.mode) {
	case LOOKUP_MODE_NOLOGIN:
	case LOOKUP_MODE_SUGGEST:
	case LOOKUP_MODE_PROXY_SUGGEST:
		if (!lookup.have_target) {
			/* IMAP refused the target (lookup_imap()) */
			row->result = NOTIFY_RESULT_REFUSED;
		} else if (lookup.mode == LOOKUP_MODE_PROXY_SUGGEST &&
			   doveadm_settings->doveadm_port == 0) {
			row->result = NOTIFY_RESULT_REFUSED;
			error = NOTIFY_PROXY_NEEDS_DOVEADM_PORT;
		} else if (!notify_referred(nctx, user, &lookup, row,
					    &error)) {
			row->result = NOTIFY_RESULT_FAILED;
		}
		break;
	case LOOKUP_MODE_REFUSED:
		row->result = NOTIFY_RESULT_REFUSED;
		break;
	case LOOKUP_MODE_UNKNOWN:
		row->result = NOTIFY_RESULT_UNKNOWN;
		break;
	default:
		row->result = NOTIFY_RESULT_UNTOUCHED;
		break;
	}
	row->error = p_strdup(nctx->pool, error);
	nctx->users++;
	if (!row->pending)
		nctx->counts[row->result]++;
	notify_progress(nctx, FALSE);
	pool_unref(&pool);
}

/* Between the passes: one "doveadm search" (fetch of the Message-IDs)
   over every local referred user of the batch, instead of one process
   each, into nctx->present. Users that run through doveadm's proxying
   are left to a search of their own. When it fails for any user (one
   that cannot be opened), every user gets a search of its own, as a
   batch of one would: the failing one is then reported as failed. */
static void notify_find_present(struct notify_context *nctx)
{
	const struct notify_row *row;
	string_t *path, *users, *out, *err;
	const char *const *lines, *const *fields, *key;
	const char *args[] = {
		"-f", "tab", "fetch", "-F", NULL, "hdr.message-id",
		"mailbox", "INBOX", "header", "Message-ID",
		NOTIFY_MESSAGE_ID_SEARCH, NULL
	};
	unsigned int count = 0, n;
	int fd, status;

	users = t_str_new(1024);
	array_foreach(&nctx->rows, row) {
		if (row->pending && !row->proxied &&
		    strpbrk(row->user, "\t\r\n") == NULL) {
			str_append(users, row->user);
			str_append_c(users, '\n');
			count++;
		}
	}
	/* for one user a search of its own costs the same */
	if (count < 2)
		return;
	path = t_str_new(128);
	str_append(path, "/tmp/referral-notify-users.");
	fd = safe_mkstemp_hostpid(path, 0600, (uid_t)-1, (gid_t)-1);
	if (fd == -1) {
		i_error("referral notify: safe_mkstemp(%s) failed: %m",
			str_c(path));
		return;
	}
	if (write_full(fd, str_data(users), str_len(users)) < 0) {
		i_error("referral notify: write(%s) failed: %m", str_c(path));
		i_close_fd(&fd);
		i_unlink(str_c(path));
		return;
	}
	i_close_fd(&fd);
	args[4] = str_c(path);
	out = t_str_new(1024);
	err = t_str_new(128);
	status = notify_doveadm(FALSE, args, out, err);
	i_unlink(str_c(path));
	/* a user that cannot be opened is an error on standard error,
	   and not always an exit status (2.3.19.1's doveadm goes on with
	   the next user and exits 0): it is not in the output either way,
	   which must not read as "no notice there" */
	if (status != 0 || strstr(str_c(err), "Error: ") != NULL ||
	    strstr(str_c(err), "Fatal: ") != NULL) {
		i_warning("referral notify: searching the batch's INBOXes "
			  "at once failed, searching one user at a time: %s",
			  notify_error_text(err, status));
		return;
	}
	/* "<user>\t<Message-ID>" lines, after a title line */
	hash_table_create(&nctx->present, default_pool, 0, str_hash, strcmp);
	lines = t_strsplit(str_c(out), "\n");
	for (; *lines != NULL; lines++) {
		fields = t_strsplit(*lines, "\t");
		n = str_array_length(fields);
		if (n < 2)
			continue;
		key = p_strconcat(nctx->pool, fields[0], "\t",
				  t_str_trim(fields[n - 1], " \r"), NULL);
		hash_table_update(nctx->present, key, key);
	}
	nctx->present_known = TRUE;
}

/* The second pass: the referred users' notices looked for and saved,
   then every row printed in the batch's order. */
static void notify_finish(struct notify_context *nctx)
{
	struct notify_row *row;

	T_BEGIN {
		notify_find_present(nctx);
	} T_END;
	array_foreach_modifiable(&nctx->rows, row) {
		if (row->pending) T_BEGIN {
			notify_row_finish(nctx, row);
		} T_END;
	}
	while (nctx->saves_running > 0) T_BEGIN {
		notify_save_wait(nctx);
	} T_END;
	array_foreach_modifiable(&nctx->rows, row) T_BEGIN {
		if (row->result == NOTIFY_RESULT_FAILED) {
			i_error("referral notify: %s: %s", row->user,
				row->error);
		}
		doveadm_print(row->user);
		doveadm_print(row->mode);
		doveadm_print(row->imap_target == NULL ? "" :
			      row->imap_target);
		doveadm_print(notify_result_names[row->result]);
		doveadm_print(row->message_id == NULL ? "" : row->message_id);
		doveadm_print(row->error == NULL ? "" : row->error);
		if (nctx->dry_run)
			doveadm_print(row->message == NULL ? "" : row->message);
	} T_END;
}

static void notify_summary(struct notify_context *nctx)
{
	notify_progress(nctx, TRUE);
	fprintf(stderr, "%u users: %u saved, %u already present, %u would "
		"be saved, %u untouched, %u refused, %u unknown, %u failed\n",
		nctx->users, nctx->counts[NOTIFY_RESULT_SAVED],
		nctx->counts[NOTIFY_RESULT_PRESENT],
		nctx->counts[NOTIFY_RESULT_WOULD_SAVE],
		nctx->counts[NOTIFY_RESULT_UNTOUCHED],
		nctx->counts[NOTIFY_RESULT_REFUSED],
		nctx->counts[NOTIFY_RESULT_UNKNOWN],
		nctx->counts[NOTIFY_RESULT_FAILED]);
}

/* The sender and templates, checked before any message is saved. */
static bool
notify_settings(struct lookup_context *ctx, struct notify_context *nctx)
{
	const char *from, *subject, *body, *error;

	if (!referral_notice_settings(ctx->imap_event, &from, &subject,
				      &body, &error)) {
		i_error("referral notify: reading the settings failed: %s",
			error);
		return FALSE;
	}
	nctx->notice.from = from != NULL ? from :
		t_strconcat("postmaster@", my_hostdomain(), NULL);
	nctx->notice.subject_template = subject;
	nctx->notice.body_template = body;
	nctx->notice.date = time(NULL);
	if (!referral_notice_check(&nctx->notice, &error)) {
		i_error("referral notify: invalid %s settings, no notice "
			"saved: %s", "referral_notice_*", error);
		return FALSE;
	}
	return TRUE;
}

static void cmd_referral_notify(struct doveadm_cmd_context *cctx)
{
	struct notify_context nctx;
	struct lookup_context *ctx = &nctx.lookup;
	bool batch;

	i_zero(&nctx);
	ctx->user_fn = notify_user;
	if (!doveadm_cmd_param_bool(cctx, "dry-run", &nctx.dry_run))
		nctx.dry_run = FALSE;
	if (!lookup_init(cctx, "referral notify", ctx))
		return;
	if (!notify_settings(ctx, &nctx)) {
		doveadm_exit_code = EX_CONFIG;
		lookup_deinit(ctx);
		return;
	}
	nctx.progress = isatty(STDERR_FILENO) != 0;

	doveadm_print_init(DOVEADM_PRINT_TYPE_PAGER);
	doveadm_print_header_simple("user");
	doveadm_print_header_simple("mode");
	doveadm_print_header_simple("imap_target");
	doveadm_print_header_simple("result");
	doveadm_print_header_simple("message_id");
	doveadm_print_header_simple("error");
	if (nctx.dry_run)
		doveadm_print_header_simple("message");

	nctx.pool = pool_alloconly_create("referral notify batch", 4096);
	p_array_init(&nctx.rows, nctx.pool, 64);
	hash_table_create(&nctx.seen, default_pool, 0, str_hash, strcmp);
	lookup_run(ctx);
	notify_finish(&nctx);

	batch = ctx->file != NULL || ctx->all_users || nctx.users > 1;
	if (batch || nctx.progress)
		notify_summary(&nctx);
	if (ctx->failed || nctx.counts[NOTIFY_RESULT_FAILED] > 0)
		doveadm_exit_code = EX_TEMPFAIL;
	else if (nctx.counts[NOTIFY_RESULT_REFUSED] > 0)
		doveadm_exit_code = DOVEADM_EX_NOTPOSSIBLE;
	else if (nctx.counts[NOTIFY_RESULT_UNKNOWN] > 0)
		doveadm_exit_code = DOVEADM_EX_NOTFOUND;
	if (hash_table_is_created(nctx.present))
		hash_table_destroy(&nctx.present);
	hash_table_destroy(&nctx.seen);
	pool_unref(&nctx.pool);
	lookup_deinit(ctx);
}

struct doveadm_cmd_ver2 doveadm_cmd_referral_notify = {
	.cmd = cmd_referral_notify,
	.name = "referral notify",
	.usage = "[-n] [-a <userdb socket path>] [-x <auth info>] "
		 "[-F <file>|-] [-A] [<user> [...]]",
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_PARAM('n', "dry-run", CMD_PARAM_BOOL, 0)
DOVEADM_CMD_PARAM('a', "socket-path", CMD_PARAM_STR, 0)
DOVEADM_CMD_PARAM('x', "auth-info", CMD_PARAM_ARRAY, 0)
DOVEADM_CMD_PARAM('F', "file", CMD_PARAM_STR, 0)
DOVEADM_CMD_PARAM('A', "all-users", CMD_PARAM_BOOL, 0)
DOVEADM_CMD_PARAM('\0', "user", CMD_PARAM_ARRAY, CMD_PARAM_FLAG_POSITIONAL)
DOVEADM_CMD_PARAMS_END
};
