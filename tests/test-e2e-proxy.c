/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* End to end, proxying with referral=suggest: A proxies the login to B as
   Dovecot does without the field, and the client's tagged OK carries the
   referral to B, with B's capabilities in an untagged CAPABILITY line
   just before (and an ALERT before that with referral_alert). The
   session goes on through the proxy. Compared with server "stock" (A
   without the plugin), which proxies the same users to B: the same
   transcript but for those lines, and byte for byte the same one for
   proxy alone, an empty referral field and an invalid one (which A
   logs). */

#define _GNU_SOURCE
#include "e2e-servers.h"

#include "e2e-run.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOCK_OK_PREFIX "b OK [CAPABILITY "
#define STOCK_OK_SUFFIX "] Logged in"

/* The proxied session after the login, the same on every server. */
static const char *const session_commands[] = {
	"c NOOP", "d SELECT INBOX", "e LIST \"\" *", "f LOGOUT",
};
#define SESSION_COUNT (sizeof(session_commands) / sizeof(session_commands[0]))

/* Log in as user on port with login_command ("LOGIN" or "AUTHENTICATE"),
   then run the session; returns the transcript with the timings
   blanked. */
static char *proxied_session(const char *name, in_port_t port,
			     const char *user, bool authenticate,
			     bool capability_first)
{
	struct imap_conn conn;
	char *cmd, *out;
	unsigned int i;

	ck_assert(imap_connect(&conn, name, E2E_IP, port));
	if (capability_first)
		free(imap_command(&conn, "a", "CAPABILITY"));
	cmd = authenticate ? imap_authenticate_plain_cmd(user, E2E_PASSWORD) :
		harness_printf("LOGIN %s %s", user, E2E_PASSWORD);
	free(imap_command(&conn, "b", cmd));
	free(cmd);
	for (i = 0; i < SESSION_COUNT; i++) {
		char tag[2] = { session_commands[i][0], '\0' };

		ck_assert(imap_send_line(&conn, session_commands[i]));
		free(imap_read_tagged(&conn, tag));
	}
	out = imap_blank_timings(conn.transcript);
	imap_disconnect(&conn);
	return out;
}

/* What A must send in place of stock's "b OK [CAPABILITY <caps>] Logged
   in" line: the same transcript otherwise. */
static char *expected_from_stock(const char *stock, const char *user,
				 const char *auth, bool alert)
{
	const char *start = strstr(stock, "\r\n" STOCK_OK_PREFIX);
	const char *caps, *end;
	const char *reason = e2e_b_default_reason(true);
	char *out;

	ck_assert_msg(start != NULL, "no proxied OK in: %s", stock);
	start += 2;
	caps = start + strlen(STOCK_OK_PREFIX);
	end = strstr(caps, STOCK_OK_SUFFIX "\r\n");
	ck_assert_ptr_nonnull(end);
	out = harness_printf("%.*s%s%s%s* CAPABILITY %.*s\r\n"
		"b OK [REFERRAL imap://%s%s@%s/] %s\r\n%s",
		(int)(start - stock), stock,
		alert ? "* OK [ALERT] " : "", alert ? reason : "",
		alert ? "\r\n" : "", (int)(end - caps), caps,
		user, auth, e2e_b_hostport(), reason,
		end + strlen(STOCK_OK_SUFFIX "\r\n"));
	return out;
}

static const struct {
	const char *user;
	bool authenticate, alert;
} suggest_cases[] = {
	{ "proxysuggest", false, false },
	{ "proxysuggest", true, false },
	{ "proxyalert", false, true },
	{ "proxyalert", true, true },
};

START_TEST(test_proxy_suggest)
{
	const char *user = suggest_cases[_i].user;
	bool authenticate = suggest_cases[_i].authenticate;
	char *a = proxied_session("A", e2e.a.imap_port, user, authenticate,
				  false);
	char *stock = proxied_session("stock", e2e.stock.imap_port, user,
				      authenticate, false);
	char *expected = expected_from_stock(stock, user,
		authenticate ? ";AUTH=PLAIN" : "", suggest_cases[_i].alert);
	char *sent = harness_printf("Referral sent (proxy): imap://%s%s@%s/",
		user, authenticate ? ";AUTH=PLAIN" : "", e2e_b_hostport());

	ck_assert_str_eq(a, expected);
	/* the session really went through B, and the SELECT saw B's INBOX */
	ck_assert(strstr(a, "\r\nd OK [READ-WRITE] Select completed") != NULL);
	ck_assert(dc_server_log_wait(&e2e.a, sent));
	free(sent);
	sent = harness_printf("proxy(%s,127.0.0.1:", user);
	ck_assert(dc_server_log_wait(&e2e.a, sent));
	free(sent);
	free(expected);
	free(stock);
	free(a);
}
END_TEST

/* A client that asked CAPABILITY before logging in gets, from stock, B's
   capabilities untagged and "b OK Logged in": from A the same, the OK
   with the referral. */
