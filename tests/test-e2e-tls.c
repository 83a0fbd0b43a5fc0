/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* End to end over TLS, as servers really run: a throwaway self-signed
   certificate, "ssl = required", no cleartext authentication, and an
   imaps listener. Over implicit TLS and over STARTTLS: a nologin
   referral, a suggest-mode login, and a suggest-mode login with NOOP and
   LOGOUT pipelined behind it in one TLS write, many times, whose replies
   must come in order (doc/design.md, "With TLS": the post-login process
   writes through imap-login's TLS relay, after our tagged OK). The same
   for a login that A proxies to server B with referral=suggest. And a
   ManageSieve referral after STARTTLS. The clients connect from an
   address of their own: Dovecot takes a connection from its own address
   for a secured one, and would let cleartext logins through. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-imap.h"
#include "harness-passdb.h"
#include "harness-tls.h"
#include "harness-version.h"

#include "e2e-run.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IP "127.0.0.1"
#define CLIENT_IP "127.0.0.9"
#define PASSWORD "Pw-tls-4vX"
#define PIPELINED_ROUNDS 20

#define NOLOGIN_URL "imap://moved@imap2.example.com/"
#define SUGGEST_URL "imap://suggest@imap2.example.com/"
/* the plugin's default reasons for imap2.example.com */
#define NOLOGIN_REASON "Your mailbox has moved. Please change your mail " \
	"account's IMAP server to imap2.example.com."
#define SUGGEST_REASON "Logged in, but your mailbox has moved. Please " \
	"change your mail account's IMAP server to imap2.example.com."
/* B's address and port are known at run time */
#define PROXY_URL "imap://proxysuggest@" IP ":"
#define PROXY_OK "b OK [REFERRAL " PROXY_URL "%s/] Logged in, but your " \
	"mailbox has moved. Please change your mail account's IMAP server " \
	"to " IP " (port %s)."

static char *root;
/* B: the proxy's backend, cleartext on loopback */
static struct dc_server a, b;
static in_port_t imaps_port;
static char port_b[8];
/* the tagged OK of a login proxied to B with referral=suggest */
static char *proxy_ok;

static void setup(void)
{
	char *passdb_b;

	dc_server_init(&b, root = harness_make_root("referral-tls"), "b");
	snprintf(port_b, sizeof(port_b), "%u", b.imap_port);
	const struct passdb_user users[] = {
		{ .user = "local", .password = "{PLAIN}" PASSWORD },
		{ .user = "moved", .password = "{PLAIN}" PASSWORD,
		  .host = "imap2.example.com", .nologin = "Y" },
		{ .user = "suggest", .password = "{PLAIN}" PASSWORD,
		  .host = "imap2.example.com" },
		{ .user = "sievemoved", .password = "{PLAIN}" PASSWORD,
		  .host = "imap2.example.com", .nologin = "Y" },
		{ .user = "proxysuggest", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b, .proxy = "Y", .pass = PASSWORD,
		  .referral = "suggest" },
	};
	char *db, *passdb, *plugins, *tls, *conf;

	db = harness_printf("%s/users.db", root);
	passdb_create(db, users, sizeof(users) / sizeof(users[0]));
	passdb_b = passdb_sql_block(db, "b", PASSDB_QUERY_PLAIN);
	dc_server_start(&b, passdb_b);
	free(passdb_b);
	proxy_ok = harness_printf(PROXY_OK, port_b, port_b);
	passdb = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);

	dc_server_init(&a, root, "a");
	a.protocols = "imap sieve";
	imaps_port = harness_free_port();
	tls = tls_server_config(a.dir, true, imaps_port);
	conf = harness_printf("%s%s%s", tls, plugins, passdb);
	dc_server_start(&a, conf);

	free(conf);
	free(tls);
	free(plugins);
	free(passdb);
	free(db);
}

static void teardown(void)
{
	dc_server_stop(&a);
	dc_server_stop(&b);
	harness_remove_root(root);
	free(proxy_ok);
}

enum tls_mode { MODE_IMAPS, MODE_STARTTLS };
static const char *const mode_names[] = { "imaps", "STARTTLS" };

/* The next line from the server is expected, exactly. */
static void assert_next_line(struct tls_conn *conn, const char *expected)
{
	char *line = tls_read_line(conn);

	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, expected);
	free(line);
}

