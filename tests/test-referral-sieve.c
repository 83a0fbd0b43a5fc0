/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "referral-target.h"
#include "referral-sieve.h"
#include "test-common.h"

#include <string.h>

static const struct {
	const char *host;
	in_port_t port;
	const char *user, *url;
} url_cases[] = {
	{ "imap2.example.com", 4190, NULL, "sieve://imap2.example.com" },
	{ "imap2.example.com", 2000, NULL, "sieve://imap2.example.com:2000" },
	{ "127.0.0.2", 4190, NULL, "sieve://127.0.0.2" },
	{ "::1", 4190, NULL, "sieve://[::1]" },
	{ "2001:db8::1", 4191, NULL, "sieve://[2001:db8::1]:4191" },
	{ "imap2.example.com", 4190, "bob@example.com",
	  "sieve://bob%40example.com@imap2.example.com" },
	{ "h", 4190, "a;AUTH=x", "sieve://a%3BAUTH=x@h" },
	{ "h", 4190, "j\xc3\xbcrgen m", "sieve://j%C3%BCrgen%20m@h" },
};

START_TEST(test_sieve_url)
{
	struct referral_target t;

	test_target(url_cases[_i].host, url_cases[_i].port, &t);
	ck_assert_str_eq(referral_sieve_url(&t, url_cases[_i].user),
			 url_cases[_i].url);
}
END_TEST

static const struct {
	const char *in, *out;
} quote_cases[] = {
	{ "Try this server instead.", "\"Try this server instead.\"" },
	{ "", "\"\"" },
	{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
	{ "back\\slash", "\"back\\\\slash\"" },
	{ "Gr\xc3\xbc\xc3\x9f" "e", "\"Gr\xc3\xbc\xc3\x9f" "e\"" },
};

START_TEST(test_sieve_quote)
{
	string_t *str = t_str_new(64);

	referral_sieve_append_string(str, quote_cases[_i].in);
	ck_assert_str_eq(str_c(str), quote_cases[_i].out);
}
END_TEST

START_TEST(test_sieve_quote_limit_and_literal)
{
	char *text = t_malloc0(1100);
	string_t *str = t_str_new(1200);

	/* 1022 bytes quoted with their quotes: 1024 is the limit of what is
	   between the quotes, so 1024 plain bytes still go quoted */
	memset(text, 'x', 1024);
	referral_sieve_append_string(str, text);
	ck_assert_uint_eq(str_len(str), 1026);
	ck_assert(str_c(str)[0] == '"');

	/* escaping pushes it over: a literal */
	text[0] = '"';
	str_truncate(str, 0);
	referral_sieve_append_string(str, text);
	ck_assert(strncmp(str_c(str), "{1024}\r\n\"xxx", 12) == 0);
	ck_assert_uint_eq(str_len(str), 8 + 1024);
}
END_TEST

START_TEST(test_sieve_reply)
{
	struct referral_target t;
	const char *url;

	test_target("imap2.example.com", 4191, &t);
	/* the user part only when the user differs from the login's */
	ck_assert_str_eq(referral_sieve_reply(&t, "alice", "alice", "Moved.",
					      &url),
			 "BYE (REFERRAL \"sieve://imap2.example.com:4191\") "
			 "\"Moved.\"");
	ck_assert_str_eq(url, "sieve://imap2.example.com:4191");
	ck_assert_str_eq(referral_sieve_reply(&t, "bob@example.com", "alice",
					      "Use \"imap2\"\r\nnow.", &url),
			 "BYE (REFERRAL "
			 "\"sieve://bob%40example.com@imap2.example.com:4191\") "
			 "\"Use \\\"imap2\\\"  now.\"");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("referral-sieve");
	TCase *tc = tcase_create("sieve");

	TEST_TABLE(tc, test_sieve_url, url_cases);
	TEST_TABLE(tc, test_sieve_quote, quote_cases);
	tcase_add_test(tc, test_sieve_quote_limit_and_literal);
	tcase_add_test(tc, test_sieve_reply);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
