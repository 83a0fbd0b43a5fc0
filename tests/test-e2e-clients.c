/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* A real client follows the referrals: UW c-client, the library behind
   Alpine and Pine, through its imapreferral callback (cclient-follow.c).
   It must end up with INBOX open on server B for a nologin referral
   (REFAUTHFAILED), a suggest-mode one (REFAUTH), a non-default port and a
   destuser that needs percent-encoding, and never follow anything after a
   wrong password. It logs in with AUTHENTICATE PLAIN, or with the LOGIN
   command when its SASL authenticators are disabled (--login), and each
   time it asks for the password (a prompt in Alpine) is counted: one on A
   before INBOX opens on B, since the nologin reply ends with a BYE and a
   close; three with AUTHENTICATE when the passdb keeps the connection open
   (referral_keep_open), c-client's retry loop.

   And over TLS, with servers of their own: A requires TLS and refuses
   cleartext logins; c-client logs in there over imaps or after STARTTLS
   and follows the imap:// referral it gets the way Alpine does
   (cclient-follow.c): the name it opens says nothing about TLS, so
   nothing of A's TLS carries over. To a target that offers STARTTLS,
   c-client sends STARTTLS and offers TLS 1.0 only, the handshake fails
   and INBOX does not open (UW c-client 2007f, Debian 12's
   libc-client2007e; Alpine 2.26 has a newer c-client of its own, which
   gets through, see doc/clients.md). To a target without STARTTLS it
   logs in in cleartext. */

#define _GNU_SOURCE
#include "e2e-servers.h"
#include "harness-passdb.h"
#include "harness-tls.h"
#include "harness-version.h"

#include "e2e-run.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The follower: ours, or the one REFERRAL_CCLIENT_FOLLOW names (a build
   from the Debian 12 host, where UW c-client is still packaged, when the
   suite runs in the Debian 13 root: scripts/test). */
static const char *follower(void)
{
	const char *path = getenv("REFERRAL_CCLIENT_FOLLOW");

	return path != NULL && path[0] != '\0' ? path : CCLIENT_FOLLOW;
}

static char *run_follower(const char *opt, const char *ip, in_port_t port,
			  const char *user, const char *password)
{
	char *cmd = harness_printf("%s %s %s %u '%s' '%s' 2>&1", follower(),
				   opt, ip, port, user, password);
	char *out;
	int status;

	out = harness_run_output(cmd, &status);
	free(cmd);
	return out;
}

/* The follower's "login: <ip>:<port> ..." lines before end (NULL: in
   all of out): the password prompts a person would see on that server. */
static unsigned int prompts_on(const char *out, const char *end,
			       const char *ip, const char *port)
{
	char *prefix = harness_printf("login: %s:%s ", ip, port);
	const char *p = out;
	unsigned int count = 0;

	while ((p = strstr(p, prefix)) != NULL && (end == NULL || p < end)) {
		if (p == out || p[-1] == '\n')
			count++;
		p++;
	}
	free(prefix);
	return count;
}

/* The prompts on that server before the mailbox is open. */
static unsigned int prompts_before_open(const char *out, const char *ip,
					const char *port)
{
	const char *opened = strstr(out, "\nopened: ");

	ck_assert_ptr_nonnull(opened);
	return prompts_on(out, opened, ip, port);
}

#define AUTHENTICATE ""
#define LOGIN "--login"

