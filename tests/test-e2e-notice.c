/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* End to end, "doveadm referral notify": the build tree's doveadm module
   against server A's real passdb saves the move notices with Dovecot's
   own doveadm save into A's mail store, and server R (the same mail
   store, a passdb that lets every user in) reads them back over IMAP:
   once per user and target, nothing for untouched or refused users, for
   a dry run or with a broken template. A user whom A proxies to backend
   B with referral=suggest gets the notice on B, through doveadm's own
   proxying (A's doveadm_port, B's doveadm listener), and reads it
   through A's IMAP proxy. */

#define _GNU_SOURCE
#include "e2e-run.h"
#include "harness-dovecot.h"
#include "harness-imap.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define IP "127.0.0.1"
#define PASSWORD "Pw-n0t1ce"
#define FROM "Mail Team <postmaster@example.com>"
/* doveadm_password of A and B: A's doveadm proxies to B with it */
#define DOVEADM_SECRET "Dv-s3cret"
/* doveadm's exit codes (doveadm.h) */
#define EX_NOTPOSSIBLE 65

static char *root, *db, *conf_a, *conf_b;
static struct dc_server a, r, b;
static char port_b[8], port_b2[8], port_b_imap[8], port_b_doveadm[8];

/* the referred users: nologin and suggest mode, to "B" (a port nobody
   listens on: the notice does not need B), and proxied to the real B
   with referral=suggest */
static const char *const referred[] = { "nmoved", "nsuggest", "nproxied" };
#define REFERRED_COUNT (sizeof(referred) / sizeof(referred[0]))

/* A's passdb: the referral fields, and for doveadm's own lookup (service
   doveadm) B's doveadm port instead of its IMAP port, so that doveadm
   proxies the proxied users' mail commands to B's doveadm listener. */
static char *query_a(void)
{
	const char *query = PASSDB_QUERY_REFERRAL, *p;
	char *port = harness_printf("CASE WHEN '%s' = 'doveadm' THEN '%s' "
				    "ELSE port END AS port",
				    dc_syntax_24() ? "%{protocol}" : "%s",
				    port_b_doveadm);
	char *result;

	p = strstr(query, " port,");
	ck_assert_ptr_nonnull(p);
	result = harness_printf("%.*s %s%s", (int)(p - query), query, port,
				p + strlen(" port"));
	free(port);
	return result;
}

static char *conf_with(const char *extra)
{
	char *plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);
	char *query = query_a();
	char *passdb = passdb_sql_block(db, "a", query);
	char *conf = harness_printf("%s\n%s"
		"doveadm_port = %s\ndoveadm_password = " DOVEADM_SECRET "\n"
		"%s", plugins, passdb, port_b_doveadm, extra);

	free(plugins);
	free(query);
	free(passdb);
	return conf;
}

static char *notice_settings(const char *body)
{
	char *b = body == NULL ? harness_printf("%s", "") :
		harness_printf("referral_notice_body = %s\n", body);
	char *conf = dc_syntax_24() ?
		harness_printf("referral_notice_from = " FROM "\n%s", b) :
		harness_printf("plugin {\n  referral_notice_from = " FROM
			       "\n%s}\n", b);

	free(b);
	return conf;
}

