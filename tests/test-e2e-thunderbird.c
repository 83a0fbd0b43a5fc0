/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* What a person sees in Thunderbird, the most used desktop client, which
   follows no referral: real Thunderbird under Xvfb with a profile of its
   own, logging in to server A as a person would (tests/thunderbird-login
   types the password at each prompt and reads the screen through the
   accessibility tree; it keeps a screenshot and its OCR).

   - nologin: the reason reaches the person as Thunderbird's alert, with
     no login-failed or new-password dialog, one password prompt, and one
     login on A (no retry loop);
   - suggest mode: INBOX opens on A and nothing is shown;
   - suggest mode with referral_alert: INBOX opens on A and the reason is
     shown as an alert;
   - proxied to B with referral=suggest and referral_alert: Thunderbird
     keeps working through A's proxy, and shows the reason as an
     alert. */

#define _GNU_SOURCE
#include "e2e-servers.h"
#include "harness-version.h"

#include "e2e-report.h"
#include "e2e-run.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

/* No login for this long before the end of a run: Thunderbird stopped
   trying (tests/thunderbird-login ends a run after 12 s without a change
   on the screen). */
#define TB_QUIET_SECS 8

struct tb_run {
	char *out;
	int status;
};

/* tests/thunderbird-login's exit status when Thunderbird ended by itself
   before it asked for a password: it sent no login, so no reply of the
   server's (of ours) was involved. Seen on a loaded 2-core machine. */
#define TB_ENDED_BEFORE_LOGIN 3

static void tb_login(const char *user, struct tb_run *run_r)
{
	unsigned int attempt;

	for (attempt = 1; attempt <= 2; attempt++) {
		char *dir = harness_printf("%s/thunderbird-%s-%u", e2e.root,
					   user, attempt);
		char *cmd = harness_printf("%s " E2E_IP " %u %s " E2E_PASSWORD
					   " %s", THUNDERBIRD_LOGIN,
					   e2e.a.imap_port, user, dir);

		run_r->out = harness_run_output(cmd, &run_r->status);
		/* the result lines, the screenshot's path among them, in
		   the log */
		printf("[thunderbird %s]\n%s", user, run_r->out);
		free(cmd);
		free(dir);
		if (!WIFEXITED(run_r->status) ||
		    WEXITSTATUS(run_r->status) != TB_ENDED_BEFORE_LOGIN ||
		    attempt == 2)
			break;
		printf("[thunderbird %s] ended by itself before its login: "
		       "once more\n", user);
		free(run_r->out);
	}
}

/* Server A's log lines that hold both needles; the time of the last one
   in *last_r (the log's "Dec 03 07:55:18 " stamps, this year). */
static unsigned int a_log_lines(const char *needle1, const char *needle2,
				time_t *last_r)
{
	char *log = harness_read_file(e2e.a.log_path);
	unsigned int count = 0;
	char *line, *saveptr = NULL;
	time_t now = time(NULL);
	struct tm tm;

	*last_r = 0;
	for (line = strtok_r(log, "\n", &saveptr); line != NULL;
	     line = strtok_r(NULL, "\n", &saveptr)) {
		if (strstr(line, needle1) == NULL ||
		    strstr(line, needle2) == NULL)
			continue;
		count++;
		localtime_r(&now, &tm);
		if (strptime(line, "%b %d %H:%M:%S", &tm) != NULL) {
			tm.tm_isdst = -1;
			*last_r = mktime(&tm);
		}
	}
	free(log);
	return count;
}

static unsigned int a_log_count(const char *needle1, const char *needle2)
{
	time_t last;

	return a_log_lines(needle1, needle2, &last);
}

/* Every ALERT_SHOWN holds the reason, word for word. */
static void assert_alerts_show(const char *out, const char *reason)
{
	const char *line = out;
	unsigned int count = 0;

	while ((line = strstr(line, "ALERT_SHOWN=")) != NULL) {
		const char *end = strchr(line, '\n');
		char *value = strndup(line, end == NULL ? strlen(line) :
				      (size_t)(end - line));

		ck_assert_msg(strstr(value, reason) != NULL,
			      "alert without the reason: %s", value);
		free(value);
		count++;
		line += strlen("ALERT_SHOWN=");
	}
	ck_assert_msg(count > 0, "no alert shown");
}

