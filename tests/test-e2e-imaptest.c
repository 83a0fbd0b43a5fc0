/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* Dovecot's own IMAP test tool, imaptest, against a server with the plugin
   and against the same server without it: its scripted compliance tests
   as a user without referral fields and as a suggest-mode user (every
   command after an "OK [REFERRAL ...]" login), which must pass and fail
   alike on both servers, then a short stress run of suggest-mode users,
   which must see no error; the scripted tests through A's proxy to
   server B as a user with referral=suggest and as one without, which
   must pass and fail alike, and a stress run of such users; then faults under load (below): imaptest and
   nologin clients of our own while the auth and imap processes are
   killed. scripts/imaptest builds imaptest; the binary
   is REFERRAL_IMAPTEST or the one under the build directory, and its
   scripted tests are in "tests" beside it. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-imap.h"
#include "harness-net.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include "e2e-run.h"

#include <check.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define IP "127.0.0.1"
#define PASSWORD "Pw-imaptest"
#define SUGGEST_USERS 10
#define NOLOGIN_USERS 10
/* proxied to B with referral=suggest, for the stress run */
#define PROXY_USERS 10
/* the stress run: clients, seconds, messages in its mbox */
#define STRESS_CLIENTS 10
#define STRESS_SECS 15
#define STRESS_MESSAGES 50
#define N_ITEMS(array) (sizeof(array) / sizeof((array)[0]))
/* a run that takes longer than this is stuck */
#define IMAPTEST_TIMEOUT_SECS 240

static const char *imaptest;
static char *tests_dir, *root, *mbox_path;
static struct dc_server a, stock, b;

struct scripted_result {
	/* the three summary lines, "" when imaptest did not print one */
	char *summary[3];
	/* the first line of each failure report ("*** Test <name> command
	   <n>/<m> (line <l>)"), in the order of the run */
	char *failures;
	int exit_code;
};

/* With port_b: also the users that A proxies to B there, "proxyplain"
   and "proxysuggest" for the scripted tests, proxysuggest1.. for the
   stress run (B knows them all: the same passdb). */
static void create_passdb(const char *db, const char *port_b)
{
	struct passdb_user users[1 + SUGGEST_USERS + NOLOGIN_USERS + 2 +
				 PROXY_USERS];
	char names[SUGGEST_USERS + NOLOGIN_USERS + PROXY_USERS][16];
	unsigned int i, count = 0;

	memset(users, 0, sizeof(users));
	users[count].user = "plain";
	users[count++].password = "{PLAIN}" PASSWORD;
	for (i = 0; i < SUGGEST_USERS; i++) {
		snprintf(names[i], sizeof(names[i]), "suggest%u", i + 1);
		users[count].user = names[i];
		users[count].password = "{PLAIN}" PASSWORD;
		users[count++].host = "imap2.example.com";
	}
	for (i = 0; i < NOLOGIN_USERS; i++) {
		struct passdb_user *user = &users[count++];

		snprintf(names[SUGGEST_USERS + i], sizeof(names[0]),
			 "nologin%u", i + 1);
		user->user = names[SUGGEST_USERS + i];
		user->password = "{PLAIN}" PASSWORD;
		user->host = "imap2.example.com";
		user->nologin = "Y";
	}
	for (i = 0; port_b != NULL && i < 2 + PROXY_USERS; i++) {
		struct passdb_user *user = &users[count++];

		if (i == 0)
			user->user = "proxyplain";
		else if (i == 1)
			user->user = "proxysuggest";
		else {
			char *name = names[SUGGEST_USERS + NOLOGIN_USERS +
					   i - 2];

			snprintf(name, sizeof(names[0]), "proxysuggest%u",
				 i - 1);
			user->user = name;
		}
		user->password = "{PLAIN}" PASSWORD;
		user->host = IP;
		user->port = port_b;
		user->proxy = "Y";
		user->pass = PASSWORD;
		if (i > 0)
			user->referral = "suggest";
	}
	passdb_create(db, users, count);
}

/* The stress run's messages: imaptest checks that a message it sees
   twice has not changed, so every Message-ID is unique. */
static void write_mbox(const char *path)
{
	char *text;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	unsigned int i, j;

	for (i = 0; i < STRESS_MESSAGES; i++) {
		fprintf(out, "From sender@example.com Mon Jan  1 00:00:%02u 2024\n"
			"Message-ID: <imaptest-%u@referral.example>\n"
			"Date: Mon, 1 Jan 2024 00:00:%02u +0000\n"
			"From: Sender %u <sender@example.com>\n"
			"To: someone@example.com\n"
			"Subject: stress message %u\n"
			"\n", i % 60, i, i % 60, i, i);
		for (j = 0; j <= i % 7; j++)
			fprintf(out, "Line %u of message %u.\n", j, i);
		fputs("\n", out);
	}
	fclose(out);
	harness_write_file(path, text);
	free(text);
}

/* Make dir_root's passdb (returned: its passdb block) and stress mbox. */
static char *setup_files(const char *dir_root, const char *port_b,
			 char **mbox_path_r)
{
	char *db = harness_printf("%s/users.db", dir_root);
	char *passdb;

	create_passdb(db, port_b);
	passdb = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	*mbox_path_r = harness_printf("%s/stress.mbox", dir_root);
	write_mbox(*mbox_path_r);
	free(db);
	return passdb;
}

static void start_with_plugin(struct dc_server *srv, const char *dir_root,
			      const char *name, const char *passdb)
{
	char *plugins, *conf;

	dc_server_init(srv, dir_root, name);
	plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);
	conf = harness_printf("%s%s", plugins, passdb);
	dc_server_start(srv, conf);
	free(conf);
	free(plugins);
}

static void setup(void)
{
	char port_b[8], *db, *passdb, *passdb_b;

	root = harness_make_root("referral-imaptest");
	dc_server_init(&b, root, "b");
	snprintf(port_b, sizeof(port_b), "%u", b.imap_port);
	passdb = setup_files(root, port_b, &mbox_path);
	start_with_plugin(&a, root, "a", passdb);
	dc_server_init(&stock, root, "stock");
	dc_server_start(&stock, passdb);
	free(passdb);
	db = harness_printf("%s/users.db", root);
	passdb_b = passdb_sql_block(db, "b", PASSDB_QUERY_PLAIN);
	dc_server_start(&b, passdb_b);
	free(passdb_b);
	free(db);
}