static void setup(void)
{
	char *query, *passdb_r, *passdb_b, *settings;

	root = harness_make_root("referral-notice");
	dc_server_init(&a, root, "a");
	dc_server_init(&r, root, "r");
	dc_server_init(&b, root, "b");
	snprintf(port_b_imap, sizeof(port_b_imap), "%u", b.imap_port);
	snprintf(port_b_doveadm, sizeof(port_b_doveadm), "%u",
		 harness_free_port());
	snprintf(port_b, sizeof(port_b), "%u", harness_free_port());
	snprintf(port_b2, sizeof(port_b2), "%u", harness_free_port());
	db = harness_printf("%s/users.db", root);
	const struct passdb_user users[] = {
		{ .user = "nmoved", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b, .nologin = "Y" },
		{ .user = "nsuggest", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b, .destuser = "ns@example.com" },
		{ .user = "nrefused", .password = "{PLAIN}" PASSWORD,
		  .host = "bad host!", .nologin = "Y" },
		{ .user = "nlocal", .password = "{PLAIN}" PASSWORD },
		/* an IPv6 target, which IMAP referrals refuse */
		{ .user = "nv6", .password = "{PLAIN}" PASSWORD,
		  .host = "2001:db8::1", .port = port_b },
		/* referred, with a mail store doveadm cannot open */
		{ .user = "nbroken", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b, .nologin = "Y",
		  .mail = "nosuchdriver:/proc/referral-test" },
		{ .user = "nproxied", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b_imap, .proxy = "Y",
		  .pass = PASSWORD, .referral = "suggest" },
	};
	passdb_create(db, users, sizeof(users) / sizeof(users[0]));

	/* B: the backend, with a doveadm listener for A's doveadm */
	passdb_b = passdb_sql_block(db, "b", PASSDB_QUERY_PLAIN);
	conf_b = harness_printf("%s"
		"doveadm_password = " DOVEADM_SECRET "\n"
		"service doveadm {\n"
		"  inet_listener doveadm {\n"
		"    port = %s\n"
		"  }\n"
		"}\n", passdb_b, port_b_doveadm);
	dc_server_start(&b, conf_b);
	free(passdb_b);

	settings = notice_settings(NULL);
	conf_a = conf_with(settings);
	dc_server_start(&a, conf_a);
	free(settings);

	/* R reads A's mail store: every user logs in there */
	query = dc_syntax_24() ?
		harness_printf("SELECT userid AS user, password, "
			"'%s/home/%%u/Maildir' AS userdb_mail_path "
			"FROM users WHERE userid = '%%u'", a.dir) :
		harness_printf("SELECT userid AS user, password, "
			"'maildir:%s/home/%%u/Maildir' AS userdb_mail "
			"FROM users WHERE userid = '%%u'", a.dir);
	passdb_r = passdb_sql_block(db, "r", query);
	dc_server_start(&r, passdb_r);
	free(passdb_r);
	free(query);
}

static void teardown(void)
{
	dc_server_stop(&a);
	dc_server_stop(&r);
	dc_server_stop(&b);
	harness_remove_root(root);
	free(conf_a);
	free(conf_b);
	free(db);
}

/* "doveadm referral notify <args>" on A: standard output, the exit
   status in *status_r, standard error in *err_r (malloc()ed). */
static char *notify(const char *args, int *status_r, char **err_r)
{
	char *err_path = harness_printf("%s/doveadm.err", root);
	char *all = harness_printf("-f tab referral notify %s", args);
	char *out = dc_server_doveadm_plugin(&a, DOVEADM_REFERRAL_DIR,
					     DOVEADM_MODULE_DIR, all,
					     err_path, status_r);

	*err_r = harness_read_file(err_path);
	printf("$ doveadm %s\n%s(stderr)\n%s(status %d)\n", all, out,
	       *err_r, *status_r);
	free(all);
	free(err_path);
	return out;
}

/* Log in to R as user; the number of notices in its INBOX, and the
   transcript of fetching them all (malloc()ed) in *fetched_r. */
static unsigned int notices(const char *user, char **fetched_r)
{
	struct imap_conn conn;
	char *cmd = harness_printf("LOGIN %s " PASSWORD, user);
	char *reply, *p;
	unsigned int count = 0;

	/* the proxied user through A's proxy, from B's mail store; the
	   others from A's mail store, through R */
	bool proxied = strcmp(user, "nproxied") == 0;

	ck_assert(imap_connect(&conn, proxied ? "A" : "R", IP,
			       proxied ? a.imap_port : r.imap_port));
	reply = imap_command(&conn, "a", cmd);
	ck_assert_msg(reply != NULL && harness_starts_with(reply, "a OK"),
		      "login as %s failed", user);
	free(reply);
	reply = imap_command(&conn, "b", "SELECT INBOX");
	ck_assert(reply != NULL && harness_starts_with(reply, "b OK"));
	free(reply);
	reply = imap_command(&conn, "c", "UID SEARCH HEADER Message-ID "
			     "\"@notice.dovecot-referral.invalid\"");
	ck_assert(reply != NULL && harness_starts_with(reply, "c OK"));
	free(reply);
	p = strstr(conn.transcript, "* SEARCH");
	ck_assert_ptr_nonnull(p);
	for (p += 8; *p == ' '; ) {
		count++;
		p += strspn(p, " ");
		p += strspn(p, "0123456789");
	}
	if (count > 0) {
		reply = imap_command(&conn, "d", "FETCH 1:* BODY.PEEK[]");
		ck_assert(reply != NULL && harness_starts_with(reply, "d OK"));
		free(reply);
	}
	*fetched_r = strdup(conn.transcript);
	imap_disconnect(&conn);
	free(cmd);
	return count;
}

