/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-passdb.h"
#include "harness-version.h"
#include "e2e-servers.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct e2e_servers e2e;

static char *long_reason(void)
{
	char *reason = malloc(6001);

	memset(reason, 'L', 6000);
	reason[6000] = '\0';
	return reason;
}

static void create_passdb(const char *db)
{
	const char *pb = e2e.port_b;
	char *long_text = long_reason();
	char long_user[300];

	memset(long_user, 'u', sizeof(long_user) - 1);
	long_user[sizeof(long_user) - 1] = '\0';
	const struct passdb_user users[] = {
		{ .user = "local", .password = "{PLAIN}" E2E_PASSWORD },
		{ .user = "disabled", .password = "{PLAIN}" E2E_PASSWORD,
		  .nologin = "Y", .reason = "Account disabled." },
		/* nologin */
		{ .user = "moved", .password = "{PLAIN}" E2E_PASSWORD, .host = E2E_IP,
		  .port = pb, .nologin = "Y" },
		{ .user = "custom", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "imap2.example.com", .port = "1143",
		  .destuser = "bob@example.com",
		  .reason = "Your mailbox moved to imap2.", .nologin = "Y" },
		{ .user = "v6", .password = "{PLAIN}" E2E_PASSWORD, .host = "::1",
		  .nologin = "Y" },
		{ .user = "v6port", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "2001:db8::1", .port = "993", .nologin = "Y" },
		/* for a referral-following client: nologin and suggest to
		   B, and a destuser B knows */
		{ .user = "suggestb", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_IP, .port = pb },
		{ .user = "suggestalert", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_IP, .port = pb, .alert = "Y" },
		{ .user = "renamedb", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_IP, .port = pb, .destuser = "bob@example.com",
		  .nologin = "Y" },
		{ .user = "bob@example.com",
		  .password = "{PLAIN}" E2E_PASSWORD },
		/* suggest to B as bob@example.com: a URL with a '%' */
		{ .user = "suggestencoded", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_IP, .port = pb, .destuser = "bob@example.com" },
		/* nologin as before the plugin closed the connection */
		{ .user = "keepopen", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_IP, .port = pb, .nologin = "Y",
		  .keep_open = "Y" },
		{ .user = "proxied", .password = "{PLAIN}" E2E_PASSWORD, .host = E2E_IP,
		  .port = pb, .proxy = "Y", .pass = E2E_PASSWORD },
		/* proxied to B, and told to go there (referral=suggest) */
		{ .user = "proxysuggest", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_IP, .port = pb, .proxy = "Y",
		  .pass = E2E_PASSWORD, .referral = "suggest" },
		{ .user = "proxyalert", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_IP, .port = pb, .proxy = "Y",
		  .pass = E2E_PASSWORD, .referral = "SUGGEST", .alert = "Y" },
		/* IMAP refuses an IPv6 target (its ']' would end the
		   response code): proxied as without referral=suggest. A
		   v4-mapped address, so that the proxy reaches B. */
		{ .user = "v6proxy", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "::ffff:" E2E_IP, .port = pb, .proxy = "Y",
		  .pass = E2E_PASSWORD, .referral = "suggest" },
		{ .user = "proxybadmode", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_IP, .port = pb, .proxy = "Y",
		  .pass = E2E_PASSWORD, .referral = "nologin\r\n" },
		{ .user = "proxyemptymode", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_IP, .port = pb, .proxy = "Y",
		  .pass = E2E_PASSWORD, .referral = "" },
		/* hostile values */
		{ .user = "inject", .password = "{PLAIN}" E2E_PASSWORD, .host = E2E_IP,
		  .port = pb, .nologin = "Y",
		  .reason = "Moved.\r\n* BYE injected\r\nx NO fake" },
		{ .user = "longreason", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_IP, .port = pb, .nologin = "Y",
		  .reason = long_text },
		{ .user = "badport", .password = "{PLAIN}" E2E_PASSWORD, .host = E2E_IP,
		  .port = "abc", .nologin = "Y" },
		{ .user = "badhost", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "bad host]/x", .nologin = "Y" },
		{ .user = "emptyhost", .password = "{PLAIN}" E2E_PASSWORD, .host = "",
		  .nologin = "Y" },
		{ .user = "selfref", .password = "{PLAIN}" E2E_PASSWORD, .host = E2E_IP,
		  .port = e2e.port_a, .nologin = "Y" },
		{ .user = "longdest", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "imap2.example.com", .nologin = "Y",
		  .destuser = long_user },
		{ .user = "emptydest", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "imap2.example.com", .destuser = "",
		  .nologin = "Y" },
		/* suggest mode: host without nologin */
		{ .user = "suggest", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "imap2.example.com" },
		{ .user = "suggestreason", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "2001:db8::1", .port = "1143",
		  .destuser = "s r@example.com",
		  .reason = "Please move to\r\nthe new server." },
		{ .user = "suggestbad", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "bad host" },
		/* ManageSieve */
		{ .user = "sievemoved", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_SIEVE_IP, .nologin = "Y" },
		{ .user = "sieveport", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "imap2.example.com", .port = "4191",
		  .destuser = "bob@example.com", .nologin = "Y",
		  .reason = "Use \"imap2\" \\ now." },
		{ .user = "sievesame", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "2001:db8::1", .destuser = "sievesame",
		  .nologin = "Y" },
		/* a loop for ManageSieve only: A's own ManageSieve
		   listener, while IMAP clients go to that port elsewhere */
		{ .user = "sieveself", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = E2E_IP, .port = e2e.port_a_sieve, .nologin = "Y" },
		/* a broken mail location: the post-login process fails
		   to set the user up after the login itself succeeded
		   (an unwritable maildir would only fail later, lazily) */
		{ .user = "suggestbroken", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = "imap2.example.com",
		  .mail = "nosuchdriver:/proc/referral-test" },
	};

	passdb_create(db, users, sizeof(users) / sizeof(users[0]));
	free(long_text);
}