static void teardown(void)
{
	dc_server_stop(&a);
	dc_server_stop(&stock);
	dc_server_stop(&b);
	harness_remove_root(root);
}

/* Lines of the log of srv that contain needle. */
static unsigned int log_count(const struct dc_server *srv, const char *needle)
{
	char *log = harness_read_file(srv->log_path);
	const char *p;
	unsigned int count = 0;

	for (p = log; (p = strstr(p, needle)) != NULL; p++)
		count++;
	free(log);
	return count;
}

static char *run_imaptest(const struct dc_server *srv, const char *args,
			  int *status_r)
{
	char *cmd = harness_printf("timeout %u %s host=" IP " port=%u %s 2>&1",
				   IMAPTEST_TIMEOUT_SECS, imaptest,
				   srv->imap_port, args);
	char *output = harness_run_output(cmd, status_r);

	free(cmd);
	return output;
}

static void scripted(const struct dc_server *srv, const char *user,
		     struct scripted_result *result_r)
{
	static const char *const prefixes[] = {
		" test groups: ", "base protocol: ", "extensions: ",
	};
	char *args = harness_printf("user=%s pass=" PASSWORD " test=%s",
				    user, tests_dir);
	char *output, *line, *save = NULL, *failures;
	size_t size = 0;
	FILE *out = open_memstream(&failures, &size);
	unsigned int i;
	int status;

	output = run_imaptest(srv, args, &status);
	/* it exits with 2 when a test failed, as 2.4 fails one of its
	   NOTIFY tests; a timeout is 124 */
	ck_assert_msg(WIFEXITED(status) && (WEXITSTATUS(status) == 0 ||
					    WEXITSTATUS(status) == 2),
		      "imaptest against %s as %s: status %d", srv->name, user,
		      status);
	result_r->exit_code = WEXITSTATUS(status);
	for (i = 0; i < 3; i++)
		result_r->summary[i] = NULL;
	for (line = strtok_r(output, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (harness_starts_with(line, "*** Test "))
			fprintf(out, "%s\n", line);
		for (i = 0; i < 3; i++) {
			if (strstr(line, prefixes[i]) != NULL &&
			    strstr(line, " failed") != NULL)
				result_r->summary[i] = strdup(line);
		}
	}
	fclose(out);
	result_r->failures = failures;
	for (i = 0; i < 3; i++) {
		ck_assert_msg(result_r->summary[i] != NULL,
			      "imaptest against %s as %s printed no '%s' line",
			      srv->name, user, prefixes[i]);
	}
	free(output);
	free(args);
}

static void scripted_free(struct scripted_result *result)
{
	unsigned int i;

	for (i = 0; i < 3; i++)
		free(result->summary[i]);
	free(result->failures);
}

/* "<n> test groups: ..." with n > 0, and "<m>/<n> individual commands
   failed" with n > 0: imaptest ran tests, not nothing. */
static void assert_ran_tests(const struct scripted_result *result)
{
	unsigned int groups = 0, failed = 0, total = 0;

	ck_assert(sscanf(result->summary[0], "%u test groups", &groups) == 1);
	ck_assert_uint_gt(groups, 0);
	ck_assert(sscanf(strchr(result->summary[1], ':') + 1, "%u/%u",
			 &failed, &total) == 2);
	ck_assert_uint_gt(total, 0);
}

/* Two scripted runs passed and failed alike: the same summary lines,
   failures and exit status (printed side by side under title), and they
   ran tests. */
static void assert_scripted_alike(const struct scripted_result *with,
				  const struct scripted_result *without,
				  const char *title)
{
	unsigned int i;

	printf("== imaptest scripted tests %s\n", title);
	for (i = 0; i < 3; i++)
		printf("   %s | %s\n", with->summary[i], without->summary[i]);
	fflush(stdout);
	for (i = 0; i < 3; i++)
		ck_assert_str_eq(with->summary[i], without->summary[i]);
	ck_assert_str_eq(with->failures, without->failures);
	ck_assert_int_eq(with->exit_code, without->exit_code);
	assert_ran_tests(with);
}

static const char *const scripted_users[] = { "plain", "suggest1" };

START_TEST(test_scripted_same_as_stock)
{
	const char *user = scripted_users[_i];
	char *sent = harness_printf("Referral sent (login): imap://%s@"
				    "imap2.example.com/", user);
	unsigned int referrals = log_count(&a, sent);
	unsigned int all_referrals = log_count(&a, "Referral sent");
	struct scripted_result with, without;
	char *title;

	scripted(&a, user, &with);
	scripted(&stock, user, &without);
	title = harness_printf("as %s: with the plugin | plugin-less", user);
	assert_scripted_alike(&with, &without, title);
	free(title);

	/* the suggest-mode user really ran every test behind a referral */
	if (strcmp(user, "plain") == 0)
		ck_assert_uint_eq(log_count(&a, "Referral sent"), all_referrals);
	else
		ck_assert_uint_gt(log_count(&a, sent), referrals);
	ck_assert_uint_eq(log_count(&stock, "Referral sent"), 0);

	scripted_free(&with);
	scripted_free(&without);
	free(sent);
}
END_TEST

/* The count of the "Logi" column in the totals of a stress run: the
   header line, the probability lines (with '%'), then the counts. */
static unsigned int stress_logins(const char *output)
{
	const char *totals = strstr(output, "\nTotals:\n");
	char *copy, *header, *counts, *name, *count;
	char *save = NULL, *save1 = NULL, *save2 = NULL;
	unsigned int logins = 0;
	bool found = false;

	ck_assert_msg(totals != NULL, "no totals in the stress run");
	copy = strdup(totals + strlen("\nTotals:\n"));
	header = strtok_r(copy, "\n", &save);
	counts = strtok_r(NULL, "\n", &save);
	while (counts != NULL && strchr(counts, '%') != NULL)
		counts = strtok_r(NULL, "\n", &save);
	ck_assert_msg(header != NULL && counts != NULL,
		      "no counts in the totals");
	for (name = strtok_r(header, " ", &save1),
	     count = strtok_r(counts, " ", &save2);
	     name != NULL && count != NULL && !found;
	     name = strtok_r(NULL, " ", &save1),
	     count = strtok_r(NULL, " ", &save2)) {
		if (strcmp(name, "Logi") == 0) {
			logins = strtoul(count, NULL, 10);
			found = true;
		}
	}
	ck_assert_msg(found, "no Logi column in the totals");
	free(copy);
	return logins;
}

/* A stress run as users <prefix>1..<prefix>users */
static unsigned int stress(const struct dc_server *srv, const char *prefix,
			   unsigned int users)
{
	char *args = harness_printf("user=%s%%d users=%u pass=" PASSWORD
				    " mbox=%s clients=%u secs=%u",
				    prefix, users, mbox_path, STRESS_CLIENTS,
				    STRESS_SECS);
	char *output;
	unsigned int logins;
	int status;

	output = run_imaptest(srv, args, &status);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "imaptest stress run against %s: status %d", srv->name,
		      status);
	ck_assert_msg(strstr(output, "Error: ") == NULL &&
		      strstr(output, "Panic: ") == NULL &&
		      strstr(output, "Fatal: ") == NULL,
		      "imaptest reported errors against %s", srv->name);
	logins = stress_logins(output);
	free(output);
	free(args);
	return logins;
}

