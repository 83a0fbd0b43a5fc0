/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* End to end, the other login processes the plugin is loaded into: ManageSieve
   referrals (a BYE with a Sieve URL, followed by a real client, PEAR
   Net_Sieve), and POP3 and Submission, which have no referral mechanism and
   must keep working. Users without host must see exactly what a server
   without the plugin says, in every protocol. */

#define _GNU_SOURCE
#include "e2e-servers.h"
#include "harness-version.h"

#include "e2e-run.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IP E2E_IP
#define UNAVAILABLE_TEXT \
	"Login not possible on this server right now, " \
	"contact your administrator."

/* base64 of "\0user\0password", from the AUTHENTICATE PLAIN command */
static char *plain_b64(const char *user)
{
	char *cmd = imap_authenticate_plain_cmd(user, E2E_PASSWORD);
	char *b64 = strdup(strrchr(cmd, ' ') + 1);

	free(cmd);
	return b64;
}

/* ---- POP3 ---- */

static char *pop3_login(struct imap_conn *conn, const struct dc_server *srv,
			const char *user)
{
	char *cmd, *reply;

	ck_assert(imap_connect(conn, srv->name, IP, srv->pop3_port));
	cmd = harness_printf("USER %s", user);
	free(e2e_command(conn, cmd, "+OK", "-ERR"));
	free(cmd);
	reply = e2e_command(conn, "PASS " E2E_PASSWORD, "+OK", "-ERR");
	ck_assert_ptr_nonnull(reply);
	return reply;
}

/* ---- Submission ---- */

static char *submission_login(struct imap_conn *conn,
			      const struct dc_server *srv, const char *user)
{
	char *b64 = plain_b64(user), *cmd, *reply;

	ck_assert(imap_connect(conn, srv->name, IP, srv->submission_port));
	free(e2e_command(conn, "EHLO client.example", "250 ", NULL));
	cmd = harness_printf("AUTH PLAIN %s", b64);
	/* the reply to AUTH is its next line: 235, 454, 535, 550 ... */
	reply = e2e_command(conn, cmd, "", NULL);
	ck_assert_ptr_nonnull(reply);
	free(cmd);
	free(b64);
	return reply;
}

/* ---- ManageSieve ---- */

static char *sieve_login(struct imap_conn *conn, const struct dc_server *srv,
			 const char *user)
{
	char *b64 = plain_b64(user), *cmd, *reply;

	ck_assert(imap_connect(conn, srv->name, IP, srv->sieve_port));
	/* the greeting is the capability list, ending with OK */
	free(imap_read_until(conn, "OK", NULL));
	cmd = harness_printf("AUTHENTICATE \"PLAIN\" \"%s\"", b64);
	reply = e2e_command(conn, cmd, "OK", "NO");
	if (reply == NULL) {
		/* BYE is what a referral looks like here */
		ck_assert_msg(strstr(conn->transcript, "\r\nBYE ") != NULL,
			      "no reply to AUTHENTICATE");
		reply = strdup(strstr(conn->transcript, "\r\nBYE ") + 2);
		*strstr(reply, "\r\n") = '\0';
	}
	free(cmd);
	free(b64);
	return reply;
}

typedef char *login_func_t(struct imap_conn *, const struct dc_server *,
			   const char *);

static const struct {
	const char *name;
	login_func_t *login;
} protocols[] = {
	{ "pop3", pop3_login },
	{ "submission", submission_login },
	{ "sieve", sieve_login },
};

/* Users without host, and a suggest-mode user (no referral outside IMAP):
   A answers exactly as stock does. */
static const char *const same_as_stock_users[] = {
	"local", "disabled", "nosuchuser", "suggest",
};