static const struct {
	const char *opt, *user, *code, *url_user, *b_user;
	unsigned int prompts_a;
} follows[] = {
	{ AUTHENTICATE, "moved", "REFAUTHFAILED", "moved", "moved", 1 },
	{ LOGIN, "moved", "REFAUTHFAILED", "moved", "moved", 1 },
	{ AUTHENTICATE, "suggestb", "REFAUTH", "suggestb", "suggestb", 1 },
	{ LOGIN, "suggestb", "REFAUTH", "suggestb", "suggestb", 1 },
	/* logged in through A's proxy to B, and told to go there itself */
	{ AUTHENTICATE, "proxysuggest", "REFAUTH", "proxysuggest",
	  "proxysuggest", 1 },
	{ LOGIN, "proxyalert", "REFAUTH", "proxyalert", "proxyalert", 1 },
	{ AUTHENTICATE, "renamedb", "REFAUTHFAILED", "bob%40example.com",
	  "bob@example.com", 1 },
	{ LOGIN, "suggestencoded", "REFAUTH", "bob%40example.com",
	  "bob@example.com", 1 },
	/* the connection kept open: c-client asks three times */
	{ AUTHENTICATE, "keepopen", "REFAUTHFAILED", "keepopen", "keepopen",
	  3 },
	{ LOGIN, "keepopen", "REFAUTHFAILED", "keepopen", "keepopen", 1 },
};

START_TEST(test_cclient_follows_referral)
{
	char *out = run_follower(follows[_i].opt, E2E_IP, e2e.a.imap_port,
				 follows[_i].user, E2E_PASSWORD);
	bool login = strcmp(follows[_i].opt, LOGIN) == 0;
	/* ;AUTH= only after AUTHENTICATE (RFC 2221 section 4.1) */
	char *referral = harness_printf("referral: %s imap://%s%s@"
					E2E_IP ":%s/", follows[_i].code,
					follows[_i].url_user,
					login ? "" : ";AUTH=PLAIN", e2e.port_b);
	char *opened = harness_printf("opened: host=" E2E_IP " port=%s "
				      "user=%s mailbox=INBOX tls=none\n",
				      e2e.port_b, follows[_i].b_user);
	char *total = harness_printf("password prompts: %u\n",
				     follows[_i].prompts_a + 1);

	ck_assert_msg(strstr(out, referral) != NULL, "no \"%s\"", referral);
	ck_assert_msg(strstr(out, opened) != NULL, "no \"%s\"", opened);
	/* on A before INBOX is open on B, then once on B (c-client asks
	   again for the new server: its own doing) */
	ck_assert_uint_eq(prompts_before_open(out, E2E_IP, e2e.port_a),
			  follows[_i].prompts_a);
	ck_assert_uint_eq(prompts_before_open(out, E2E_IP, e2e.port_b), 1);
	ck_assert_msg(strstr(out, total) != NULL, "no \"%s\"", total);
	free(referral);
	free(opened);
	free(total);
	free(out);
}
END_TEST

START_TEST(test_cclient_wrong_password_not_followed)
{
	char *out = run_follower(AUTHENTICATE, E2E_IP, e2e.a.imap_port,
				 "moved", "wrong");

	ck_assert_ptr_null(strstr(out, "referral: "));
	ck_assert_ptr_null(strstr(out, "opened: "));
	ck_assert(strstr(out, "not opened\n") != NULL);
	/* a real failure: c-client asks again, three times in all */
	ck_assert(strstr(out, "password prompts: 3\n") != NULL);
	free(out);
}
END_TEST

/* The TLS servers listen on an address of their own: c-client connects
   from 127.0.0.1, and Dovecot takes a connection from its own address
   for a secured one, which would let cleartext logins through. */
#define TLS_IP "127.0.0.3"

/* A: the plugin, TLS required, imaps and STARTTLS. B: TLS offered
   (STARTTLS) next to cleartext logins, so that what c-client does there
   is its own choice. Plain: no TLS at all. Dovecot's own TLS defaults
   (TLS 1.2 at least) everywhere. */
static struct {
	char *root;
	struct dc_server a, b, plain;
	in_port_t a_imaps;
	char port_a[8], port_a_imaps[8], port_b[8], port_plain[8];
} tls;