START_TEST(test_stress_suggest_users)
{
	unsigned int referrals = log_count(&a, "Referral sent (login): ");
	unsigned int logins_a, logins_stock;
	char *errors;

	logins_a = stress(&a, "suggest", SUGGEST_USERS);
	logins_stock = stress(&stock, "suggest", SUGGEST_USERS);
	printf("== imaptest stress run, %u clients, %u s, suggest-mode users: "
	       "with the plugin | plugin-less\n"
	       "   logins/s: %.1f | %.1f\n", STRESS_CLIENTS, STRESS_SECS,
	       (double)logins_a / STRESS_SECS,
	       (double)logins_stock / STRESS_SECS);
	fflush(stdout);
	ck_assert_uint_gt(logins_a, 0);
	ck_assert_uint_gt(logins_stock, 0);
	/* every login of the run on A was a suggest-mode referral */
	ck_assert_uint_ge(log_count(&a, "Referral sent (login): ") -
			  referrals, logins_a);
	errors = dc_server_log_errors(&a);
	ck_assert_msg(errors == NULL, "server a logged:\n%s", errors);
	ck_assert_uint_eq(log_count(&a, "Referral refused"), 0);
}
END_TEST

/* Through A's proxy to B: the scripted tests as a user with
   referral=suggest (every command after the OK with the referral and the
   untagged CAPABILITY before it) pass and fail as for a user without. */
START_TEST(test_scripted_proxy_suggest_same_as_proxy)
{
	unsigned int referrals = log_count(&a, "Referral sent (proxy): "
					   "imap://proxysuggest@");
	struct scripted_result with, without;

	scripted(&a, "proxysuggest", &with);
	scripted(&a, "proxyplain", &without);
	assert_scripted_alike(&with, &without, "through the proxy: "
			      "referral=suggest | proxy alone");
	ck_assert_uint_gt(log_count(&a, "Referral sent (proxy): "
				    "imap://proxysuggest@"), referrals);
	ck_assert_uint_eq(log_count(&a, "Referral sent (proxy): "
				    "imap://proxyplain"), 0);
	/* the sessions were B's */
	ck_assert(dc_server_log_wait_line(&b, "Info: ", "user=<proxysuggest>"));
	scripted_free(&with);
	scripted_free(&without);
}
END_TEST

START_TEST(test_stress_proxy_suggest_users)
{
	unsigned int referrals = log_count(&a, "Referral sent (proxy): ");
	unsigned int logins;
	char *errors;

	logins = stress(&a, "proxysuggest", PROXY_USERS);
	printf("== imaptest stress run, %u clients, %u s, proxied users with "
	       "referral=suggest: logins/s %.1f\n", STRESS_CLIENTS,
	       STRESS_SECS, (double)logins / STRESS_SECS);
	fflush(stdout);
	ck_assert_uint_gt(logins, 0);
	/* every login of the run was proxied with the referral */
	ck_assert_uint_ge(log_count(&a, "Referral sent (proxy): ") -
			  referrals, logins);
	errors = dc_server_log_errors(&a);
	ck_assert_msg(errors == NULL, "server a logged:\n%s", errors);
	errors = dc_server_log_errors(&b);
	ck_assert_msg(errors == NULL, "server b logged:\n%s", errors);
	ck_assert_uint_eq(log_count(&a, "Referral refused"), 0);
	ck_assert_uint_eq(log_count(&a, "Referral skipped"), 0);
}
END_TEST

/* Faults under load: suggest-mode users through imaptest and nologin users
   through a client of our own log in to a server with the plugin while
   the test kills (SIGKILL) the auth process and the post-login imap
   processes, alternately, FAULT_KILL_INTERVAL_MSECS apart, and for
   FAULT_TAIL_MSECS after the last kill. Dovecot restarts them. What must
   hold: no login process dies or logs a Panic or Fatal; every nologin
   client gets one tagged reply per command, in order, each the referral
   (after its BYE) or, in a fault, a temporary failure, or a BYE or a
   closed connection instead; imaptest sees no protocol error (a second or
   unknown tagged reply, BAD, a broken line), only logins that failed and
   sessions that ended; and after every kill a fresh login of each kind
   works again within FAULT_RECOVERY_MSECS. */