START_TEST(test_same_replies_as_stock)
{
	unsigned int p = _i / 4;
	const char *user = same_as_stock_users[_i % 4];
	struct imap_conn conn_a, conn_stock;
	char *reply_a, *reply_stock;

	reply_a = protocols[p].login(&conn_a, &e2e.a, user);
	reply_stock = protocols[p].login(&conn_stock, &e2e.stock, user);
	ck_assert_str_eq(conn_a.transcript, conn_stock.transcript);
	ck_assert_str_eq(reply_a, reply_stock);
	imap_disconnect(&conn_a);
	imap_disconnect(&conn_stock);
	free(reply_a);
	free(reply_stock);
}
END_TEST

/* A nologin user's reply in protocol p (0: POP3, 1: Submission), and that
   nothing more came: the connection stays quiet and usable. */
static char *text_nologin_reply(unsigned int p, const struct dc_server *srv,
				const char *user, struct imap_conn *conn)
{
	char *reply = protocols[p].login(conn, srv, user);

	ck_assert(imap_is_silent(conn, 300));
	ck_assert_ptr_null(strstr(conn->transcript, "\r\n* BYE injected"));
	ck_assert_ptr_null(strstr(conn->transcript, "\r\nx NO fake"));
	return reply;
}

START_TEST(test_text_protocols_nologin)
{
	/* POP3 and Submission: Dovecot's reply, made safe. 2.3 answers
	   with the reason; 2.4 with a redirect naming the target, which in
	   POP3 keeps the reason and in Submission cannot. */
	static const char *const custom_24[] = {
		"-ERR [REFERRAL/bob%40example.com@imap2.example.com:1143] "
		"Your mailbox moved to imap2.",
		"550 5.2.900 bob%40example.com@imap2.example.com:1143 Referral",
	};
	/* around "inject@<B's host:port>" */
	static const char *const inject_24[][2] = {
		{ "-ERR [REFERRAL/", "] Moved.  * BYE injected  x NO fake" },
		{ "550 5.2.900 ", " Referral" },
	};
	struct imap_conn conn_a, conn_stock;
	char *reply_a, *reply_stock, *expected;

	reply_a = text_nologin_reply(_i, &e2e.a, "custom", &conn_a);
	if (dc_syntax_24()) {
		ck_assert_str_eq(reply_a, custom_24[_i]);
	} else {
		/* the same as stock for a harmless reason */
		reply_stock = protocols[_i].login(&conn_stock, &e2e.stock,
						  "custom");
		ck_assert_str_eq(reply_a, reply_stock);
		ck_assert(strstr(reply_a, "Your mailbox moved to imap2.") !=
			  NULL);
		free(reply_stock);
		imap_disconnect(&conn_stock);
	}
	free(reply_a);
	imap_disconnect(&conn_a);

	/* a hostile reason: one line, nothing injected */
	reply_a = text_nologin_reply(_i, &e2e.a, "inject", &conn_a);
	if (dc_syntax_24()) {
		expected = harness_printf("%sinject@%s%s", inject_24[_i][0],
					  e2e_b_hostport(), inject_24[_i][1]);
		ck_assert_str_eq(reply_a, expected);
		free(expected);
	} else {
		ck_assert_msg(strstr(reply_a, "Moved.  * BYE injected  x NO "
				     "fake") != NULL, "got: %s", reply_a);
	}
	free(reply_a);
	imap_disconnect(&conn_a);
}
END_TEST

/* 2.4 names the target in POP3 and Submission: an invalid one is refused
   as in IMAP, with a temporary failure and the plugin's log line; the
   empty host and the port that is no number Dovecot itself cannot parse.
   2.3 names no target: the reply stays Dovecot's, and the log says what
   is wrong with the target all the same. */
static const char *const text_invalid_users[] = {
	"badhost", "badport", "emptyhost",
};

