/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "referral-imap.h"
#include "referral-reason.h"
#include "referral-target.h"
#include "referral-url.h"
#include "test-common.h"

START_TEST(test_imap_reply_build)
{
	struct referral_target t;
	struct referral_imap_reply reply;

	test_target("imap2.example.com", 993, &t);
	referral_imap_reply_build(&t, "bob@example.com", NULL, "Moved.",
				  &reply);
	ck_assert_str_eq(reply.url,
			 "imap://bob%40example.com@imap2.example.com:993/");
	ck_assert_str_eq(reply.resp_code, "REFERRAL imap://bob%40example.com"
			 "@imap2.example.com:993/");
	ck_assert_str_eq(reply.text, "Moved.");

	/* the reason is sanitised: no line of its own */
	test_target("imap2.example.com", 143, &t);
	referral_imap_reply_build(&t, "moved", "PLAIN",
				  "Moved.\r\n* BYE injected", &reply);
	ck_assert_str_eq(reply.url, "imap://moved;AUTH=PLAIN@imap2.example.com/");
	ck_assert_str_eq(reply.text, "Moved.  * BYE injected");

	/* nothing left of it: still a text */
	referral_imap_reply_build(&t, "moved", "PLAIN", " \r\n", &reply);
	ck_assert_str_eq(reply.text, REFERRAL_REASON_DEFAULT_NOLOGIN);
}
END_TEST

START_TEST(test_imap_lines)
{
	ck_assert_str_eq(referral_imap_tagged_line("b", "NO",
		"REFERRAL imap://moved@imap2.example.com/",
		"Try this server instead."),
		"b NO [REFERRAL imap://moved@imap2.example.com/] "
		"Try this server instead.");
	ck_assert_str_eq(referral_imap_alert_line("Moved to imap2."),
			 "* OK [ALERT] Moved to imap2.");
	ck_assert_str_eq(referral_imap_bye_line("Try this server instead."),
			 "* BYE Try this server instead.");
}
END_TEST

/* IMAP refuses an IPv6 target, whose ']' would end the response code;
   every other validated host goes. */
START_TEST(test_imap_target_check)
{
	struct referral_target t;
	const char *field = NULL, *error = NULL;

	test_target("2001:db8::1", 993, &t);
	ck_assert(!referral_imap_target_check(&t, &field, &error));
	ck_assert_str_eq(field, "host");
	ck_assert_str_eq(error, "Invalid host field '2001:db8::1': an IPv6 "
		"address cannot go into an IMAP referral (clients end the "
		"response code at its ']'): use a DNS name for this server");
	test_target("::ffff:192.0.2.1", 143, &t);
	ck_assert(!referral_imap_target_check(&t, &field, &error));

	field = error = NULL;
	test_target("192.0.2.1", 143, &t);
	ck_assert(referral_imap_target_check(&t, &field, &error));
	test_target("imap2.example.com", 143, &t);
	ck_assert(referral_imap_target_check(&t, &field, &error));
	ck_assert_ptr_null(field);
	ck_assert_ptr_null(error);
}
END_TEST

START_TEST(test_imap_ok_capability)
{
	ck_assert_str_eq(referral_imap_ok_capability(
		"[CAPABILITY IMAP4rev1 SASL-IR ID] Logged in"),
		"IMAP4rev1 SASL-IR ID");
	/* in any case, as imap-proxy.c compares it */
	ck_assert_str_eq(referral_imap_ok_capability(
		"[capability IMAP4rev1] Logged in"), "IMAP4rev1");
	/* unterminated: up to the end, as imap-proxy.c takes it */
	ck_assert_str_eq(referral_imap_ok_capability("[CAPABILITY IMAP4rev1"),
			 "IMAP4rev1");
	ck_assert_str_eq(referral_imap_ok_capability("[CAPABILITY ]"), "");
	ck_assert_ptr_null(referral_imap_ok_capability("Logged in"));
	ck_assert_ptr_null(referral_imap_ok_capability(""));
	ck_assert_ptr_null(referral_imap_ok_capability("[CAPABILITY"));
	ck_assert_ptr_null(referral_imap_ok_capability(
		"[ALERT] [CAPABILITY IMAP4rev1] x"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("referral-imap");
	TCase *tc = tcase_create("imap");

	tcase_add_test(tc, test_imap_reply_build);
	tcase_add_test(tc, test_imap_lines);
	tcase_add_test(tc, test_imap_target_check);
	tcase_add_test(tc, test_imap_ok_capability);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