static unsigned int notices_count(const char *user)
{
	char *fetched;
	unsigned int count = notices(user, &fetched);

	free(fetched);
	return count;
}

static void assert_no_notices(void)
{
	unsigned int i;

	for (i = 0; i < REFERRED_COUNT; i++)
		ck_assert_uint_eq(notices_count(referred[i]), 0);
}

/* The tests run in this order, on one pair of servers. */

START_TEST(test_dry_run_saves_nothing)
{
	int status;
	char *err, *out = notify("-n nmoved nsuggest nproxied nrefused nlocal",
				 &status, &err);

	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert(strstr(out, "would-save") != NULL);
	ck_assert(strstr(out, "Your mailbox has moved") != NULL);
	ck_assert(strstr(err, "5 users: 0 saved, 0 already present, 3 would "
			 "be saved, 1 untouched, 1 refused") != NULL);
	assert_no_notices();
	free(out);
	free(err);
}
END_TEST

START_TEST(test_broken_template_saves_nothing)
{
	char *settings = notice_settings("Server: {server}");
	char *conf = conf_with(settings);
	int status;
	char *err, *out;

	dc_server_reload(&a, conf);
	out = notify("nmoved nsuggest nproxied", &status, &err);
	ck_assert_int_eq(status, EX_CONFIG);
	ck_assert(strstr(err, "unknown variable {server}") != NULL);
	ck_assert(strstr(out, "saved") == NULL);
	assert_no_notices();
	dc_server_reload(&a, conf_a);
	free(out);
	free(err);
	free(conf);
	free(settings);
}
END_TEST

static void assert_notice(const char *user, const char *port,
			  const char *dest_user)
{
	char *fetched, *expect;

	ck_assert_uint_eq(notices(user, &fetched), 1);
	ck_assert(strstr(fetched, "\r\nFrom: " FROM "\r\n") != NULL);
	expect = harness_printf("\r\nTo: \"%s\":;\r\n", user);
	ck_assert(strstr(fetched, expect) != NULL);
	free(expect);
	ck_assert(strstr(fetched, "\r\nSubject: Your mailbox has moved to "
			 IP "\r\n") != NULL);
	ck_assert(strstr(fetched, "\r\nDate: ") != NULL);
	ck_assert(strstr(fetched, "\r\nMessage-ID: <referral-notice.") != NULL);
	ck_assert(strstr(fetched, "\r\nContent-Type: text/plain; "
			 "charset=utf-8\r\n") != NULL);
	expect = harness_printf("\r\nIncoming mail server (IMAP): " IP "\r\n"
				"Port: %s\r\nUser name: %s\r\n", port,
				dest_user);
	ck_assert_msg(strstr(fetched, expect) != NULL, "no %s", expect);
	free(expect);
	free(fetched);
}

/* Whether srv's mail store has a Maildir for user */
static bool mail_store_has(const struct dc_server *srv, const char *user)
{
	char *path = harness_printf("%s/home/%s/Maildir", srv->dir, user);
	bool found = access(path, F_OK) == 0;

	free(path);
	return found;
}

START_TEST(test_batch)
{
	char *file = harness_printf("%s/users.txt", root);
	int status;
	char *err, *out, *args;

	harness_write_file(file, "nmoved\n# a comment\nnsuggest\nnproxied\n"
			   "nrefused\nnlocal\n");
	args = harness_printf("-F %s", file);
	out = notify(args, &status, &err);
	/* the refused user makes the batch's status "not possible" */
	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert(strstr(err, "5 users: 3 saved, 0 already present, 0 would "
			 "be saved, 1 untouched, 1 refused, 0 unknown, "
			 "0 failed") != NULL);
	ck_assert(strstr(out, "nproxied\tproxy-suggest\t") != NULL);
	ck_assert(strstr(out, "nrefused\tnologin\t\trefused\t\tReferral "
			 "refused: ") != NULL ||
		  strstr(out, "nrefused\trefused\t\trefused\t\tReferral "
			 "refused: ") != NULL);
	ck_assert(strstr(out, "nlocal\tnone\t\tuntouched\t\t\n") != NULL);
	assert_notice("nmoved", port_b, "nmoved");
	assert_notice("nsuggest", port_b, "ns@example.com");
	assert_notice("nproxied", port_b_imap, "nproxied");
	/* on B only: A's mail store has none for it */
	ck_assert(!mail_store_has(&a, "nproxied"));
	ck_assert(mail_store_has(&b, "nproxied"));
	ck_assert_uint_eq(notices_count("nlocal"), 0);
	ck_assert_uint_eq(notices_count("nrefused"), 0);

	/* again: nothing new */
	free(out);
	free(err);
	out = notify(args, &status, &err);
	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert(strstr(err, "5 users: 0 saved, 3 already present") != NULL);
	ck_assert_uint_eq(notices_count("nmoved"), 1);
	ck_assert_uint_eq(notices_count("nsuggest"), 1);
	ck_assert_uint_eq(notices_count("nproxied"), 1);
	free(out);
	free(err);
	free(args);
	free(file);
}
END_TEST

