/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The plugin's settings (src/referral-settings*.c): the administrator's
   templates of the default reasons, referral_reason_nologin and
   referral_reason_suggest, in 2.3's plugin {} section or as 2.4's own
   settings. A template replaces the built-in text only where the passdb
   gives no reason; doveadm referral lookup shows the same text; an
   invalid template is logged and the built-in text used; "doveadm
   reload" applies a changed template. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-imap.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include "e2e-run.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IP "127.0.0.1"
#define PASSWORD "Pw-settings"
#define NOLOGIN_TEMPLATE \
	"Moved: use {host}, port {port}, as {user} (not {login_user}), " \
	"{protocol}. 100%% sure."
#define SUGGEST_TEMPLATE "Please switch to {host} soon."

static char *root, *passdb;
static struct dc_server srv;

static char *server_config(const char *nologin, const char *suggest)
{
	char *plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);
	char *reasons = dc_syntax_referral_reasons(nologin, suggest);
	char *conf = harness_printf("%s%s%s", plugins, reasons, passdb);

	free(plugins);
	free(reasons);
	return conf;
}

static void setup(void)
{
	char *db, *conf;
	const struct passdb_user users[] = {
		{ .user = "moved", .password = "{PLAIN}" PASSWORD,
		  .host = "imap2.example.com", .port = "1143",
		  .destuser = "bob@example.com", .nologin = "Y" },
		{ .user = "suggest", .password = "{PLAIN}" PASSWORD,
		  .host = "imap2.example.com" },
		{ .user = "reasoned", .password = "{PLAIN}" PASSWORD,
		  .host = "imap2.example.com", .nologin = "Y",
		  .reason = "The passdb's own words." },
	};

	root = harness_make_root("referral-settings");
	db = harness_printf("%s/users.db", root);
	passdb_create(db, users, sizeof(users) / sizeof(users[0]));
	passdb = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	free(db);
	dc_server_init(&srv, root, "server");
	conf = server_config(NOLOGIN_TEMPLATE, SUGGEST_TEMPLATE);
	dc_server_start(&srv, conf);
	free(conf);
}

static void teardown(void)
{
	dc_server_stop(&srv);
	harness_remove_root(root);
}

static char *login(const char *user)
{
	struct imap_conn conn;
	char *cmd = harness_printf("LOGIN %s " PASSWORD, user), *reply;

	ck_assert(imap_connect(&conn, srv.name, IP, srv.imap_port));
	reply = imap_command(&conn, "b", cmd);
	ck_assert_ptr_nonnull(reply);
	imap_disconnect(&conn);
	free(cmd);
	return reply;
}

/* After a reload, new connections may still reach a login process of the
   old configuration for a moment: wait for the expected reply. */
static bool login_reply_becomes(const char *user, const char *expected)
{
	unsigned int i;

	for (i = 0; i < 50; i++) {
		char *reply = login(user);
		bool same = strcmp(reply, expected) == 0;

		free(reply);
		if (same)
			return true;
		harness_msleep(100);
	}
	return false;
}

#define MOVED_URL "imap://bob%40example.com@imap2.example.com:1143/"
#define MOVED_TEXT "Moved: use imap2.example.com, port 1143, as " \
	"bob@example.com (not moved), IMAP. 100% sure."

START_TEST(test_nologin_template)
{
	struct imap_conn conn;
	char *reply;

	ck_assert(imap_connect(&conn, srv.name, IP, srv.imap_port));
	reply = imap_command(&conn, "b", "LOGIN moved " PASSWORD);
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, "b NO [REFERRAL " MOVED_URL "] " MOVED_TEXT);
	ck_assert(strstr(conn.transcript, "\r\n* OK [ALERT] " MOVED_TEXT
			 "\r\n* BYE " MOVED_TEXT "\r\n") != NULL);
	imap_disconnect(&conn);
	free(reply);
}
END_TEST

/* The session works: on 2.3 the mail process expands plugin {}
   settings with its own variables, and must not stumble on ours. */
