/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* End to end, "doveadm referral notify": the build tree's doveadm module
   against server A's real passdb saves the move notices with Dovecot's
   own doveadm save into A's mail store, and server R (the same mail
   store, a passdb that lets every user in) reads them back over IMAP:
   once per user and target, nothing for untouched or refused users, for
   a dry run or with a broken template. */

#define _GNU_SOURCE
#include "e2e-run.h"
#include "harness-dovecot.h"
#include "harness-imap.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#define IP "127.0.0.1"
#define PASSWORD "Pw-n0t1ce"
#define FROM "Mail Team <postmaster@example.com>"
/* doveadm's exit codes (doveadm.h) */
#define EX_NOTPOSSIBLE 65

static char *root, *db, *conf_a;
static struct dc_server a, r;
static char port_b[8], port_b2[8];

/* the referred users: nologin and suggest mode, to "B" (a port nobody
   listens on: the notice does not need B) */
static const char *const referred[] = { "nmoved", "nsuggest" };

static char *conf_with(const char *extra)
{
	char *plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);
	char *passdb = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	char *conf = harness_printf("%s\n%s%s", plugins, passdb, extra);

	free(plugins);
	free(passdb);
	return conf;
}

static char *notice_settings(const char *body)
{
	char *b = body == NULL ? harness_printf("%s", "") :
		harness_printf("referral_notice_body = %s\n", body);
	char *conf = dc_syntax_24() ?
		harness_printf("referral_notice_from = " FROM "\n%s", b) :
		harness_printf("plugin {\n  referral_notice_from = " FROM
			       "\n%s}\n", b);

	free(b);
	return conf;
}

static void setup(void)
{
	char *query, *passdb_r, *settings;

	root = harness_make_root("referral-notice");
	dc_server_init(&a, root, "a");
	dc_server_init(&r, root, "r");
	snprintf(port_b, sizeof(port_b), "%u", harness_free_port());
	snprintf(port_b2, sizeof(port_b2), "%u", harness_free_port());
	db = harness_printf("%s/users.db", root);
	const struct passdb_user users[] = {
		{ .user = "nmoved", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b, .nologin = "Y" },
		{ .user = "nsuggest", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b, .destuser = "ns@example.com" },
		{ .user = "nrefused", .password = "{PLAIN}" PASSWORD,
		  .host = "bad host!", .nologin = "Y" },
		{ .user = "nlocal", .password = "{PLAIN}" PASSWORD },
	};
	passdb_create(db, users, sizeof(users) / sizeof(users[0]));

	settings = notice_settings(NULL);
	conf_a = conf_with(settings);
	dc_server_start(&a, conf_a);
	free(settings);

	/* R reads A's mail store: every user logs in there */
	query = dc_syntax_24() ?
		harness_printf("SELECT userid AS user, password, "
			"'%s/home/%%u/Maildir' AS userdb_mail_path "
			"FROM users WHERE userid = '%%u'", a.dir) :
		harness_printf("SELECT userid AS user, password, "
			"'maildir:%s/home/%%u/Maildir' AS userdb_mail "
			"FROM users WHERE userid = '%%u'", a.dir);
	passdb_r = passdb_sql_block(db, "r", query);
	dc_server_start(&r, passdb_r);
	free(passdb_r);
	free(query);
}

static void teardown(void)
{
	dc_server_stop(&a);
	dc_server_stop(&r);
	harness_remove_root(root);
	free(conf_a);
	free(db);
}

/* "doveadm referral notify <args>" on A: standard output, the exit
   status in *status_r, standard error in *err_r (malloc()ed). */
static char *notify(const char *args, int *status_r, char **err_r)
{
	char *err_path = harness_printf("%s/doveadm.err", root);
	char *all = harness_printf("-f tab referral notify %s", args);
	char *out = dc_server_doveadm_plugin(&a, DOVEADM_REFERRAL_DIR,
					     DOVEADM_MODULE_DIR, all,
					     err_path, status_r);

	*err_r = harness_read_file(err_path);
	printf("$ doveadm %s\n%s(stderr)\n%s(status %d)\n", all, out,
	       *err_r, *status_r);
	free(all);
	free(err_path);
	return out;
}

/* Log in to R as user; the number of notices in its INBOX, and the
   transcript of fetching them all (malloc()ed) in *fetched_r. */
static unsigned int notices(const char *user, char **fetched_r)
{
	struct imap_conn conn;
	char *cmd = harness_printf("LOGIN %s " PASSWORD, user);
	char *reply, *p;
	unsigned int count = 0;

	ck_assert(imap_connect(&conn, "R", IP, r.imap_port));
	reply = imap_command(&conn, "a", cmd);
	ck_assert_msg(reply != NULL && harness_starts_with(reply, "a OK"),
		      "login to R as %s failed", user);
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

	for (i = 0; i < 2; i++)
		ck_assert_uint_eq(notices_count(referred[i]), 0);
}

/* The tests run in this order, on one pair of servers. */