/* Connect to A's IMAP over TLS, the greeting read (and STARTTLS done). */
static void imap_tls_connect(struct tls_conn *conn, enum tls_mode mode)
{
	char *line;

	if (mode == MODE_IMAPS) {
		ck_assert(tls_connect(conn, "imaps", CLIENT_IP, IP,
				      imaps_port, true));
		line = tls_read_line(conn);
		ck_assert_ptr_nonnull(line);
		e2e_assert_starts(line, "* OK ");
		free(line);
		return;
	}
	ck_assert(tls_connect(conn, "starttls", CLIENT_IP, IP, a.imap_port,
			      false));
	line = tls_read_line(conn);
	ck_assert_ptr_nonnull(line);
	/* cleartext logins are refused: the pre-login capability says so */
	ck_assert_msg(strstr(line, " STARTTLS") != NULL &&
		      strstr(line, " LOGINDISABLED") != NULL, "greeting: %s",
		      line);
	free(line);
	line = tls_command(conn, "a", "STARTTLS");
	ck_assert_ptr_nonnull(line);
	e2e_assert_starts(line, "a OK ");
	free(line);
	ck_assert(tls_start(conn));
}

/* The server really refuses cleartext logins from this address, so the
   tests below log in over TLS because they must. */
START_TEST(test_cleartext_login_refused)
{
	struct tls_conn conn;
	char *reply;

	ck_assert(tls_connect(&conn, "cleartext", CLIENT_IP, IP, a.imap_port,
			      false));
	free(tls_read_line(&conn));
	reply = tls_command(&conn, "b", "LOGIN moved " PASSWORD);
	ck_assert_ptr_nonnull(reply);
	e2e_assert_starts(reply, "b NO [PRIVACYREQUIRED] ");
	ck_assert_ptr_null(strstr(conn.transcript, "[REFERRAL"));
	free(reply);
	tls_disconnect(&conn);
}
END_TEST

START_TEST(test_nologin_referral)
{
	struct tls_conn conn;

	imap_tls_connect(&conn, _i);
	ck_assert(tls_send_line(&conn, "b LOGIN moved " PASSWORD));
	assert_next_line(&conn, "* OK [ALERT] " NOLOGIN_REASON);
	assert_next_line(&conn, "* BYE " NOLOGIN_REASON);
	assert_next_line(&conn, "b NO [REFERRAL " NOLOGIN_URL "] "
			 NOLOGIN_REASON);
	ck_assert(tls_is_closed(&conn, 2000));
	tls_disconnect(&conn);
}
END_TEST

START_TEST(test_suggest_login)
{
	struct tls_conn conn;
	char *line;

	imap_tls_connect(&conn, _i);
	ck_assert(tls_send_line(&conn, "b LOGIN suggest " PASSWORD));
	assert_next_line(&conn, "b OK [REFERRAL " SUGGEST_URL "] "
			 SUGGEST_REASON);
	line = tls_read_line(&conn);
	ck_assert_ptr_nonnull(line);
	e2e_assert_starts(line, "* OK [CAPABILITY IMAP4rev1 ");
	free(line);
	/* logged in here, over the relay of imap-login */
	line = tls_command(&conn, "c", "SELECT INBOX");
	ck_assert_ptr_nonnull(line);
	e2e_assert_starts(line, "c OK ");
	free(line);
	line = tls_command(&conn, "d", "LOGOUT");
	ck_assert_ptr_nonnull(line);
	e2e_assert_starts(line, "d OK ");
	free(line);
	tls_disconnect(&conn);
}
END_TEST

/* b LOGIN, c NOOP and d LOGOUT in one TLS record: the tagged OK with the
   referral, the post-login capability, then the pipelined replies, in
   that order, and nothing else. */
static const char *const suggest_pipelined[] = {
	"b OK [REFERRAL " SUGGEST_URL "] " SUGGEST_REASON,
	"* OK [CAPABILITY IMAP4rev1 ",
	"c OK NOOP completed",
	"* BYE Logging out",
	"d OK Logout completed",
	NULL
};
/* The same through the proxy: B's capabilities untagged before the OK
   (proxy_ok, with B's port), and B's replies */
static const char *proxy_pipelined[] = {
	"* CAPABILITY IMAP4rev1 ",
	NULL,
	"c OK NOOP completed",
	"* BYE Logging out",
	"d OK Logout completed",
	NULL
};

static void pipelined_round(enum tls_mode mode, unsigned int round,
			    const char *user, const char *const *expected)
{
	struct tls_conn conn;
	unsigned int i;
	char *line, *login;

	imap_tls_connect(&conn, mode);
	login = harness_printf("b LOGIN %s " PASSWORD "\r\nc NOOP\r\n"
			       "d LOGOUT\r\n", user);
	ck_assert(tls_send_raw(&conn, login));
	free(login);
	for (i = 0; expected[i] != NULL; i++) {
		line = tls_read_line(&conn);
		ck_assert_msg(line != NULL, "%s round %u: closed before '%s'",
			      mode_names[mode], round, expected[i]);
		ck_assert_msg(harness_starts_with(line, expected[i]),
			      "%s round %u, line %u: expected '%s', got '%s'",
			      mode_names[mode], round, i + 1, expected[i],
			      line);
		free(line);
	}
	ck_assert(tls_is_closed(&conn, 2000));
	tls_disconnect(&conn);
}