START_TEST(test_text_protocols_invalid_target)
{
	static const char *const unavailable[] = {
		"-ERR [SYS/TEMP] " UNAVAILABLE_TEXT,
		"454 4.7.0 " UNAVAILABLE_TEXT,
	};
	unsigned int n = sizeof(text_invalid_users) /
		sizeof(text_invalid_users[0]);
	unsigned int p = _i / n;
	const char *user = text_invalid_users[_i % n];
	struct imap_conn conn;
	char *reply, *log, *who;

	reply = text_nologin_reply(p, &e2e.a, user, &conn);
	if (dc_syntax_24()) {
		ck_assert_str_eq(reply, unavailable[p]);
	} else {
		struct imap_conn conn_stock;
		char *reply_stock = protocols[p].login(&conn_stock,
						       &e2e.stock, user);

		ck_assert_str_eq(reply, reply_stock);
		free(reply_stock);
		imap_disconnect(&conn_stock);
	}
	log = harness_printf("%s-login: Error: Referral refused: ",
			     protocols[p].name);
	who = harness_printf("user=<%s>", user);
	ck_assert_msg(dc_server_log_wait_line(&e2e.a, log, who),
		      "no '%s' for %s", log, who);
	free(log);
	free(who);
	free(reply);
	imap_disconnect(&conn);
}
END_TEST

START_TEST(test_text_protocols_suggest_logs_in)
{
	struct imap_conn conn;
	char *reply = protocols[_i].login(&conn, &e2e.a, "suggest");

	ck_assert_msg(harness_starts_with(reply, "+OK Logged in") ||
		      harness_starts_with(reply, "235 "), "got: %s", reply);
	free(reply);
	imap_disconnect(&conn);
}
END_TEST

static const struct {
	const char *user, *reply;
} sieve_referrals[] = {
	{ "sievemoved", "BYE (REFERRAL \"sieve://" E2E_SIEVE_IP "\") "
	  "\"Your mailbox has moved. Please change your mail account's "
	  "ManageSieve server to " E2E_SIEVE_IP ".\"" },
	{ "sieveport", "BYE (REFERRAL \"sieve://bob%40example.com@"
	  "imap2.example.com:4191\") \"Use \\\"imap2\\\" \\\\ now.\"" },
	/* destuser equal to the login user: no user part */
	{ "sievesame", "BYE (REFERRAL \"sieve://[2001:db8::1]\") "
	  "\"Your mailbox has moved. Please change your mail account's "
	  "ManageSieve server to 2001:db8::1.\"" },
};

START_TEST(test_sieve_referral)
{
	struct imap_conn conn;
	char *reply = sieve_login(&conn, &e2e.a, sieve_referrals[_i].user);

	ck_assert_str_eq(reply, sieve_referrals[_i].reply);
	/* and the connection is closed */
	ck_assert_ptr_null(imap_read_line(&conn));
	free(reply);
	imap_disconnect(&conn);
}
END_TEST

START_TEST(test_sieve_reason_injection)
{
	struct imap_conn conn;
	char *reply = sieve_login(&conn, &e2e.a, "inject");
	char *expected = harness_printf("BYE (REFERRAL \"sieve://" IP ":%s\") "
		"\"Moved.  * BYE injected  x NO fake\"", e2e.port_b);

	ck_assert_str_eq(reply, expected);
	ck_assert_ptr_null(imap_read_line(&conn));
	ck_assert_ptr_null(strstr(conn.transcript, "\r\n* BYE injected"));
	free(reply);
	free(expected);
	imap_disconnect(&conn);
}
END_TEST

/* A target refused: an invalid port, and (for ManageSieve only) A's own
   ManageSieve listener, a loop. */
