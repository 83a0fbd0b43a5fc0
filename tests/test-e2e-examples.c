/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The configuration examples of doc/examples, run as an administrator would
   use them: each server below includes the example file of the Dovecot
   version under test (doc/examples for 2.3, doc/examples/2.4 for 2.4) and
   only overrides what must differ here (paths). If an example goes wrong,
   this fails. */

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
#define EXAMPLES TOP_SRCDIR "/doc/examples"
/* the password of every user in the examples */
#define PASSWORD "secret"

static char *root;
static struct dc_server sql, passwd_file, forward_all;

/* The documented plugin snippet, then the build tree's module. */
static char *plugin_config(const char *passdb)
{
	char *snippet = dc_example_path("conf.d/10-referral.conf");
	char *conf = harness_printf("!include %s\nlogin_plugin_dir = %s\n%s",
				    snippet, REFERRAL_PLUGIN_DIR, passdb);

	free(snippet);
	return conf;
}

/* An SQL example (doc/examples/sql/<example>) on the database db. */
static char *sql_example_block(const char *example, const char *db)
{
	char *rel = harness_printf("sql/%s", example);
	char *path = dc_syntax_sqlite_path(db);
	char *block = dc_syntax_passdb_example(root, "sql", rel, path);

	free(path);
	free(rel);
	return block;
}

static void start(struct dc_server *srv, const char *name, char *passdb)
{
	char *conf = plugin_config(passdb);

	dc_server_init(srv, root, name);
	dc_server_start(srv, conf);
	free(conf);
	free(passdb);
}

static void servers_setup(void)
{
	char *db, *schema, *moving;

	root = harness_make_root("referral-examples");
	/* one users file for both versions; also the proxy target of
	   "moving" (its user "stays") */
	start(&passwd_file, "passwd-file", dc_syntax_passwd_file_passdb(
		"passwd-file/dovecot-passwd-file.conf.ext",
		EXAMPLES "/passwd-file/users"));
	db = harness_printf("%s/users.sqlite", root);
	schema = harness_read_file(EXAMPLES "/sql/users.sql");
	passdb_exec_sql(db, schema);
	moving = harness_printf("INSERT INTO users (userid, password, host, "
		"port, destuser, proxy, referral) VALUES ('moving', "
		"'{PLAIN}" PASSWORD "', '" IP "', '%u', 'stays', 'Y', "
		"'suggest');", passwd_file.imap_port);
	passdb_exec_sql(db, moving);
	free(moving);
	passdb_exec_sql(db,
		"INSERT INTO users (userid, password) VALUES "
		"('stays', '{PLAIN}" PASSWORD "');"
		"INSERT INTO users (userid, password, host, nologin) VALUES "
		"('moved', '{PLAIN}" PASSWORD "', 'imap2.example.com', 'Y');"
		"INSERT INTO users (userid, password, host, port, reason) "
		"VALUES ('suggested', '{PLAIN}" PASSWORD "', "
		"'imap2.example.com', '1143', 'Please use imap2.');"
		"INSERT INTO users VALUES ('renamed', '{PLAIN}" PASSWORD "', "
		"'imap3.example.com', NULL, 'renamed@example.com', NULL, 'Y', NULL, "
		"NULL);");
	free(schema);

	start(&sql, "sql", sql_example_block("dovecot-sql-sqlite.conf.ext",
					     db));
	start(&forward_all, "forward-all",
	      sql_example_block("dovecot-sql-forward-all.conf.ext", db));
	free(db);
}

static void servers_teardown(void)
{
	dc_server_stop(&sql);
	dc_server_stop(&forward_all);
	dc_server_stop(&passwd_file);
	harness_remove_root(root);
}

static char *login(const struct dc_server *srv, const char *user,
		   const char *password)
{
	struct imap_conn conn;
	char *cmd = harness_printf("LOGIN %s %s", user, password), *reply;

	ck_assert(imap_connect(&conn, srv->name, IP, srv->imap_port));
	reply = imap_command(&conn, "b", cmd);
	imap_disconnect(&conn);
	free(cmd);
	ck_assert_ptr_nonnull(reply);
	return reply;
}

static void assert_login(const struct dc_server *srv, const char *user,
			 const char *expected)
{
	char *reply = login(srv, user, PASSWORD);

	ck_assert_str_eq(reply, expected);
	free(reply);
}

