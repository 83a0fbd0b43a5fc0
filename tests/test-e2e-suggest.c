/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* End to end, suggest mode (host without nologin): the login completes and
   the client gets exactly one tagged OK with the referral. Also: users
   without host see byte-identical replies with and without the plugin. */

#define _GNU_SOURCE
#include "e2e-servers.h"

#include "e2e-run.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* %s: nothing after LOGIN (RFC 2221 section 4.1), ";AUTH=<mechanism>"
   after AUTHENTICATE */
#define SUGGEST_OK "b OK [REFERRAL imap://suggest%s@imap2.example.com/] " \
	"Logged in, but your mailbox has moved. Please change your mail " \
	"account's IMAP server to imap2.example.com."
#define POST_LOGIN_CAPABILITY "* OK [CAPABILITY IMAP4rev1 "

static unsigned int count_lines_starting(const char *transcript,
					 const char *prefix)
{
	unsigned int count = 0;
	const char *line = transcript;

	while (*line != '\0') {
		if (harness_starts_with(line, prefix))
			count++;
		line = strstr(line, "\r\n");
		if (line == NULL)
			break;
		line += 2;
	}
	return count;
}

static char *suggest_ok(const char *auth)
{
	char *line;

	if (asprintf(&line, SUGGEST_OK, auth) < 0)
		abort();
	return line;
}

/* After the tagged OK: the post-login process's untagged capabilities,
   then a session that really works. */
static void assert_logged_in_session(struct imap_conn *conn)
{
	char *line = imap_read_line(conn);

	ck_assert_ptr_nonnull(line);
	ck_assert_msg(harness_starts_with(line, POST_LOGIN_CAPABILITY) &&
		      strstr(line, "] Logged in") != NULL, "got: %s", line);
	free(line);

	line = imap_command(conn, "c", "NOOP");
	ck_assert_ptr_nonnull(line);
	e2e_assert_starts(line, "c OK NOOP completed");
	free(line);
	line = imap_command(conn, "d", "SELECT INBOX");
	ck_assert_ptr_nonnull(line);
	e2e_assert_starts(line, "d OK [READ-WRITE] Select completed");
	free(line);
	line = imap_command(conn, "e", "LIST \"\" *");
	ck_assert_ptr_nonnull(line);
	e2e_assert_starts(line, "e OK List completed");
	free(line);
	ck_assert(strstr(conn->transcript, "* LIST (") != NULL);
	/* one tagged reply for the login, no more */
	ck_assert_uint_eq(count_lines_starting(conn->transcript, "b "), 1);
}

START_TEST(test_suggest_login)
{
	struct imap_conn conn;
	char *expected = suggest_ok("");
	char *reply = e2e_login_a(&conn, "LOGIN suggest " E2E_PASSWORD);

	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, expected);
	free(reply);
	assert_logged_in_session(&conn);
	imap_disconnect(&conn);
	free(expected);
	ck_assert(dc_server_log_wait(&e2e.a, "Referral sent (login): "
		"imap://suggest@imap2.example.com/"));
}
END_TEST

START_TEST(test_suggest_after_capability_command)
{
	/* A client that asked CAPABILITY before logging in gets the
	   post-login capabilities as an untagged CAPABILITY response. */
	struct imap_conn conn;
	char *expected = suggest_ok(""), *line;

	ck_assert(imap_connect(&conn, "A", E2E_IP, e2e.a.imap_port));
	free(imap_command(&conn, "a", "CAPABILITY"));
	line = imap_command(&conn, "b", "LOGIN suggest " E2E_PASSWORD);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, expected);
	free(line);
	line = imap_read_line(&conn);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(harness_starts_with(line, "* CAPABILITY IMAP4rev1 ") &&
		      strstr(line, " UIDPLUS ") != NULL, "got: %s", line);
	free(line);
	line = imap_read_line(&conn);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, "* OK Logged in");
	free(line);
	line = imap_command(&conn, "c", "NOOP");
	ck_assert_ptr_nonnull(line);
	e2e_assert_starts(line, "c OK NOOP completed");
	free(line);
	imap_disconnect(&conn);
	free(expected);
}
END_TEST

/* destuser with an '@': percent-encoded in the URL, named in the reason */
START_TEST(test_suggest_destuser_encoded)
{
	struct imap_conn conn;
	char *reply = e2e_login_a(&conn, "LOGIN suggestencoded " E2E_PASSWORD);
	char *expected = harness_printf("b OK [REFERRAL imap://bob%%40example."
		"com@%s/] Logged in, but your mailbox has moved. Please change "
		"your mail account's IMAP server to " E2E_IP " (port %s, user "
		"name bob@example.com).", e2e_b_hostport(), e2e.port_b);

	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, expected);
	free(reply);
	free(expected);
	assert_logged_in_session(&conn);
	imap_disconnect(&conn);
}
END_TEST

