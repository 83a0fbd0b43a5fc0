/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The chained setup of doc/examples/chained: the site's own passdb checks
   every password and returns no fields (here a passwd-file without extra
   fields, standing for PAM, Kerberos or an external checker), and a
   lookup-only SQLite passdb before it adds the referral fields, with
   noauthenticate, for the users in its referrals table. A moved user with
   the right password gets the referral (LOGIN and AUTHENTICATE), with a
   wrong one Dovecot's normal failure; users without a row are untouched.
   With the auth cache off and on. */

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
#define PASSWORD "Chained-pw7"
#define REFERRALS_EXAMPLE "chained/dovecot-sql-referrals.conf.ext"
#define SITE_EXAMPLE "passwd-file/dovecot-passwd-file.conf.ext"

static char *root;
static struct dc_server b, servers[2];
static const char *const server_names[] = { "chained", "chained-cached" };

/* The site's passdb: passwords only, no extra fields. */
static void write_site_users(const char *path)
{
	harness_write_file(path,
		"moved:{PLAIN}" PASSWORD "::::::\n"
		"suggested:{PLAIN}" PASSWORD "::::::\n"
		"local:{PLAIN}" PASSWORD "::::::\n");
}

/* The referrals table of the example, with a row for a user the site
   does not know: the referral passdb alone never lets anyone in. */
static void create_referrals(const char *db)
{
	char *schema, *rows;

	/* one schema for both Dovecot versions */
	schema = harness_read_file(TOP_SRCDIR
				   "/doc/examples/chained/referrals.sql");
	passdb_exec_sql(db, schema);
	rows = harness_printf(
		"INSERT INTO referrals (userid, host, port, nologin) VALUES "
		"('moved', '" IP "', '%u', 'Y');"
		"INSERT INTO referrals (userid, host, reason) VALUES "
		"('suggested', 'imap2.example.com', 'Please use imap2.');"
		"INSERT INTO referrals (userid, host, nologin) VALUES "
		"('ghost', 'imap2.example.com', 'Y');", b.imap_port);
	passdb_exec_sql(db, rows);
	free(rows);
	free(schema);
}

static void servers_setup(void)
{
	char *db, *users, *sqlite, *referrals, *site, *plugins, *conf;
	char *passdb_b;
	unsigned int i;
	const struct passdb_user b_users[] = {
		{ .user = "moved", .password = "{PLAIN}" PASSWORD },
	};

	root = harness_make_root("referral-chained");
	dc_server_init(&b, root, "b");
	db = harness_printf("%s/b.sqlite", root);
	passdb_create(db, b_users, 1);
	passdb_b = passdb_sql_block(db, "b", PASSDB_QUERY_PLAIN);
	dc_server_start(&b, passdb_b);
	free(passdb_b);
	free(db);

	db = harness_printf("%s/referrals.sqlite", root);
	create_referrals(db);
	users = harness_printf("%s/site-users", root);
	write_site_users(users);
	sqlite = dc_syntax_sqlite_path(db);
	/* the order is the recipe: the referral passdb first */
	referrals = dc_syntax_passdb_example(root, "sql", REFERRALS_EXAMPLE,
					     sqlite);
	site = dc_syntax_passwd_file_passdb(SITE_EXAMPLE, users);
	plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);
	for (i = 0; i < 2; i++) {
		conf = harness_printf("%s%s%s%s", plugins, i == 0 ? "" :
				      "auth_cache_size = 1M\n"
				      "auth_cache_ttl = 1 hour\n",
				      referrals, site);
		dc_server_init(&servers[i], root, server_names[i]);
		dc_server_start(&servers[i], conf);
		free(conf);
	}
	free(plugins);
	free(site);
	free(referrals);
	free(sqlite);
	free(users);
	free(db);
}

static void servers_teardown(void)
{
	dc_server_stop(&servers[0]);
	dc_server_stop(&servers[1]);
	dc_server_stop(&b);
	harness_remove_root(root);
}

/* The tagged reply to command on a fresh connection to server i from
   source_ip. */
static char *login(unsigned int i, const char *source_ip, const char *command)
{
	struct imap_conn conn;
	char *reply;

	ck_assert(imap_connect_from(&conn, servers[i].name, source_ip, IP,
				    servers[i].imap_port));
	reply = imap_command(&conn, "b", command);
	imap_disconnect(&conn);
	ck_assert_ptr_nonnull(reply);
	return reply;
}

