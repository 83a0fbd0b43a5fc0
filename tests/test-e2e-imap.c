/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* End to end, nologin referrals: real Dovecot instances on loopback, a real
   SQLite passdb, and IMAP over TCP (see e2e-servers.h). */

#define _GNU_SOURCE
#include "e2e-servers.h"

#include "e2e-run.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IP E2E_IP
#define UNAVAILABLE_TEXT \
	"Login not possible on this server right now, " \
	"contact your administrator."

static bool ends_with(const char *str, const char *suffix)
{
	size_t len = strlen(str), suffix_len = strlen(suffix);

	return len >= suffix_len &&
		strcmp(str + len - suffix_len, suffix) == 0;
}

/* How long a test waits for the server to close after a referral. */
#define CLOSE_WAIT_MSECS 3000

/* A nologin referral as it must reach the client: "* OK [ALERT]
   <reason>", "* BYE <reason>", then the tagged NO with the referral and
   the same reason as the last line, then a clean close. */
static void assert_referral_closes(struct imap_conn *conn, const char *reply,
				   const char *expected)
{
	const char *reason = strstr(expected, "/] ");
	char *tail;

	ck_assert_ptr_nonnull(reason);
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, expected);
	if (asprintf(&tail, "\r\n* OK [ALERT] %s\r\n* BYE %s\r\n%s\r\n",
		     reason + 3, reason + 3, expected) < 0)
		abort();
	ck_assert_msg(ends_with(conn->transcript, tail),
		      "transcript does not end with:\n%s", tail);
	free(tail);
	ck_assert(imap_is_closed(conn, CLOSE_WAIT_MSECS));
}

static void assert_login_reply(const char *command, const char *expected)
{
	struct imap_conn conn;
	char *reply = e2e_login_a(&conn, command);

	assert_referral_closes(&conn, reply, expected);
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
	char *reply = e2e_login_a(&conn, "LOGIN local " E2E_PASSWORD);

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
	char *expected, *reply;

	expected = expected_referral("moved", e2e_b_hostport(),
				     e2e_b_default_reason(false));
	assert_login_reply("LOGIN moved " E2E_PASSWORD, expected);

	/* follow it the way the URL says: B, user moved */
	ck_assert(imap_connect(&conn, "B", IP, e2e.b.imap_port));
	reply = imap_command(&conn, "b", "LOGIN moved " E2E_PASSWORD);
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strncmp(reply, "b OK ", 5) == 0, "got: %s", reply);
	free(reply);
	reply = imap_command(&conn, "c", "SELECT INBOX");
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strncmp(reply, "c OK ", 5) == 0, "got: %s", reply);
	free(reply);
	imap_disconnect(&conn);
	free(expected);
}
END_TEST

START_TEST(test_nologin_authenticate_plain_sasl_ir)
{
	char *cmd = imap_authenticate_plain_cmd("moved", E2E_PASSWORD);
	char *expected;

	expected = expected_referral("moved;AUTH=PLAIN", e2e_b_hostport(),
				     e2e_b_default_reason(false));
	assert_login_reply(cmd, expected);
	free(expected);
	free(cmd);
}
END_TEST

START_TEST(test_nologin_port_destuser_reason)
{
	assert_login_reply("LOGIN custom " E2E_PASSWORD,
		"b NO [REFERRAL imap://bob%40example.com@"
		"imap2.example.com:1143/] Your mailbox moved to imap2.");
}
END_TEST

START_TEST(test_nologin_empty_destuser_is_login_user)
{
	assert_login_reply("LOGIN emptydest " E2E_PASSWORD,
		"b NO [REFERRAL imap://emptydest@imap2.example.com/] "
		"Your mailbox has moved. Please change your mail account's "
		"IMAP server to imap2.example.com.");
}
END_TEST

START_TEST(test_proxy_not_referred)
{
	struct imap_conn conn;
	char *reply = e2e_login_a(&conn, "LOGIN proxied " E2E_PASSWORD);

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
	ck_assert(dc_server_log_wait(&e2e.a,
					 "proxy(proxied,127.0.0.1:"));
	ck_assert(dc_server_log_wait_login(&e2e.b, "user=<proxied>"));
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
				    IP, e2e.a.imap_port));
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
		     "example@" IP ":%s/] This server is retired, use "
		     "the new one.", e2e.port_b) < 0)
		abort();
	assert_login_reply("LOGIN anyone@forward.example any-password",
			   expected);
	free(expected);
}
END_TEST