START_TEST(test_suggest_authenticate_sasl_ir)
{
	struct imap_conn conn;
	char *expected = suggest_ok(";AUTH=PLAIN");
	char *cmd = imap_authenticate_plain_cmd("suggest", E2E_PASSWORD);
	char *reply = e2e_login_a(&conn, cmd);

	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, expected);
	free(reply);
	assert_logged_in_session(&conn);
	imap_disconnect(&conn);
	free(cmd);
	free(expected);
}
END_TEST

START_TEST(test_suggest_authenticate_continuation)
{
	struct imap_conn conn;
	char *expected = suggest_ok(";AUTH=PLAIN");
	char *cmd = imap_authenticate_plain_cmd("suggest", E2E_PASSWORD);
	char *line;

	ck_assert(imap_connect(&conn, "A", E2E_IP, e2e.a.imap_port));
	ck_assert(imap_send_line(&conn, "b AUTHENTICATE PLAIN"));
	line = imap_read_line(&conn);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, "+ ");
	free(line);
	/* cmd is "AUTHENTICATE PLAIN <base64>": send the base64 alone */
	ck_assert(imap_send_line(&conn, strrchr(cmd, ' ') + 1));
	line = imap_read_tagged(&conn, "b");
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, expected);
	free(line);
	assert_logged_in_session(&conn);
	imap_disconnect(&conn);
	free(cmd);
	free(expected);
}
END_TEST

/* After "b LOGIN ...", "c NOOP" and "d LOGOUT" in one packet: exactly
   three tagged replies, the login's expected_login, in order, and the
   capabilities between b's OK and c's. */
static void assert_pipelined_replies(struct imap_conn *conn,
				     const char *expected_login)
{
	char *tagged[3], *line;
	const char *capability;
	unsigned int count = 0;

	while ((line = imap_read_line(conn)) != NULL) {
		if (line[0] != '*') {
			ck_assert_msg(count < 3, "extra line: %s", line);
			tagged[count++] = line;
		} else {
			free(line);
		}
	}
	ck_assert_uint_eq(count, 3);
	ck_assert_str_eq(tagged[0], expected_login);
	e2e_assert_starts(tagged[1], "c OK NOOP completed");
	e2e_assert_starts(tagged[2], "d OK Logout completed");
	capability = strstr(conn->transcript, "\r\n" POST_LOGIN_CAPABILITY);
	ck_assert_ptr_nonnull(capability);
	ck_assert(capability < strstr(conn->transcript, "\r\nc OK"));
	while (count > 0)
		free(tagged[--count]);
}

START_TEST(test_suggest_pipelining)
{
	struct imap_conn conn;
	char *expected = suggest_ok("");

	ck_assert(imap_connect(&conn, "A", E2E_IP, e2e.a.imap_port));
	/* one packet: the login and two more commands behind it */
	ck_assert(imap_send_raw(&conn, "b LOGIN suggest " E2E_PASSWORD "\r\n"
				"c NOOP\r\nd LOGOUT\r\n"));
	assert_pipelined_replies(&conn, expected);
	ck_assert(strstr(conn.transcript, "\r\n* BYE Logging out\r\n") != NULL);
	ck_assert_uint_eq(count_lines_starting(conn.transcript, "b "), 1);
	imap_disconnect(&conn);
	free(expected);
}
END_TEST

/* referral_alert: the reason also as an untagged ALERT before the tagged
   OK, which clients show to the person; the login, its one tagged reply
   and pipelined commands behind it are as without it. */