static void assert_plain_login(const struct dc_server *srv, const char *user)
{
	char *reply = login(srv, user, PASSWORD);

	ck_assert_msg(strncmp(reply, "b OK [CAPABILITY IMAP4rev1 ", 27) == 0 &&
		      strstr(reply, "] Logged in") != NULL, "got: %s", reply);
	free(reply);
}

START_TEST(test_sqlite_example)
{
	assert_plain_login(&sql, "stays");
	assert_login(&sql, "moved", "b NO [REFERRAL imap://moved@"
		     "imap2.example.com/] Your mailbox has moved. Please change your "
		     "mail account's IMAP server to imap2.example.com.");
	assert_login(&sql, "suggested", "b OK [REFERRAL imap://suggested@"
		     "imap2.example.com:1143/] Please use imap2.");
	assert_login(&sql, "renamed", "b NO [REFERRAL imap://renamed%40"
		     "example.com@imap3.example.com/] Your mailbox has moved. "
		     "Please change your mail account's IMAP server to "
		     "imap3.example.com (user name renamed@example.com).");
}
END_TEST

/* proxy and referral=suggest: proxied to the passwd-file server as
   "stays", and told to go there */
START_TEST(test_sqlite_example_proxy_suggest)
{
	char *reply = login(&sql, "moving", PASSWORD);
	char *expected = harness_printf("b OK [REFERRAL imap://stays@"
		IP ":%u/] Logged in, but your mailbox has moved. Please "
		"change your mail account's IMAP server to " IP " (port %u, "
		"user name stays).", passwd_file.imap_port,
		passwd_file.imap_port);

	ck_assert_str_eq(reply, expected);
	ck_assert(dc_server_log_wait_login(&passwd_file, "user=<stays>"));
	free(expected);
	free(reply);
}
END_TEST

static char *password_query(const char *example)
{
	char *rel = harness_printf("sql/%s", example);
	char *path = dc_example_path(rel);
	char *text = harness_read_file(path), *line, *query = NULL, *save;
	char *key = harness_printf("%s = ", dc_syntax_sql_passdb_query());

	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " ");
		if (harness_starts_with(line, key))
			query = strdup(line);
	}
	free(key);
	free(rel);
	free(text);
	free(path);
	ck_assert_msg(query != NULL, "%s has no %s", example,
		      dc_syntax_sql_passdb_query());
	return query;
}

START_TEST(test_pgsql_example_has_the_tested_query)
{
	char *sqlite = password_query("dovecot-sql-sqlite.conf.ext");
	char *pgsql = password_query("dovecot-sql-pgsql.conf.ext");

	ck_assert_str_eq(pgsql, sqlite);
	free(sqlite);
	free(pgsql);
}
END_TEST

START_TEST(test_forward_all_example)
{
	char *reply = login(&forward_all, "anyone", "any-password");

	ck_assert_str_eq(reply, "b NO [REFERRAL imap://anyone@"
			 "imap2.example.com/] This server is retired, use "
			 "imap2.example.com.");
	free(reply);
}
END_TEST

START_TEST(test_passwd_file_example)
{
	assert_plain_login(&passwd_file, "stays");
	assert_login(&passwd_file, "moved", "b NO [REFERRAL imap://moved@"
		     "imap2.example.com/] Your mailbox has moved. Please change your "
		     "mail account's IMAP server to imap2.example.com.");
	assert_login(&passwd_file, "suggested", "b OK [REFERRAL imap://"
		     "suggested@imap2.example.com:1143/] "
		     "Please_use_imap2.example.com");
	assert_login(&passwd_file, "renamed", "b NO [REFERRAL imap://renamed%40"
		     "example.com@imap3.example.com/] Your mailbox has moved. "
		     "Please change your mail account's IMAP server to "
		     "imap3.example.com (user name renamed@example.com).");
}
END_TEST

START_TEST(test_logs_clean)
{
	const struct dc_server *servers[] = { &sql, &forward_all, &passwd_file };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		char *errors = dc_server_log_errors(servers[i]);

		ck_assert_msg(errors == NULL, "%s logged:\n%s",
			      servers[i]->name, errors);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-examples");
	TCase *tc = tcase_create("examples");

	tcase_add_unchecked_fixture(tc, servers_setup, servers_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sqlite_example);
	tcase_add_test(tc, test_sqlite_example_proxy_suggest);
	tcase_add_test(tc, test_pgsql_example_has_the_tested_query);
	tcase_add_test(tc, test_forward_all_example);
	tcase_add_test(tc, test_passwd_file_example);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
