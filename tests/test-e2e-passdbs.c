/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The core scenarios through real passdbs: a throwaway OpenLDAP (slapd),
   a throwaway PostgreSQL cluster and a passwd-file. Each A server uses the
   documented example configuration of the Dovecot version under test
   (doc/examples, doc/examples/2.4) with only the address changed; B is the
   referral and proxy target. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-imap.h"
#include "harness-ldap.h"
#include "harness-passdb.h"
#include "harness-pgsql.h"
#include "harness-version.h"

#include "e2e-run.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IP "127.0.0.1"
#define EXAMPLES TOP_SRCDIR "/doc/examples"
#define PASSWORD "Pw-passdb-42"
#define REASON "Please-move."

enum backend { BACKEND_LDAP, BACKEND_PGSQL, BACKEND_PASSWD_FILE,
	       BACKEND_COUNT };

/* A second login server on the same PostgreSQL passdb, with Dovecot's
   auth cache on: how long a cached reply outlives a change is the TTL. */
#define CACHE_TTL_SECS 2

static char *root;
static struct dc_server b, a[BACKEND_COUNT], a2;
static struct ldap_server ldap;
static struct pg_server pg;

static char *ldap_data(void)
{
	static const char *const entry =
		"dn: uid=%s,ou=people," LDAP_SUFFIX "\n"
		"objectClass: inetOrgPerson\n"
		"objectClass: mailReferralAccount\n"
		"uid: %s\ncn: %s\nsn: %s\n"
		"userPassword: {PLAIN}" PASSWORD "\n%s\n";
	char *users[5], *data;
	const char *names[] = { "local", "moved", "suggest", "proxied",
				"badport" };
	char *extra[5];
	unsigned int i;

	extra[0] = harness_printf("%s", "");
	extra[1] = harness_printf("mailReferralHost: " IP "\n"
				  "mailReferralPort: %u\n"
				  "mailReferralNoLogin: TRUE\n", b.imap_port);
	extra[2] = harness_printf("mailReferralHost: imap2.example.com\n"
				  "mailReferralReason: " REASON "\n");
	extra[3] = harness_printf("mailReferralHost: " IP "\n"
				  "mailReferralPort: %u\n"
				  "mailReferralProxy: TRUE\n", b.imap_port);
	extra[4] = harness_printf("mailReferralHost: " IP "\n"
				  "mailReferralPort: 65536\n"
				  "mailReferralNoLogin: TRUE\n");
	for (i = 0; i < 5; i++) {
		users[i] = harness_printf(entry, names[i], names[i], names[i],
					  names[i], extra[i]);
		free(extra[i]);
	}
	data = harness_printf(
		"dn: " LDAP_SUFFIX "\n"
		"objectClass: dcObject\nobjectClass: organization\n"
		"dc: example\no: Example\n\n"
		/* the example's bind DN and password */
		"dn: cn=dovecot," LDAP_SUFFIX "\n"
		"objectClass: organizationalRole\n"
		"objectClass: simpleSecurityObject\n"
		"cn: dovecot\nuserPassword: secret\n\n"
		"dn: ou=people," LDAP_SUFFIX "\n"
		"objectClass: organizationalUnit\nou: people\n\n"
		"%s%s%s%s%s", users[0], users[1], users[2], users[3], users[4]);
	for (i = 0; i < 5; i++)
		free(users[i]);
	return data;
}

static char *sql_inserts(void)
{
	return harness_printf(
		"INSERT INTO users (userid, password) VALUES "
		"('local', '{PLAIN}" PASSWORD "');"
		"INSERT INTO users (userid, password, host, port, nologin) "
		"VALUES ('moved', '{PLAIN}" PASSWORD "', '" IP "', '%1$u', 'Y');"
		"INSERT INTO users (userid, password, host, reason) VALUES "
		"('suggest', '{PLAIN}" PASSWORD "', 'imap2.example.com', "
		"'" REASON "');"
		"INSERT INTO users (userid, password, host, port, proxy) "
		"VALUES ('proxied', '{PLAIN}" PASSWORD "', '" IP "', '%1$u', 'Y');"
		"INSERT INTO users (userid, password, host, port, nologin) "
		"VALUES ('badport', '{PLAIN}" PASSWORD "', '" IP "', '65536', "
		"'Y');"
		"INSERT INTO users (userid, password) VALUES "
		"('mover', '{PLAIN}" PASSWORD "');", b.imap_port);
}