START_TEST(test_suggest_alert)
{
	struct imap_conn conn;
	char *cmd = imap_authenticate_plain_cmd("suggestalert", E2E_PASSWORD);
	char *line, *expected, *alert;

	expected = harness_printf("b OK [REFERRAL imap://suggestalert@"
		"%s/] %s", e2e_b_hostport(), e2e_b_default_reason(true));
	alert = harness_printf("* OK [ALERT] %s", e2e_b_default_reason(true));
	ck_assert(imap_connect(&conn, "A", E2E_IP, e2e.a.imap_port));
	/* one packet: the login and two more commands behind it */
	ck_assert(imap_send_raw(&conn, "b LOGIN suggestalert " E2E_PASSWORD
				"\r\nc NOOP\r\nd LOGOUT\r\n"));
	line = imap_read_line(&conn);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, alert);
	free(line);
	assert_pipelined_replies(&conn, expected);
	ck_assert_uint_eq(count_lines_starting(conn.transcript,
					       "* OK [ALERT] "), 1);
	imap_disconnect(&conn);

	/* AUTHENTICATE: the same two lines, with its mechanism */
	free(expected);
	expected = harness_printf("b OK [REFERRAL imap://suggestalert;"
		"AUTH=PLAIN@%s/] %s", e2e_b_hostport(),
		e2e_b_default_reason(true));
	line = e2e_login_a(&conn, cmd);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, expected);
	free(line);
	/* the ALERT is the line right before the tagged OK */
	line = harness_printf("%s\r\n%s\r\n", alert, expected);
	ck_assert(strstr(conn.transcript, line) != NULL);
	free(line);
	assert_logged_in_session(&conn);
	imap_disconnect(&conn);
	ck_assert(dc_server_log_wait_line(&e2e.a, "Referral sent (login): "
		"imap://suggestalert;AUTH=PLAIN@", "user=<suggestalert>"));
	free(expected);
	free(alert);
	free(cmd);
}
END_TEST

START_TEST(test_suggest_post_login_failure_gets_bye)
{
	struct imap_conn conn;
	char *reply = e2e_login_a(&conn, "LOGIN suggestbroken " E2E_PASSWORD), *line;
	bool bye = false;

	ck_assert_ptr_nonnull(reply);
	e2e_assert_starts(reply, "b OK [REFERRAL imap://suggestbroken@");
	free(reply);
	/* the imap process cannot set up the mail user: the connection ends
	   with a BYE, not with a usable session */
	while ((line = imap_read_line(&conn)) != NULL) {
		if (harness_starts_with(line, "* BYE "))
			bye = true;
		free(line);
	}
	ck_assert_msg(bye, "no BYE after the failed login");
	imap_disconnect(&conn);
}
END_TEST

START_TEST(test_suggest_connection_limit_after_ok)
{
	/* The first session holds the only connection allowed from this
	   address; the second one's login passes authentication, gets the
	   tagged OK with the referral, then hits the limit: it must end
	   with an untagged BYE, not a second tagged reply. */
	struct imap_conn first, second;
	char *expected = suggest_ok(""), *line;

	ck_assert(imap_connect_from(&first, "A1", E2E_LIMITED_IP, E2E_IP,
				    e2e.a.imap_port));
	line = imap_command(&first, "b", "LOGIN suggest " E2E_PASSWORD);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, expected);
	free(line);
	ck_assert(dc_server_log_wait_login(&e2e.a, "user=<suggest>, method="
					   "PLAIN, rip=" E2E_LIMITED_IP));

	ck_assert(imap_connect_from(&second, "A2", E2E_LIMITED_IP, E2E_IP,
				    e2e.a.imap_port));
	line = imap_command(&second, "b", "LOGIN suggest " E2E_PASSWORD);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, expected);
	free(line);
	while ((line = imap_read_line(&second)) != NULL)
		free(line);
	ck_assert_msg(strstr(second.transcript, "\r\n* BYE [UNAVAILABLE] "
		"Login failed after all, try again later.\r\n") != NULL,
		"no BYE after the limit");
	ck_assert_uint_eq(count_lines_starting(second.transcript, "b "), 1);
	ck_assert_ptr_null(strstr(second.transcript, "* OK [CAPABILITY "
				  "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE "
				  "IDLE SORT"));
	imap_disconnect(&second);
	imap_disconnect(&first);
	free(expected);
}
END_TEST

START_TEST(test_suggest_client_gone_before_ok)
{
	/* The client resets the connection right after its LOGIN: the
	   tagged OK cannot be written, and the login must fail without
	   handing a dead connection over or crashing. */
	struct imap_conn conn;

	ck_assert(imap_connect(&conn, "A", E2E_IP, e2e.a.imap_port));
	ck_assert(imap_send_line(&conn, "b LOGIN suggest " E2E_PASSWORD));
	imap_reset(&conn);
	ck_assert(dc_server_log_wait(&e2e.a, "Referral could not be written "
				     "to the client"));
}
END_TEST

/* An invalid target, and an IPv6 one, which no IMAP referral can carry
   (its ']' would end the response code): a plain login, and the refusal
   logged. */