START_TEST(test_sieve_invalid_target)
{
	const char *user = _i == 0 ? "badport" : "sieveself";
	char *refusal = _i == 0 ?
		strdup("Referral refused: Invalid port field 'abc'") :
		harness_printf("Referral refused: Referral to " IP " port %s "
			       "loops back to this server", e2e.port_a_sieve);
	struct imap_conn conn;
	char *reply = sieve_login(&conn, &e2e.a, user);

	ck_assert_str_eq(reply, "NO \"" UNAVAILABLE_TEXT "\"");
	ck_assert_ptr_null(strstr(conn.transcript, "REFERRAL"));
	ck_assert_msg(dc_server_log_wait_line(&e2e.a, refusal, user),
		      "A never logged: %s", refusal);
	free(refusal);
	free(reply);
	/* the connection stays usable */
	reply = e2e_command(&conn, "LOGOUT", "OK", "NO");
	ck_assert_ptr_nonnull(reply);
	free(reply);
	imap_disconnect(&conn);
}
END_TEST

START_TEST(test_sieve_suggest_logs_in)
{
	struct imap_conn conn;
	char *reply = sieve_login(&conn, &e2e.a, "suggest");

	ck_assert_str_eq(reply, "OK \"Logged in.\"");
	ck_assert_ptr_null(strstr(conn.transcript, "REFERRAL"));
	free(reply);
	imap_disconnect(&conn);
}
END_TEST

START_TEST(test_net_sieve_follows_referral)
{
	char *cmd = harness_printf("php %s/netsieve-follow.php " IP " %u "
				   "sievemoved " E2E_PASSWORD " 2>&1",
				   TOP_SRCDIR "/tests", e2e.a.sieve_port);
	int status;
	char *out = harness_run_output(cmd, &status);

	ck_assert_msg(status == 0, "Net_Sieve failed:\n%s", out);
	ck_assert(strstr(out, "S: BYE (REFERRAL \"sieve://" E2E_SIEVE_IP
			 "\")") != NULL);
	ck_assert(strstr(out, "logged in at: " E2E_SIEVE_IP "\n") != NULL);
	ck_assert(strstr(out, "scripts: on-server-b\n") != NULL);
	ck_assert(dc_server_log_wait_login(&e2e.sieve, "user=<sievemoved>"));
	free(out);
	free(cmd);
}
END_TEST

/* ---- the log lines of a referral ---- */

/* The lines of srv's log that contain both needles: how many, and the
   last one (malloc()ed) in *last_r when there is one. */
static unsigned int log_lines(const struct dc_server *srv, const char *needle1,
			      const char *needle2, char **last_r)
{
	char *log = harness_read_file(srv->log_path);
	char *line, *save = NULL;
	unsigned int count = 0;

	*last_r = NULL;
	for (line = strtok_r(log, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, needle1) == NULL ||
		    strstr(line, needle2) == NULL)
			continue;
		count++;
		free(*last_r);
		*last_r = strdup(line);
	}
	free(log);
	return count;
}

/* Wait (as dc_server_log_wait) for more than count lines with both
   needles, and return the last. */
static char *log_wait_new_line(const struct dc_server *srv,
			       const char *needle1, const char *needle2,
			       unsigned int count)
{
	unsigned int waited;
	char *line;

	for (waited = 0; waited < 5000; waited += 50) {
		if (log_lines(srv, needle1, needle2, &line) > count)
			return line;
		free(line);
		harness_msleep(50);
	}
	return NULL;
}

/* "session=<...>" of a log line, the key to the login's other lines */
static char *log_session(const char *line)
{
	const char *start = strstr(line, "session=<");
	const char *end = start == NULL ? NULL : strchr(start, '>');

	ck_assert_msg(end != NULL, "no session in: %s", line);
	return strndup(start, end - start + 1);
}

/* Log in as a nologin user and end the connection the way a client
   does after the reply: IMAP and ManageSieve close it themselves, POP3
   and Submission clients quit. */
static void nologin_imap(const struct dc_server *srv, const char *user)
{
	struct imap_conn conn;
	char *cmd = harness_printf("LOGIN %s " E2E_PASSWORD, user);
	char *reply;

	ck_assert(imap_connect(&conn, srv->name, IP, srv->imap_port));
	reply = imap_command(&conn, "b", cmd);
	ck_assert_msg(reply != NULL && harness_starts_with(reply, "b NO "),
		      "got: %s", reply);
	ck_assert(imap_is_closed(&conn, 2000));
	free(reply);
	free(cmd);
	imap_disconnect(&conn);
}

