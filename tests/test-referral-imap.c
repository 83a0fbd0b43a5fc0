/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "referral-imap.h"
#include "referral-target.h"
#include "referral-url.h"
#include "test-common.h"

START_TEST(test_imap_reply_build)
{
	struct referral_target t;
	struct referral_imap_reply reply;

	test_target("2001:db8::1", 993, &t);
	referral_imap_reply_build(&t, "bob@example.com", "alice",
				  REFERRAL_IMAP_AUTH_ANY, NULL, FALSE, &reply);
	ck_assert_str_eq(reply.url,
			 "imap://bob%40example.com;AUTH=*@[2001:db8::1]:993/");
	ck_assert_str_eq(reply.resp_code, "REFERRAL imap://bob%40example.com;"
			 "AUTH=*@[2001:db8::1]:993/");
	/* no passdb reason: the default names the server, the port and the
	   user name a person has to type into the client */
	ck_assert_str_eq(reply.text, "Your mailbox has moved. Please change "
			 "your mail account's IMAP server to 2001:db8::1 "
			 "(port 993, user name bob@example.com).");

	/* the reason is sanitised: no line of its own */
	test_target("imap2.example.com", 143, &t);
	referral_imap_reply_build(&t, "moved", "moved", "PLAIN",
				  "Moved.\r\n* BYE injected", TRUE, &reply);
	ck_assert_str_eq(reply.url, "imap://moved;AUTH=PLAIN@imap2.example.com/");
	ck_assert_str_eq(reply.text, "Moved.  * BYE injected");

	/* an empty one is no reason: suggest mode's default */
	referral_imap_reply_build(&t, "moved", "moved", "PLAIN", " \r\n", TRUE,
				  &reply);
	ck_assert_str_eq(reply.text, "Logged in, but your mailbox has moved. "
			 "Please change your mail account's IMAP server to "
			 "imap2.example.com.");
}
END_TEST

START_TEST(test_imap_lines)
{
	ck_assert_str_eq(referral_imap_tagged_line("b", "NO",
		"REFERRAL imap://moved;AUTH=*@imap2.example.com/",
		"Try this server instead."),
		"b NO [REFERRAL imap://moved;AUTH=*@imap2.example.com/] "
		"Try this server instead.");
	ck_assert_str_eq(referral_imap_alert_line("Moved to imap2."),
			 "* OK [ALERT] Moved to imap2.");
	ck_assert_str_eq(referral_imap_bye_line("Try this server instead."),
			 "* BYE Try this server instead.");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("referral-imap");
	TCase *tc = tcase_create("imap");

	tcase_add_test(tc, test_imap_reply_build);
	tcase_add_test(tc, test_imap_lines);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
