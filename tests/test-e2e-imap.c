/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* End to end: real Dovecot instances on loopback, a real SQLite passdb, and
   IMAP over TCP. Server A loads the plugin from the build tree; server B
   is the referral (and proxy) target and has no plugin. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-imap.h"
#include "harness-passdb.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IP "127.0.0.1"
#define UNAVAILABLE_TEXT \
	"Login not possible on this server right now, " \
	"contact your administrator."

static char *root;
static struct dc_server server_a, server_b;
static char port_b[8], port_a[8];
static char *long_reason;

static void servers_setup(void)
{
	char *db, *conf, *passdb_a, *passdb_fwd, *passdb_b, *fwd_query;

	root = harness_make_root("referral-e2e");
	dc_server_init(&server_b, root, "b");
	dc_server_init(&server_a, root, "a");
	snprintf(port_b, sizeof(port_b), "%u", server_b.imap_port);
	snprintf(port_a, sizeof(port_a), "%u", server_a.imap_port);

	long_reason = malloc(6001);
	memset(long_reason, 'L', 6000);
	long_reason[6000] = '\0';

	const struct passdb_user users[] = {
		{ .user = "local", .password = "{PLAIN}pass" },
		{ .user = "moved", .password = "{PLAIN}pass", .host = IP,
		  .port = port_b, .nologin = "Y" },
		{ .user = "custom", .password = "{PLAIN}pass",
		  .host = "imap2.example.com", .port = "1143",
		  .destuser = "bob@example.com",
		  .reason = "Your mailbox moved to imap2.", .nologin = "Y" },
		{ .user = "v6", .password = "{PLAIN}pass", .host = "::1",
		  .nologin = "Y" },
		{ .user = "v6port", .password = "{PLAIN}pass",
		  .host = "2001:db8::1", .port = "993", .nologin = "Y" },
		{ .user = "proxied", .password = "{PLAIN}pass", .host = IP,
		  .port = port_b, .proxy = "Y", .pass = "pass" },
		{ .user = "inject", .password = "{PLAIN}pass", .host = IP,
		  .port = port_b, .nologin = "Y",
		  .reason = "Moved.\r\n* BYE injected\r\nx NO fake" },
		{ .user = "longreason", .password = "{PLAIN}pass", .host = IP,
		  .port = port_b, .nologin = "Y", .reason = long_reason },
		{ .user = "badport", .password = "{PLAIN}pass", .host = IP,
		  .port = "abc", .nologin = "Y" },
		{ .user = "badhost", .password = "{PLAIN}pass",
		  .host = "bad host]/x", .nologin = "Y" },
		{ .user = "emptyhost", .password = "{PLAIN}pass", .host = "",
		  .nologin = "Y" },
		{ .user = "selfref", .password = "{PLAIN}pass", .host = IP,
		  .port = port_a, .nologin = "Y" },
	};

	if (asprintf(&db, "%s/users.db", root) < 0)
		abort();
	passdb_create(db, users, sizeof(users) / sizeof(users[0]));

	if (asprintf(&conf, "%s/sql-b.conf.ext", root) < 0)
		abort();
	passdb_b = passdb_sql_block(conf, db, PASSDB_QUERY_PLAIN);
	free(conf);
	dc_server_start(&server_b, passdb_b);

	if (asprintf(&conf, "%s/sql-a.conf.ext", root) < 0)
		abort();
	passdb_a = passdb_sql_block(conf, db, PASSDB_QUERY_REFERRAL);
	free(conf);
	/* The "forward all users" example: any password of any user in
	   the domain gets the referral, without a delay. */
	if (asprintf(&fwd_query, "SELECT NULL AS password, 'Y' AS nopassword, "
		     "'" IP "' AS host, '%s' AS port, 'Y' AS nologin, "
		     "'Y' AS nodelay, 'This server is retired, use the new "
		     "one.' AS reason WHERE '%%d' = 'forward.example'",
		     port_b) < 0 ||
	    asprintf(&conf, "%s/sql-forward.conf.ext", root) < 0)
		abort();
	passdb_fwd = passdb_sql_block(conf, db, fwd_query);
	free(conf);
	if (asprintf(&conf, "login_plugin_dir = %s\n"
		     "login_plugins = referral\n%s%s",
		     REFERRAL_PLUGIN_DIR, passdb_a, passdb_fwd) < 0)
		abort();
	dc_server_start(&server_a, conf);
	free(conf);
	free(passdb_a);
	free(passdb_fwd);
	free(passdb_b);
	free(fwd_query);
	free(db);
}

static void servers_teardown(void)
{
	dc_server_stop(&server_a);
	dc_server_stop(&server_b);
	harness_remove_root(root);
}

/* Connect to A, send one login command and return the tagged reply. */
static char *login_a(struct imap_conn *conn, const char *command)
{
	ck_assert_msg(imap_connect(conn, "A", IP, server_a.imap_port),
		      "cannot connect to server A");
	return imap_command(conn, "b", command);
}