static void nologin_sieve(const struct dc_server *srv, const char *user)
{
	struct imap_conn conn;
	char *reply = sieve_login(&conn, srv, user);

	ck_assert_msg(harness_starts_with(reply, "BYE (REFERRAL "),
		      "got: %s", reply);
	ck_assert_ptr_null(imap_read_line(&conn));
	free(reply);
	imap_disconnect(&conn);
}

static void nologin_text_quit(struct imap_conn *conn, char *reply,
			      const char *quit_ok)
{
	ck_assert_msg(!harness_starts_with(reply, "+OK") &&
		      !harness_starts_with(reply, "235 "), "got: %s", reply);
	free(reply);
	reply = e2e_command(conn, "QUIT", quit_ok, NULL);
	ck_assert_ptr_nonnull(reply);
	ck_assert_ptr_null(imap_read_line(conn));
	free(reply);
	imap_disconnect(conn);
}

static void nologin_pop3(const struct dc_server *srv, const char *user)
{
	struct imap_conn conn;

	nologin_text_quit(&conn, pop3_login(&conn, srv, user), "+OK");
}

static void nologin_submission(const struct dc_server *srv, const char *user)
{
	struct imap_conn conn;

	nologin_text_quit(&conn, submission_login(&conn, srv, user), "221 ");
}

/* One info line says where the user was sent: the URL for IMAP and
   ManageSieve, the target a redirect names for POP3 and Submission
   (which on 2.3 only send the reason). The disconnect line of the same
   session says why the connection ended, never "internal failure", which
   is what Dovecot 2.3 says without the plugin. */
static const struct {
	const char *process, *user;
	void (*login)(const struct dc_server *srv, const char *user);
	/* the target named; with at_b, B's host:port and "/" follow */
	const char *target;
	bool at_b;
	/* the disconnect line's words on 2.3 and 2.4 */
	const char *end_23, *end_24;
} log_cases[] = {
	{ "imap-login", "moved", nologin_imap,
	  "imap://moved@", true,
	  "Info: Disconnected: Referred to another server: user=<moved>",
	  "Info: Login aborted: Referred to another server "
	  "(auth referral, 1/1 successful auths" },
	{ "managesieve-login", "sievemoved", nologin_sieve,
	  "sieve://" E2E_SIEVE_IP, false,
	  "Info: Disconnected: Referred to sieve://" E2E_SIEVE_IP
	  ": user=<sievemoved>",
	  "Info: Login aborted: Referred to sieve://" E2E_SIEVE_IP
	  " (auth referral, 1/1 successful auths" },
	{ "pop3-login", "custom", nologin_pop3,
	  "bob%40example.com@imap2.example.com:1143", false,
	  "Info: Disconnected: Aborted login by logging out: user=<custom>",
	  "Info: Login aborted: Logged out "
	  "(auth referral, 1/1 successful auths" },
	{ "submission-login", "custom", nologin_submission,
	  "bob%40example.com@imap2.example.com:1143", false,
	  "Info: Disconnected: Aborted login by logging out: user=<custom>",
	  "Info: Login aborted: Logged out "
	  "(auth referral, 1/1 successful auths" },
};