static const struct {
	const char *user, *log;
} suggest_refused[] = {
	{ "suggestbad", "Referral refused: Invalid host field 'bad host': "
	  "DNS name has a byte" },
	{ "suggestreason", "Referral refused: Invalid host field "
	  "'2001:db8::1': an IPv6 address cannot go into an IMAP referral "
	  "(clients end the response code at its ']'): use a DNS name for "
	  "this server" },
};

START_TEST(test_suggest_invalid_target_plain_login)
{
	struct imap_conn conn;
	char *cmd = harness_printf("LOGIN %s " E2E_PASSWORD,
				   suggest_refused[_i].user);
	char *user = harness_printf("user=<%s>", suggest_refused[_i].user);
	char *reply = e2e_login_a(&conn, cmd);

	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(harness_starts_with(reply,
		"b OK [CAPABILITY IMAP4rev1 ") &&
		strstr(reply, "] Logged in") != NULL, "got: %s", reply);
	free(reply);
	reply = imap_command(&conn, "c", "NOOP");
	ck_assert_ptr_nonnull(reply);
	e2e_assert_starts(reply, "c OK NOOP completed");
	free(reply);
	ck_assert_ptr_null(strstr(conn.transcript, "[REFERRAL"));
	imap_disconnect(&conn);
	ck_assert_msg(dc_server_log_wait_line(&e2e.a, suggest_refused[_i].log,
					      user),
		      "no log line: %s", suggest_refused[_i].log);
	free(user);
	free(cmd);
}
END_TEST

/* The same session against A and against stock must read the same, once
   the timings Dovecot puts into its replies are blanked out. */
static const char *const identical_sessions[][6] = {
	{ "a CAPABILITY", "b LOGIN local " E2E_PASSWORD, "c CAPABILITY", "d NOOP",
	  "e LIST \"\" *", "f LOGOUT" },
	{ "a ID NIL", "b AUTHENTICATE PLAIN AGxvY2FsAFB3LTdrcTJacg==", "c NOOP",
	  "d LOGOUT", NULL, NULL },
	{ "b LOGIN disabled " E2E_PASSWORD, "c LOGIN nosuchuser " E2E_PASSWORD, "d LOGOUT",
	  NULL, NULL, NULL },
};
/* failed logins from an address of their own (auth penalty) */
static const char *const identical_sources[] = {
	"127.0.0.1", "127.0.0.1", "127.0.0.21",
};

static char *run_session(const char *name, const char *source_ip,
			 in_port_t port, const char *const *commands)
{
	struct imap_conn conn;
	char *out;
	unsigned int i;

	ck_assert(imap_connect_from(&conn, name, source_ip, E2E_IP, port));
	for (i = 0; i < 6 && commands[i] != NULL; i++) {
		char tag[2] = { commands[i][0], '\0' };

		ck_assert(imap_send_line(&conn, commands[i]));
		free(imap_read_tagged(&conn, tag));
	}
	out = imap_blank_timings(conn.transcript);
	imap_disconnect(&conn);
	return out;
}

START_TEST(test_no_host_identical_to_stock)
{
	char *with_plugin = run_session("A", identical_sources[_i], e2e.a.imap_port,
					identical_sessions[_i]);
	char *stock = run_session("stock", identical_sources[_i],
				  e2e.stock.imap_port, identical_sessions[_i]);

	ck_assert_str_eq(with_plugin, stock);
	free(with_plugin);
	free(stock);
}
END_TEST

START_TEST(test_logs_clean)
{
	e2e_assert_logs_clean();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-suggest");
	TCase *tc = tcase_create("suggest");

	tcase_add_unchecked_fixture(tc, e2e_servers_setup, e2e_servers_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_suggest_login);
	tcase_add_test(tc, test_suggest_after_capability_command);
	tcase_add_test(tc, test_suggest_destuser_encoded);
	tcase_add_test(tc, test_suggest_authenticate_sasl_ir);
	tcase_add_test(tc, test_suggest_authenticate_continuation);
	tcase_add_test(tc, test_suggest_pipelining);
	tcase_add_test(tc, test_suggest_alert);
	tcase_add_test(tc, test_suggest_post_login_failure_gets_bye);
	tcase_add_test(tc, test_suggest_connection_limit_after_ok);
	tcase_add_test(tc, test_suggest_client_gone_before_ok);
	tcase_add_loop_test(tc, test_suggest_invalid_target_plain_login, 0,
			    sizeof(suggest_refused) / sizeof(suggest_refused[0]));
	tcase_add_loop_test(tc, test_no_host_identical_to_stock, 0,
			    sizeof(identical_sessions) /
			    sizeof(identical_sessions[0]));
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
