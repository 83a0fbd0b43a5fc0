/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "referral-reason.h"
#include "referral-notice.h"
#include "test-common.h"

#include <string.h>

static const struct referral_reason_params alice = {
	"IMAP", FALSE, "imap2.example.com", 143, 143, "alice", "alice"
};
static const struct referral_reason_params bob = {
	"IMAP", TRUE, "imap2.example.com", 993, 143, "bob@example.com", "bob"
};

START_TEST(test_default_body)
{
	const char *body, *error;

	ck_assert(referral_notice_body(NULL, &alice, &body, &error));
	ck_assert_str_eq(body,
		"Your mailbox has moved to a new server.\r\n"
		"\r\n"
		"Please change these in your mail program's account "
		"settings:\r\n"
		"\r\n"
		"Incoming mail server (IMAP): imap2.example.com\r\n"
		"Port: 143\r\n"
		"User name: alice\r\n"
		"\r\n"
		"Your mail is waiting for you there.\r\n");
	ck_assert(referral_notice_body("", &bob, &body, &error));
	ck_assert(strstr(body, "\r\nPort: 993\r\nUser name: "
			 "bob@example.com\r\n") != NULL);
}
END_TEST

START_TEST(test_body_template)
{
	const char *body, *error;

	ck_assert(referral_notice_body("Hi {login_user},\\n\\n  use {host}:"
				       "{port} as {user}.\\n{{x}} 100%%",
				       &bob, &body, &error));
	ck_assert_str_eq(body, "Hi bob,\r\n\r\n  use imap2.example.com:993 "
			 "as bob@example.com.\r\n{x}} 100%\r\n");
}
END_TEST

START_TEST(test_body_values_sanitised)
{
	struct referral_reason_params params = alice;
	const char *body, *error;

	/* a passdb user name with a line break and a literal "\n" */
	params.user = "ev\r\nil\\nname\xff";
	ck_assert(referral_notice_body("User: {user}", &params, &body,
				       &error));
	ck_assert_str_eq(body, "User: ev  il\\nname\xef\xbf\xbd\r\n");
}
END_TEST

static const char *const broken_templates[] = {
	"{nosuch}", "{host", "%{user}", "a\\n{bad}\\nb",
};

START_TEST(test_broken_templates)
{
	struct referral_notice notice = {
		.from = "postmaster@example.com",
	};
	const char *out, *error;

	ck_assert(!referral_notice_body(broken_templates[_i], &alice, &out,
					&error));
	ck_assert(!referral_notice_subject(broken_templates[_i], &alice, &out,
					   &error));
	notice.body_template = broken_templates[_i];
	ck_assert(!referral_notice_check(&notice, &error));
	ck_assert(strstr(error, "body template") != NULL);
	notice.body_template = NULL;
	notice.subject_template = broken_templates[_i];
	ck_assert(!referral_notice_check(&notice, &error));
	ck_assert(strstr(error, "subject template") != NULL);
}
END_TEST

START_TEST(test_long_body_refused)
{
	char *line = t_malloc0(REFERRAL_NOTICE_MAX_LINE_LEN + 2);
	const char *body, *error;
	string_t *many = t_str_new(REFERRAL_NOTICE_MAX_LEN + 10);

	memset(line, 'x', REFERRAL_NOTICE_MAX_LINE_LEN + 1);
	ck_assert(!referral_notice_body(line, &alice, &body, &error));
	line[REFERRAL_NOTICE_MAX_LINE_LEN] = '\0';
	ck_assert(referral_notice_body(line, &alice, &body, &error));
	/* many short lines, each growing with a value */
	while (str_len(many) < REFERRAL_NOTICE_MAX_LEN - 20)
		str_append(many, "{host}\\n");
	ck_assert(!referral_notice_body(str_c(many), &alice, &body, &error));
	ck_assert(strstr(error, "longer than") != NULL);
}
END_TEST

START_TEST(test_subject)
{
	string_t *long_subject = t_str_new(256);
	const char *subject, *error;
	unsigned int i;

	ck_assert(referral_notice_subject(NULL, &alice, &subject, &error));
	ck_assert_str_eq(subject, "Your mailbox has moved to "
			 "imap2.example.com");
	ck_assert(referral_notice_subject("Moved\r\n: {user}", &bob, &subject,
					  &error));
	ck_assert_str_eq(subject, "Moved  : bob@example.com");

	/* cut to 200 bytes, on a character: 99 ASCII bytes, then 56
	   two-byte characters, the 51st of which would end at byte 201 */
	for (i = 0; i < 99; i++)
		str_append_c(long_subject, 'x');
	for (i = 0; i < 56; i++)
		str_append(long_subject, "\xc3\xa9");
	ck_assert(referral_notice_subject(str_c(long_subject), &bob,
					  &subject, &error));
	ck_assert_uint_eq(strlen(subject), 199);
	ck_assert(strncmp(subject + 197, "\xc3\xa9", 2) == 0);
}
END_TEST