static void assert_login_reply(const char *command, const char *expected)
{
	struct imap_conn conn;
	char *reply = login_a(&conn, command);

	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, expected);
	free(reply);
	/* the connection stays usable: a nologin user may LOGOUT */
	reply = imap_command(&conn, "z", "LOGOUT");
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, "z OK Logout completed.");
	free(reply);
	imap_disconnect(&conn);
}

static char *expected_referral(const char *user_auth, const char *hostport,
			       const char *reason)
{
	char *line;

	if (asprintf(&line, "b NO [REFERRAL imap://%s@%s/] %s", user_auth,
		     hostport, reason) < 0)
		abort();
	return line;
}

START_TEST(test_local_user_unaffected)
{
	struct imap_conn conn;
	char *reply = login_a(&conn, "LOGIN local pass");

	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strncmp(reply, "b OK [CAPABILITY IMAP4rev1 ", 27) == 0 &&
		      strstr(reply, "] Logged in") != NULL, "got: %s", reply);
	free(reply);
	/* post-login NOOP: the imap process adds its timing */
	reply = imap_command(&conn, "c", "NOOP");
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strncmp(reply, "c OK NOOP completed (", 21) == 0,
		      "got: %s", reply);
	free(reply);
	ck_assert_ptr_null(strstr(conn.transcript, "[REFERRAL"));
	imap_disconnect(&conn);
}
END_TEST

START_TEST(test_nologin_login_and_follow)
{
	struct imap_conn conn;
	char *hostport, *expected, *reply;

	if (asprintf(&hostport, IP ":%s", port_b) < 0)
		abort();
	expected = expected_referral("moved;AUTH=*", hostport,
				     "Try this server instead.");
	assert_login_reply("LOGIN moved pass", expected);

	/* follow it the way the URL says: B, user moved */
	ck_assert(imap_connect(&conn, "B", IP, server_b.imap_port));
	reply = imap_command(&conn, "b", "LOGIN moved pass");
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strncmp(reply, "b OK ", 5) == 0, "got: %s", reply);
	free(reply);
	reply = imap_command(&conn, "c", "SELECT INBOX");
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strncmp(reply, "c OK ", 5) == 0, "got: %s", reply);
	free(reply);
	imap_disconnect(&conn);
	free(expected);
	free(hostport);
}
END_TEST

START_TEST(test_nologin_authenticate_plain_sasl_ir)
{
	char *cmd = imap_authenticate_plain_cmd("moved", "pass");
	char *hostport, *expected;

	if (asprintf(&hostport, IP ":%s", port_b) < 0)
		abort();
	expected = expected_referral("moved;AUTH=PLAIN", hostport,
				     "Try this server instead.");
	assert_login_reply(cmd, expected);
	free(expected);
	free(hostport);
	free(cmd);
}
END_TEST

START_TEST(test_nologin_port_destuser_reason)
{
	assert_login_reply("LOGIN custom pass",
		"b NO [REFERRAL imap://bob%40example.com;AUTH=*@"
		"imap2.example.com:1143/] Your mailbox moved to imap2.");
}
END_TEST

START_TEST(test_nologin_ipv6)
{
	assert_login_reply("LOGIN v6 pass",
		"b NO [REFERRAL imap://v6;AUTH=*@[::1]/] "
		"Try this server instead.");
	assert_login_reply("LOGIN v6port pass",
		"b NO [REFERRAL imap://v6port;AUTH=*@[2001:db8::1]:993/] "
		"Try this server instead.");
}
END_TEST

START_TEST(test_proxy_not_referred)
{
	struct imap_conn conn;
	char *reply = login_a(&conn, "LOGIN proxied pass");

	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strncmp(reply, "b OK ", 5) == 0, "got: %s", reply);
	free(reply);
	reply = imap_command(&conn, "c", "SELECT INBOX");
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strncmp(reply, "c OK ", 5) == 0, "got: %s", reply);
	free(reply);
	ck_assert_ptr_null(strstr(conn.transcript, "[REFERRAL"));
	imap_disconnect(&conn);
	/* the session really went through B */
	ck_assert(dc_server_log_contains(&server_a,
					 "proxy(proxied,127.0.0.1:"));
	ck_assert(dc_server_log_contains(&server_b,
					 "Login: user=<proxied>"));
}
END_TEST

/* Each from an address of its own, so Dovecot's auth penalty for the
   failure does not slow down the next test. */
static const struct {
	const char *source_ip, *tag, *command;
} wrong_passwords[] = {
	{ "127.0.0.11", "b", "LOGIN moved wrong" },
	{ "127.0.0.12", "c", "AUTHENTICATE PLAIN AG1vdmVkAHdyb25n" },
	{ "127.0.0.13", "d", "LOGIN custom wrong" },
};

