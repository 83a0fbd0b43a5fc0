/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "referral-escape.h"
#include "test-common.h"

static const struct {
	const char *in;
	size_t max_len;
	const char *out;
} escape_cases[] = {
	{ "imap2.example.com", 128, "imap2.example.com" },
	{ "", 128, "" },
	{ "a\r\nb", 128, "a\\x0d\\x0ab" },
	{ "back\\slash", 128, "back\\\\slash" },
	{ "\xc3\xa9\x7f", 128, "\\xc3\\xa9\\x7f" },
	{ "abcdef", 3, "abc..." },
	{ "abc", 3, "abc" },
};

START_TEST(test_escape)
{
	ck_assert_str_eq(referral_value_escape(escape_cases[_i].in,
					       escape_cases[_i].max_len),
			 escape_cases[_i].out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("referral-escape");
	TCase *tc = tcase_create("escape");

	TEST_TABLE(tc, test_escape, escape_cases);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