static char *passwd_file(void)
{
	return harness_printf(
		"local:{PLAIN}" PASSWORD "::::::\n"
		"moved:{PLAIN}" PASSWORD "::::::host=" IP " port=%1$u nologin\n"
		"suggest:{PLAIN}" PASSWORD "::::::host=imap2.example.com "
		"reason=" REASON "\n"
		"proxied:{PLAIN}" PASSWORD "::::::host=" IP " port=%1$u proxy\n"
		"badport:{PLAIN}" PASSWORD "::::::host=" IP " port=65536 "
		"nologin\n", b.imap_port);
}

/* An A server: the documented plugin snippet and the given passdb. */
static void start_a(struct dc_server *srv, const char *name,
		    const char *passdb, const char *extra)
{
	char *snippet = dc_example_path("conf.d/10-referral.conf");
	char *conf = harness_printf("!include %s\nlogin_plugin_dir = %s\n%s%s",
				    snippet, REFERRAL_PLUGIN_DIR, extra,
				    passdb);

	dc_server_init(srv, root, name);
	dc_server_start(srv, conf);
	free(conf);
	free(snippet);
}

static const char *t_cache_settings(void)
{
	static char settings[128];

	snprintf(settings, sizeof(settings), "auth_cache_size = 1M\n"
		 "auth_cache_ttl = %u secs\n", CACHE_TTL_SECS);
	return settings;
}

static void servers_setup(void)
{
	char *db, *block, *path, *settings, *text;

	root = harness_make_root("referral-passdbs");
	dc_server_init(&b, root, "b");

	/* B knows the users that reach it: moved and proxied */
	db = harness_printf("%s/b.sqlite", root);
	const struct passdb_user users[] = {
		{ .user = "moved", .password = "{PLAIN}" PASSWORD },
		{ .user = "proxied", .password = "{PLAIN}" PASSWORD },
	};
	passdb_create(db, users, 2);
	block = passdb_sql_block(db, "b", PASSDB_QUERY_PLAIN);
	dc_server_start(&b, block);
	free(block);
	free(db);

	text = ldap_data();
	ldap_server_start(&ldap, root, "ldap",
			  EXAMPLES "/ldap/referral-schema.ldif", text);
	free(text);
	path = harness_printf("ldap://" IP ":%u", ldap.port);
	settings = dc_syntax_ldap_uris(path);
	block = dc_syntax_passdb_example(root, "ldap",
		"ldap/dovecot-ldap.conf.ext", settings);
	start_a(&a[BACKEND_LDAP], "ldap", block, "");
	free(block);
	free(settings);
	free(path);

	pg_server_start(&pg, root, "pgsql");
	pg_server_sql(&pg, "postgres", "CREATE ROLE dovecot LOGIN "
		      "PASSWORD 'secret'");
	pg_server_sql(&pg, "postgres", "CREATE DATABASE mail OWNER dovecot");
	pg_server_sql_file(&pg, "mail", EXAMPLES "/sql/users.sql");
	text = sql_inserts();
	pg_server_sql(&pg, "mail", text);
	free(text);
	pg_server_sql(&pg, "mail", "GRANT SELECT ON users TO dovecot");
	/* the example's server, localhost (2.4: the name of its pgsql
	   block, whose parameters get the port), reaches the cluster on
	   127.0.0.1 */
	settings = dc_syntax_pgsql_connect("localhost", pg.port,
		"dbname=mail user=dovecot password=secret");
	block = dc_syntax_passdb_example(root, "sql",
		"sql/dovecot-sql-pgsql.conf.ext", settings);
	start_a(&a[BACKEND_PGSQL], "pgsql", block, "");
	start_a(&a2, "pgsql-cached", block, t_cache_settings());
	free(block);
	free(settings);

	path = harness_printf("%s/users.passwd", root);
	text = passwd_file();
	harness_write_file(path, text);
	block = dc_syntax_passwd_file_passdb(
		"passwd-file/dovecot-passwd-file.conf.ext", path);
	start_a(&a[BACKEND_PASSWD_FILE], "passwd-file", block, "");
	free(block);
	free(text);
	free(path);
}

