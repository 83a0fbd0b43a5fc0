/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* End to end, "doveadm referral notify": the build tree's doveadm module
   against server A's real passdb saves the move notices with Dovecot's
   own doveadm save into A's mail store, and server R (the same mail
   store, a passdb that lets every user in) reads them back over IMAP:
   once per user and target, nothing for untouched or refused users, for
   a dry run or with a broken template; a batch, or every user the userdb
   lists (-A). A user whom A proxies to backend B with referral=suggest
   gets the notice on B, through doveadm's own proxying (A's
   doveadm_port, B's doveadm listener), and reads it through A's IMAP
   proxy; without doveadm_port on A, that user is refused. */

#define _GNU_SOURCE
#include "e2e-run.h"
#include "harness-imap.h"
#include "harness-passdb.h"
#include "harness-proc.h"
#include "notice-servers.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/* doveadm's exit codes (doveadm.h) */
#define EX_NOTPOSSIBLE 65

/* the referred users: nologin and suggest mode, to "B" (a port nobody
   listens on: the notice does not need B), and proxied to the real B
   with referral=suggest */
static const char *const referred[] = { "nmoved", "nsuggest", "nproxied" };
#define REFERRED_COUNT (sizeof(referred) / sizeof(referred[0]))

/* Log in to R as user; the number of notices in its INBOX, and the
   transcript of fetching them all (malloc()ed) in *fetched_r. */
static unsigned int notices(const char *user, char **fetched_r)
{
	struct imap_conn conn;
	char *cmd = harness_printf("LOGIN %s " NOTICE_PASSWORD, user);
	char *reply, *p;
	unsigned int count = 0;

	/* the proxied user through A's proxy, from B's mail store; the
	   others from A's mail store, through R */
	bool proxied = strcmp(user, "nproxied") == 0;

	ck_assert(imap_connect(&conn, proxied ? "A" : "R", NOTICE_IP,
			       proxied ? notice.a.imap_port :
			       notice.r.imap_port));
	reply = imap_command(&conn, "a", cmd);
	ck_assert_msg(reply != NULL && harness_starts_with(reply, "a OK"),
		      "login as %s failed", user);
	free(reply);
	reply = imap_command(&conn, "b", "SELECT INBOX");
	ck_assert(reply != NULL && harness_starts_with(reply, "b OK"));
	free(reply);
	reply = imap_command(&conn, "c", "UID SEARCH HEADER Message-ID "
			     "\"@notice.dovecot-referral.invalid\"");
	ck_assert(reply != NULL && harness_starts_with(reply, "c OK"));
	free(reply);
	p = strstr(conn.transcript, "* SEARCH");
	ck_assert_ptr_nonnull(p);
	for (p += 8; *p == ' '; ) {
		count++;
		p += strspn(p, " ");
		p += strspn(p, "0123456789");
	}
	if (count > 0) {
		reply = imap_command(&conn, "d", "FETCH 1:* BODY.PEEK[]");
		ck_assert(reply != NULL && harness_starts_with(reply, "d OK"));
		free(reply);
	}
	*fetched_r = strdup(conn.transcript);
	imap_disconnect(&conn);
	free(cmd);
	return count;
}

static unsigned int notices_count(const char *user)
{
	char *fetched;
	unsigned int count = notices(user, &fetched);

	free(fetched);
	return count;
}

static void assert_no_notices(void)
{
	unsigned int i;

	for (i = 0; i < REFERRED_COUNT; i++)
		ck_assert_uint_eq(notices_count(referred[i]), 0);
}

/* Whether srv's mail store has a Maildir for user */
static bool mail_store_has(const struct dc_server *srv, const char *user)
{
	char *path = harness_printf("%s/home/%s/Maildir", srv->dir, user);
	bool found = access(path, F_OK) == 0;

	free(path);
	return found;
}

/* The tests run in this order, on one pair of servers. */