#define FAULT_TAIL_MSECS 2000
#define FAULT_STRESS_CLIENTS 10
/* forked clients that log nologin users in, one connection at a time */
#define FAULT_WORKERS 3
#define FAULT_KILLS 6
#define FAULT_KILL_INTERVAL_MSECS 2500
#define FAULT_RECOVERY_MSECS 10000
/* a nologin conversation that neither ends nor gets a reply for this
   long hangs. Dovecot answers or closes within a second or two, but for
   a command after a temporary failure while the auth process restarts:
   2.4's imap-login says "* OK Waiting for authentication process to
   respond.." and holds it until its auth connection is back, once seen
   (distcheck, 2026-12-03) for more than 15 s. */
#define FAULT_CONVERSATION_MSECS 40000
/* conversations each worker prints: the first of each outcome, and
   violations up to this many */
#define FAULT_PRINT_VIOLATIONS 5

static struct dc_server faults;
static char *faults_root, *faults_mbox;
/* every process the test killed */
static pid_t killed_pids[256];
static unsigned int killed_count;
/* the longest time from a kill until logins worked again */
static long long fault_max_recovery;

static void setup_faults(void)
{
	char *passdb;

	faults_root = harness_make_root("referral-faults");
	passdb = setup_files(faults_root, NULL, &faults_mbox);
	start_with_plugin(&faults, faults_root, "faults", passdb);
	free(passdb);
}

static void teardown_faults(void)
{
	dc_server_stop(&faults);
	harness_remove_root(faults_root);
}

enum fault_outcome {
	/* "* OK [ALERT]", "* BYE", "b NO [REFERRAL <url>]", closed: the
	   expected answer */
	OUTCOME_REFERRED,
	/* a tagged NO that is not a referral: a temporary failure */
	OUTCOME_TEMPFAIL,
	/* "NO [AUTHENTICATIONFAILED]": Dovecot 2.3's answer to a request
	   that the auth process died with (its login processes do not know
	   the "temp" that lib-auth adds; 2.4 sends "code=temp_fail" and
	   answers NO [UNAVAILABLE]) */
	OUTCOME_AUTHFAILED_23,
	/* a BYE and the close, with no tagged reply to the login */
	OUTCOME_BYE,
	/* closed with no tagged reply and no BYE */
	OUTCOME_CLOSED,
	OUTCOME_VIOLATION,

	OUTCOME_COUNT
};

static const char *const outcome_names[OUTCOME_COUNT] = {
	"referred", "tempfail", "auth failed (2.3)", "BYE", "closed",
	"VIOLATION"
};

/* How a nologin client logs in: LOGIN, AUTHENTICATE PLAIN with the
   initial response, or AUTHENTICATE PLAIN answering the server's
   continuation after a pause (a slow client: its request waits in the
   auth process, so killing that process hits it). */
enum fault_login {
	LOGIN_LOGIN,
	LOGIN_SASL_IR,
	LOGIN_CONTINUATION,

	LOGIN_COUNT
};

static const char *const login_names[LOGIN_COUNT] = {
	"LOGIN", "AUTHENTICATE (initial response)",
	"AUTHENTICATE (continuation)"
};

/* how long a slow client waits before it answers the continuation: it
   says it waits (fault_counts.waiting) for the first half, so that a kill
   then has the other half to reach it before the answer goes out */
#define FAULT_HOLD_MSECS 500

/* one worker's counts */
struct fault_counts {
	unsigned int outcomes[LOGIN_COUNT][OUTCOME_COUNT];
	/* set while a slow client waits to answer a continuation */
	int waiting;
};

/* in memory shared by the test process and the workers */
struct fault_shared {
	/* set by the test process when the load is to end */
	int stop;
	struct fault_counts workers[FAULT_WORKERS];
};

struct fault_conversation {
	int fd;
	char buf[4096];
	size_t buf_len;
	bool eof;
	/* what was said, "C: " and "S: " lines, printed when it counts */
	FILE *transcript;
	char *transcript_text;
	size_t transcript_size;
	const char *violation;
};

static long long now_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to msecs for input: true when there is some (or the close). */
static bool conversation_input(struct fault_conversation *conv,
			       unsigned int msecs)
{
	struct pollfd pfd = { .fd = conv->fd, .events = POLLIN };

	return conv->buf_len > 0 || poll(&pfd, 1, msecs) > 0;
}

/* The next line (malloc()ed) until deadline; NULL at the close (eof set)
   or at the deadline. */
static char *conversation_read(struct fault_conversation *conv,
			       long long deadline)
{
	for (;;) {
		char *line = imap_buf_take_line(conv->buf, &conv->buf_len);
		long long left = deadline - now_msecs();
		ssize_t ret;

		if (line != NULL) {
			fprintf(conv->transcript, "S: %s\n", line);
			return line;
		}
		if (left <= 0 || conv->buf_len == sizeof(conv->buf) ||
		    !conversation_input(conv, (unsigned int)left))
			return NULL;
		ret = recv(conv->fd, conv->buf + conv->buf_len,
			   sizeof(conv->buf) - conv->buf_len, 0);
		if (ret <= 0) {
			/* a reset is a close too: the server process died */
			conv->eof = true;
			fprintf(conv->transcript, "(closed%s)\n",
				ret < 0 ? " by a reset" : "");
			return NULL;
		}
		conv->buf_len += ret;
	}
}

static bool conversation_send(struct fault_conversation *conv,
			      const char *data)
{
	const char *p, *line;

	for (line = data; (p = strstr(line, "\r\n")) != NULL; line = p + 2)
		fprintf(conv->transcript, "C: %.*s\n", (int)(p - line), line);
	return send(conv->fd, data, strlen(data), MSG_NOSIGNAL) ==
		(ssize_t)strlen(data);
}

/* The slow client's pause before it answers the continuation: false when
   the server said something (or closed) meanwhile, which is then read
   instead. */
static bool conversation_hold(struct fault_conversation *conv, int *waiting)
{
	bool input;

	__atomic_store_n(waiting, 1, __ATOMIC_SEQ_CST);
	input = conversation_input(conv, FAULT_HOLD_MSECS);
	__atomic_store_n(waiting, 0, __ATOMIC_SEQ_CST);
	return !input && !conversation_input(conv, FAULT_HOLD_MSECS);
}

/* The outcome of the tagged reply to the login, after an ALERT and a BYE
   or not. */