START_TEST(test_reason_injection)
{
	struct imap_conn conn;
	char *expected, *reply;

	expected = expected_referral("inject", e2e_b_hostport(),
				     "Moved.  * BYE injected  x NO fake");
	reply = e2e_login_a(&conn, "LOGIN inject " E2E_PASSWORD);
	/* the ALERT, the BYE and the NO, one line each, and nothing after
	   them */
	assert_referral_closes(&conn, reply, expected);
	ck_assert_ptr_null(strstr(conn.transcript, "\r\n* BYE injected"));
	ck_assert_ptr_null(strstr(conn.transcript, "\r\nx NO fake"));
	free(reply);
	imap_disconnect(&conn);
	free(expected);
}
END_TEST

START_TEST(test_long_reason_bounded)
{
	struct imap_conn conn;
	char *reply = e2e_login_a(&conn, "LOGIN longreason " E2E_PASSWORD);
	const char *text, *bye;

	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(harness_starts_with(reply, "b NO [REFERRAL "
					  "imap://longreason@" IP ":"),
		      "got: %.100s", reply);
	text = strstr(reply, "/] ");
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text + 3), 1024);
	ck_assert(strspn(text + 3, "L") == 1024);
	/* the ALERT and the BYE carry the same bounded text */
	bye = strstr(conn.transcript, "\r\n* OK [ALERT] ");
	ck_assert_ptr_nonnull(bye);
	bye += strlen("\r\n* OK [ALERT] ");
	ck_assert_uint_eq(strspn(bye, "L"), 1024);
	ck_assert(harness_starts_with(bye + 1024, "\r\n* BYE "));
	bye = strstr(conn.transcript, "\r\n* BYE ");
	ck_assert_ptr_nonnull(bye);
	bye += strlen("\r\n* BYE ");
	ck_assert_uint_eq(strspn(bye, "L"), 1024);
	ck_assert(harness_starts_with(bye + 1024, "\r\nb NO [REFERRAL "));
	ck_assert(imap_is_closed(&conn, CLOSE_WAIT_MSECS));
	free(reply);
	imap_disconnect(&conn);
}
END_TEST

/* A client that does not follow referrals, in a raw conversation:
   AUTHENTICATE with a continuation (no SASL-IR) and a command pipelined
   behind it. The person is shown the reason in the ALERT (and the BYE
   and the NO), the pipelined command is never run, and the server closes cleanly: no
   retry loop, no second password prompt. */
START_TEST(test_nologin_non_follower_sees_reason_and_close)
{
	struct imap_conn conn;
	char *cmd = imap_authenticate_plain_cmd("custom", E2E_PASSWORD);
	const char *b64 = strrchr(cmd, ' ') + 1;
	char *line, *data;

	ck_assert(imap_connect(&conn, "A", IP, e2e.a.imap_port));
	ck_assert(imap_send_line(&conn, "b AUTHENTICATE PLAIN"));
	line = imap_read_line(&conn);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, "+ ");
	free(line);
	if (asprintf(&data, "%s\r\nc NOOP\r\n", b64) < 0)
		abort();
	ck_assert(imap_send_raw(&conn, data));
	free(data);

	line = imap_read_line(&conn);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, "* OK [ALERT] Your mailbox moved to imap2.");
	free(line);
	line = imap_read_line(&conn);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, "* BYE Your mailbox moved to imap2.");
	free(line);
	line = imap_read_line(&conn);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, "b NO [REFERRAL imap://bob%40example.com;"
			 "AUTH=PLAIN@imap2.example.com:1143/] "
			 "Your mailbox moved to imap2.");
	free(line);
	ck_assert(imap_is_closed(&conn, CLOSE_WAIT_MSECS));
	ck_assert_ptr_null(strstr(conn.transcript, "c OK"));
	imap_disconnect(&conn);
	free(cmd);
	ck_assert(dc_server_log_wait_line(&e2e.a, "Referred to another server",
					  "user=<custom>"));
}
END_TEST