START_TEST(test_suggest_template)
{
	struct imap_conn conn;
	char *reply;

	ck_assert(imap_connect(&conn, srv.name, IP, srv.imap_port));
	reply = imap_command(&conn, "b", "LOGIN suggest " PASSWORD);
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, "b OK [REFERRAL imap://suggest@"
			 "imap2.example.com/] Please switch to "
			 "imap2.example.com soon.");
	free(reply);
	reply = imap_command(&conn, "c", "SELECT INBOX");
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(strncmp(reply, "c OK ", 5) == 0, "got: %s", reply);
	free(reply);
	imap_disconnect(&conn);
	ck_assert(!dc_server_log_has(&srv, "Error"));
}
END_TEST

START_TEST(test_passdb_reason_wins)
{
	char *reply = login("reasoned");

	ck_assert_str_eq(reply, "b NO [REFERRAL imap://reasoned@"
			 "imap2.example.com/] The passdb's own words.");
	free(reply);
}
END_TEST

/* doveadm referral lookup computes the same text */
START_TEST(test_doveadm_lookup_same_text)
{
	char *err = harness_printf("%s/doveadm.err", root);
	char *out;
	int status;

	out = dc_server_doveadm_plugin(&srv, DOVEADM_REFERRAL_DIR,
				       DOVEADM_MODULE_DIR,
				       "-f flow referral lookup moved suggest",
				       err, &status);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(status, 0);
	ck_assert_msg(strstr(out, "imap_login=b NO [REFERRAL " MOVED_URL "] "
			     MOVED_TEXT) != NULL, "got: %s", out);
	ck_assert_msg(strstr(out, "imap_alert=* OK [ALERT] " MOVED_TEXT) !=
		      NULL, "got: %s", out);
	/* ManageSieve's with its own name of the protocol */
	ck_assert_msg(strstr(out, "\"Moved: use imap2.example.com, port 1143, "
			     "as bob@example.com (not moved), ManageSieve. "
			     "100% sure.\"") != NULL, "got: %s", out);
	ck_assert_msg(strstr(out, "] Please switch to imap2.example.com "
			     "soon.") != NULL, "got: %s", out);
	free(out);
	free(err);
}
END_TEST

/* A broken template: the built-in text, and an error that names the
   setting and the problem. Then the valid one again, after a reload. */
START_TEST(test_invalid_template_and_reload)
{
	char *conf = server_config("Moved to {hostname}.", NULL);

	dc_server_reload(&srv, conf);
	free(conf);
	ck_assert(login_reply_becomes("moved", "b NO [REFERRAL " MOVED_URL
		"] Your mailbox has moved. Please change your mail account's "
		"IMAP server to imap2.example.com (port 1143, user name "
		"bob@example.com)."));
	ck_assert(dc_server_log_wait(&srv, "referral: Invalid "
		"referral_reason_nologin setting, the built-in default reason "
		"is used: unknown variable {hostname} (known: {host}, {port}, "
		"{user}, {login_user}, {protocol})"));
	/* without a suggest template: the built-in one */
	ck_assert(login_reply_becomes("suggest", "b OK [REFERRAL "
		"imap://suggest@imap2.example.com/] Logged in, but your "
		"mailbox has moved. Please change your mail account's IMAP "
		"server to imap2.example.com."));

	conf = server_config(NOLOGIN_TEMPLATE, SUGGEST_TEMPLATE);
	dc_server_reload(&srv, conf);
	free(conf);
	ck_assert(login_reply_becomes("moved", "b NO [REFERRAL " MOVED_URL
				      "] " MOVED_TEXT));
}
END_TEST

START_TEST(test_logs_clean)
{
	ck_assert_ptr_null(dc_server_log_errors(&srv));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-settings");
	TCase *tc = tcase_create("settings");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_nologin_template);
	tcase_add_test(tc, test_suggest_template);
	tcase_add_test(tc, test_passdb_reason_wins);
	tcase_add_test(tc, test_doveadm_lookup_same_text);
	tcase_add_test(tc, test_invalid_template_and_reload);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);
	return e2e_run_suite(s, true);
}