static void assert_reply_from(unsigned int i, const char *source_ip,
			      const char *command, const char *expected)
{
	char *reply = login(i, source_ip, command);

	ck_assert_str_eq(reply, expected);
	free(reply);
}

static void assert_reply(unsigned int i, const char *command,
			 const char *expected)
{
	assert_reply_from(i, IP, command, expected);
}

static void assert_logged_in(unsigned int i, const char *command)
{
	char *reply = login(i, IP, command);

	ck_assert_msg(harness_starts_with(reply, "b OK [CAPABILITY ") &&
		      strstr(reply, "] Logged in") != NULL, "got: %s", reply);
	free(reply);
}

/* Every case twice: the second login of a cached server is answered from
   its auth cache. _i: server. */
START_TEST(test_chained_moved)
{
	char *expected, *authenticate, *reason;
	unsigned int round;

	authenticate = imap_authenticate_plain_cmd("moved", PASSWORD);
	reason = imap_default_reason(false, IP, b.imap_port);
	for (round = 0; round < 2; round++) {
		expected = harness_printf("b NO [REFERRAL imap://moved@"
			IP ":%u/] %s", b.imap_port, reason);
		assert_reply(_i, "LOGIN moved " PASSWORD, expected);
		free(expected);
		expected = harness_printf("b NO [REFERRAL imap://moved;"
			"AUTH=PLAIN@" IP ":%u/] %s", b.imap_port, reason);
		assert_reply(_i, authenticate, expected);
		free(expected);
	}
	free(reason);
	free(authenticate);
}
END_TEST

START_TEST(test_chained_wrong_password)
{
	char source[32];
	unsigned int round;

	/* the site's passdb says no: Dovecot's failure, no referral, also
	   after the right password was cached. Each failure from an address
	   of its own: Dovecot delays logins from one that just failed. */
	for (round = 0; round < 2; round++) {
		snprintf(source, sizeof(source), "127.0.0.%u",
			 100 + _i * 10 + round * 2);
		assert_reply_from(_i, source, "LOGIN moved wrong-password",
				  "b NO [AUTHENTICATIONFAILED] "
				  "Authentication failed.");
		snprintf(source, sizeof(source), "127.0.0.%u",
			 101 + _i * 10 + round * 2);
		assert_reply_from(_i, source, "LOGIN ghost " PASSWORD,
				  "b NO [AUTHENTICATIONFAILED] "
				  "Authentication failed.");
	}
}
END_TEST

START_TEST(test_chained_suggest_and_local)
{
	struct imap_conn conn;
	char *reply, *line;
	unsigned int round;

	for (round = 0; round < 2; round++) {
		ck_assert(imap_connect(&conn, servers[_i].name, IP,
				       servers[_i].imap_port));
		reply = imap_command(&conn, "b", "LOGIN suggested " PASSWORD);
		ck_assert_ptr_nonnull(reply);
		ck_assert_str_eq(reply, "b OK [REFERRAL imap://suggested@"
				 "imap2.example.com/] Please use "
				 "imap2.");
		line = imap_read_line(&conn);
		ck_assert_ptr_nonnull(line);
		ck_assert_msg(harness_starts_with(line, "* OK [CAPABILITY ") &&
			      strstr(line, "] Logged in") != NULL,
			      "got: %s", line);
		free(line);
		free(reply);
		imap_disconnect(&conn);

		assert_logged_in(_i, "LOGIN local " PASSWORD);
	}
}
END_TEST

START_TEST(test_chained_logs_clean)
{
	ck_assert_ptr_null(dc_server_log_errors(&servers[_i]));
	ck_assert(!dc_server_log_has(&servers[_i], PASSWORD));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-chained");
	TCase *tc = tcase_create("chained");

	tcase_add_unchecked_fixture(tc, servers_setup, servers_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_chained_moved, 0, 2);
	tcase_add_loop_test(tc, test_chained_suggest_and_local, 0, 2);
	tcase_add_loop_test(tc, test_chained_wrong_password, 0, 2);
	tcase_add_loop_test(tc, test_chained_logs_clean, 0, 2);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