static enum fault_outcome
login_reply_outcome(const char *line, const char *referral, bool alert,
		    bool bye, const char **violation_r)
{
	bool authfailed = strstr(line, "[AUTHENTICATIONFAILED]") != NULL;

	if (harness_starts_with(line, referral)) {
		if (alert && bye)
			return OUTCOME_REFERRED;
		*violation_r = "no ALERT and BYE before the referral";
	} else if (!harness_starts_with(line, "b NO ") || bye ||
		   strstr(line, "[REFERRAL") != NULL) {
		*violation_r = "the login answered neither with the "
			"referral nor a temporary failure";
	} else if (!authfailed) {
		return OUTCOME_TEMPFAIL;
	} else if (!dc_syntax_24()) {
		return OUTCOME_AUTHFAILED_23;
	} else {
		*violation_r = "a right password failed";
	}
	return OUTCOME_VIOLATION;
}

/* After the greeting: "a NOOP" and the login "b ..." in one write, so the
   replies' order is checked too; after a temporary failure "c LOGOUT".
   response: the answer to a continuation, NULL when none is expected. */
static enum fault_outcome
conversation_replies(struct fault_conversation *conv, const char *login,
		     const char *response, const char *referral,
		     long long deadline, int *waiting)
{
	static const char tags[] = "abc";
	enum fault_outcome outcome = OUTCOME_CLOSED;
	unsigned int next = 0, last = 1;
	bool alert = false, bye = false, done = false;
	char *data, *line;

	data = harness_printf("a NOOP\r\nb %s\r\n", login);
	if (!conversation_send(conv, data)) {
		/* the server closed before it read the commands */
		free(data);
		return OUTCOME_CLOSED;
	}
	free(data);
	while ((line = conversation_read(conv, deadline)) != NULL) {
		if (done) {
			conv->violation = "a line after the last tagged reply";
		} else if (harness_starts_with(line, "* BYE ")) {
			bye = true;
		} else if (harness_starts_with(line, "* OK [ALERT] ")) {
			alert = true;
		} else if (harness_starts_with(line, "* ")) {
			/* e.g. "* OK Waiting for authentication process" */
		} else if (line[0] == '+') {
			if (next != 1 || response == NULL)
				conv->violation = "an unasked-for continuation";
			else if (conversation_hold(conv, waiting)) {
				data = harness_printf("%s\r\n", response);
				(void)conversation_send(conv, data);
				free(data);
			}
			/* one continuation only */
			response = NULL;
		} else if (next > last || line[0] != tags[next] ||
			   line[1] != ' ') {
			conv->violation = "a tagged reply out of order, "
				"twice, or for no command";
		} else if (next == 0) {
			if (!harness_starts_with(line, "a OK "))
				conv->violation = "NOOP not answered OK";
			next++;
		} else if (next == 1) {
			next++;
			outcome = login_reply_outcome(line, referral, alert,
						      bye, &conv->violation);
			if (outcome == OUTCOME_REFERRED) {
				done = true;
			} else if (outcome != OUTCOME_VIOLATION) {
				/* still connected, not logged in */
				last = 2;
				if (!conversation_send(conv, "c LOGOUT\r\n"))
					done = true;
			}
		} else {
			if (!harness_starts_with(line, "c OK ") || !bye)
				conv->violation = "LOGOUT not answered BYE, OK";
			done = true;
		}
		free(line);
		if (conv->violation != NULL)
			return OUTCOME_VIOLATION;
	}
	if (!conv->eof) {
		conv->violation = "neither an answer nor the close in time";
		return OUTCOME_VIOLATION;
	}
	if (outcome == OUTCOME_CLOSED && bye)
		outcome = OUTCOME_BYE;
	return outcome;
}

/* "\0user\0password" in base64, as imap_authenticate_plain_cmd() has it
   after "AUTHENTICATE PLAIN " (malloc()ed) */
static char *plain_response(const char *user)
{
	char *cmd = imap_authenticate_plain_cmd(user, PASSWORD);
	char *response = strdup(cmd + strlen("AUTHENTICATE PLAIN "));

	free(cmd);
	return response;
}

static enum fault_outcome
conversation_run(struct fault_conversation *conv, const char *user,
		 enum fault_login kind, int *waiting)
{
	long long deadline = now_msecs() + FAULT_CONVERSATION_MSECS;
	union harness_sockaddr addr;
	char *login, *response = NULL, *referral, *greeting;
	enum fault_outcome outcome;

	conv->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (conv->fd < 0 ||
	    !harness_sockaddr_ipv4(&addr, IP, faults.imap_port) ||
	    connect(conv->fd, &addr.sa, sizeof(addr.sin)) < 0) {
		/* the master holds the listener: it never goes away */
		conv->violation = "connect() failed";
		return OUTCOME_VIOLATION;
	}
	greeting = conversation_read(conv, deadline);
	if (greeting == NULL) {
		if (conv->eof)
			return OUTCOME_CLOSED;
		conv->violation = "no greeting in time";
		return OUTCOME_VIOLATION;
	}
	if (!harness_starts_with(greeting, "* OK ")) {
		free(greeting);
		conv->violation = "a greeting other than OK";
		return OUTCOME_VIOLATION;
	}
	free(greeting);

	switch (kind) {
	case LOGIN_LOGIN:
		login = harness_printf("LOGIN %s " PASSWORD, user);
		break;
	case LOGIN_SASL_IR:
		login = imap_authenticate_plain_cmd(user, PASSWORD);
		break;
	default:
		login = strdup("AUTHENTICATE PLAIN");
		response = plain_response(user);
		break;
	}
	referral = harness_printf("b NO [REFERRAL imap://%s%s@"
				  "imap2.example.com/] ", user,
				  kind == LOGIN_LOGIN ? "" : ";AUTH=PLAIN");
	outcome = conversation_replies(conv, login, response, referral,
				       deadline, waiting);
	free(login);
	free(response);
	free(referral);
	return outcome;
}

/* A worker: nologin logins, of each kind by turns, until shared->stop;
   counts and prints the conversations that count. */