START_TEST(test_dry_run_saves_nothing)
{
	int status;
	char *err, *out = notice_notify("-n nmoved nsuggest nproxied "
					"nrefused nlocal", &status, &err);

	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert(strstr(out, "would-save") != NULL);
	ck_assert(strstr(out, "Your mailbox has moved") != NULL);
	ck_assert(strstr(err, "5 users: 0 saved, 0 already present, 3 would "
			 "be saved, 1 untouched, 1 refused") != NULL);
	assert_no_notices();
	free(out);
	free(err);
}
END_TEST

START_TEST(test_broken_template_saves_nothing)
{
	char *settings = notice_settings("Server: {server}");
	char *conf = notice_conf_a(settings, true);
	int status;
	char *err, *out;

	dc_server_reload(&notice.a, conf);
	out = notice_notify("nmoved nsuggest nproxied", &status, &err);
	ck_assert_int_eq(status, EX_CONFIG);
	ck_assert(strstr(err, "unknown variable {server}") != NULL);
	ck_assert(strstr(out, "saved") == NULL);
	assert_no_notices();
	dc_server_reload(&notice.a, notice.conf_a);
	free(out);
	free(err);
	free(conf);
	free(settings);
}
END_TEST

/* A proxied user's notice belongs on the backend, which only doveadm's
   proxying reaches: with no doveadm_port on A the user is refused, and
   nothing is saved on A or on B. */
START_TEST(test_proxied_without_doveadm_port)
{
	char *settings = notice_settings(NULL);
	char *conf = notice_conf_a(settings, false);
	char *row = harness_printf("\nnproxied\tproxy-suggest\t" NOTICE_IP
		":%s\trefused\t\tproxied with referral=suggest: the notice "
		"belongs on the backend, which needs doveadm_port and "
		"doveadm_password here (and a doveadm listener there)\n",
		notice.port_b_imap);
	int status;
	char *err, *out;

	dc_server_reload(&notice.a, conf);
	out = notice_notify("nproxied nlocal", &status, &err);
	dc_server_reload(&notice.a, notice.conf_a);
	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert_msg(strstr(out, row) != NULL, "no row%s", row);
	ck_assert(strstr(err, "2 users: 0 saved, 0 already present, 0 would "
			 "be saved, 1 untouched, 1 refused, 0 unknown, "
			 "0 failed") != NULL);
	/* B's INBOX, through A's proxy; A never had a mail store for it */
	ck_assert_uint_eq(notices_count("nproxied"), 0);
	ck_assert(!mail_store_has(&notice.a, "nproxied"));
	free(out);
	free(err);
	free(row);
	free(conf);
	free(settings);
}
END_TEST

static void assert_notice(const char *user, const char *port,
			  const char *dest_user)
{
	char *fetched, *expect;

	ck_assert_uint_eq(notices(user, &fetched), 1);
	ck_assert(strstr(fetched, "\r\nFrom: " NOTICE_FROM "\r\n") != NULL);
	expect = harness_printf("\r\nTo: \"%s\":;\r\n", user);
	ck_assert(strstr(fetched, expect) != NULL);
	free(expect);
	ck_assert(strstr(fetched, "\r\nSubject: Your mailbox has moved to "
			 NOTICE_IP "\r\n") != NULL);
	ck_assert(strstr(fetched, "\r\nDate: ") != NULL);
	ck_assert(strstr(fetched, "\r\nMessage-ID: <referral-notice.") != NULL);
	ck_assert(strstr(fetched, "\r\nContent-Type: text/plain; "
			 "charset=utf-8\r\n") != NULL);
	expect = harness_printf("\r\nIncoming mail server (IMAP): "
				NOTICE_IP "\r\nPort: %s\r\nUser name: %s\r\n",
				port, dest_user);
	ck_assert_msg(strstr(fetched, expect) != NULL, "no %s", expect);
	free(expect);
	free(fetched);
}

/* how many rows of notify's output are user's */
static unsigned int rows_of(const char *out, const char *user)
{
	char *start = harness_printf("\n%s\t", user);
	const char *p;
	unsigned int count = 0;

	for (p = strstr(out, start); p != NULL; p = strstr(p + 1, start))
		count++;
	free(start);
	return count;
}