static void tls_servers_setup(void)
{
	char *db, *passdb_a, *passdb_b, *plugins, *tls_a, *tls_b, *conf;

	tls.root = harness_make_root("referral-clients-tls");
	dc_server_init(&tls.a, tls.root, "a");
	dc_server_init(&tls.b, tls.root, "b");
	dc_server_init(&tls.plain, tls.root, "plain");
	tls.a.listen = tls.b.listen = tls.plain.listen = TLS_IP;
	tls.a_imaps = harness_free_port();
	snprintf(tls.port_a, sizeof(tls.port_a), "%u", tls.a.imap_port);
	snprintf(tls.port_a_imaps, sizeof(tls.port_a_imaps), "%u",
		 tls.a_imaps);
	snprintf(tls.port_b, sizeof(tls.port_b), "%u", tls.b.imap_port);
	snprintf(tls.port_plain, sizeof(tls.port_plain), "%u",
		 tls.plain.imap_port);

	/* a user for each case, so that each log line is one case's */
	const struct passdb_user users[] = {
		{ .user = "moved-ssl", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = TLS_IP, .port = tls.port_b, .nologin = "Y" },
		{ .user = "moved-tls", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = TLS_IP, .port = tls.port_b, .nologin = "Y" },
		{ .user = "suggest-ssl", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = TLS_IP, .port = tls.port_b },
		{ .user = "suggest-tls", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = TLS_IP, .port = tls.port_b },
		{ .user = "moved-plain", .password = "{PLAIN}" E2E_PASSWORD,
		  .host = TLS_IP, .port = tls.port_plain, .nologin = "Y" },
	};

	db = harness_printf("%s/users.db", tls.root);
	passdb_create(db, users, sizeof(users) / sizeof(users[0]));
	passdb_b = passdb_sql_block(db, "b", PASSDB_QUERY_PLAIN);
	tls_b = tls_server_config(tls.b.dir, false, 0);
	conf = harness_printf("%s%s", tls_b, passdb_b);
	dc_server_start(&tls.b, conf);
	free(conf);
	dc_server_start(&tls.plain, passdb_b);

	passdb_a = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);
	tls_a = tls_server_config(tls.a.dir, true, tls.a_imaps);
	conf = harness_printf("%s%s%s", tls_a, plugins, passdb_a);
	dc_server_start(&tls.a, conf);
	free(conf);

	free(tls_a);
	free(tls_b);
	free(plugins);
	free(passdb_a);
	free(passdb_b);
	free(db);
}

static void tls_servers_teardown(void)
{
	dc_server_stop(&tls.a);
	dc_server_stop(&tls.b);
	dc_server_stop(&tls.plain);
	harness_remove_root(tls.root);
}

/* c-client's mailbox flags for A: imaps, or STARTTLS with any TLS
   version (/tls-sslv23; plain /tls means TLS 1.0 only, see
   test_cclient_starttls_tls10_refused); A's certificate is not checked. */
#define IMAPS "/ssl/novalidate-cert"
#define STARTTLS "/tls-sslv23/novalidate-cert"

/* Run the follower for user against A with these flags; it must get a
   referral with code to port_target after one password prompt on A, and
   follow it to the name Alpine's callback makes of the URL. Returns its
   output (malloc()ed). */
static char *follow_from_a(const char *flags, const char *user,
			   const char *code, const char *port_target)
{
	bool imaps = strcmp(flags, IMAPS) == 0;
	char *opt = harness_printf("--flags %s", flags);
	char *out = run_follower(opt, TLS_IP, imaps ? tls.a_imaps :
				 tls.a.imap_port, user, E2E_PASSWORD);
	char *referral = harness_printf("referral: %s imap://%s;AUTH=PLAIN@"
					TLS_IP ":%s/\n", code, user,
					port_target);
	char *following = harness_printf("following: {" TLS_IP ":%s/user="
					 "\"%s\"}\n", port_target, user);

	ck_assert_msg(strstr(out, referral) != NULL, "no \"%s\"", referral);
	ck_assert_msg(strstr(out, following) != NULL, "no \"%s\"", following);
	/* one password prompt on A (over TLS c-client uses AUTHENTICATE
	   PLAIN; the nologin reply's BYE stops its retries) */
	ck_assert_uint_eq(prompts_on(out, NULL, TLS_IP, imaps ?
				     tls.port_a_imaps : tls.port_a), 1);
	free(following);
	free(referral);
	free(opt);
	return out;
}