START_TEST(test_wrong_password_no_referral)
{
	struct imap_conn conn;
	char *reply, *expected;

	ck_assert(imap_connect_from(&conn, "A", wrong_passwords[_i].source_ip,
				    IP, server_a.imap_port));
	reply = imap_command(&conn, wrong_passwords[_i].tag,
			     wrong_passwords[_i].command);
	if (asprintf(&expected, "%s NO [AUTHENTICATIONFAILED] "
		     "Authentication failed.", wrong_passwords[_i].tag) < 0)
		abort();
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, expected);
	free(reply);
	free(expected);
	ck_assert_ptr_null(strstr(conn.transcript, "[REFERRAL"));
	imap_disconnect(&conn);
}
END_TEST

START_TEST(test_forward_all_users)
{
	char *expected;

	if (asprintf(&expected, "b NO [REFERRAL imap://anyone%%40forward."
		     "example;AUTH=*@" IP ":%s/] This server is retired, use "
		     "the new one.", port_b) < 0)
		abort();
	assert_login_reply("LOGIN anyone@forward.example any-password",
			   expected);
	free(expected);
}
END_TEST

START_TEST(test_reason_injection)
{
	struct imap_conn conn;
	char *hostport, *expected, *reply;

	if (asprintf(&hostport, IP ":%s", port_b) < 0)
		abort();
	expected = expected_referral("inject;AUTH=*", hostport,
				     "Moved.  * BYE injected  x NO fake");
	reply = login_a(&conn, "LOGIN inject pass");
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, expected);
	free(reply);
	/* one line and nothing after it */
	ck_assert(imap_is_silent(&conn, 300));
	ck_assert_ptr_null(strstr(conn.transcript, "\r\n* BYE injected"));
	reply = imap_command(&conn, "c", "NOOP");
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, "c OK NOOP completed.");
	free(reply);
	imap_disconnect(&conn);
	free(expected);
	free(hostport);
}
END_TEST

START_TEST(test_long_reason_bounded)
{
	struct imap_conn conn;
	char *reply = login_a(&conn, "LOGIN longreason pass");
	const char *text;

	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strncmp(reply, "b NO [REFERRAL imap://longreason;", 33)
		      == 0, "got: %.100s", reply);
	text = strstr(reply, "/] ");
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text + 3), 1024);
	ck_assert(strspn(text + 3, "L") == 1024);
	free(reply);
	reply = imap_command(&conn, "c", "NOOP");
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, "c OK NOOP completed.");
	free(reply);
	imap_disconnect(&conn);
}
END_TEST

static const struct {
	const char *user, *log;
} invalid_targets[] = {
	{ "badport", "Invalid port field 'abc': not a decimal number" },
	{ "badhost", "Invalid host field 'bad host]/x': DNS name has a byte" },
	{ "emptyhost", "Invalid host field '': empty" },
	{ "selfref", "loops back to this server" },
};

START_TEST(test_invalid_target_unavailable)
{
	struct imap_conn conn;
	char *cmd, *reply;

	if (asprintf(&cmd, "LOGIN %s pass", invalid_targets[_i].user) < 0)
		abort();
	reply = login_a(&conn, cmd);
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, "b NO [UNAVAILABLE] " UNAVAILABLE_TEXT);
	free(reply);
	ck_assert_ptr_null(strstr(conn.transcript, "[REFERRAL"));
	imap_disconnect(&conn);
	ck_assert_msg(dc_server_log_contains(&server_a,
					     invalid_targets[_i].log),
		      "no log line with: %s", invalid_targets[_i].log);
	free(cmd);
}
END_TEST

START_TEST(test_logs_clean)
{
	char *errors;

	ck_assert(dc_server_log_contains(&server_a,
					 "Referral sent (nologin): imap://"));
	errors = dc_server_log_errors(&server_a);
	ck_assert_msg(errors == NULL, "server A logged:\n%s", errors);
	errors = dc_server_log_errors(&server_b);
	ck_assert_msg(errors == NULL, "server B logged:\n%s", errors);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-imap");
	TCase *tc = tcase_create("imap");
	SRunner *runner;
	int failed;

	tcase_add_unchecked_fixture(tc, servers_setup, servers_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_local_user_unaffected);
	tcase_add_test(tc, test_nologin_login_and_follow);
	tcase_add_test(tc, test_nologin_authenticate_plain_sasl_ir);
	tcase_add_test(tc, test_nologin_port_destuser_reason);
	tcase_add_test(tc, test_nologin_ipv6);
	tcase_add_test(tc, test_proxy_not_referred);
	tcase_add_loop_test(tc, test_wrong_password_no_referral, 0,
			    sizeof(wrong_passwords) / sizeof(wrong_passwords[0]));
	tcase_add_test(tc, test_forward_all_users);
	tcase_add_test(tc, test_reason_injection);
	tcase_add_test(tc, test_long_reason_bounded);
	tcase_add_loop_test(tc, test_invalid_target_unavailable, 0,
			    sizeof(invalid_targets) / sizeof(invalid_targets[0]));
	/* last: everything above has written its log lines by now */
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);

	runner = srunner_create(s);
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