START_TEST(test_proxy_suggest_after_capability_command)
{
	char *a = proxied_session("A", e2e.a.imap_port, "proxysuggest", false,
				  true);
	char *stock = proxied_session("stock", e2e.stock.imap_port,
				      "proxysuggest", false, true);
	const char *ok = strstr(stock, "\r\nb OK Logged in\r\n");
	char *expected;

	ck_assert_msg(ok != NULL, "no untagged-capability login in: %s", stock);
	ck_assert(strstr(stock, "\r\n* CAPABILITY IMAP4rev1 ") < ok);
	expected = harness_printf("%.*s\r\nb OK [REFERRAL imap://proxysuggest@"
		"%s/] %s\r\n%s", (int)(ok - stock), stock,
		e2e_b_hostport(), e2e_b_default_reason(true),
		ok + strlen("\r\nb OK Logged in\r\n"));
	ck_assert_str_eq(a, expected);
	free(expected);
	free(stock);
	free(a);
}
END_TEST

/* After "b LOGIN ...", "c NOOP", "d SELECT INBOX" and "e LOGOUT" in one
   packet: one tagged reply each, in order, the login's with the
   referral, B's capabilities untagged before it. */
START_TEST(test_proxy_suggest_pipelined)
{
	struct imap_conn conn;
	char *line, *tagged[4], *expected;
	unsigned int count = 0;
	const char *capability, *login_ok;

	expected = harness_printf("b OK [REFERRAL imap://proxysuggest@%s/] "
		"%s", e2e_b_hostport(), e2e_b_default_reason(true));
	ck_assert(imap_connect(&conn, "A", E2E_IP, e2e.a.imap_port));
	ck_assert(imap_send_raw(&conn, "b LOGIN proxysuggest " E2E_PASSWORD
		"\r\nc NOOP\r\nd SELECT INBOX\r\ne LOGOUT\r\n"));
	while ((line = imap_read_line(&conn)) != NULL) {
		if (line[0] != '*') {
			ck_assert_msg(count < 4, "extra line: %s", line);
			tagged[count++] = line;
		} else {
			free(line);
		}
	}
	ck_assert_uint_eq(count, 4);
	ck_assert_str_eq(tagged[0], expected);
	e2e_assert_starts(tagged[1], "c OK NOOP completed");
	e2e_assert_starts(tagged[2], "d OK [READ-WRITE] Select completed");
	e2e_assert_starts(tagged[3], "e OK Logout completed");
	capability = strstr(conn.transcript, "\r\n* CAPABILITY IMAP4rev1 ");
	login_ok = strstr(conn.transcript, "\r\nb OK ");
	ck_assert_ptr_nonnull(capability);
	ck_assert(capability < login_ok);
	ck_assert_ptr_null(strstr(conn.transcript, "\r\n" STOCK_OK_PREFIX));
	imap_disconnect(&conn);
	while (count > 0)
		free(tagged[--count]);
	free(expected);
}
END_TEST

/* proxy alone, an empty referral field (an SQL column left empty), an
   invalid one, and referral=suggest with an IPv6 host, which no IMAP
   referral can carry: A's transcript is stock's, byte for byte (timings
   aside) */
static const char *const same_as_stock_users[] = {
	"proxied", "proxyemptymode", "proxybadmode", "v6proxy",
};

START_TEST(test_proxy_without_suggest_same_as_stock)
{
	const char *user = same_as_stock_users[_i];
	char *a = proxied_session("A", e2e.a.imap_port, user, false, false);
	char *stock = proxied_session("stock", e2e.stock.imap_port, user,
				      false, false);

	ck_assert_str_eq(a, stock);
	ck_assert(strstr(a, "\r\n" STOCK_OK_PREFIX) != NULL);
	ck_assert_ptr_null(strstr(a, "[REFERRAL"));
	free(stock);
	free(a);
}
END_TEST

START_TEST(test_proxy_invalid_mode_logged)
{
	/* the value escaped, so it cannot forge a log line */
	ck_assert(dc_server_log_wait(&e2e.a, "user=<proxybadmode>"));
	ck_assert(dc_server_log_wait_line(&e2e.a, "Referral refused: Invalid "
		"referral 'nologin\\x0d\\x0a': only 'suggest' is known",
		"user=<proxybadmode>"));
	ck_assert(!dc_server_log_has(&e2e.a,
		"Referral sent (proxy): imap://proxybadmode"));
	ck_assert(!dc_server_log_has(&e2e.a,
		"Referral sent (proxy): imap://proxied"));
	ck_assert(!dc_server_log_has(&e2e.a,
		"Referral sent (proxy): imap://proxyemptymode"));
	ck_assert(dc_server_log_wait_line(&e2e.a, "Referral refused: Invalid "
		"host field '::ffff:127.0.0.1': an IPv6 address cannot go into "
		"an IMAP referral (clients end the response code at its ']'): "
		"use a DNS name for this server", "user=<v6proxy>"));
	ck_assert(!dc_server_log_has(&e2e.a,
		"Referral sent (proxy): imap://v6proxy"));
}
END_TEST

START_TEST(test_logs_clean)
{
	e2e_assert_logs_clean();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-proxy");
	TCase *tc = tcase_create("proxy");

	tcase_add_unchecked_fixture(tc, e2e_servers_setup, e2e_servers_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_proxy_suggest, 0,
			    sizeof(suggest_cases) / sizeof(suggest_cases[0]));
	tcase_add_test(tc, test_proxy_suggest_after_capability_command);
	tcase_add_test(tc, test_proxy_suggest_pipelined);
	tcase_add_loop_test(tc, test_proxy_without_suggest_same_as_stock, 0,
			    sizeof(same_as_stock_users) /
			    sizeof(same_as_stock_users[0]));
	tcase_add_test(tc, test_proxy_invalid_mode_logged);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
