/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "referral-reason.h"
#include "test-common.h"

#include <string.h>

#define DEF "Default."

static const struct {
	const char *in, *out;
} reason_cases[] = {
	{ "Moved to the new server.", "Moved to the new server." },
	/* the measured injection against stock Dovecot */
	{ "Moved.\r\n* BYE injected", "Moved.  * BYE injected" },
	{ "a\rb\nc\td\x01" "e\x1f" "f\x7fg", "a b c d e f g" },
	/* C1 controls (U+0080..U+009F, e.g. CSI) too */
	{ "a\xc2\x9b" "31mb", "a 31mb" },
	{ "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x93\xa8",
	  "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x93\xa8" },
	/* invalid UTF-8: stray continuation, overlong, surrogate, cut off */
	{ "a\x80" "b", "a\xef\xbf\xbd" "b" },
	{ "a\xc0\xaf" "b", "a\xef\xbf\xbd\xef\xbf\xbd" "b" },
	{ "a\xed\xa0\x80" "b",
	  "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b" },
	{ "a\xe2\x82", "a\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xff", "\xef\xbf\xbd" },
	/* white space at the ends goes, inside it stays */
	{ "  x  y \r\n", "x  y" },
	/* nothing left: the default */
	{ "", DEF }, { " ", DEF }, { "\r\n", DEF }, { "\x01\x02", DEF },
	/* brackets and quotes are plain text after the response code */
	{ "[ALERT] \"quoted\"", "[ALERT] \"quoted\"" },
};

START_TEST(test_reason_table)
{
	ck_assert_str_eq(referral_reason_sanitise(reason_cases[_i].in, DEF),
			 reason_cases[_i].out);
}
END_TEST

START_TEST(test_reason_null_gives_default)
{
	ck_assert_str_eq(referral_reason_sanitise(NULL, DEF), DEF);
	ck_assert_str_eq(referral_reason_sanitise(NULL,
			 REFERRAL_REASON_DEFAULT_NOLOGIN),
			 "Try this server instead.");
}
END_TEST

static const struct {
	struct referral_reason_params params;
	const char *out;
} default_cases[] = {
	{ { "IMAP", FALSE, "imap2.example.com", 143, 143, "alice", "alice" },
	  "Your mailbox has moved. Please change your mail account's IMAP "
	  "server to imap2.example.com." },
	{ { "IMAP", TRUE, "imap2.example.com", 1143, 143, "alice", "alice" },
	  "Logged in, but your mailbox has moved. Please change your mail "
	  "account's IMAP server to imap2.example.com (port 1143)." },
	{ { "IMAP", FALSE, "192.0.2.7", 143, 143, "bob@example.com", "alice" },
	  "Your mailbox has moved. Please change your mail account's IMAP "
	  "server to 192.0.2.7 (user name bob@example.com)." },
	{ { "ManageSieve", FALSE, "2001:db8::1", 4191, 4190, "bob", "alice" },
	  "Your mailbox has moved. Please change your mail account's "
	  "ManageSieve server to 2001:db8::1 (port 4191, user name bob)." },
	/* the user name is passdb data: no line breaks reach the client */
	{ { "POP3", FALSE, "pop.example.com", 110, 110, "b\r\n* BYE x",
	    "alice" },
	  "Your mailbox has moved. Please change your mail account's POP3 "
	  "server to pop.example.com (user name b  * BYE x)." },
};

START_TEST(test_reason_default)
{
	ck_assert_str_eq(referral_reason_default(&default_cases[_i].params),
			 default_cases[_i].out);
}
END_TEST

static const struct referral_reason_params expand_params = {
	"IMAP", FALSE, "imap2.example.com", 1143, 143, "bob@example.com",
	"alice"
};

/* An administrator's template: the variables, {{ and %%, and a result
   as safe as a passdb reason. */