static void nologin_worker(unsigned int worker, struct fault_shared *shared)
{
	struct fault_counts *counts = &shared->workers[worker];
	bool printed[OUTCOME_COUNT] = { false };
	unsigned int n, violations = 0;

	for (n = 0; !__atomic_load_n(&shared->stop, __ATOMIC_SEQ_CST); n++) {
		struct fault_conversation conv;
		char user[16];
		enum fault_login kind = (worker + n) % LOGIN_COUNT;
		enum fault_outcome outcome;

		memset(&conv, 0, sizeof(conv));
		conv.transcript = open_memstream(&conv.transcript_text,
						 &conv.transcript_size);
		snprintf(user, sizeof(user), "nologin%u",
			 (worker * 7 + n) % NOLOGIN_USERS + 1);
		outcome = conversation_run(&conv, user, kind, &counts->waiting);
		if (conv.fd >= 0)
			close(conv.fd);
		fclose(conv.transcript);
		counts->outcomes[kind][outcome]++;
		if (!printed[outcome] ||
		    (outcome == OUTCOME_VIOLATION &&
		     violations++ < FAULT_PRINT_VIOLATIONS)) {
			printf("-- worker %u, %s as %s: %s%s%s\n%s", worker,
			       login_names[kind], user, outcome_names[outcome],
			       conv.violation == NULL ? "" : ": ",
			       conv.violation == NULL ? "" : conv.violation,
			       conv.transcript_text);
			fflush(stdout);
			printed[outcome] = true;
		}
		free(conv.transcript_text);
	}
}

/* The master's children whose command line, its arguments joined by
   spaces, is "<instance name>/<cmdline>": "auth" is the auth process,
   "auth -w" a worker of it. */
static unsigned int find_children(const char *cmdline, pid_t *pids,
				  unsigned int max)
{
	unsigned int count, i, found = 0;
	pid_t *children = dc_server_children(&faults, &count);

	for (i = 0; i < count && found < max; i++) {
		char *path = harness_printf("/proc/%d/cmdline", children[i]);
		char buf[256], *name;
		ssize_t len = 0, j;
		int fd = open(path, O_RDONLY);

		if (fd >= 0) {
			len = read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
		/* the arguments end with a NUL each */
		for (j = 0; j < len; j++) {
			if (buf[j] == '\0')
				buf[j] = j + 1 == len ? '\0' : ' ';
		}
		buf[len < 0 ? 0 : len] = '\0';
		name = strchr(buf, '/');
		if (name != NULL && strcmp(name + 1, cmdline) == 0)
			pids[found++] = children[i];
		free(path);
	}
	free(children);
	return found;
}

/* SIGKILL the processes with cmdline, waiting up to 3 s for one to exist
   (the master holds a service back for 2 s after a process died at its
   start); returns how many were killed, and adds them to killed_pids. */
static unsigned int kill_children(const char *cmdline)
{
	pid_t pids[64];
	unsigned int count = 0, killed = 0, i, waited;

	for (waited = 0; waited < 3000 && count == 0; waited += 20) {
		count = find_children(cmdline, pids, N_ITEMS(pids));
		if (count == 0)
			harness_msleep(20);
	}
	for (i = 0; i < count; i++) {
		/* a process that exited since the look leaves nothing to
		   kill */
		if (killed_count < N_ITEMS(killed_pids) &&
		    kill(pids[i], SIGKILL) == 0) {
			killed_pids[killed_count++] = pids[i];
			killed++;
		}
	}
	return killed;
}

/* One fresh login: a nologin user gets the referral, the suggest-mode
   user logs in with it. */
static bool probe_login(const char *user, bool authenticate,
			const char *expected)
{
	struct imap_conn conn;
	char *login, *reply = NULL;
	bool ok = false;

	if (imap_connect(&conn, "probe", IP, faults.imap_port)) {
		login = authenticate ?
			imap_authenticate_plain_cmd(user, PASSWORD) :
			harness_printf("LOGIN %s " PASSWORD, user);
		reply = imap_command(&conn, "b", login);
		ok = reply != NULL && harness_starts_with(reply, expected);
		free(login);
	}
	if (ok && harness_starts_with(expected, "b OK ")) {
		/* logged in for real: the imap process answers */
		free(reply);
		reply = imap_command(&conn, "c", "NOOP");
		ok = reply != NULL && harness_starts_with(reply, "c OK ");
	}
	free(reply);
	imap_disconnect(&conn);
	return ok;
}

static bool probe_logins(void)
{
	return probe_login("nologin1", false, "b NO [REFERRAL imap://"
			   "nologin1@imap2.example.com/] ") &&
		probe_login("nologin2", true, "b NO [REFERRAL imap://"
			    "nologin2;AUTH=PLAIN@imap2.example.com/] ") &&
		probe_login("suggest1", false, "b OK [REFERRAL imap://"
			    "suggest1@imap2.example.com/] ");
}

/* Milliseconds from now until every probe succeeds; fails the test
   after FAULT_RECOVERY_MSECS. */
static long long wait_recovered(long long killed_at)
{
	while (!probe_logins()) {
		ck_assert_msg(now_msecs() - killed_at < FAULT_RECOVERY_MSECS,
			      "no working login %d ms after a kill",
			      FAULT_RECOVERY_MSECS);
		harness_msleep(100);
	}
	return now_msecs() - killed_at;
}

/* imaptest's "Error: " lines: fault-shaped ones (a login that failed, a
   BYE, a lost connection) are counted in *faults_r, the rest (a protocol
   error) returned (malloc()ed, "" if none). */
static char *imaptest_errors(const char *output, unsigned int *errors_r,
			     unsigned int *faults_r)
{
	static const char *const fault_shapes[] = {
		"LOGIN failed", "AUTHENTICATE failed", "Unexpected BYE",
		"Client disconnected",
	};
	char *copy = strdup(output), *line, *save = NULL, *others;
	size_t size = 0;
	FILE *out = open_memstream(&others, &size);
	unsigned int i;

	*errors_r = *faults_r = 0;
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		bool fault = false;

		if (strstr(line, "Error: ") == NULL &&
		    strstr(line, "Panic: ") == NULL &&
		    strstr(line, "Fatal: ") == NULL)
			continue;
		(*errors_r)++;
		for (i = 0; i < N_ITEMS(fault_shapes); i++)
			fault = fault || strstr(line, fault_shapes[i]) != NULL;
		printf("imaptest: %s\n", line);
		if (fault)
			(*faults_r)++;
		else
			fprintf(out, "%s\n", line);
	}
	fclose(out);
	free(copy);
	return others;
}