static void servers_teardown(void)
{
	unsigned int i;

	for (i = 0; i < BACKEND_COUNT; i++)
		dc_server_stop(&a[i]);
	dc_server_stop(&a2);
	dc_server_stop(&b);
	ldap_server_stop(&ldap);
	pg_server_stop(&pg);
	harness_remove_root(root);
}

enum scenario {
	SCENARIO_LOCAL, SCENARIO_NOLOGIN, SCENARIO_SUGGEST, SCENARIO_PROXY,
	SCENARIO_WRONG_PASSWORD, SCENARIO_BAD_VALUE, SCENARIO_COUNT
};

START_TEST(test_scenario)
{
	enum backend backend = _i / SCENARIO_COUNT;
	enum scenario scenario = _i % SCENARIO_COUNT;
	struct dc_server *srv = &a[backend];
	struct imap_conn conn;
	char *reply, *expected = NULL, *source, *reason;

	/* failures from an address of their own: Dovecot's auth penalty */
	source = harness_printf("127.0.0.%u", 40 + _i);
	ck_assert(imap_connect_from(&conn, srv->name, source, IP,
				    srv->imap_port));
	switch (scenario) {
	case SCENARIO_LOCAL:
		reply = imap_command(&conn, "b", "LOGIN local " PASSWORD);
		ck_assert_ptr_nonnull(reply);
		ck_assert_msg(harness_starts_with(reply,
			"b OK [CAPABILITY IMAP4rev1 ") &&
			strstr(reply, "] Logged in") != NULL,
			"got: %s", reply);
		break;
	case SCENARIO_NOLOGIN:
		reason = imap_default_reason(false, IP, b.imap_port);
		expected = harness_printf("b NO [REFERRAL imap://moved@"
			IP ":%u/] %s", b.imap_port, reason);
		free(reason);
		reply = imap_command(&conn, "b", "LOGIN moved " PASSWORD);
		ck_assert_ptr_nonnull(reply);
		ck_assert_str_eq(reply, expected);
		break;
	case SCENARIO_SUGGEST:
		reply = imap_command(&conn, "b", "LOGIN suggest " PASSWORD);
		ck_assert_ptr_nonnull(reply);
		ck_assert_str_eq(reply, "b OK [REFERRAL imap://suggest@"
				 "imap2.example.com/] " REASON);
		free(reply);
		reply = imap_read_line(&conn);
		ck_assert_ptr_nonnull(reply);
		e2e_assert_starts(reply, "* OK [CAPABILITY IMAP4rev1 ");
		break;
	case SCENARIO_PROXY:
		reply = imap_command(&conn, "b", "LOGIN proxied " PASSWORD);
		ck_assert_ptr_nonnull(reply);
		e2e_assert_starts(reply, "b OK ");
		free(reply);
		reply = imap_command(&conn, "c", "SELECT INBOX");
		ck_assert_ptr_nonnull(reply);
		e2e_assert_starts(reply, "c OK ");
		ck_assert_ptr_null(strstr(conn.transcript, "[REFERRAL"));
		ck_assert(dc_server_log_wait(srv, "proxy(proxied,"));
		break;
	case SCENARIO_WRONG_PASSWORD:
		reply = imap_command(&conn, "b", "LOGIN moved wrong");
		ck_assert_ptr_nonnull(reply);
		ck_assert_str_eq(reply, "b NO [AUTHENTICATIONFAILED] "
				 "Authentication failed.");
		ck_assert_ptr_null(strstr(conn.transcript, "[REFERRAL"));
		break;
	case SCENARIO_BAD_VALUE:
		reply = imap_command(&conn, "b", "LOGIN badport " PASSWORD);
		ck_assert_ptr_nonnull(reply);
		ck_assert_str_eq(reply, "b NO [UNAVAILABLE] Login not possible "
				 "on this server right now, contact your "
				 "administrator.");
		ck_assert(dc_server_log_wait(srv, "Referral refused: Invalid "
			"port field '65536': out of range 1..65535"));
		break;
	default:
		ck_abort();
	}
	free(reply);
	free(expected);
	free(source);
	imap_disconnect(&conn);
}
END_TEST