START_TEST(test_nologin_log_lines)
{
	char *sent, *who, *line, *target, *session, *end;
	unsigned int count;

	sent = harness_printf("%s: Info: Referral sent (nologin): ",
			      log_cases[_i].process);
	who = harness_printf("user=<%s>", log_cases[_i].user);
	count = log_lines(&e2e.a, sent, who, &line);
	free(line);
	log_cases[_i].login(&e2e.a, log_cases[_i].user);

	line = log_wait_new_line(&e2e.a, sent, who, count);
	ck_assert_msg(line != NULL, "no '%s' for %s", sent, who);
	target = harness_printf("%s%s%s", log_cases[_i].target,
				log_cases[_i].at_b ? e2e_b_hostport() : "",
				log_cases[_i].at_b ? "/" : "");
	free(sent);
	sent = harness_printf("%s: Info: Referral sent (nologin): %s: %s,",
			      log_cases[_i].process, target, who);
	ck_assert_msg(strstr(line, sent) != NULL, "expected '%s' in: %s",
		      sent, line);

	session = log_session(line);
	free(line);
	end = harness_printf("%s: %s", log_cases[_i].process,
			     dc_syntax_24() ? log_cases[_i].end_24 :
			     log_cases[_i].end_23);
	ck_assert_msg(dc_server_log_wait_line(&e2e.a, end, session),
		      "no '%s' for %s", end, session);
	ck_assert(log_lines(&e2e.a, "internal failure", session, &line) == 0);
	free(line);
	/* exactly one referral line for the login */
	ck_assert(log_lines(&e2e.a, "Referral sent", session, &line) == 1);
	free(line);
	ck_assert(log_lines(&e2e.a, "Referral refused", session, &line) == 0);
	free(line);

	free(end);
	free(session);
	free(target);
	free(sent);
	free(who);
}
END_TEST

/* What the plugin fixes: without it, Dovecot 2.3 calls a nologin POP3 or
   Submission login it ended an internal failure, and logs no referral. */
START_TEST(test_stock_nologin_log_lines)
{
	unsigned int c = 2 + _i;
	char *needle, *who, *line, *session;
	unsigned int count;

	needle = harness_printf("%s: Info: ", log_cases[c].process);
	who = harness_printf("user=<%s>", log_cases[c].user);
	count = log_lines(&e2e.stock, needle, who, &line);
	free(line);
	log_cases[c].login(&e2e.stock, log_cases[c].user);

	line = log_wait_new_line(&e2e.stock, needle, who, count);
	ck_assert_msg(line != NULL, "no '%s' for %s", needle, who);
	session = log_session(line);
	ck_assert_msg(strstr(line, "Aborted login by logging out "
			     "(internal failure, 1 successful auths)") != NULL,
		      "stock logged: %s", line);
	free(line);
	ck_assert(log_lines(&e2e.stock, "Referral sent", session, &line) == 0);
	free(line);
	free(session);
	free(needle);
	free(who);
}
END_TEST

START_TEST(test_logs_clean)
{
	ck_assert(dc_server_log_wait(&e2e.a, "Referral sent (nologin): "
				     "sieve://" E2E_SIEVE_IP ":"));
	e2e_assert_logs_clean();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-protocols");
	TCase *tc = tcase_create("protocols");

	tcase_add_unchecked_fixture(tc, e2e_servers_setup, e2e_servers_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_same_replies_as_stock, 0, 3 * 4);
	tcase_add_loop_test(tc, test_text_protocols_nologin, 0, 2);
	tcase_add_loop_test(tc, test_text_protocols_invalid_target, 0,
		2 * sizeof(text_invalid_users) / sizeof(text_invalid_users[0]));
	tcase_add_loop_test(tc, test_text_protocols_suggest_logs_in, 0, 2);
	tcase_add_loop_test(tc, test_sieve_referral, 0,
			    sizeof(sieve_referrals) / sizeof(sieve_referrals[0]));
	tcase_add_test(tc, test_sieve_reason_injection);
	tcase_add_loop_test(tc, test_sieve_invalid_target, 0, 2);
	tcase_add_test(tc, test_sieve_suggest_logs_in);
	tcase_add_test(tc, test_net_sieve_follows_referral);
	tcase_add_loop_test(tc, test_nologin_log_lines, 0,
			    sizeof(log_cases) / sizeof(log_cases[0]));
	if (!dc_syntax_24())
		tcase_add_loop_test(tc, test_stock_nologin_log_lines, 0, 2);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