START_TEST(test_suggest_pipelined_in_order)
{
	unsigned int round;

	for (round = 1; round <= PIPELINED_ROUNDS; round++)
		pipelined_round(_i, round, "suggest", suggest_pipelined);
}
END_TEST

START_TEST(test_proxy_suggest_pipelined_in_order)
{
	unsigned int round;

	proxy_pipelined[1] = proxy_ok;
	for (round = 1; round <= PIPELINED_ROUNDS; round++)
		pipelined_round(_i, round, "proxysuggest", proxy_pipelined);
}
END_TEST

START_TEST(test_sieve_referral_after_starttls)
{
	struct tls_conn conn;
	char *line, *auth, *cmd;

	ck_assert(tls_connect(&conn, "sieve", CLIENT_IP, IP, a.sieve_port,
			      false));
	line = tls_read_until(&conn, "OK");
	ck_assert_ptr_nonnull(line);
	free(line);
	ck_assert_ptr_nonnull(strstr(conn.transcript, "\"STARTTLS\""));
	ck_assert(tls_send_line(&conn, "STARTTLS"));
	line = tls_read_line(&conn);
	ck_assert_ptr_nonnull(line);
	e2e_assert_starts(line, "OK ");
	free(line);
	ck_assert(tls_start(&conn));
	/* RFC 5804: the capabilities again, now with the SASL mechanisms */
	line = tls_read_until(&conn, "OK");
	ck_assert_ptr_nonnull(line);
	free(line);
	ck_assert_ptr_nonnull(strstr(conn.transcript, "\"SASL\" \"PLAIN"));

	auth = imap_authenticate_plain_cmd("sievemoved", PASSWORD);
	cmd = harness_printf("AUTHENTICATE \"PLAIN\" \"%s\"",
			     strrchr(auth, ' ') + 1);
	ck_assert(tls_send_line(&conn, cmd));
	assert_next_line(&conn, "BYE (REFERRAL \"sieve://imap2.example.com\") "
			 "\"Your mailbox has moved. Please change your mail "
			 "account's ManageSieve server to imap2.example.com."
			 "\"");
	ck_assert(tls_is_closed(&conn, 2000));
	free(cmd);
	free(auth);
	tls_disconnect(&conn);
}
END_TEST

/* The server saw TLS sessions: its referral lines say so, and nothing
   went wrong. */
START_TEST(test_logs)
{
	char *errors;

	ck_assert(dc_server_log_wait_line(&a, "imap-login: Info: Referral sent "
					  "(login): " SUGGEST_URL, ", TLS,"));
	ck_assert(dc_server_log_wait_line(&a, "imap-login: Info: Referral sent "
					  "(nologin): " NOLOGIN_URL, ", TLS,"));
	ck_assert(dc_server_log_wait_line(&a, "imap-login: Info: Referral sent "
					  "(proxy): " PROXY_URL, ", TLS,"));
	ck_assert(dc_server_log_wait_line(&b, "imap-login: Info: ",
					  "user=<proxysuggest>"));
	ck_assert(dc_server_log_wait_line(&a, "managesieve-login: Info: "
					  "Referral sent (nologin): sieve://"
					  "imap2.example.com", ", TLS,"));
	ck_assert(!dc_server_log_has(&a, "Referral skipped"));
	ck_assert(!dc_server_log_has(&a, "Referral refused"));
	ck_assert(!dc_server_log_has(&a, PASSWORD));
	errors = dc_server_log_errors(&a);
	ck_assert_msg(errors == NULL, "server a logged:\n%s", errors);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-tls");
	TCase *tc = tcase_create("tls");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cleartext_login_refused);
	tcase_add_loop_test(tc, test_nologin_referral, MODE_IMAPS,
			    MODE_STARTTLS + 1);
	tcase_add_loop_test(tc, test_suggest_login, MODE_IMAPS,
			    MODE_STARTTLS + 1);
	tcase_add_loop_test(tc, test_suggest_pipelined_in_order, MODE_IMAPS,
			    MODE_STARTTLS + 1);
	tcase_add_loop_test(tc, test_proxy_suggest_pipelined_in_order,
			    MODE_IMAPS, MODE_STARTTLS + 1);
	tcase_add_test(tc, test_sieve_referral_after_starttls);
	tcase_add_test(tc, test_logs);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