/* referral_keep_open: the reply Dovecot and the plugin gave before, a
   tagged NO alone, and the connection stays usable. */
START_TEST(test_nologin_keep_open)
{
	struct imap_conn conn;
	char *cmd = imap_authenticate_plain_cmd("keepopen", E2E_PASSWORD);
	const char *const commands[] = { "LOGIN keepopen " E2E_PASSWORD, cmd };
	const char *const auths[] = { "", ";AUTH=PLAIN" };
	char *expected, *reply;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		expected = harness_printf("b NO [REFERRAL imap://keepopen"
			"%s@%s/] %s", auths[i], e2e_b_hostport(),
			e2e_b_default_reason(false));
		reply = e2e_login_a(&conn, commands[i]);
		ck_assert_ptr_nonnull(reply);
		ck_assert_str_eq(reply, expected);
		free(reply);
		free(expected);
		ck_assert(imap_is_silent(&conn, 300));
		ck_assert_ptr_null(strstr(conn.transcript, "* BYE"));
		ck_assert_ptr_null(strstr(conn.transcript, "[ALERT]"));
		reply = imap_command(&conn, "c", "NOOP");
		ck_assert_ptr_nonnull(reply);
		ck_assert_str_eq(reply, "c OK NOOP completed.");
		free(reply);
		reply = imap_command(&conn, "z", "LOGOUT");
		ck_assert_ptr_nonnull(reply);
		ck_assert_str_eq(reply, "z OK Logout completed.");
		free(reply);
		imap_disconnect(&conn);
	}
	free(cmd);
}
END_TEST

static const struct {
	const char *user, *log;
} invalid_targets[] = {
	{ "badport", "Invalid port field 'abc': not a decimal number" },
	{ "badhost", "Invalid host field 'bad host]/x': DNS name has a byte" },
	{ "emptyhost", "Invalid host field '': empty" },
	{ "selfref", "loops back to this server" },
	{ "longdest", "Invalid destuser field 'uuuuuuuu" },
	/* an IPv6 literal's ']' would end the response code */
	{ "v6", "Referral refused: Invalid host field '::1': an IPv6 address "
	  "cannot go into an IMAP referral (clients end the response code at "
	  "its ']'): use a DNS name for this server" },
	{ "v6port", "Invalid host field '2001:db8::1': an IPv6 address "
	  "cannot go into an IMAP referral" },
};

START_TEST(test_invalid_target_unavailable)
{
	struct imap_conn conn;
	char *cmd, *reply;

	if (asprintf(&cmd, "LOGIN %s " E2E_PASSWORD, invalid_targets[_i].user) < 0)
		abort();
	reply = e2e_login_a(&conn, cmd);
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, "b NO [UNAVAILABLE] " UNAVAILABLE_TEXT);
	free(reply);
	ck_assert_ptr_null(strstr(conn.transcript, "[REFERRAL"));
	ck_assert_ptr_null(strstr(conn.transcript, "* BYE"));
	/* no referral, so no close: the connection stays usable */
	reply = imap_command(&conn, "z", "LOGOUT");
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, "z OK Logout completed.");
	free(reply);
	imap_disconnect(&conn);
	ck_assert_msg(dc_server_log_wait(&e2e.a,
					     invalid_targets[_i].log),
		      "no log line with: %s", invalid_targets[_i].log);
	free(cmd);
}
END_TEST

/* The count of a metric of doc/examples/conf.d/95-referral-metrics.conf,
   from "doveadm stats dump" against the running server A. */