/* The Panic and Fatal lines of the log other than the master's for a
   process the test killed ("service(auth): child <pid> killed with signal
   9", which both versions log as a Fatal of the child), or NULL. */
static char *unexpected_log_errors(void)
{
	char *errors = dc_server_log_errors(&faults), *line, *save = NULL;
	char *found = NULL;
	size_t size = 0;
	FILE *out = NULL;
	unsigned int i;

	if (errors == NULL)
		return NULL;
	for (line = strtok_r(errors, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		bool killed = false;

		for (i = 0; i < killed_count && !killed; i++) {
			char *needle = harness_printf(": child %d killed with "
						      "signal 9",
						      (int)killed_pids[i]);

			killed = strstr(line, needle) != NULL &&
				(strstr(line, "service(auth)") != NULL ||
				 strstr(line, "service(imap)") != NULL);
			free(needle);
		}
		if (killed)
			continue;
		if (out == NULL)
			out = open_memstream(&found, &size);
		fprintf(out, "%s\n", line);
	}
	if (out != NULL)
		fclose(out);
	free(errors);
	return found;
}

/* Lines of the log of srv with both needles. */
static unsigned int log_count_lines(const struct dc_server *srv,
				    const char *needle1, const char *needle2)
{
	char *log = harness_read_file(srv->log_path);
	char *line, *save = NULL;
	unsigned int count = 0;

	for (line = strtok_r(log, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, needle1) != NULL &&
		    strstr(line, needle2) != NULL)
			count++;
	}
	free(log);
	return count;
}

/* Wait up to 3 s for a slow client to wait on a continuation, so that
   the kill of the auth process reaches a request in it; the kill goes
   ahead anyway after that. Returns how many waited. */
static unsigned int wait_for_waiting(struct fault_shared *shared)
{
	unsigned int waited, i, n = 0;

	for (waited = 0; waited < 3000 && n == 0; waited += 10) {
		for (i = 0; i < FAULT_WORKERS; i++)
			n += __atomic_load_n(&shared->workers[i].waiting,
					     __ATOMIC_SEQ_CST);
		if (n == 0)
			harness_msleep(10);
	}
	return n;
}

/* kill number k: the auth process (even k) or every imap process */
static void fault_kill(unsigned int k, struct fault_shared *shared,
		       long long start, unsigned int *imap_kills_r)
{
	long long at, recovery;
	pid_t auth_pid = 0, new_auth;
	unsigned int n;

	if (k % 2 == 0) {
		n = wait_for_waiting(shared);
		at = now_msecs();
		/* exactly one auth process, and it dies */
		ck_assert_uint_eq(kill_children("auth"), 1);
		auth_pid = killed_pids[killed_count - 1];
		printf("== %lld ms: killed the auth process %d (%u clients "
		       "waiting on a continuation)\n", at - start,
		       (int)auth_pid, n);
	} else {
		at = now_msecs();
		n = kill_children("imap");
		ck_assert_msg(n > 0, "no imap process to kill");
		*imap_kills_r += n;
		printf("== %lld ms: killed %u imap processes\n", at - start,
		       n);
	}
	fflush(stdout);
	recovery = wait_recovered(at);
	if (k % 2 == 0) {
		/* the logins went through a new auth process */
		ck_assert_uint_eq(find_children("auth", &new_auth, 1), 1);
		ck_assert_int_ne(new_auth, auth_pid);
	}
	printf("== logins work again after %lld ms\n", recovery);
	fflush(stdout);
	if (recovery > fault_max_recovery)
		fault_max_recovery = recovery;
}