START_TEST(test_batch)
{
	char *file = harness_printf("%s/users.txt", notice.root);
	int status;
	char *err, *out, *args;

	/* nsuggest and nproxied twice: done once, one row each */
	harness_write_file(file, "nmoved\n# a comment\nnsuggest\nnproxied\n"
			   "nrefused\nnlocal\nnsuggest\nnproxied\n");
	args = harness_printf("-F %s", file);
	out = notice_notify(args, &status, &err);
	/* the refused user makes the batch's status "not possible" */
	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert(strstr(err, "5 users: 3 saved, 0 already present, 0 would "
			 "be saved, 1 untouched, 1 refused, 0 unknown, "
			 "0 failed") != NULL);
	ck_assert(strstr(out, "nproxied\tproxy-suggest\t") != NULL);
	ck_assert(strstr(out, "nrefused\tnologin\t\trefused\t\tReferral "
			 "refused: ") != NULL ||
		  strstr(out, "nrefused\trefused\t\trefused\t\tReferral "
			 "refused: ") != NULL);
	ck_assert(strstr(out, "nlocal\tnone\t\tuntouched\t\t\n") != NULL);
	ck_assert_uint_eq(rows_of(out, "nsuggest"), 1);
	ck_assert_uint_eq(rows_of(out, "nproxied"), 1);
	assert_notice("nmoved", notice.port_b, "nmoved");
	assert_notice("nsuggest", notice.port_b, "ns@example.com");
	assert_notice("nproxied", notice.port_b_imap, "nproxied");
	/* on B only: A's mail store has none for it */
	ck_assert(!mail_store_has(&notice.a, "nproxied"));
	ck_assert(mail_store_has(&notice.b, "nproxied"));
	ck_assert_uint_eq(notices_count("nlocal"), 0);
	ck_assert_uint_eq(notices_count("nrefused"), 0);

	/* again: nothing new */
	free(out);
	free(err);
	out = notice_notify(args, &status, &err);
	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert(strstr(err, "5 users: 0 saved, 3 already present") != NULL);
	ck_assert_uint_eq(notices_count("nmoved"), 1);
	ck_assert_uint_eq(notices_count("nsuggest"), 1);
	ck_assert_uint_eq(notices_count("nproxied"), 1);
	free(out);
	free(err);
	free(args);
	free(file);
}
END_TEST

/* -A: every user of the userdb. After the batch, only nlisted, whom no
   batch names, gets a notice; the other referred users keep their one,
   and the untouched and refused users still have none. nbroken fails,
   as in a batch. */
START_TEST(test_all_users)
{
	const char *const none[] = { "nlocal", "nrefused", "nv6" };
	char *saved = harness_printf("\nnlisted\tsuggest\t" NOTICE_IP
				     ":%s\tsaved\t<referral-notice.",
				     notice.port_b);
	int status;
	char *err, *out = notice_notify("-A", &status, &err);
	unsigned int i;

	ck_assert_int_eq(status, EX_TEMPFAIL);
	ck_assert_msg(strstr(err, "8 users: 1 saved, 3 already present, "
			     "0 would be saved, 1 untouched, 2 refused, "
			     "0 unknown, 1 failed\n") != NULL, "err: %s", err);
	ck_assert_msg(strstr(out, saved) != NULL, "no row%s", saved);
	ck_assert(strstr(out, "\nnlocal\tnone\t\tuntouched\t\t\n") != NULL);
	ck_assert(strstr(out, "\nnbroken\tnologin\t") != NULL);
	assert_notice("nlisted", notice.port_b, "nlisted");
	for (i = 0; i < REFERRED_COUNT; i++)
		ck_assert_uint_eq(notices_count(referred[i]), 1);
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		ck_assert_uint_eq(notices_count(none[i]), 0);
	free(out);
	free(err);
	free(saved);
}
END_TEST