static unsigned int metric_count(const char *metric)
{
	char *dump = dc_server_doveadm(&e2e.a, "stats dump"), *line, *save;
	size_t len = strlen(metric);
	unsigned int count = 0;

	ck_assert_msg(dump != NULL, "doveadm stats dump failed");
	for (line = strtok_r(dump, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		/* metric_name, field, count, ... */
		if (strncmp(line, metric, len) == 0 && line[len] == '\t')
			count = strtoul(strchr(line + len + 1, '\t') + 1,
					NULL, 10);
	}
	free(dump);
	return count;
}

static bool metric_reaches(const char *metric, unsigned int count)
{
	unsigned int i;

	/* the login process sends events to the stats process on its own */
	for (i = 0; i < 50; i++) {
		if (metric_count(metric) >= count)
			return metric_count(metric) == count;
		usleep(100 * 1000);
	}
	return false;
}

START_TEST(test_login_referral_event_metrics)
{
	unsigned int sent = metric_count("login_referral_sent");
	unsigned int sent_b = metric_count("login_referral_sent_nologin_"
					   IP);
	unsigned int refused = metric_count("login_referral_refused");
	unsigned int refused_port = metric_count("login_referral_refused_port");
	struct imap_conn conn;
	char *reply;

	/* a referral ends its connection: one each */
	free(e2e_login_a(&conn, "LOGIN moved " E2E_PASSWORD));
	imap_disconnect(&conn);
	free(e2e_login_a(&conn, "LOGIN renamedb " E2E_PASSWORD));
	imap_disconnect(&conn);
	reply = e2e_login_a(&conn, "LOGIN badport " E2E_PASSWORD);
	ck_assert_ptr_nonnull(reply);
	ck_assert(strncmp(reply, "b NO [UNAVAILABLE]", 18) == 0);
	free(reply);
	imap_disconnect(&conn);

	ck_assert_msg(metric_reaches("login_referral_sent", sent + 2),
		      "login_referral_sent: %u, expected %u",
		      metric_count("login_referral_sent"), sent + 2);
	ck_assert_uint_eq(metric_count("login_referral_sent_nologin_" IP),
			  sent_b + 2);
	ck_assert_msg(metric_reaches("login_referral_refused", refused + 1),
		      "login_referral_refused: %u, expected %u",
		      metric_count("login_referral_refused"), refused + 1);
	ck_assert_uint_eq(metric_count("login_referral_refused_port"),
			  refused_port + 1);
}
END_TEST

START_TEST(test_debug_log_shows_fields_and_decision)
{
	ck_assert(dc_server_log_wait(&e2e.a, "Debug: Referral fields: "
		"host='imap2.example.com' port='1143' "
		"destuser='bob@example.com' reason='Your mailbox moved to "
		"imap2.' nologin=yes proxy=no: ALERT, BYE and NO [REFERRAL] "
		"sent, "
		"disconnecting: user=<custom>"));
	ck_assert(dc_server_log_wait_line(&e2e.a, "nologin=yes proxy=no: "
		"NO [REFERRAL] sent: ", "user=<keepopen>"));
	ck_assert(dc_server_log_wait(&e2e.a, "Debug: Referral fields: "
		"host='127.0.0.1' port='abc' destuser=(none) reason=(none) "
		"nologin=yes proxy=no: invalid target, NO [UNAVAILABLE] sent: "
		"user=<badport>"));
}
END_TEST

START_TEST(test_logs_clean)
{
	ck_assert(dc_server_log_wait(&e2e.a,
					 "Referral sent (nologin): imap://"));
	e2e_assert_logs_clean();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-imap");
	TCase *tc = tcase_create("imap");

	tcase_add_unchecked_fixture(tc, e2e_servers_setup, e2e_servers_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_local_user_unaffected);
	tcase_add_test(tc, test_nologin_login_and_follow);
	tcase_add_test(tc, test_nologin_authenticate_plain_sasl_ir);
	tcase_add_test(tc, test_nologin_port_destuser_reason);
	tcase_add_test(tc, test_nologin_empty_destuser_is_login_user);
	tcase_add_test(tc, test_proxy_not_referred);
	tcase_add_loop_test(tc, test_wrong_password_no_referral, 0,
			    sizeof(wrong_passwords) / sizeof(wrong_passwords[0]));
	tcase_add_test(tc, test_forward_all_users);
	tcase_add_test(tc, test_reason_injection);
	tcase_add_test(tc, test_long_reason_bounded);
	tcase_add_test(tc, test_nologin_non_follower_sees_reason_and_close);
	tcase_add_test(tc, test_nologin_keep_open);
	tcase_add_loop_test(tc, test_invalid_target_unavailable, 0,
			    sizeof(invalid_targets) / sizeof(invalid_targets[0]));
	tcase_add_test(tc, test_login_referral_event_metrics);
	tcase_add_test(tc, test_debug_log_shows_fields_and_decision);
	/* last: everything above has written its log lines by now */
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
