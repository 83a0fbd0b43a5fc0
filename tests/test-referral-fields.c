/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "referral-fields.h"
#include "test-common.h"

START_TEST(test_fields_all)
{
	const char *const args[] = {
		"user=moved", "host=imap2.example.com", "port=1143",
		"destuser=bob@example.com", "reason=Moved.", "nologin",
		"proxy", "referral_keep_open", "referral_alert", NULL
	};
	struct referral_fields f;

	referral_fields_parse(args, &f);
	ck_assert_str_eq(f.host, "imap2.example.com");
	ck_assert_str_eq(f.port, "1143");
	ck_assert_str_eq(f.destuser, "bob@example.com");
	ck_assert_str_eq(f.reason, "Moved.");
	ck_assert(f.nologin);
	ck_assert(f.proxy);
	ck_assert(f.keep_open);
	ck_assert(f.alert);
}
END_TEST

START_TEST(test_fields_none)
{
	const char *const args[] = { "user=local", "hostip=10.0.0.1",
		"hostname=x", "ports=1", "nologinx", "reasons=x",
		"referral_keep_opened=y", "keep_open", "referral_keep",
		"referral_alerts", "alert", NULL };
	struct referral_fields f;

	referral_fields_parse(args, &f);
	ck_assert_ptr_null(f.host);
	ck_assert_ptr_null(f.port);
	ck_assert_ptr_null(f.destuser);
	ck_assert_ptr_null(f.reason);
	ck_assert(!f.nologin);
	ck_assert(!f.proxy);
	ck_assert(!f.keep_open);
	ck_assert(!f.alert);
}
END_TEST

START_TEST(test_fields_null_args)
{
	struct referral_fields f;

	referral_fields_parse(NULL, &f);
	ck_assert_ptr_null(f.host);
	ck_assert(!f.nologin);
	ck_assert(!f.keep_open);
}
END_TEST

START_TEST(test_fields_keep_open_any_value)
{
	/* like nologin: present means yes, whatever an SQL column or LDAP
	   attribute holds; to close, leave the field out */
	static const char *const values[] = {
		"referral_keep_open", "referral_keep_open=Y",
		"referral_keep_open=yes", "referral_keep_open=",
		"referral_keep_open=no",
	};
	unsigned int i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		const char *const args[] = { "host=b.example", "nologin",
			values[i], NULL };
		struct referral_fields f;

		referral_fields_parse(args, &f);
		ck_assert_msg(f.keep_open, "%s", values[i]);
		ck_assert(f.nologin);
		ck_assert_str_eq(f.host, "b.example");
	}
}
END_TEST

START_TEST(test_fields_empty_and_bare_values)
{
	/* a bare "host" is a present but empty host: validation must see it */
	const char *const args[] = { "host", "port=", "reason=", NULL };
	struct referral_fields f;

	referral_fields_parse(args, &f);
	ck_assert_str_eq(f.host, "");
	ck_assert_str_eq(f.port, "");
	ck_assert_str_eq(f.reason, "");
}
END_TEST

START_TEST(test_fields_last_wins_and_values_kept_raw)
{
	const char *const args[] = { "host=a.example", "host=b.example",
		"reason=x=y\r\nz", "nologin=Y", NULL };
	struct referral_fields f;

	referral_fields_parse(args, &f);
	ck_assert_str_eq(f.host, "b.example");
	ck_assert_str_eq(f.reason, "x=y\r\nz");
	ck_assert(f.nologin);
}
END_TEST

START_TEST(test_fields_proxy_suggest)
{
	static const struct {
		const char *const args[4];
		int ret;
		const char *error;
	} cases[] = {
		{ { "proxy", "host=b", "referral=suggest", NULL }, 1, NULL },
		{ { "proxy=y", "referral=SuGgEsT", NULL }, 1, NULL },
		/* not proxied: host alone already suggests */
		{ { "host=b", "referral=suggest", NULL }, 0, NULL },
		{ { "proxy", "host=b", NULL }, 0, NULL },
		/* an empty column: as if absent */
		{ { "proxy", "referral=", NULL }, 0, NULL },
		{ { "proxy", "referral", NULL }, 0, NULL },
		{ { "proxy", "referral=nologin", NULL }, -1,
		  "Invalid referral 'nologin': only 'suggest' is known" },
		{ { "proxy", "referral=suggest ", NULL }, -1,
		  "Invalid referral 'suggest ': only 'suggest' is known" },
		{ { "proxy", "referral=s\r\n\x01", NULL }, -1,
		  "Invalid referral 's\\x0d\\x0a\\x01': only 'suggest' is known" },
	};
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		struct referral_fields f;
		const char *error = NULL;

		referral_fields_parse(cases[i].args, &f);
		ck_assert_int_eq(referral_fields_proxy_suggest(&f, &error),
				 cases[i].ret);
		if (cases[i].error == NULL)
			ck_assert_ptr_null(error);
		else
			ck_assert_str_eq(error, cases[i].error);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("referral-fields");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_fields_all);
	tcase_add_test(tc, test_fields_none);
	tcase_add_test(tc, test_fields_null_args);
	tcase_add_test(tc, test_fields_empty_and_bare_values);
	tcase_add_test(tc, test_fields_last_wins_and_values_kept_raw);
	tcase_add_test(tc, test_fields_keep_open_any_value);
	tcase_add_test(tc, test_fields_proxy_suggest);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
