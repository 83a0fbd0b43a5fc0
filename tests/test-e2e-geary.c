/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* What a person sees in Geary (GNOME's mail client), whose IMAP parser
   reads a response code's text as atoms: real Geary under Xvfb with a
   HOME of its own, logging in to server A as a person would
   (tests/gui-client-login types the password at the prompt, reads the
   screen through the accessibility tree, and Geary 43's message rows,
   which it draws itself, by OCR).

   - suggest mode (imap://suggestb@127.0.0.1:<B>/, no ";AUTH=*"): Geary
     logs in on A and shows A's INBOX, nothing else;
   - proxied to B with referral=suggest: B's INBOX, through A's proxy;
   - nologin: "Account problem", whose Details name the dropped
     connection, never the reason;
   - suggest mode with a user name that needs a '%' in the URL
     (bob%40example.com): the known limit, Geary drops the connection
     at the '%' and shows "Account problem", as for nologin.

   Geary 43.0 (Debian 12) and 46.0 (Debian 13) show the same texts; 46
   tries again and again where 43 stops (geary_versions). */

#define _GNU_SOURCE
#include "e2e-servers.h"
#include "harness-version.h"

#include "e2e-report.h"
#include "e2e-run.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What Geary 43 and 46 show when they drop the connection during the
   login. */
#define GEARY_PROBLEM_TEXT "Geary encountered a problem checking mail for "
#define GEARY_PROBLEM_TITLE "Account problem"
#define GEARY_DROPPED_DETAILS \
	"GearyImapError 2 Message: a001 login: Connection channels closed"

struct geary_run {
	char *out;
	int status;
};

/* What differs between the versions measured: how many logins on A a run
   of a user without a session makes (a run lasts 15-30 s) */
struct geary_version {
	const char *version;
	unsigned int dropped_min, dropped_max;
};
static const struct geary_version geary_versions[] = {
	/* 2 connections, then it stops (measured again and again) */
	{ "43.0", 1, 4 },
	/* logs in again every 2 s or so: 10-14 in a run (measured) */
	{ "46.0", 5, 40 },
};

/* One message in user's INBOX on srv, "Mail on server <letter>", owned
   as the server's mail homes are, so that the rows Geary shows say whose
   INBOX it is. */
static void seed_inbox(const struct dc_server *srv, const char *user,
		       char letter)
{
	const char *subdirs[] = { "", "/Maildir", "/Maildir/new",
				  "/Maildir/cur", "/Maildir/tmp" };
	char *homes = harness_printf("%s/home", srv->dir);
	char *path, *mail;
	struct stat st;
	unsigned int i;

	if (stat(homes, &st) < 0)
		harness_die("stat(%s) failed: %s", homes, strerror(errno));
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		path = harness_printf("%s/%s%s", homes, user, subdirs[i]);
		if ((mkdir(path, 0700) < 0 && errno != EEXIST) ||
		    chown(path, st.st_uid, st.st_gid) < 0)
			harness_die("%s: %s", path, strerror(errno));
		free(path);
	}
	path = harness_printf("%s/%s/Maildir/new/1764745200.M1P1.geary",
			      homes, user);
	mail = harness_printf("From: test@example.com\r\n"
			      "To: %s@example.com\r\n"
			      "Subject: Mail on server %c\r\n"
			      "Date: Thu, 03 Dec 2026 07:00:00 +0000\r\n"
			      "Message-ID: <%s-%c@example.com>\r\n"
			      "\r\nHello.\r\n", user, letter, user, letter);
	harness_write_file(path, mail);
	if (chown(path, st.st_uid, st.st_gid) < 0)
		harness_die("chown(%s) failed: %s", path, strerror(errno));
	free(mail);
	free(path);
	free(homes);
}

/* The users, in the pairs whose runs go side by side (each Geary on a
   display of its own): the whole test then fits the suite's time budget
   (four runs one after the other took 139 s, measured). A user that gets
   a session is paired with one that gets none. */
static const char *const geary_users[] = {
	"suggestb", "moved", "proxysuggest", "suggestencoded"
};
#define GEARY_USER_COUNT (sizeof(geary_users) / sizeof(geary_users[0]))
static struct geary_run geary_runs[GEARY_USER_COUNT];

/* tests/gui-client-login's exit status when the client ended by itself
   before it asked for a password: it sent no login, so no reply of the
   server's (of ours) was involved. Seen twice on a 2-core machine
   ("cannot open display" as another run ended); such a run is run once
   more, alone. */
#define GUI_ENDED_BEFORE_LOGIN 3

static char *run_path(const char *user, const char *what)
{
	return harness_printf("%s/geary-%s.%s", e2e.root, user, what);
}

/* The shell command of one run (the attempt'th for this user): its output
   and exit status into files */
static char *run_command(const char *user, unsigned int attempt)
{
	char *dir = harness_printf("%s/geary-%s-%u", e2e.root, user, attempt);
	char *out = run_path(user, "out"), *status = run_path(user, "status");
	/* What Geary shows settles within 8 s of its start (measured:
	   the last change at 6-8 s; Geary 46's repeated logins change
	   nothing on the screen); 10 quiet seconds end the run */
	char *cmd = harness_printf("{ GUI_QUIET=10 GUI_LIMIT=75 %s geary "
				   E2E_IP " %u %s " E2E_PASSWORD " %s >%s; "
				   "echo $? >%s; }", GUI_CLIENT_LOGIN,
				   e2e.a.imap_port, user, dir, out, status);

	free(dir);
	free(out);
	free(status);
	return cmd;
}

static void run_collect(unsigned int i)
{
	char *out = run_path(geary_users[i], "out");
	char *status = run_path(geary_users[i], "status");
	char *text = harness_read_file(status);

	geary_runs[i].out = harness_read_file(out);
	geary_runs[i].status = atoi(text);
	/* the result lines, the screenshot's path among them, in the log */
	printf("[geary %s] exit %d\n%s", geary_users[i],
	       geary_runs[i].status, geary_runs[i].out);
	free(text);
	free(out);
	free(status);
}

static void run_again_if_ended_early(unsigned int i)
{
	char *cmd, *out;
	int status;

	if (geary_runs[i].status != GUI_ENDED_BEFORE_LOGIN)
		return;
	printf("[geary %s] ended by itself before its login: once more\n",
	       geary_users[i]);
	free(geary_runs[i].out);
	cmd = run_command(geary_users[i], 2);
	out = harness_run_output(cmd, &status);
	if (status != 0)
		harness_die("%s failed: %d", cmd, status);
	run_collect(i);
	free(out);
	free(cmd);
}

/* The unchecked fixture, after the servers': every run, in pairs (one
   after the other while Geary is missing, which the first run
   installs). The tests judge what they printed. */
static void geary_runs_setup(void)
{
	bool pairs = access("/usr/bin/geary", X_OK) == 0;
	unsigned int i;

	for (i = 0; i < GEARY_USER_COUNT; i++) {
		seed_inbox(&e2e.a, geary_users[i], 'A');
		seed_inbox(&e2e.b, geary_users[i], 'B');
	}
	for (i = 0; i < GEARY_USER_COUNT; i += 2) {
		char *cmd1 = run_command(geary_users[i], 1);
		char *cmd2 = run_command(geary_users[i + 1], 1);
		char *cmd = harness_printf(pairs ? "%s & %s; wait" : "%s; %s",
					   cmd1, cmd2);
		char *out;
		int status;

		out = harness_run_output(cmd, &status);
		if (status != 0)
			harness_die("%s failed: %d", cmd, status);
		run_collect(i);
		run_collect(i + 1);
		free(out);
		free(cmd);
		free(cmd1);
		free(cmd2);
		run_again_if_ended_early(i);
		run_again_if_ended_early(i + 1);
	}
}

static void geary_runs_teardown(void)
{
	unsigned int i;

	for (i = 0; i < GEARY_USER_COUNT; i++)
		free(geary_runs[i].out);
}

static const struct geary_run *run_of(const char *user)
{
	unsigned int i;

	for (i = 0; i < GEARY_USER_COUNT; i++) {
		if (strcmp(geary_users[i], user) == 0)
			return &geary_runs[i];
	}
	ck_abort_msg("no run for %s", user);
	return NULL;
}

/* The SHOWN lines hold exactly these texts, in this order (after the
   seconds of "SHOWN=<secs> <text>"). */
static void assert_shown(const char *out, const char *const *texts,
			 unsigned int count)
{
	const char *line = out;
	unsigned int i = 0;

	while ((line = strstr(line, "SHOWN=")) != NULL) {
		const char *text = strchr(line, ' ');
		const char *end = strchr(line, '\n');
		size_t len;

		ck_assert(text != NULL && (end == NULL || text < end));
		text++;
		len = end == NULL ? strlen(text) : (size_t)(end - text);
		ck_assert_msg(i < count, "shown as well: %.*s", (int)len, text);
		ck_assert_msg(strlen(texts[i]) == len &&
			      strncmp(text, texts[i], len) == 0,
			      "shown: \"%.*s\", expected \"%s\"", (int)len,
			      text, texts[i]);
		i++;
		line = text;
	}
	ck_assert_msg(i == count, "%u of %u texts shown", i, count);
}

/* Server srv's log lines that hold both needles. */
static unsigned int log_count(const struct dc_server *srv,
			      const char *needle1, const char *needle2)
{
	char *log = harness_read_file(srv->log_path);
	unsigned int count = 0;
	char *line, *saveptr = NULL;

	for (line = strtok_r(log, "\n", &saveptr); line != NULL;
	     line = strtok_r(NULL, "\n", &saveptr)) {
		if (strstr(line, needle1) != NULL &&
		    strstr(line, needle2) != NULL)
			count++;
	}
	free(log);
	return count;
}

/* The measured version the run used ("CLIENT=geary: 43.0") */
static const struct geary_version *run_version(const struct geary_run *run)
{
	const char *value;
	unsigned int i;
	size_t len;

	ck_assert_msg(e2e_report_values(run->out, "CLIENT", &value) == 1,
		      "no single CLIENT");
	ck_assert(strncmp(value, "geary: ", 7) == 0);
	value += 7;
	len = strcspn(value, "\n");
	for (i = 0; i < sizeof(geary_versions) / sizeof(geary_versions[0]);
	     i++) {
		if (strlen(geary_versions[i].version) == len &&
		    strncmp(value, geary_versions[i].version, len) == 0)
			return &geary_versions[i];
	}
	ck_abort_msg("Geary %.*s: not measured (doc/clients.md)", (int)len,
		     value);
	return NULL;
}

/* INBOX= is rows, ", " between, each the expected one: 43.0's read by
   OCR (" (OCR)" after them), 46.0's from the list and the message view
   ("Mail on server A, Mail on server A") */
static void assert_inbox_rows(const char *out, const char *expected_row)
{
	const char *value, *p;
	size_t len, row_len = strlen(expected_row);
	unsigned int rows = 0;

	ck_assert_msg(e2e_report_values(out, "INBOX", &value) == 1, "no single INBOX");
	len = strcspn(value, "\n");
	if (len > 6 && strncmp(value + len - 6, " (OCR)", 6) == 0)
		len -= 6;
	for (p = value; p < value + len; rows++) {
		ck_assert_msg(strncmp(p, expected_row, row_len) == 0,
			      "INBOX=%.*s: not all \"%s\"", (int)len, value,
			      expected_row);
		p += row_len;
		if (p < value + len) {
			ck_assert_msg(strncmp(p, ", ", 2) == 0,
				      "INBOX=%.*s", (int)len, value);
			p += 2;
		}
	}
	ck_assert_msg(rows > 0 && p == value + len, "INBOX=%.*s", (int)len,
		      value);
}

/* One prompt, the INBOX with expected_row, and nothing else shown. */
static void assert_inbox(const struct geary_run *run,
			 const char *expected_row)
{
	ck_assert_int_eq(run->status, 0);
	(void)run_version(run);
	e2e_assert_report_value(run->out, "PROMPTS", "1");
	assert_inbox_rows(run->out, expected_row);
	assert_shown(run->out, NULL, 0);
	e2e_assert_report_none(run->out, "DIALOG");
	e2e_assert_report_none(run->out, "DETAILS");
}

/* One prompt, then Geary's "Account problem" bar for the dropped
   connection; no folder but Outbox, and the reason nowhere. */
static void assert_dropped(const struct geary_run *run, const char *user)
{
	char *problem = harness_printf(GEARY_PROBLEM_TEXT "%s.", user);
	const char *shown[] = { problem, GEARY_PROBLEM_TITLE };

	ck_assert_int_eq(run->status, 0);
	e2e_assert_report_value(run->out, "PROMPTS", "1");
	assert_shown(run->out, shown, 2);
	e2e_assert_report_value(run->out, "INBOX", "no Inbox in the folder tree");
	e2e_assert_report_value(run->out, "DETAILS", GEARY_DROPPED_DETAILS);
	e2e_assert_report_none(run->out, "DIALOG");
	ck_assert_msg(strstr(run->out, "mailbox has moved") == NULL,
		      "the reason was shown");
	free(problem);
}

START_TEST(test_suggest_inbox_on_a)
{
	const struct geary_run *run = run_of("suggestb");
	const char *who = "user=<suggestb>";
	char *url = harness_printf("Referral sent (login): imap://suggestb@%s/",
				   e2e_b_hostport());

	assert_inbox(run, "Mail on server A");
	ck_assert_uint_ge(log_count(&e2e.a, url, who), 1);
	ck_assert_uint_ge(log_count(&e2e.a, dc_log_logged_in(), who), 1);
	/* Geary follows no referral */
	ck_assert_uint_eq(log_count(&e2e.b, dc_log_logged_in(), who), 0);
	free(url);
}
END_TEST

START_TEST(test_proxy_suggest_inbox_on_b)
{
	const struct geary_run *run = run_of("proxysuggest");
	const char *who = "user=<proxysuggest>";
	char *url = harness_printf("Referral sent (proxy): "
				   "imap://proxysuggest@%s/",
				   e2e_b_hostport());

	assert_inbox(run, "Mail on server B");
	ck_assert_uint_ge(log_count(&e2e.a, url, who), 1);
	ck_assert_uint_ge(log_count(&e2e.a, "proxy(proxysuggest", ""), 1);
	/* its sessions were B's, through the proxy */
	ck_assert(dc_server_log_wait_login(&e2e.b, who));
	free(url);
}
END_TEST

START_TEST(test_nologin_account_problem)
{
	const struct geary_run *run = run_of("moved");
	const char *who = "user=<moved>";
	unsigned int referrals;

	assert_dropped(run, "moved");
	referrals = log_count(&e2e.a, "Referral sent (nologin): imap://moved@",
			      who);
	printf("[geary moved] %u nologin referrals\n", referrals);
	ck_assert_uint_ge(referrals, run_version(run)->dropped_min);
	ck_assert_uint_le(referrals, run_version(run)->dropped_max);
	ck_assert_uint_eq(log_count(&e2e.a, dc_log_logged_in(), who), 0);
}
END_TEST

START_TEST(test_suggest_encoded_user_dropped)
{
	const struct geary_run *run = run_of("suggestencoded");
	const char *who = "user=<suggestencoded>";
	char *url = harness_printf("Referral sent (login): "
				   "imap://bob%%40example.com@%s/",
				   e2e_b_hostport());
	unsigned int referrals;

	/* The '%' of bob%40example.com: Geary drops the connection after
	   A logged the user in, and never gets a session (doc/clients.md,
	   doc/admin-guide.md: the limit of suggest mode with Geary) */
	assert_dropped(run, "suggestencoded");
	referrals = log_count(&e2e.a, url, who);
	printf("[geary suggestencoded] %u suggest referrals\n", referrals);
	ck_assert_uint_ge(referrals, run_version(run)->dropped_min);
	ck_assert_uint_le(referrals, run_version(run)->dropped_max);
	ck_assert_uint_ge(log_count(&e2e.a, dc_log_logged_in(), who), 1);
	free(url);
}
END_TEST

START_TEST(test_logs_clean)
{
	e2e_assert_logs_clean();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-geary");
	TCase *tc = tcase_create("geary");

	if (getenv("REFERRAL_SKIP_GEARY") != NULL) {
		/* scripts/test's distcheck: the check before it ran this */
		printf("SKIP: REFERRAL_SKIP_GEARY is set\n");
		return 77;
	}
	tcase_add_unchecked_fixture(tc, e2e_servers_setup, e2e_servers_teardown);
	/* the runs: tests/gui-client-login stops itself after GUI_LIMIT
	   (75 s); the first run may install Geary */
	tcase_add_unchecked_fixture(tc, geary_runs_setup, geary_runs_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_suggest_inbox_on_a);
	tcase_add_test(tc, test_proxy_suggest_inbox_on_b);
	tcase_add_test(tc, test_nologin_account_problem);
	tcase_add_test(tc, test_suggest_encoded_user_dropped);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);
	return e2e_run_suite(s, true);
}