static char *login_reply(struct dc_server *srv, const char *user)
{
	struct imap_conn conn;
	char *cmd = harness_printf("LOGIN %s " PASSWORD, user), *reply;

	ck_assert(imap_connect(&conn, srv->name, IP, srv->imap_port));
	reply = imap_command(&conn, "b", cmd);
	ck_assert_ptr_nonnull(reply);
	imap_disconnect(&conn);
	free(cmd);
	return reply;
}

static void assert_plain_login(struct dc_server *srv, const char *user)
{
	char *reply = login_reply(srv, user);

	ck_assert_msg(harness_starts_with(reply, "b OK [CAPABILITY IMAP4rev1 "),
		      "%s: got %s", srv->name, reply);
	free(reply);
}

static void assert_reply(struct dc_server *srv, const char *user,
			 const char *expected)
{
	char *reply = login_reply(srv, user);

	ck_assert_msg(strcmp(reply, expected) == 0, "%s: got %s, expected %s",
		      srv->name, reply, expected);
	free(reply);
}

START_TEST(test_move_user_two_login_servers)
{
	struct dc_server *a1 = &a[BACKEND_PGSQL];
	char *sql, *suggest, *nologin, *reason;

	reason = imap_default_reason(true, IP, b.imap_port);
	suggest = harness_printf("b OK [REFERRAL imap://mover@" IP
				 ":%u/] %s", b.imap_port, reason);
	free(reason);
	reason = imap_default_reason(false, IP, b.imap_port);
	nologin = harness_printf("b NO [REFERRAL imap://mover@" IP
				 ":%u/] %s", b.imap_port, reason);
	free(reason);

	/* the user lives here: both log in (and A2 caches the reply) */
	assert_plain_login(a1, "mover");
	assert_plain_login(&a2, "mover");

	/* step 1, suggest: A1 refers at once, without a reload; A2
	   answers from its cache until the TTL has passed */
	sql = harness_printf("UPDATE users SET host = '" IP "', port = '%u' "
			     "WHERE userid = 'mover'", b.imap_port);
	pg_server_sql(&pg, "mail", sql);
	free(sql);
	assert_reply(a1, "mover", suggest);
	assert_plain_login(&a2, "mover");
	/* the cache counts whole seconds: up to one more than the TTL */
	harness_msleep((CACHE_TTL_SECS + 1) * 1000 + 200);
	assert_reply(&a2, "mover", suggest);

	/* step 2, refer only: the same, and "doveadm auth cache flush"
	   makes A2 see it at once */
	pg_server_sql(&pg, "mail", "UPDATE users SET nologin = 'Y' "
		      "WHERE userid = 'mover'");
	assert_reply(a1, "mover", nologin);
	assert_reply(&a2, "mover", suggest);
	free(dc_server_doveadm(&a2, "auth cache flush mover"));
	assert_reply(&a2, "mover", nologin);
	free(suggest);
	free(nologin);
}
END_TEST

START_TEST(test_logs_clean)
{
	unsigned int i;

	for (i = 0; i < BACKEND_COUNT; i++) {
		char *errors = dc_server_log_errors(&a[i]);

		ck_assert_msg(errors == NULL, "%s logged:\n%s", a[i].name,
			      errors);
	}
	ck_assert_ptr_null(dc_server_log_errors(&a2));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-passdbs");
	TCase *tc = tcase_create("passdbs");
	const char *why;

	if ((why = ldap_server_unavailable()) != NULL ||
	    (why = pg_server_unavailable()) != NULL) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	tcase_add_unchecked_fixture(tc, servers_setup, servers_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_scenario, 0,
			    BACKEND_COUNT * SCENARIO_COUNT);
	tcase_add_test(tc, test_move_user_two_login_servers);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