START_TEST(test_message_id)
{
	const char *id = referral_notice_message_id("alice", "h", 143, "alice");

	ck_assert(strncmp(id, "<referral-notice.", 17) == 0);
	ck_assert_uint_eq(strlen(id), 17 + 32 + 1 +
			  strlen("notice.dovecot-referral.invalid") + 1);
	ck_assert_str_eq(id, referral_notice_message_id("alice", "h", 143,
							"alice"));
	/* a change of any part is another notice */
	ck_assert_str_ne(id, referral_notice_message_id("alice", "h", 993,
							"alice"));
	ck_assert_str_ne(id, referral_notice_message_id("alice", "h2", 143,
							"alice"));
	ck_assert_str_ne(id, referral_notice_message_id("alice", "h", 143,
							"bob"));
	ck_assert_str_ne(id, referral_notice_message_id("bob", "h", 143,
							"alice"));
	/* parts cannot run into each other */
	ck_assert_str_ne(referral_notice_message_id("ab", "c", 1, "d"),
			 referral_notice_message_id("a", "bc", 1, "d"));
}
END_TEST

static const struct {
	const char *from;
	bool ok;
} from_cases[] = {
	{ "postmaster@example.com", TRUE },
	{ "Mail Admin <postmaster@example.com>", TRUE },
	{ "\"Admin, Mail\" <postmaster@example.com>", TRUE },
	{ "postmaster", FALSE },
	{ "@example.com", FALSE },
	{ "postmaster@", FALSE },
	{ "Admin <postmaster@example.com", FALSE },
	{ "Admin <postmaster@example.com> x", FALSE },
	{ "Admin postmaster@example.com", FALSE },
	{ "a@b\r\nBcc: x@y", FALSE },
	{ "", FALSE },
};

START_TEST(test_from_check)
{
	const char *error;

	ck_assert_int_eq(referral_notice_from_check(from_cases[_i].from,
						    &error),
			 from_cases[_i].ok);
}
END_TEST

START_TEST(test_build)
{
	struct referral_notice notice = {
		.from = "Mail Admin <postmaster@example.com>",
		.subject_template = "Neues Postfach: {host} \xe2\x9c\x89",
		.date = 1767225600, /* 2026-01-01 00:00:00 UTC */
	};
	const char *msg, *error, *body;

	ck_assert(referral_notice_build(&notice, &bob, &msg, &error));
	ck_assert_msg(strstr(msg, "\r\nFrom: Mail Admin "
			     "<postmaster@example.com>\r\n") != NULL, "%s", msg);
	ck_assert(strncmp(msg, "Date: ", 6) == 0);
	ck_assert(strstr(msg, " 2026 ") != NULL);
	/* "bob" is no address: a group of that name */
	ck_assert(strstr(msg, "\r\nTo: \"bob\":;\r\n") != NULL);
	ck_assert_msg(strstr(msg, "\r\nSubject: Neues Postfach: "
			     "imap2.example.com =?utf-8?") != NULL, "%s", msg);
	ck_assert(strstr(msg, "\r\nMessage-ID: ") != NULL);
	ck_assert(strstr(msg, referral_notice_message_id("bob",
		  "imap2.example.com", 993, "bob@example.com")) != NULL);
	ck_assert(strstr(msg, "\r\nMIME-Version: 1.0\r\nContent-Type: "
			 "text/plain; charset=utf-8\r\n") != NULL);
	body = strstr(msg, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	ck_assert(strstr(body, "User name: bob@example.com\r\n") != NULL);
	/* nothing but printable ASCII in the headers */
	for (; msg < body; msg++)
		ck_assert(*msg == '\r' || *msg == '\n' ||
			  (*msg >= 0x20 && *msg < 0x7f));
}
END_TEST

START_TEST(test_build_to_address)
{
	struct referral_notice notice = { .from = "postmaster@example.com" };
	struct referral_reason_params params = alice;
	const char *msg, *error;

	params.login_user = "alice@example.com";
	ck_assert(referral_notice_build(&notice, &params, &msg, &error));
	ck_assert(strstr(msg, "\r\nTo: alice@example.com\r\n") != NULL);
	params.login_user = "al\"ice\r\n";
	ck_assert(referral_notice_build(&notice, &params, &msg, &error));
	ck_assert(strstr(msg, "\r\nTo: \"al\\\"ice  \":;\r\n") != NULL);
	notice.from = "nobody";
	ck_assert(!referral_notice_build(&notice, &params, &msg, &error));
	ck_assert(!referral_notice_check(&notice, &error));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("referral-notice");
	TCase *tc = tcase_create("notice");

	tcase_add_test(tc, test_default_body);
	tcase_add_test(tc, test_body_template);
	tcase_add_test(tc, test_body_values_sanitised);
	TEST_TABLE(tc, test_broken_templates, broken_templates);
	tcase_add_test(tc, test_long_body_refused);
	tcase_add_test(tc, test_subject);
	tcase_add_test(tc, test_message_id);
	TEST_TABLE(tc, test_from_check, from_cases);
	tcase_add_test(tc, test_build);
	tcase_add_test(tc, test_build_to_address);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