START_TEST(test_changed_target)
{
	char *sql = harness_printf("UPDATE users SET port = '%s' "
				   "WHERE userid = 'nsuggest';", port_b2);
	int status;
	char *err, *out;

	passdb_exec_sql(db, sql);
	out = notify("nmoved nsuggest", &status, &err);
	ck_assert_int_eq(status, 0);
	ck_assert(strstr(err, "2 users: 1 saved, 1 already present") != NULL);
	ck_assert_uint_eq(notices_count("nmoved"), 1);
	ck_assert_uint_eq(notices_count("nsuggest"), 2);
	free(out);
	free(err);
	/* and once only for the new target too */
	out = notify("nsuggest", &status, &err);
	ck_assert_int_eq(status, 0);
	ck_assert(strstr(out, "\tpresent\t") != NULL);
	ck_assert_uint_eq(notices_count("nsuggest"), 2);
	free(out);
	free(err);
	free(sql);
}
END_TEST

/* notify refuses what "referral lookup" refuses: an IPv6 target for
   IMAP, whose ']' would end the response code */
START_TEST(test_ipv6_refused)
{
	int status;
	char *err, *out = notify("nv6", &status, &err);

	ck_assert_int_eq(status, EX_NOTPOSSIBLE);
	ck_assert(strstr(out, "nv6\trefused\t\trefused\t\tReferral "
			 "refused: ") != NULL);
	ck_assert(strstr(out, "IPv6") != NULL);
	ck_assert_uint_eq(notices_count("nv6"), 0);
	free(out);
	free(err);
}
END_TEST

/* On a terminal: a progress line, and the summary even for one user */
START_TEST(test_progress_on_terminal)
{
	int status;
	char *out = dc_server_doveadm_plugin_tty(&a, DOVEADM_REFERRAL_DIR,
		DOVEADM_MODULE_DIR, "referral notify nmoved nsuggest",
		&status);

	printf("$ doveadm referral notify nmoved nsuggest (on a terminal)\n"
	       "%s(status %d)\n", out, status);
	ck_assert_int_eq(status, 0);
	ck_assert(strstr(out, "2 users: 0 saved, 2 present, 0 would be "
			 "saved, 0 failed") != NULL);
	ck_assert(strstr(out, "2 users: 0 saved, 2 already present") != NULL);
	free(out);
}
END_TEST

/* A user whose notice cannot be saved is reported, and the others go
   on. It also ends doveadm's search over the whole batch, so each user
   is looked for on its own. */
START_TEST(test_failure_reported)
{
	int status;
	char *err, *out = notify("nmoved nbroken nsuggest", &status, &err);

	ck_assert_int_eq(status, EX_TEMPFAIL);
	ck_assert(strstr(out, "nbroken\tnologin\t") != NULL);
	ck_assert(strstr(out, "\tfailed\t") != NULL);
	ck_assert(strstr(err, "referral notify: nbroken: search failed: ")
		  != NULL);
	ck_assert(strstr(err, "3 users: 0 saved, 2 already present, 0 would "
			 "be saved, 0 untouched, 0 refused, 0 unknown, "
			 "1 failed") != NULL);
	ck_assert_uint_eq(notices_count("nmoved"), 1);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_logs_clean)
{
	const struct dc_server *servers[] = { &a, &r, &b };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		char *errors = dc_server_log_errors(servers[i]);

		ck_assert_msg(errors == NULL, "server %s logged:\n%s",
			      servers[i]->name, errors);
		ck_assert(!dc_server_log_has(servers[i], PASSWORD));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-notice");
	TCase *tc = tcase_create("notice");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dry_run_saves_nothing);
	tcase_add_test(tc, test_broken_template_saves_nothing);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_changed_target);
	tcase_add_test(tc, test_ipv6_refused);
	tcase_add_test(tc, test_progress_on_terminal);
	tcase_add_test(tc, test_failure_reported);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);
	return e2e_run_suite(s, true);
}
