/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "referral-target.h"
#include "referral-url.h"
#include "test-common.h"

static const struct {
	const char *user, *auth, *host;
	in_port_t port;
	const char *url;
} url_cases[] = {
	/* the examples of REFERRALS.md: LOGIN (auth NULL), AUTHENTICATE */
	{ "moved", NULL, "imap2.example.com", 143,
	  "imap://moved@imap2.example.com/" },
	{ "moved", "PLAIN", "imap2.example.com", 143,
	  "imap://moved;AUTH=PLAIN@imap2.example.com/" },
	{ "bob@example.com", NULL, "imap2.example.com", 993,
	  "imap://bob%40example.com@imap2.example.com:993/" },
	/* IPv6 (the builder brackets it; IMAP refuses it before), IPv4, a
	   port, other mechanisms */
	{ "v6", NULL, "::1", 143, "imap://v6@[::1]/" },
	{ "v6", "PLAIN", "::1", 1143, "imap://v6;AUTH=PLAIN@[::1]:1143/" },
	{ "u", NULL, "127.0.0.1", 10143, "imap://u@127.0.0.1:10143/" },
	{ "bob@example.com", NULL, "imap2.example.com", 1143,
	  "imap://bob%40example.com@imap2.example.com:1143/" },
	{ "u", "DIGEST-MD5", "imap2.example.com.", 143,
	  "imap://u;AUTH=DIGEST-MD5@imap2.example.com./" },
	{ "u", "SCRAM-SHA-256", "h", 1,
	  "imap://u;AUTH=SCRAM-SHA-256@h:1/" },
	{ "u", NULL, "h", 65535, "imap://u@h:65535/" },
	/* a "*" mechanism is encoded like any other achar: as it is */
	{ "u", "*", "h", 143, "imap://u;AUTH=*@h/" },
};

START_TEST(test_imap_url)
{
	struct referral_target t;

	test_target(url_cases[_i].host, url_cases[_i].port, &t);
	ck_assert_str_eq(referral_imap_url(&t, url_cases[_i].user,
					   url_cases[_i].auth),
			 url_cases[_i].url);
}
END_TEST

/* Every byte RFC 5092 does not allow in enc-user, one at a time. */
static const struct {
	const char *in, *out;
} achar_cases[] = {
	{ "@", "%40" }, { ";", "%3B" }, { "/", "%2F" }, { ":", "%3A" },
	{ "%", "%25" }, { " ", "%20" }, { "?", "%3F" }, { "#", "%23" },
	{ "[", "%5B" }, { "]", "%5D" }, { "\"", "%22" }, { "<", "%3C" },
	{ ">", "%3E" }, { "\\", "%5C" }, { "^", "%5E" }, { "`", "%60" },
	{ "{", "%7B" }, { "|", "%7C" }, { "}", "%7D" }, { "\x7f", "%7F" },
	{ "\r\n", "%0D%0A" }, { "\t", "%09" }, { "\x01", "%01" },
	{ "\xc3\xa9", "%C3%A9" }, { "\xff", "%FF" },
	/* what achar does allow stays as it is */
	{ "AZaz09-._~!$'()*+,&=", "AZaz09-._~!$'()*+,&=" },
	{ "bob@example.com", "bob%40example.com" },
	{ "j\xc3\xbcrgen m\xc3\xbcller", "j%C3%BCrgen%20m%C3%BCller" },
};

START_TEST(test_achar_encoding)
{
	string_t *str = t_str_new(64);

	referral_url_append_achars(str, achar_cases[_i].in);
	ck_assert_str_eq(str_c(str), achar_cases[_i].out);
}
END_TEST

START_TEST(test_url_user_and_auth_encoded)
{
	struct referral_target t = {
		.host = "imap2.example.com", .port = 143,
		.host_type = REFERRAL_HOST_DNS,
	};

	ck_assert_str_eq(referral_imap_url(&t, "a;AUTH=x@evil/", "X Y"),
		"imap://a%3BAUTH=x%40evil%2F;AUTH=X%20Y@imap2.example.com/");
}
END_TEST

/* Dovecot 2.4's POP3 (default port 110) and Submission (587) redirects */
static const struct {
	const char *user, *host;
	in_port_t port, default_port;
	const char *authority;
} authority_cases[] = {
	{ "moved", "imap2.example.com", 110, 110, "moved@imap2.example.com" },
	{ "moved", "127.0.0.1", 1110, 110, "moved@127.0.0.1:1110" },
	{ "bob@example.com", "2001:db8::1", 587, 587,
	  "bob%40example.com@[2001:db8::1]" },
	{ "bob@example.com", "2001:db8::1", 25, 587,
	  "bob%40example.com@[2001:db8::1]:25" },
	/* nothing in the user can end the redirect or start another */
	{ "a]b c\r\n:@", "h", 110, 110, "a%5Db%20c%0D%0A%3A%40@h" },
};

START_TEST(test_redirect_authority)
{
	struct referral_target t;

	test_target(authority_cases[_i].host, authority_cases[_i].port, &t);
	ck_assert_str_eq(referral_redirect_authority(&t,
				authority_cases[_i].user,
				authority_cases[_i].default_port),
			 authority_cases[_i].authority);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("referral-url");
	TCase *tc = tcase_create("url");

	TEST_TABLE(tc, test_imap_url, url_cases);
	TEST_TABLE(tc, test_achar_encoding, achar_cases);
	tcase_add_test(tc, test_url_user_and_auth_encoded);
	TEST_TABLE(tc, test_redirect_authority, authority_cases);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