START_TEST(test_faults_under_load)
{
	struct fault_shared *shared;
	pid_t workers[FAULT_WORKERS], imaptest_pid;
	char *imaptest_log = harness_printf("%s/imaptest.log", faults_root);
	/* ended with a SIGINT when the kills are done: this is a bound */
	char *secs = harness_printf("secs=%u", IMAPTEST_TIMEOUT_SECS / 2);
	char *clients = harness_printf("clients=%u", FAULT_STRESS_CLIENTS);
	char *nusers = harness_printf("users=%u", SUGGEST_USERS);
	char *port = harness_printf("port=%u", faults.imap_port);
	char *mbox = harness_printf("mbox=%s", faults_mbox);
	const char *argv[] = {
		imaptest, "host=" IP, port, "user=suggest%d", nusers,
		"pass=" PASSWORD, mbox, clients, secs, NULL
	};
	unsigned int totals[LOGIN_COUNT][OUTCOME_COUNT], tried[LOGIN_COUNT];
	unsigned int shapes[OUTCOME_COUNT], imap_kills = 0, i, j, k;
	unsigned int errors, fault_errors, failures, logins, waited;
	unsigned int auth_logged, imap_logged;
	char *output, *others, *log_errors;
	long long start, load_msecs;
	int status;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(shared != MAP_FAILED);
	memset(shared, 0, sizeof(*shared));
	/* the probes work before any fault */
	ck_assert(probe_logins());

	start = now_msecs();
	harness_spawn(&imaptest_pid, imaptest_log, NULL, argv);
	fflush(NULL);
	for (i = 0; i < FAULT_WORKERS; i++) {
		workers[i] = fork();
		ck_assert(workers[i] >= 0);
		if (workers[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			nologin_worker(i, shared);
			_exit(0);
		}
	}
	for (k = 0; k < FAULT_KILLS; k++) {
		/* on schedule, or with some load without a fault first when
		   the recovery took longer */
		long long at = start + (k + 1) * FAULT_KILL_INTERVAL_MSECS;

		if (at < now_msecs() + 500)
			at = now_msecs() + 500;
		harness_msleep(at - now_msecs());
		fault_kill(k, shared, start, &imap_kills);
	}
	harness_msleep(FAULT_TAIL_MSECS);

	/* imaptest logs its clients out at a SIGINT, prints its totals and
	   exits 1 */
	__atomic_store_n(&shared->stop, 1, __ATOMIC_SEQ_CST);
	ck_assert_int_eq(kill(imaptest_pid, SIGINT), 0);
	load_msecs = now_msecs() - start;
	for (i = 0; i < FAULT_WORKERS; i++) {
		ck_assert_int_eq(waitpid(workers[i], &status, 0), workers[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (waited = 0; waitpid(imaptest_pid, &status, WNOHANG) == 0;
	     waited += 100) {
		ck_assert_msg(waited < IMAPTEST_TIMEOUT_SECS * 1000,
			      "imaptest did not end");
		harness_msleep(100);
	}
	imaptest_pid = 0;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
		      "imaptest: status %d", status);

	output = harness_read_file(imaptest_log);
	logins = stress_logins(output);
	others = imaptest_errors(output, &errors, &fault_errors);
	memset(totals, 0, sizeof(totals));
	memset(tried, 0, sizeof(tried));
	memset(shapes, 0, sizeof(shapes));
	for (i = 0; i < FAULT_WORKERS; i++) {
		for (j = 0; j < LOGIN_COUNT; j++) {
			for (k = 0; k < OUTCOME_COUNT; k++) {
				unsigned int n =
					shared->workers[i].outcomes[j][k];

				totals[j][k] += n;
				tried[j] += n;
				shapes[k] += n;
			}
		}
	}
	failures = shapes[OUTCOME_TEMPFAIL] + shapes[OUTCOME_AUTHFAILED_23] +
		shapes[OUTCOME_BYE] + shapes[OUTCOME_CLOSED];
	/* the master logs each death a moment after it */
	harness_msleep(500);
	auth_logged = log_count_lines(&faults, "service(auth)",
				      "killed with signal 9");
	imap_logged = log_count_lines(&faults, "service(imap)",
				      "killed with signal 9");
	printf("== faults under load, %.1f s: nologin logins tried/referred: "
	       "LOGIN %u/%u, AUTHENTICATE %u/%u, slow AUTHENTICATE %u/%u; "
	       "suggest-mode logins (imaptest) %u; client-seen failures %u "
	       "(tempfail NO %u, 2.3's auth failed NO %u, BYE %u, closed %u), "
	       "violations %u; "
	       "imaptest errors %u (%u of them a failed login, BYE or lost "
	       "connection); auth kills %u (restarted %u, logged %u), imap "
	       "kills %u (logged %u); logins back after at most %lld ms\n",
	       load_msecs / 1000.0,
	       tried[LOGIN_LOGIN], totals[LOGIN_LOGIN][OUTCOME_REFERRED],
	       tried[LOGIN_SASL_IR], totals[LOGIN_SASL_IR][OUTCOME_REFERRED],
	       tried[LOGIN_CONTINUATION],
	       totals[LOGIN_CONTINUATION][OUTCOME_REFERRED], logins, failures,
	       shapes[OUTCOME_TEMPFAIL], shapes[OUTCOME_AUTHFAILED_23],
	       shapes[OUTCOME_BYE],
	       shapes[OUTCOME_CLOSED], shapes[OUTCOME_VIOLATION], errors,
	       fault_errors, (FAULT_KILLS + 1) / 2, (FAULT_KILLS + 1) / 2,
	       auth_logged, imap_kills, imap_logged, fault_max_recovery);
	if (*others != '\0')
		printf("imaptest's other errors:\n%s", others);
	fflush(stdout);

	ck_assert_uint_eq(shapes[OUTCOME_VIOLATION], 0);
	for (j = 0; j < LOGIN_COUNT; j++)
		ck_assert_uint_gt(totals[j][OUTCOME_REFERRED], 0);
	ck_assert_uint_gt(logins, 0);
	ck_assert_msg(*others == '\0', "imaptest saw protocol errors");
	/* the master saw every kill, and no other death by a signal: no
	   login process died */
	ck_assert_uint_eq(auth_logged, (FAULT_KILLS + 1) / 2);
	ck_assert_uint_le(imap_logged, imap_kills);
	ck_assert_uint_eq(log_count_lines(&faults, "killed with signal", ""),
			  log_count_lines(&faults, "service(auth)",
					  "killed with signal") +
			  log_count_lines(&faults, "service(imap)",
					  "killed with signal"));
	log_errors = unexpected_log_errors();
	ck_assert_msg(log_errors == NULL, "server faults logged:\n%s",
		      log_errors);
	/* and logins work after the load too */
	ck_assert(probe_logins());

	munmap(shared, sizeof(*shared));
	free(others);
	free(output);
	free(imaptest_log);
	free(secs);
	free(clients);
	free(nusers);
	free(port);
	free(mbox);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-imaptest");
	TCase *tc = tcase_create("imaptest");
	char *copy;

	imaptest = getenv("REFERRAL_IMAPTEST");
	if (imaptest == NULL)
		imaptest = IMAPTEST_BINARY;
	if (access(imaptest, X_OK) != 0) {
		printf("SKIP: no imaptest at %s (scripts/imaptest builds it; "
		       "REFERRAL_IMAPTEST names another)\n", imaptest);
		return 77;
	}
	copy = strdup(imaptest);
	tests_dir = harness_printf("%s/tests", dirname(copy));
	free(copy);

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 2 * IMAPTEST_TIMEOUT_SECS);
	tcase_add_loop_test(tc, test_scripted_same_as_stock, 0,
			    sizeof(scripted_users) / sizeof(scripted_users[0]));
	tcase_add_test(tc, test_stress_suggest_users);
	tcase_add_test(tc, test_scripted_proxy_suggest_same_as_proxy);
	tcase_add_test(tc, test_stress_proxy_suggest_users);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_add_unchecked_fixture(tc, setup_faults, teardown_faults);
	tcase_set_timeout(tc, IMAPTEST_TIMEOUT_SECS);
	tcase_add_test(tc, test_faults_under_load);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