/* The ManageSieve target: a script of its own for sievemoved, so a client
   that followed the referral can be seen to be there. */
static void start_sieve_target(const char *passdb)
{
	char *dir;

	dc_server_init(&e2e.sieve, e2e.root, "sieve");
	e2e.sieve.listen = E2E_SIEVE_IP;
	e2e.sieve.protocols = "sieve";
	e2e.sieve.sieve_port = e2e.a.sieve_port;
	dir = harness_printf("%s/home", e2e.sieve.dir);
	harness_make_dir(dir, 0755, "nobody");
	free(dir);
	dir = harness_printf("%s/home/sievemoved", e2e.sieve.dir);
	harness_make_dir(dir, 0700, "nobody");
	free(dir);
	dir = harness_printf("%s/home/sievemoved/sieve", e2e.sieve.dir);
	harness_make_dir(dir, 0700, "nobody");
	free(dir);
	dir = harness_printf("%s/home/sievemoved/sieve/on-server-b.sieve",
			     e2e.sieve.dir);
	harness_write_file(dir, "keep;\n");
	free(dir);
	dc_server_start(&e2e.sieve, passdb);
}

void e2e_servers_setup(void)
{
	char *db, *passdb_a, *passdb_fwd, *passdb_b, *fwd_query, *conf;
	char *snippet, *metrics;

	e2e.root = harness_make_root("referral-e2e");
	dc_server_init(&e2e.b, e2e.root, "b");
	dc_server_init(&e2e.a, e2e.root, "a");
	dc_server_init(&e2e.stock, e2e.root, "stock");
	e2e.a.protocols = DC_ALL_PROTOCOLS;
	e2e.stock.protocols = DC_ALL_PROTOCOLS;
	snprintf(e2e.port_b, sizeof(e2e.port_b), "%u", e2e.b.imap_port);
	snprintf(e2e.port_a, sizeof(e2e.port_a), "%u", e2e.a.imap_port);
	snprintf(e2e.port_a_sieve, sizeof(e2e.port_a_sieve), "%u",
		 e2e.a.sieve_port);

	db = harness_printf("%s/users.db", e2e.root);
	create_passdb(db);

	passdb_b = passdb_sql_block(db, "b", PASSDB_QUERY_PLAIN);
	dc_server_start(&e2e.b, passdb_b);
	start_sieve_target(passdb_b);

	passdb_a = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	/* The "forward all users" example: any password of any user in
	   the domain gets the referral, without a delay. */
	fwd_query = harness_printf("SELECT NULL AS password, 'Y' AS nopassword, "
		"'" E2E_IP "' AS host, '%s' AS port, 'Y' AS nologin, "
		"'Y' AS nodelay, 'This server is retired, use the new one.' "
		"AS reason WHERE '%%d' = 'forward.example'", e2e.port_b);
	passdb_fwd = passdb_sql_block(db, "forward", fwd_query);
	/* the documented snippets, as an administrator would use them */
	snippet = dc_example_path("conf.d/10-referral.conf");
	metrics = dc_example_path("conf.d/95-referral-metrics.conf");
	conf = harness_printf("!include %s\n!include %s\n"
		"login_plugin_dir = %s\nauth_debug = yes\n"
		/* one connection per user from this address: the limit
		   hits after a suggest-mode OK was sent */
		"remote " E2E_LIMITED_IP " {\n"
		"  mail_max_userip_connections = 1\n"
		"}\n%s%s", snippet, metrics, REFERRAL_PLUGIN_DIR,
		passdb_a, passdb_fwd);
	free(snippet);
	free(metrics);
	dc_server_start(&e2e.a, conf);
	free(conf);

	conf = harness_printf("%s%s", passdb_a, passdb_fwd);
	dc_server_start(&e2e.stock, conf);
	free(conf);

	free(passdb_a);
	free(passdb_fwd);
	free(passdb_b);
	free(fwd_query);
	free(db);
}

void e2e_servers_teardown(void)
{
	dc_server_stop(&e2e.a);
	dc_server_stop(&e2e.b);
	dc_server_stop(&e2e.stock);
	dc_server_stop(&e2e.sieve);
	harness_remove_root(e2e.root);
}

const char *e2e_b_hostport(void)
{
	static char hostport[32];

	snprintf(hostport, sizeof(hostport), E2E_IP ":%s", e2e.port_b);
	return hostport;
}

const char *e2e_b_default_reason(bool logged_in)
{
	static char *reason;

	/* B's port is new with every set-up */
	free(reason);
	reason = imap_default_reason(logged_in, E2E_IP, e2e.b.imap_port);
	return reason;
}

char *e2e_login_a(struct imap_conn *conn, const char *command)
{
	ck_assert_msg(imap_connect(conn, "A", E2E_IP, e2e.a.imap_port),
		      "cannot connect to server A");
	return imap_command(conn, "b", command);
}

void e2e_assert_logs_clean(void)
{
	const struct dc_server *servers[] = {
		&e2e.a, &e2e.b, &e2e.stock, &e2e.sieve
	};

	e2e_assert_servers_clean(servers,
				 sizeof(servers) / sizeof(servers[0]));
}

void e2e_assert_servers_clean(const struct dc_server *const *servers,
			      unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		char *errors = dc_server_log_errors(servers[i]);

		ck_assert_msg(errors == NULL, "server %s logged:\n%s",
			      servers[i]->name, errors);
		ck_assert_msg(!dc_server_log_has(servers[i], E2E_PASSWORD),
			      "server %s logged a password", servers[i]->name);
	}
}