/* The target's log line of user's login (malloc()ed), once it is
   written; it must be the only one. */
static char *login_line(const struct dc_server *srv, const char *user)
{
	char *needle = harness_printf("%suser=<%s>,", dc_log_logged_in(), user);
	char *log, *start, *end, *line;

	ck_assert_msg(dc_server_log_wait(srv, needle), "%s never logged \"%s\"",
		      srv->name, needle);
	log = harness_read_file(srv->log_path);
	start = strstr(log, needle);
	ck_assert_msg(strstr(start + 1, needle) == NULL,
		      "%s logged \"%s\" twice", srv->name, needle);
	while (start > log && start[-1] != '\n')
		start--;
	end = strchr(start, '\n');
	line = harness_printf("%.*s", (int)(end == NULL ? strlen(start) :
					    (size_t)(end - start)), start);
	free(log);
	free(needle);
	return line;
}

static const struct {
	const char *flags, *user, *code;
} tls_follows[] = {
	{ IMAPS, "moved-ssl", "REFAUTHFAILED" },
	{ STARTTLS, "moved-tls", "REFAUTHFAILED" },
	{ IMAPS, "suggest-ssl", "REFAUTH" },
	{ STARTTLS, "suggest-tls", "REFAUTH" },
};

/* The referral came over TLS, but c-client opens the target as the URL
   says, in cleartext, and sends STARTTLS because B offers it. For
   STARTTLS, c-client 2007f uses OpenSSL's TLSv1_client_method(), TLS 1.0
   only, unless the name says /tls-sslv23 (imap_open() in imap4r1.c),
   which Alpine's name for a referral never does. The handshake fails and
   c-client drops the connection: INBOX does not open, and the password
   is never asked for on B. */
START_TEST(test_cclient_referral_over_tls_starttls_fails)
{
	const char *user = tls_follows[_i].user;
	char *out = follow_from_a(tls_follows[_i].flags, user,
				  tls_follows[_i].code, tls.port_b);
	char *needle;

	ck_assert(strstr(out, "log[2]: TLS/SSL failure for " TLS_IP ": SSL "
			 "negotiation failed\n") != NULL);
	ck_assert(strstr(out, "\nnot opened\n") != NULL);
	ck_assert_uint_eq(prompts_on(out, NULL, TLS_IP, tls.port_b), 0);
	ck_assert(strstr(out, "password prompts: 1\n") != NULL);
	/* B saw the handshake fail (2.3: "SSL_accept() failed: ...
	   unsupported protocol"; 2.4 with OpenSSL 3.5: c-client closed
	   the connection during it) */
	ck_assert(dc_server_log_wait(&tls.b, ", TLS handshaking: "));
	needle = harness_printf("%suser=<%s>,", dc_log_logged_in(), user);
	ck_assert_msg(!dc_server_log_has(&tls.b, needle), "B logged %s in",
		      user);
	free(needle);
	free(out);
}
END_TEST

/* To a target without STARTTLS, c-client logs in in cleartext, with a
   warning but without asking: TLS on A does not carry over. */
START_TEST(test_cclient_referral_over_tls_to_cleartext)
{
	char *out = follow_from_a(IMAPS, "moved-plain", "REFAUTHFAILED",
				  tls.port_plain);
	char *line;

	ck_assert(strstr(out, "opened: host=" TLS_IP " port=") != NULL);
	ck_assert(strstr(out, " user=moved-plain mailbox=INBOX tls=none\n") !=
		  NULL);
	ck_assert(strstr(out, "log[1]: SECURITY PROBLEM: insecure server "
			 "advertised AUTH=PLAIN\n") != NULL);
	ck_assert_uint_eq(prompts_before_open(out, TLS_IP, tls.port_plain), 1);
	ck_assert(strstr(out, "password prompts: 2\n") != NULL);
	line = login_line(&tls.plain, "moved-plain");
	ck_assert_msg(strstr(line, " method=PLAIN,") != NULL &&
		      strstr(line, ", TLS") == NULL, "login: %s", line);
	free(line);
	free(out);
}
END_TEST

