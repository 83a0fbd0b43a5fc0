/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* End to end, what newer upstream releases do differently around a
   referral (issue 23; README "Tested Dovecot versions"), on every
   version, so that a difference shows as a failure:

   - Behind a Dovecot proxy: 2.4.3 and later let a POP3 or Submission
     proxy tell the backend the address the client connected to (XCLIENT
     DESTADDR/DESTPORT, as IMAP's ID x-connected-ip always did), which
     then is the login's local address. A target that is the backend's
     own address must stay a loop all the same.
   - 2.4.2 and later reload the login settings after a successful
     authentication, and answer a failed reload with a temporary failure:
     that is Dovecot's answer, which the plugin must not turn into a
     referral (2.4 only: 2.3 has no such settings).
   - doveconf's handling of a setting name and a filter asked for together
     changed in 2.4.2 (upstream commit 4c08987357): "doveadm referral
     lookup" reads the listeners from "doveconf listen service/<name>"
     and must still find a listener's own address there. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-imap.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include "e2e-run.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IP "127.0.0.1"
#define PASSWORD "Upstream-pw3"
#define LOOP_TEXT "loops back to this server"

/* A's extra IMAP listener on an address of its own */
#define EXTRA_IP "127.0.0.3"

static char *root;
static in_port_t extra_port;
/* a: the backend with the plugin; proxy: a Dovecot proxy in front of it,
   without the plugin; stock: a's settings without the plugin */
static struct dc_server a, proxy, stock;

/* The users table of every server: the referral fields, and the field
   "rawlog" that the reload test's login setting reads. */
static const char schema[] =
	"CREATE TABLE users (userid TEXT PRIMARY KEY, password TEXT,"
	" host TEXT, port TEXT, nologin TEXT, proxy TEXT,"
	" rawlog TEXT);";
#define QUERY "SELECT userid AS user, password, host, port, nologin, " \
	"proxy, rawlog FROM users WHERE userid = '%u'"

/* A login setting whose value comes from the passdb: empty before
   authentication (no passdb fields yet), the user's "rawlog" field, hex
   decoded, after it. A value that is no hex makes the reload fail. */
#define RELOAD_SETTING \
	"login_proxy_rawlog_dir = %{passdb:rawlog | unhexlify}\n"

static void exec_rows(const char *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void exec_rows(const char *db, const char *fmt, ...)
{
	va_list args;
	char *sql;

	va_start(args, fmt);
	if (vasprintf(&sql, fmt, args) < 0)
		abort();
	va_end(args);
	passdb_exec_sql(db, sql);
	free(sql);
}

static void start(struct dc_server *srv, const char *db, const char *extra)
{
	char *passdb = passdb_sql_block(db, srv->name, QUERY);
	char *conf = harness_printf("%s%s", extra, passdb);

	dc_server_start(srv, conf);
	free(conf);
	free(passdb);
}

static void servers_setup(void)
{
	char *db_a, *db_proxy, *plugins, *conf;

	root = harness_make_root("referral-upstream");
	dc_server_init(&a, root, "a");
	dc_server_init(&proxy, root, "proxy");
	dc_server_init(&stock, root, "stock");
	a.protocols = proxy.protocols = stock.protocols =
		"imap pop3 submission";
	extra_port = harness_free_port();

	/* A: each user's nologin referral is to A's own POP3 or Submission
	   listener: a loop, however the client came. */
	db_a = harness_printf("%s/a.sqlite", root);
	passdb_exec_sql(db_a, schema);
	exec_rows(db_a,
		"INSERT INTO users (userid, password, host, port, nologin)"
		" VALUES ('selfpop', '{PLAIN}" PASSWORD "', '" IP "', '%u', 'Y');"
		"INSERT INTO users (userid, password, host, port, nologin)"
		" VALUES ('selfsub', '{PLAIN}" PASSWORD "', '" IP "', '%u', 'Y');"
		"INSERT INTO users (userid, password, host, port, nologin,"
		" rawlog) VALUES ('badreload', '{PLAIN}" PASSWORD "',"
		" 'imap2.example.com', '143', 'Y', 'no hex');"
		"INSERT INTO users (userid, password, host, port, nologin)"
		" VALUES ('extraself', '{PLAIN}" PASSWORD "', '" EXTRA_IP "',"
		" '%u', 'Y');",
		a.pop3_port, a.submission_port, extra_port);
	/* the proxy: both users to A, with the client's password */
	db_proxy = harness_printf("%s/proxy.sqlite", root);
	passdb_exec_sql(db_proxy, schema);
	exec_rows(db_proxy,
		"INSERT INTO users (userid, password, host, port, proxy)"
		" VALUES ('selfpop', '{PLAIN}" PASSWORD "', '" IP "', '%u', 'Y');"
		"INSERT INTO users (userid, password, host, port, proxy)"
		" VALUES ('selfsub', '{PLAIN}" PASSWORD "', '" IP "', '%u', 'Y');",
		a.pop3_port, a.submission_port);

	/* A trusts the proxy's XCLIENT (and its ID) from loopback */
	plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);
	conf = harness_printf("%slogin_trusted_networks = 127.0.0.0/8\n%s"
			      "service imap-login {\n"
			      "  inet_listener extra {\n"
			      "    port = %u\n"
			      "    %s = " EXTRA_IP "\n"
			      "  }\n"
			      "}\n",
			      plugins, dc_syntax_24() ? RELOAD_SETTING : "",
			      extra_port, dc_syntax_24() ? "listen" : "address");
	start(&a, db_a, conf);
	free(conf);
	start(&stock, db_a, dc_syntax_24() ? RELOAD_SETTING : "");
	start(&proxy, db_proxy, "");
	free(plugins);
	free(db_proxy);
	free(db_a);
}

static void servers_teardown(void)
{
	dc_server_stop(&proxy);
	dc_server_stop(&a);
	dc_server_stop(&stock);
	harness_remove_root(root);
}

static char *pop3_login(struct imap_conn *conn, in_port_t port,
			const char *user)
{
	char *cmd, *reply;

	ck_assert(imap_connect(conn, "proxy", IP, port));
	cmd = harness_printf("USER %s", user);
	free(e2e_command(conn, cmd, "+OK", "-ERR"));
	free(cmd);
	reply = e2e_command(conn, "PASS " PASSWORD, "+OK", "-ERR");
	ck_assert_ptr_nonnull(reply);
	return reply;
}

static char *submission_login(struct imap_conn *conn, in_port_t port,
			      const char *user)
{
	char *auth = imap_authenticate_plain_cmd(user, PASSWORD);
	char *cmd, *reply;

	ck_assert(imap_connect(conn, "proxy", IP, port));
	free(e2e_command(conn, "EHLO client.example", "250 ", NULL));
	/* "b AUTHENTICATE PLAIN <base64>": the base64 after the last space */
	cmd = harness_printf("AUTH PLAIN %s", strrchr(auth, ' ') + 1);
	reply = e2e_command(conn, cmd, "", NULL);
	ck_assert_ptr_nonnull(reply);
	free(cmd);
	free(auth);
	return reply;
}

/* Through the proxy, a user whose referral is A's own listener: A
   refuses it as a loop (and says so in its log), whatever address the
   proxy says the client connected to; nothing the client reads is a
   referral. _i: 0 POP3, 1 Submission. */
START_TEST(test_proxied_self_referral_is_a_loop)
{
	const char *user = _i == 0 ? "selfpop" : "selfsub";
	in_port_t a_port = _i == 0 ? a.pop3_port : a.submission_port;
	struct imap_conn conn;
	char *reply, *loop, *sent;

	reply = _i == 0 ? pop3_login(&conn, proxy.pop3_port, user) :
		submission_login(&conn, proxy.submission_port, user);
	imap_disconnect(&conn);
	loop = harness_printf("Referral to " IP " port %u " LOOP_TEXT, a_port);
	ck_assert_msg(dc_server_log_wait_line(&a, loop, user),
		      "A did not refuse the loop to its own port %u for %s "
		      "(the client read: %s)", a_port, user, reply);
	sent = harness_printf("Referral sent (nologin): ");
	ck_assert_msg(!dc_server_log_has(&a, sent),
		      "A sent a referral to itself (the client read: %s)",
		      reply);
	ck_assert_msg(strstr(reply, "REFERRAL") == NULL &&
		      strstr(reply, "Referral") == NULL,
		      "the client read a referral: %s", reply);
	free(sent);
	free(loop);
	free(reply);
}
END_TEST

/* From 2.4.3 on, the proxy really told A where the client connected
   (it logs the XCLIENT it sends): otherwise the test above would not test
   what it is for there. */
START_TEST(test_proxy_sends_destaddr)
{
	if (strverscmp(dc_dovecot_version(), "2.4.3") < 0) {
		printf("test_proxy_sends_destaddr: Dovecot %s sends no "
		       "DESTADDR: skipped\n", dc_dovecot_version());
		return;
	}
	ck_assert_msg(dc_server_log_wait_line(&proxy, "XCLIENT ", "DESTPORT="),
		      "the proxy sent no XCLIENT DESTPORT (log: %s)",
		      proxy.log_path);
}
END_TEST

static bool reply_is_tempfail(const char *reply)
{
	return harness_starts_with(reply, "b NO [UNAVAILABLE]");
}

/* A login setting that cannot be reloaded after authentication: A answers
   what Dovecot answers without the plugin when that is a temporary
   failure (2.4.2 and later), and refers the user otherwise. */
START_TEST(test_failed_settings_reload)
{
	struct imap_conn conn;
	char *reply_a, *reply_stock;

	if (!dc_syntax_24()) {
		printf("test_failed_settings_reload: Dovecot %s has no login "
		       "settings from passdb fields: skipped\n",
		       dc_dovecot_version());
		return;
	}
	ck_assert(imap_connect(&conn, "stock", IP, stock.imap_port));
	reply_stock = imap_command(&conn, "b", "LOGIN badreload " PASSWORD);
	imap_disconnect(&conn);
	ck_assert_ptr_nonnull(reply_stock);
	ck_assert(imap_connect(&conn, "a", IP, a.imap_port));
	reply_a = imap_command(&conn, "b", "LOGIN badreload " PASSWORD);
	imap_disconnect(&conn);
	ck_assert_ptr_nonnull(reply_a);
	if (reply_is_tempfail(reply_stock)) {
		ck_assert_msg(reply_is_tempfail(reply_a),
			      "Dovecot answers a temporary failure (%s), "
			      "the plugin: %s", reply_stock, reply_a);
		ck_assert(!dc_server_log_has(&a, "Referral sent"));
	} else {
		/* Dovecot without the reload: the plugin's referral */
		e2e_assert_starts(reply_a, "b NO [REFERRAL imap://badreload@");
	}
	free(reply_a);
	free(reply_stock);
}
END_TEST

/* A target that is A's extra listener: "doveadm referral lookup" refuses
   it as a loop only when it found that listener, with its own address,
   in doveconf's output. */
START_TEST(test_lookup_finds_listener_address)
{
	char *err = harness_printf("%s/doveadm.err", root);
	char *listens = harness_printf("imap-login listens on " EXTRA_IP
				       " port %u", extra_port);
	char *loop = harness_printf("Referral to " EXTRA_IP " port %u "
				    LOOP_TEXT, extra_port);
	char *out, *err_text;
	int status;

	out = dc_server_doveadm_plugin(&a, DOVEADM_REFERRAL_DIR,
				       DOVEADM_MODULE_DIR,
				       "-D referral lookup extraself", err,
				       &status);
	err_text = harness_read_file(err);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(strstr(err_text, listens) != NULL,
		      "doveadm did not find '%s' in doveconf's output:\n%s",
		      listens, err_text);
	ck_assert_msg(strstr(out, loop) != NULL, "no '%s' in:\n%s", loop,
		      out);
	free(err_text);
	free(out);
	free(loop);
	free(listens);
	free(err);
}
END_TEST

START_TEST(test_logs_clean)
{
	ck_assert_ptr_null(dc_server_log_errors(&a));
	ck_assert_ptr_null(dc_server_log_errors(&proxy));
	ck_assert(!dc_server_log_has(&a, PASSWORD));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-upstream");
	TCase *tc = tcase_create("upstream");

	tcase_add_unchecked_fixture(tc, servers_setup, servers_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_proxied_self_referral_is_a_loop, 0, 2);
	tcase_add_test(tc, test_proxy_sends_destaddr);
	tcase_add_test(tc, test_failed_settings_reload);
	tcase_add_test(tc, test_lookup_finds_listener_address);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