START_TEST(test_dry_run_saves_nothing)
{
	int status;
	char *err, *out = notify("-n nmoved nsuggest nrefused nlocal",
				 &status, &err);

	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert(strstr(out, "would-save") != NULL);
	ck_assert(strstr(out, "Your mailbox has moved") != NULL);
	ck_assert(strstr(err, "4 users: 0 saved, 0 already present, 2 would "
			 "be saved, 1 untouched, 1 refused") != NULL);
	assert_no_notices();
	free(out);
	free(err);
}
END_TEST

START_TEST(test_broken_template_saves_nothing)
{
	char *settings = notice_settings("Server: {server}");
	char *conf = conf_with(settings);
	int status;
	char *err, *out;

	dc_server_reload(&a, conf);
	out = notify("nmoved nsuggest", &status, &err);
	ck_assert_int_eq(status, EX_CONFIG);
	ck_assert(strstr(err, "unknown variable {server}") != NULL);
	ck_assert(strstr(out, "saved") == NULL);
	assert_no_notices();
	dc_server_reload(&a, conf_a);
	free(out);
	free(err);
	free(conf);
	free(settings);
}
END_TEST

static void assert_notice(const char *user, const char *port,
			  const char *dest_user)
{
	char *fetched, *expect;

	ck_assert_uint_eq(notices(user, &fetched), 1);
	ck_assert(strstr(fetched, "\r\nFrom: " FROM "\r\n") != NULL);
	expect = harness_printf("\r\nTo: \"%s\":;\r\n", user);
	ck_assert(strstr(fetched, expect) != NULL);
	free(expect);
	ck_assert(strstr(fetched, "\r\nSubject: Your mailbox has moved to "
			 IP "\r\n") != NULL);
	ck_assert(strstr(fetched, "\r\nDate: ") != NULL);
	ck_assert(strstr(fetched, "\r\nMessage-ID: <referral-notice.") != NULL);
	ck_assert(strstr(fetched, "\r\nContent-Type: text/plain; "
			 "charset=utf-8\r\n") != NULL);
	expect = harness_printf("\r\nIncoming mail server (IMAP): " IP "\r\n"
				"Port: %s\r\nUser name: %s\r\n", port,
				dest_user);
	ck_assert_msg(strstr(fetched, expect) != NULL, "no %s", expect);
	free(expect);
	free(fetched);
}

START_TEST(test_batch)
{
	char *file = harness_printf("%s/users.txt", root);
	int status;
	char *err, *out, *args;

	harness_write_file(file, "nmoved\n# a comment\nnsuggest\nnrefused\n"
			   "nlocal\n");
	args = harness_printf("-F %s", file);
	out = notify(args, &status, &err);
	/* the refused user makes the batch's status "not possible" */
	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert(strstr(err, "4 users: 2 saved, 0 already present, 0 would "
			 "be saved, 1 untouched, 1 refused, 0 unknown, "
			 "0 failed") != NULL);
	ck_assert(strstr(out, "nrefused\tnologin\t\trefused\t\tReferral "
			 "refused: ") != NULL ||
		  strstr(out, "nrefused\trefused\t\trefused\t\tReferral "
			 "refused: ") != NULL);
	ck_assert(strstr(out, "nlocal\tnone\t\tuntouched\t\t\n") != NULL);
	assert_notice("nmoved", port_b, "nmoved");
	assert_notice("nsuggest", port_b, "ns@example.com");
	ck_assert_uint_eq(notices_count("nlocal"), 0);
	ck_assert_uint_eq(notices_count("nrefused"), 0);

	/* again: nothing new */
	free(out);
	free(err);
	out = notify(args, &status, &err);
	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert(strstr(err, "4 users: 0 saved, 2 already present") != NULL);
	ck_assert_uint_eq(notices_count("nmoved"), 1);
	ck_assert_uint_eq(notices_count("nsuggest"), 1);
	free(out);
	free(err);
	free(args);
	free(file);
}
END_TEST

START_TEST(test_changed_target)
{
	char *sql = harness_printf("UPDATE users SET port = '%s' "
				   "WHERE userid = 'nsuggest';", port_b2);
	int status;
	char *err, *out;

	passdb_exec_sql(db, sql);
	out = notify("nmoved nsuggest", &status, &err);
	ck_assert_int_eq(status, 0);
	ck_assert(strstr(err, "2 users: 1 saved, 1 already present") != NULL);
	ck_assert_uint_eq(notices_count("nmoved"), 1);
	ck_assert_uint_eq(notices_count("nsuggest"), 2);
	free(out);
	free(err);
	/* and once only for the new target too */
	out = notify("nsuggest", &status, &err);
	ck_assert_int_eq(status, 0);
	ck_assert(strstr(out, "\tpresent\t") != NULL);
	ck_assert_uint_eq(notices_count("nsuggest"), 2);
	free(out);
	free(err);
	free(sql);
}
END_TEST

START_TEST(test_logs_clean)
{
	const struct dc_server *servers[] = { &a, &r };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		char *errors = dc_server_log_errors(servers[i]);

		ck_assert_msg(errors == NULL, "server %s logged:\n%s",
			      servers[i]->name, errors);
		ck_assert(!dc_server_log_has(servers[i], PASSWORD));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-notice");
	TCase *tc = tcase_create("notice");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dry_run_saves_nothing);
	tcase_add_test(tc, test_broken_template_saves_nothing);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_changed_target);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);
	return e2e_run_suite(s, true);
}