/* A really refuses cleartext logins from c-client's address, so the
   tests here log in over TLS because they must: without TLS c-client
   finds no way to log in and never asks for the password. */
START_TEST(test_cclient_cleartext_refused)
{
	char *out = run_follower(AUTHENTICATE, TLS_IP, tls.a.imap_port,
				 "moved-ssl", E2E_PASSWORD);

	ck_assert(strstr(out, "\nnot opened\n") != NULL);
	ck_assert_ptr_null(strstr(out, "referral: "));
	ck_assert(strstr(out, "password prompts: 0\n") != NULL);
	free(out);
}
END_TEST

/* /tls: c-client's STARTTLS speaks TLS 1.0 only, which Dovecot refuses
   by default: it never gets to log in on A. */
START_TEST(test_cclient_starttls_tls10_refused)
{
	char *out = run_follower("--flags /tls/novalidate-cert", TLS_IP,
				 tls.a.imap_port, "moved-tls", E2E_PASSWORD);

	ck_assert(strstr(out, "log[2]: TLS/SSL failure for " TLS_IP ": SSL "
			 "negotiation failed\n") != NULL);
	ck_assert(strstr(out, "\nnot opened\n") != NULL);
	ck_assert(strstr(out, "password prompts: 0\n") != NULL);
	ck_assert(dc_server_log_wait(&tls.a, ", TLS handshaking: "));
	free(out);
}
END_TEST

START_TEST(test_tls_logs)
{
	const struct dc_server *servers[] = { &tls.a, &tls.b, &tls.plain };

	/* the referrals went out over TLS */
	ck_assert(dc_server_log_wait_line(&tls.a, "Referral sent (nologin): "
					  "imap://moved-ssl;AUTH=PLAIN@",
					  ", TLS,"));
	ck_assert(dc_server_log_wait_line(&tls.a, "Referral sent (login): "
					  "imap://suggest-tls;AUTH=PLAIN@",
					  ", TLS,"));
	e2e_assert_servers_clean(servers,
				 sizeof(servers) / sizeof(servers[0]));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-clients");
	TCase *tc = tcase_create("c-client");
	TCase *tc_tls = tcase_create("c-client over TLS");

	if (access(follower(), X_OK) < 0) {
		printf("SKIP: UW c-client is not installed "
		       "(Debian 12 package libc-client2007e-dev)\n");
		return 77;
	}
	tcase_add_unchecked_fixture(tc, e2e_servers_setup, e2e_servers_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_cclient_follows_referral, 0,
			    sizeof(follows) / sizeof(follows[0]));
	/* last: the failure brings Dovecot's auth penalty on 127.0.0.1 */
	tcase_add_test(tc, test_cclient_wrong_password_not_followed);
	suite_add_tcase(s, tc);

	tcase_add_unchecked_fixture(tc_tls, tls_servers_setup,
				    tls_servers_teardown);
	tcase_set_timeout(tc_tls, 60);
	tcase_add_test(tc_tls, test_cclient_cleartext_refused);
	tcase_add_test(tc_tls, test_cclient_starttls_tls10_refused);
	tcase_add_loop_test(tc_tls,
			    test_cclient_referral_over_tls_starttls_fails, 0,
			    sizeof(tls_follows) / sizeof(tls_follows[0]));
	tcase_add_test(tc_tls, test_cclient_referral_over_tls_to_cleartext);
	tcase_add_test(tc_tls, test_tls_logs);
	suite_add_tcase(s, tc_tls);

	return e2e_run_suite(s, true);
}
