/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* A real client follows the referrals: UW c-client, the library behind
   Alpine and Pine, through its imapreferral callback (cclient-follow.c).
   It must end up with INBOX open on server B for a nologin referral
   (REFAUTHFAILED), a suggest-mode one (REFAUTH), a non-default port and a
   destuser that needs percent-encoding, and never follow anything after a
   wrong password. */

#define _GNU_SOURCE
#include "e2e-servers.h"

#include "e2e-run.h"

#include <check.h>
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

static char *run_follower(const char *user, const char *password)
{
	char *cmd = harness_printf("%s " E2E_IP " %u '%s' '%s' 2>&1",
				   follower(), e2e.a.imap_port, user,
				   password);
	char *out;
	int status;

	out = harness_run_output(cmd, &status);
	free(cmd);
	return out;
}

static const struct {
	const char *user, *code, *url_user, *b_user;
} follows[] = {
	{ "moved", "REFAUTHFAILED", "moved", "moved" },
	{ "suggestb", "REFAUTH", "suggestb", "suggestb" },
	{ "renamedb", "REFAUTHFAILED", "bob%40example.com",
	  "bob@example.com" },
};

START_TEST(test_cclient_follows_referral)
{
	char *out = run_follower(follows[_i].user, E2E_PASSWORD);
	char *referral = harness_printf("referral: %s imap://%s;AUTH=PLAIN@"
					E2E_IP ":%s/", follows[_i].code,
					follows[_i].url_user, e2e.port_b);
	char *opened = harness_printf("opened: host=" E2E_IP " port=%s "
				      "user=%s mailbox=INBOX\n", e2e.port_b,
				      follows[_i].b_user);

	ck_assert_msg(strstr(out, referral) != NULL, "no \"%s\"", referral);
	ck_assert_msg(strstr(out, opened) != NULL, "no \"%s\"", opened);
	free(referral);
	free(opened);
	free(out);
}
END_TEST

START_TEST(test_cclient_wrong_password_not_followed)
{
	char *out = run_follower("moved", "wrong");

	ck_assert_ptr_null(strstr(out, "referral: "));
	ck_assert_ptr_null(strstr(out, "opened: "));
	ck_assert(strstr(out, "not opened\n") != NULL);
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
