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
   (referral_keep_open), c-client's retry loop. */

#define _GNU_SOURCE
#include "e2e-servers.h"

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

static char *run_follower(const char *opt, const char *user,
			  const char *password)
{
	char *cmd = harness_printf("%s %s " E2E_IP " %u '%s' '%s' 2>&1",
				   follower(), opt, e2e.a.imap_port, user,
				   password);
	char *out;
	int status;

	out = harness_run_output(cmd, &status);
	free(cmd);
	return out;
}

/* The follower's "login: <host>:<port> ..." lines for port before
   "opened:": the password prompts a person would see on that server
   before the mailbox is open. */
static unsigned int prompts_before_open(const char *out, const char *port)
{
	char *prefix = harness_printf("login: " E2E_IP ":%s ", port);
	const char *opened = strstr(out, "\nopened: ");
	const char *p = out;
	unsigned int count = 0;

	ck_assert_ptr_nonnull(opened);
	while ((p = strstr(p, prefix)) != NULL && p < opened) {
		if (p == out || p[-1] == '\n')
			count++;
		p++;
	}
	free(prefix);
	return count;
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
	{ AUTHENTICATE, "renamedb", "REFAUTHFAILED", "bob%40example.com",
	  "bob@example.com", 1 },
	/* the connection kept open: c-client asks three times */
	{ AUTHENTICATE, "keepopen", "REFAUTHFAILED", "keepopen", "keepopen",
	  3 },
	{ LOGIN, "keepopen", "REFAUTHFAILED", "keepopen", "keepopen", 1 },
};

START_TEST(test_cclient_follows_referral)
{
	char *out = run_follower(follows[_i].opt, follows[_i].user,
				 E2E_PASSWORD);
	bool login = strcmp(follows[_i].opt, LOGIN) == 0;
	char *referral = harness_printf("referral: %s imap://%s;AUTH=%s@"
					E2E_IP ":%s/", follows[_i].code,
					follows[_i].url_user,
					login ? "*" : "PLAIN", e2e.port_b);
	char *opened = harness_printf("opened: host=" E2E_IP " port=%s "
				      "user=%s mailbox=INBOX tls=none\n",
				      e2e.port_b, follows[_i].b_user);
	char *total = harness_printf("password prompts: %u\n",
				     follows[_i].prompts_a + 1);

	ck_assert_msg(strstr(out, referral) != NULL, "no \"%s\"", referral);
	ck_assert_msg(strstr(out, opened) != NULL, "no \"%s\"", opened);
	/* on A before INBOX is open on B, then once on B (c-client asks
	   again for the new server: its own doing) */
	ck_assert_uint_eq(prompts_before_open(out, e2e.port_a),
			  follows[_i].prompts_a);
	ck_assert_uint_eq(prompts_before_open(out, e2e.port_b), 1);
	ck_assert_msg(strstr(out, total) != NULL, "no \"%s\"", total);
	free(referral);
	free(opened);
	free(total);
	free(out);
}
END_TEST

START_TEST(test_cclient_wrong_password_not_followed)
{
	char *out = run_follower(AUTHENTICATE, "moved", "wrong");

	ck_assert_ptr_null(strstr(out, "referral: "));
	ck_assert_ptr_null(strstr(out, "opened: "));
	ck_assert(strstr(out, "not opened\n") != NULL);
	/* a real failure: c-client asks again, three times in all */
	ck_assert(strstr(out, "password prompts: 3\n") != NULL);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-clients");
	TCase *tc = tcase_create("c-client");

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

	return e2e_run_suite(s, true);
}