START_TEST(test_changed_target)
{
	char *sql = harness_printf("UPDATE users SET port = '%s' "
				   "WHERE userid = 'nsuggest';",
				   notice.port_b2);
	int status;
	char *err, *out;

	passdb_exec_sql(notice.db, sql);
	out = notice_notify("nmoved nsuggest", &status, &err);
	ck_assert_int_eq(status, 0);
	ck_assert(strstr(err, "2 users: 1 saved, 1 already present") != NULL);
	ck_assert_uint_eq(notices_count("nmoved"), 1);
	ck_assert_uint_eq(notices_count("nsuggest"), 2);
	free(out);
	free(err);
	/* and once only for the new target too */
	out = notice_notify("nsuggest", &status, &err);
	ck_assert_int_eq(status, 0);
	ck_assert(strstr(out, "\tpresent\t") != NULL);
	ck_assert_uint_eq(notices_count("nsuggest"), 2);
	free(out);
	free(err);
	free(sql);
}
END_TEST

/* notify refuses what "referral lookup" refuses: an IPv6 target for
   IMAP, whose ']' would end the response code */
START_TEST(test_ipv6_refused)
{
	int status;
	char *err, *out = notice_notify("nv6", &status, &err);

	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert(strstr(out, "nv6\trefused\t\trefused\t\tReferral "
			 "refused: ") != NULL);
	ck_assert(strstr(out, "IPv6") != NULL);
	ck_assert_uint_eq(notices_count("nv6"), 0);
	free(out);
	free(err);
}
END_TEST

/* On a terminal: a progress line, and the summary even for one user */
START_TEST(test_progress_on_terminal)
{
	int status;
	char *out = dc_server_doveadm_plugin_tty(&notice.a,
		DOVEADM_REFERRAL_DIR, DOVEADM_MODULE_DIR,
		"referral notify nmoved nsuggest", &status);

	printf("$ doveadm referral notify nmoved nsuggest (on a terminal)\n"
	       "%s(status %d)\n", out, status);
	ck_assert_int_eq(status, 0);
	ck_assert(strstr(out, "2 users: 0 saved, 2 present, 0 would be "
			 "saved, 0 failed") != NULL);
	ck_assert(strstr(out, "2 users: 0 saved, 2 already present") != NULL);
	free(out);
}
END_TEST

/* A user whose notice cannot be saved is reported, and the others go
   on. It also ends doveadm's search over the whole batch, so each user
   is looked for on its own. */
START_TEST(test_failure_reported)
{
	int status;
	char *err, *out = notice_notify("nmoved nbroken nsuggest", &status,
					&err);

	ck_assert_int_eq(status, EX_TEMPFAIL);
	ck_assert(strstr(out, "nbroken\tnologin\t") != NULL);
	ck_assert(strstr(out, "\tfailed\t") != NULL);
	ck_assert(strstr(err, "referral notify: nbroken: search failed: ")
		  != NULL);
	ck_assert(strstr(err, "3 users: 0 saved, 2 already present, 0 would "
			 "be saved, 0 untouched, 0 refused, 0 unknown, "
			 "1 failed") != NULL);
	ck_assert_uint_eq(notices_count("nmoved"), 1);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_logs_clean)
{
	const struct dc_server *servers[] = { &notice.a, &notice.r, &notice.b };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		char *errors = dc_server_log_errors(servers[i]);

		ck_assert_msg(errors == NULL, "server %s logged:\n%s",
			      servers[i]->name, errors);
		ck_assert(!dc_server_log_has(servers[i], NOTICE_PASSWORD));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-notice");
	TCase *tc = tcase_create("notice");

	tcase_add_unchecked_fixture(tc, notice_servers_setup,
				    notice_servers_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dry_run_saves_nothing);
	tcase_add_test(tc, test_broken_template_saves_nothing);
	tcase_add_test(tc, test_proxied_without_doveadm_port);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_all_users);
	tcase_add_test(tc, test_changed_target);
	tcase_add_test(tc, test_ipv6_refused);
	tcase_add_test(tc, test_progress_on_terminal);
	tcase_add_test(tc, test_failure_reported);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);
	return e2e_run_suite(s, true);
}