START_TEST(test_nologin_reason_shown)
{
	struct tb_run run;
	unsigned int logins;
	time_t last, end;

	tb_login("moved", &run);
	end = time(NULL);
	ck_assert_int_eq(run.status, 0);
	assert_alerts_show(run.out, e2e_b_default_reason(false));
	e2e_assert_report_value(run.out, "PROMPTS", "1");
	/* The alert and nothing else: no login-failed dialog (Thunderbird
	   153, Debian 12's and Debian 13's with its security updates;
	   doc/clients.md has what 140 showed) */
	e2e_assert_report_none(run.out, "LOGIN_FAILED_DIALOG");
	e2e_assert_report_value(run.out, "LOGIN_FAILED_DIALOGS", "0");
	/* Thunderbird logs in on each of the connections it opens at start
	   (measured: 6 within 2 s, with the password the person typed
	   once), shows the alert once, and then stops: no retry loop, and
	   never a session (its folder pane shows an empty INBOX all the
	   same). The run ended after seconds of a quiet screen. */
	logins = a_log_lines("Referral sent (nologin): imap://moved",
			     "user=<moved>", &last);
	printf("[thunderbird moved] %u nologin referrals\n", logins);
	ck_assert_uint_ge(logins, 1);
	ck_assert_uint_le(logins, 10);
	ck_assert_msg(last != 0, "no time stamp read from A's log");
	ck_assert_msg(last + TB_QUIET_SECS <= end, "a login %ld s before the "
		      "end of the run", (long)(end - last));
	ck_assert_uint_eq(a_log_count(dc_log_logged_in(), "user=<moved>"), 0);
	free(run.out);
}
END_TEST

/* A suggest-mode login: one prompt, no login-failed dialog, and a
   session on A after the referral. */
static void assert_suggest_session(const struct tb_run *run, const char *user)
{
	char *url = harness_printf("Referral sent (login): imap://%s", user);
	char *who = harness_printf("user=<%s>", user);

	ck_assert_int_eq(run->status, 0);
	e2e_assert_report_value(run->out, "PROMPTS", "1");
	e2e_assert_report_none(run->out, "LOGIN_FAILED_DIALOG");
	e2e_assert_report_value(run->out, "LOGIN_FAILED_DIALOGS", "0");
	ck_assert_uint_ge(a_log_count(url, who), 1);
	ck_assert_uint_ge(a_log_count(dc_log_logged_in(), who), 1);
	free(who);
	free(url);
}

START_TEST(test_suggest_inbox_opens)
{
	struct tb_run run;

	tb_login("suggestb", &run);
	assert_suggest_session(&run, "suggestb");
	/* the tagged OK's text is not shown: the reason of referral_alert */
	e2e_assert_report_none(run.out, "ALERT_SHOWN");
	free(run.out);
}
END_TEST

START_TEST(test_suggest_alert_shown)
{
	struct tb_run run;

	tb_login("suggestalert", &run);
	assert_suggest_session(&run, "suggestalert");
	assert_alerts_show(run.out, e2e_b_default_reason(true));
	free(run.out);
}
END_TEST

START_TEST(test_proxy_suggest_keeps_working)
{
	struct tb_run run;
	const char *who = "user=<proxyalert>";

	tb_login("proxyalert", &run);
	ck_assert_int_eq(run.status, 0);
	e2e_assert_report_value(run.out, "PROMPTS", "1");
	e2e_assert_report_none(run.out, "LOGIN_FAILED_DIALOG");
	e2e_assert_report_value(run.out, "LOGIN_FAILED_DIALOGS", "0");
	assert_alerts_show(run.out, e2e_b_default_reason(true));
	ck_assert_uint_ge(a_log_count("Referral sent (proxy): "
				      "imap://proxyalert", who), 1);
	ck_assert_uint_ge(a_log_count("proxy(proxyalert", ""), 1);
	/* its sessions were B's, through the proxy */
	ck_assert(dc_server_log_wait_login(&e2e.b, who));
	free(run.out);
}
END_TEST

START_TEST(test_logs_clean)
{
	e2e_assert_logs_clean();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-thunderbird");
	TCase *tc = tcase_create("thunderbird");

	if (getenv("REFERRAL_SKIP_THUNDERBIRD") != NULL) {
		/* scripts/test's distcheck: the check before it ran this */
		printf("SKIP: REFERRAL_SKIP_THUNDERBIRD is set\n");
		return 77;
	}
	tcase_add_unchecked_fixture(tc, e2e_servers_setup, e2e_servers_teardown);
	/* tests/thunderbird-login stops itself after 90 s; the first run
	   may install Thunderbird */
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_nologin_reason_shown);
	tcase_add_test(tc, test_suggest_inbox_opens);
	tcase_add_test(tc, test_suggest_alert_shown);
	tcase_add_test(tc, test_proxy_suggest_keeps_working);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);
	return e2e_run_suite(s, true);
}
