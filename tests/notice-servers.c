/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-passdb.h"
#include "harness-proc.h"
#include "harness-version.h"
#include "notice-servers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* doveadm_password of A and B: A's doveadm proxies to B with it */
#define DOVEADM_SECRET "Dv-s3cret"
/* every user, for doveadm's -A */
#define ITERATE_QUERY "SELECT userid AS user FROM users"

struct notice_servers notice;

/* A's passdb: the referral fields, and for doveadm's own lookup (service
   doveadm) B's doveadm port instead of its IMAP port, so that doveadm
   proxies the proxied users' mail commands to B's doveadm listener. */
static char *query_a(void)
{
	const char *query = PASSDB_QUERY_REFERRAL, *p;
	char *port = harness_printf("CASE WHEN '%s' = 'doveadm' THEN '%s' "
				    "ELSE port END AS port",
				    dc_syntax_24() ? "%{protocol}" : "%s",
				    notice.port_b_doveadm);
	char *result;

	p = strstr(query, " port,");
	if (p == NULL)
		harness_die("no port in the passdb query: %s", query);
	result = harness_printf("%.*s %s%s", (int)(p - query), query, port,
				p + strlen(" port"));
	free(port);
	return result;
}

/* A userdb beside the harness's static one that can list the users, for
   doveadm's -A. It is never asked for a user: the static userdb before
   it answers every lookup, and listing skips the userdbs that cannot. */
static char *listing_userdb(void)
{
	char *conf_path, *conf, *block;

	if (dc_syntax_24()) {
		return harness_printf("userdb sql-list {\n"
			"  driver = sql\n"
			"  sql_driver = sqlite\n"
			"  sqlite_path = %s\n"
			"  sqlite_readonly = yes\n"
			"  sqlite_journal_mode = delete\n"
			"  userdb_sql_iterate_query = " ITERATE_QUERY "\n"
			"}\n", notice.db);
	}
	conf_path = harness_printf("%s.list.conf.ext", notice.db);
	conf = harness_printf("driver = sqlite\nconnect = %s\n"
			      "iterate_query = " ITERATE_QUERY "\n", notice.db);
	harness_write_file(conf_path, conf);
	block = harness_printf("userdb {\n  driver = sql\n  args = %s\n}\n",
			       conf_path);
	free(conf);
	free(conf_path);
	return block;
}

char *notice_conf_a(const char *extra, bool doveadm_port)
{
	char *plugins = dc_syntax_login_plugins("referral",
						REFERRAL_PLUGIN_DIR);
	char *query = query_a();
	char *passdb = passdb_sql_block(notice.db, "a", query);
	char *userdb = listing_userdb();
	char *doveadm = doveadm_port ?
		harness_printf("doveadm_port = %s\ndoveadm_password = "
			       DOVEADM_SECRET "\n", notice.port_b_doveadm) :
		harness_printf("%s", "");
	char *conf = harness_printf("%s\n%s%s%s%s", plugins, passdb, userdb,
				    doveadm, extra);

	free(plugins);
	free(query);
	free(passdb);
	free(userdb);
	free(doveadm);
	return conf;
}

char *notice_settings(const char *body)
{
	char *b = body == NULL ? harness_printf("%s", "") :
		harness_printf("referral_notice_body = %s\n", body);
	char *conf = dc_syntax_24() ?
		harness_printf("referral_notice_from = " NOTICE_FROM "\n%s",
			       b) :
		harness_printf("plugin {\n  referral_notice_from = "
			       NOTICE_FROM "\n%s}\n", b);

	free(b);
	return conf;
}

