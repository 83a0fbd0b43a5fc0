/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* Dovecot's own IMAP test tool, imaptest, against a server with the plugin
   and against the same server without it: its scripted compliance tests
   as a user without referral fields and as a suggest-mode user (every
   command after an "OK [REFERRAL ...]" login), which must pass and fail
   alike on both servers, then a short stress run of suggest-mode users,
   which must see no error. scripts/imaptest builds imaptest; the binary
   is REFERRAL_IMAPTEST or the one under the build directory, and its
   scripted tests are in "tests" beside it. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include "e2e-run.h"

#include <check.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IP "127.0.0.1"
#define PASSWORD "Pw-imaptest"
#define SUGGEST_USERS 10
/* the stress run: clients, seconds, messages in its mbox */
#define STRESS_CLIENTS 10
#define STRESS_SECS 15
#define STRESS_MESSAGES 50
/* a run that takes longer than this is stuck */
#define IMAPTEST_TIMEOUT_SECS 240

static const char *imaptest;
static char *tests_dir, *root, *mbox_path;
static struct dc_server a, stock;

struct scripted_result {
	/* the three summary lines, "" when imaptest did not print one */
	char *summary[3];
	/* the first line of each failure report ("*** Test <name> command
	   <n>/<m> (line <l>)"), in the order of the run */
	char *failures;
	int exit_code;
};

static void create_passdb(const char *db)
{
	struct passdb_user users[1 + SUGGEST_USERS];
	char names[SUGGEST_USERS][16];
	unsigned int i;

	memset(users, 0, sizeof(users));
	users[0].user = "plain";
	users[0].password = "{PLAIN}" PASSWORD;
	for (i = 0; i < SUGGEST_USERS; i++) {
		snprintf(names[i], sizeof(names[i]), "suggest%u", i + 1);
		users[1 + i].user = names[i];
		users[1 + i].password = "{PLAIN}" PASSWORD;
		users[1 + i].host = "imap2.example.com";
	}
	passdb_create(db, users, sizeof(users) / sizeof(users[0]));
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

static void setup(void)
{
	char *db, *passdb, *plugins, *conf;

	root = harness_make_root("referral-imaptest");
	db = harness_printf("%s/users.db", root);
	create_passdb(db);
	passdb = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);

	dc_server_init(&a, root, "a");
	plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);
	conf = harness_printf("%s%s", plugins, passdb);
	dc_server_start(&a, conf);
	free(conf);
	free(plugins);

	dc_server_init(&stock, root, "stock");
	dc_server_start(&stock, passdb);

	mbox_path = harness_printf("%s/stress.mbox", root);
	write_mbox(mbox_path);
	free(passdb);
	free(db);
}

static void teardown(void)
{
	dc_server_stop(&a);
	dc_server_stop(&stock);
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

static const char *const scripted_users[] = { "plain", "suggest1" };

START_TEST(test_scripted_same_as_stock)
{
	const char *user = scripted_users[_i];
	char *sent = harness_printf("Referral sent (login): imap://%s;AUTH=*@"
				    "imap2.example.com/", user);
	unsigned int referrals = log_count(&a, sent);
	unsigned int all_referrals = log_count(&a, "Referral sent");
	struct scripted_result with, without;
	unsigned int i;

	scripted(&a, user, &with);
	scripted(&stock, user, &without);

	printf("== imaptest scripted tests as %s: with the plugin | "
	       "plugin-less\n", user);
	for (i = 0; i < 3; i++)
		printf("   %s | %s\n", with.summary[i], without.summary[i]);
	fflush(stdout);
	for (i = 0; i < 3; i++)
		ck_assert_str_eq(with.summary[i], without.summary[i]);
	ck_assert_str_eq(with.failures, without.failures);
	ck_assert_int_eq(with.exit_code, without.exit_code);
	assert_ran_tests(&with);

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

static unsigned int stress(const struct dc_server *srv)
{
	char *args = harness_printf("user=suggest%%d users=%u pass=" PASSWORD
				    " mbox=%s clients=%u secs=%u",
				    SUGGEST_USERS, mbox_path, STRESS_CLIENTS,
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

	logins_a = stress(&a);
	logins_stock = stress(&stock);
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
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