static const struct {
	const char *template, *out;
} expand_cases[] = {
	{ "Moved to {host}:{port} as {user} (was {login_user}, {protocol}).",
	  "Moved to imap2.example.com:1143 as bob@example.com (was alice, "
	  "IMAP)." },
	/* %% is what Dovecot 2.3's plugin {} needs for a %; a lone % and a
	   lone } are text */
	{ "100%% moved, 50% done}", "100% moved, 50% done}" },
	{ "{{host} is {host}", "{host} is imap2.example.com" },
	{ "{host}{host}", "imap2.example.comimap2.example.com" },
	/* a lone % is text, even before a letter */
	{ "%u moved", "%u moved" },
	{ "no variables", "no variables" },
	/* a multi-line setting or a hostile one is still one line */
	{ "Moved.\r\n* BYE {host}", "Moved.  * BYE imap2.example.com" },
	/* nothing left: the built-in default */
	{ " \t ", "Your mailbox has moved. Please change your mail account's "
	  "IMAP server to imap2.example.com (port 1143, user name "
	  "bob@example.com)." },
};

START_TEST(test_reason_expand)
{
	const char *out, *error;

	ck_assert_msg(referral_reason_expand(expand_cases[_i].template,
					     &expand_params, &out, &error),
		      "%s: %s", expand_cases[_i].template, error);
	ck_assert_str_eq(out, expand_cases[_i].out);
}
END_TEST

static const struct {
	const char *template, *error;
} expand_errors[] = {
	{ "{hostname}", "unknown variable {hostname} (known: {host}, {port}, "
	  "{user}, {login_user}, {protocol})" },
	{ "{host", "'{' without '}' (write {{ for a '{')" },
	{ "a { b", "'{' without '}' (write {{ for a '{')" },
	{ "{}", "unknown variable {} (known: {host}, {port}, {user}, "
	  "{login_user}, {protocol})" },
	/* Dovecot's syntax: a mistake to point out, not text to show */
	{ "Moved to %{host}.", "%{...} is Dovecot's variable syntax, which "
	  "this setting does not use: write {host}, {port}, {user}, "
	  "{login_user} or {protocol}" },
};

START_TEST(test_reason_expand_error)
{
	const char *out = NULL, *error;

	ck_assert(!referral_reason_expand(expand_errors[_i].template,
					  &expand_params, &out, &error));
	ck_assert_str_eq(error, expand_errors[_i].error);
}
END_TEST

START_TEST(test_reason_bounded)
{
	char *in = t_malloc0(6001);
	const char *out;

	memset(in, 'x', 6000);
	out = referral_reason_sanitise(in, DEF);
	ck_assert_uint_eq(strlen(out), REFERRAL_REASON_MAX_LEN);
}
END_TEST

START_TEST(test_reason_cut_on_character_boundary)
{
	/* 1023 ASCII bytes then a 2-byte character: it does not fit, and
	   is left out whole instead of cut in half */
	char *in = t_malloc0(1030);
	const char *out;

	memset(in, 'x', 1023);
	memcpy(in + 1023, "\xc3\xa9yy", 4);
	out = referral_reason_sanitise(in, DEF);
	ck_assert_uint_eq(strlen(out), 1023);
	ck_assert(out[1022] == 'x');

	/* 1022 bytes + "é" = 1024 exactly: kept */
	in[1022] = '\xc3';
	in[1023] = '\xa9';
	in[1024] = '\0';
	out = referral_reason_sanitise(in, DEF);
	ck_assert_uint_eq(strlen(out), 1024);
	ck_assert_str_eq(out + 1022, "\xc3\xa9");
}
END_TEST

START_TEST(test_reason_never_has_control_bytes)
{
	/* every byte value, in every position of a short reason */
	char in[4] = { 'a', 0, 'b', '\0' };
	unsigned int c;

	for (c = 1; c < 256; c++) {
		const unsigned char *p;

		in[1] = (char)c;
		p = (const unsigned char *)referral_reason_sanitise(in, DEF);
		for (; *p != '\0'; p++)
			ck_assert_msg(*p >= 0x20 && *p != 0x7f,
				      "byte 0x%02x let 0x%02x through", c, *p);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("referral-reason");
	TCase *tc = tcase_create("sanitise");

	TEST_TABLE(tc, test_reason_table, reason_cases);
	TEST_TABLE(tc, test_reason_default, default_cases);
	TEST_TABLE(tc, test_reason_expand, expand_cases);
	TEST_TABLE(tc, test_reason_expand_error, expand_errors);
	tcase_add_test(tc, test_reason_null_gives_default);
	tcase_add_test(tc, test_reason_bounded);
	tcase_add_test(tc, test_reason_cut_on_character_boundary);
	tcase_add_test(tc, test_reason_never_has_control_bytes);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