static void create_passdb(void)
{
	const struct passdb_user users[] = {
		{ .user = "nmoved", .password = "{PLAIN}" NOTICE_PASSWORD,
		  .host = NOTICE_IP, .port = notice.port_b, .nologin = "Y" },
		{ .user = "nsuggest", .password = "{PLAIN}" NOTICE_PASSWORD,
		  .host = NOTICE_IP, .port = notice.port_b,
		  .destuser = "ns@example.com" },
		{ .user = "nrefused", .password = "{PLAIN}" NOTICE_PASSWORD,
		  .host = "bad host!", .nologin = "Y" },
		{ .user = "nlocal", .password = "{PLAIN}" NOTICE_PASSWORD },
		/* an IPv6 target, which IMAP referrals refuse */
		{ .user = "nv6", .password = "{PLAIN}" NOTICE_PASSWORD,
		  .host = "2001:db8::1", .port = notice.port_b },
		/* referred, with a mail store doveadm cannot open */
		{ .user = "nbroken", .password = "{PLAIN}" NOTICE_PASSWORD,
		  .host = NOTICE_IP, .port = notice.port_b, .nologin = "Y",
		  .mail = "nosuchdriver:/proc/referral-test" },
		{ .user = "nproxied", .password = "{PLAIN}" NOTICE_PASSWORD,
		  .host = NOTICE_IP, .port = notice.port_b_imap, .proxy = "Y",
		  .pass = NOTICE_PASSWORD, .referral = "suggest" },
		/* suggest mode, named by no batch: only -A notifies it */
		{ .user = "nlisted", .password = "{PLAIN}" NOTICE_PASSWORD,
		  .host = NOTICE_IP, .port = notice.port_b },
	};

	passdb_create(notice.db, users, sizeof(users) / sizeof(users[0]));
}

void notice_servers_setup(void)
{
	char *query, *passdb_r, *passdb_b, *settings;

	notice.root = harness_make_root("referral-notice");
	dc_server_init(&notice.a, notice.root, "a");
	dc_server_init(&notice.r, notice.root, "r");
	dc_server_init(&notice.b, notice.root, "b");
	snprintf(notice.port_b_imap, sizeof(notice.port_b_imap), "%u",
		 notice.b.imap_port);
	snprintf(notice.port_b_doveadm, sizeof(notice.port_b_doveadm), "%u",
		 harness_free_port());
	snprintf(notice.port_b, sizeof(notice.port_b), "%u",
		 harness_free_port());
	snprintf(notice.port_b2, sizeof(notice.port_b2), "%u",
		 harness_free_port());
	notice.db = harness_printf("%s/users.db", notice.root);
	create_passdb();

	/* B: the backend, with a doveadm listener for A's doveadm */
	passdb_b = passdb_sql_block(notice.db, "b", PASSDB_QUERY_PLAIN);
	notice.conf_b = harness_printf("%s"
		"doveadm_password = " DOVEADM_SECRET "\n"
		"service doveadm {\n"
		"  inet_listener doveadm {\n"
		"    port = %s\n"
		"  }\n"
		"}\n", passdb_b, notice.port_b_doveadm);
	dc_server_start(&notice.b, notice.conf_b);
	free(passdb_b);

	settings = notice_settings(NULL);
	notice.conf_a = notice_conf_a(settings, true);
	dc_server_start(&notice.a, notice.conf_a);
	free(settings);

	/* R reads A's mail store: every user logs in there */
	query = dc_syntax_24() ?
		harness_printf("SELECT userid AS user, password, "
			"'%s/home/%%u/Maildir' AS userdb_mail_path "
			"FROM users WHERE userid = '%%u'", notice.a.dir) :
		harness_printf("SELECT userid AS user, password, "
			"'maildir:%s/home/%%u/Maildir' AS userdb_mail "
			"FROM users WHERE userid = '%%u'", notice.a.dir);
	passdb_r = passdb_sql_block(notice.db, "r", query);
	dc_server_start(&notice.r, passdb_r);
	free(passdb_r);
	free(query);
}

void notice_servers_teardown(void)
{
	dc_server_stop(&notice.a);
	dc_server_stop(&notice.r);
	dc_server_stop(&notice.b);
	harness_remove_root(notice.root);
	free(notice.conf_a);
	free(notice.conf_b);
	free(notice.db);
	free(notice.root);
}

char *notice_notify(const char *args, int *status_r, char **err_r)
{
	char *err_path = harness_printf("%s/doveadm.err", notice.root);
	char *all = harness_printf("-f tab referral notify %s", args);
	char *out = dc_server_doveadm_plugin(&notice.a, DOVEADM_REFERRAL_DIR,
					     DOVEADM_MODULE_DIR, all,
					     err_path, status_r);

	*err_r = harness_read_file(err_path);
	printf("$ doveadm %s\n%s(stderr)\n%s(status %d)\n", all, out,
	       *err_r, *status_r);
	free(all);
	free(err_path);
	return out;
}
