/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "referral-listeners.h"
#include "test-common.h"

#include <string.h>

/* "doveconf listen service/imap-login" as Dovecot 2.3.19.1 prints it
   (settings that do not matter here left out): the global listen last,
   a listener's own addresses in "address". */
static const char doveconf_23[] =
	"service imap-login {\n"
	"  chroot = login\n"
	"  inet_listener extra {\n"
	"    address = 127.0.0.5\n"
	"    haproxy = no\n"
	"    port = 20143\n"
	"    reuse_port = no\n"
	"    ssl = no\n"
	"  }\n"
	"  inet_listener imap {\n"
	"    address = \n"
	"    haproxy = no\n"
	"    port = 10143\n"
	"    reuse_port = no\n"
	"    ssl = no\n"
	"  }\n"
	"  inet_listener imaps {\n"
	"    address = \n"
	"    port = 0\n"
	"    ssl = yes\n"
	"  }\n"
	"  protocol = imap\n"
	"}\n"
	"listen = 127.0.0.1, ::1\n";

/* The same configuration as Dovecot 2.4.1 prints it: the global listen
   first, a listener's own addresses in "listen", blocks of other kinds
   inside the service, one with a "listen" of its own. */
static const char doveconf_24[] =
	"listen = 127.0.0.1 ::1\n"
	"service imap-login {\n"
	"  imap_capability {\n"
	"    IMAP4rev1 = yes\n"
	"  }\n"
	"  chroot = login\n"
	"  inet_listener imap {\n"
	"    port = 10143\n"
	"  }\n"
	"  inet_listener imaps {\n"
	"    port = 0\n"
	"    ssl = yes\n"
	"  }\n"
	"  inet_listener extra {\n"
	"    port = 20143\n"
	"    listen = 127.0.0.5\n"
	"  }\n"
	"  unix_listener \"srv.imap-login/%{pid}\" {\n"
	"    mode = 0600\n"
	"  }\n"
	"}\n"
	"service managesieve-login {\n"
	"  inet_listener sieve {\n"
	"    port = 4190\n"
	"  }\n"
	"}\n";

/* Every address and port of listeners, "address port" each, sorted, so
   that both versions' orders compare. */
static const char *listeners_str(const ARRAY_TYPE(referral_listener) *listeners)
{
	ARRAY_TYPE(const_string) lines;
	const struct referral_listener *listener;

	t_array_init(&lines, 8);
	array_foreach(listeners, listener) {
		const char *line = t_strdup_printf("%s %u", listener->address,
						   listener->port);
		array_push_back(&lines, &line);
	}
	array_sort(&lines, i_strcmp_p);
	array_append_zero(&lines);
	return t_strarray_join(array_front(&lines), ",");
}

static const char *parse_ok(const char *output, const char *service)
{
	ARRAY_TYPE(referral_listener) listeners;
	const char *error;

	t_array_init(&listeners, 4);
	ck_assert_msg(referral_listeners_parse(output, service,
					       unsafe_data_stack_pool,
					       &listeners, &error),
		      "%s", error);
	return listeners_str(&listeners);
}

START_TEST(test_listeners_both_versions)
{
	const char *expected = "127.0.0.1 10143,127.0.0.5 20143,::1 10143";

	ck_assert_str_eq(parse_ok(doveconf_23, "imap-login"), expected);
	ck_assert_str_eq(parse_ok(doveconf_24, "imap-login"), expected);
	ck_assert_str_eq(parse_ok(doveconf_24, "managesieve-login"),
			 "127.0.0.1 4190,::1 4190");
}
END_TEST

static const struct {
	const char *output, *listeners;
} listen_cases[] = {
	/* the defaults of both versions: every IPv4 and IPv6 address */
	{ "listen = *, ::\nservice imap-login {\n"
	  "  inet_listener imap {\n    port = 143\n  }\n}\n",
	  "* 143,:: 143" },
	{ "listen = * ::\nservice imap-login {\n"
	  "  inet_listener imap {\n    port = 143\n  }\n}\n",
	  "* 143,:: 143" },
	/* an empty listen listens nowhere, unless a listener says where */
	{ "listen = \nservice imap-login {\n"
	  "  inet_listener imap {\n    port = 143\n  }\n"
	  "  inet_listener imaps {\n    listen = [::1]\n    port = 993\n"
	  "  }\n}\n", "[::1] 993" },
	/* a host name is kept as configured */
	{ "listen = imap.example.com\nservice imap-login {\n"
	  "  inet_listener imap {\n    port = 143\n  }\n}\n",
	  "imap.example.com 143" },
	/* another service's listeners and nested "listen" are not ours */
	{ "listen = 127.0.0.1\nservice pop3-login {\n"
	  "  inet_listener pop3 {\n    port = 110\n  }\n}\n"
	  "service imap-login {\n  inet_listener imap {\n"
	  "    port = 143\n  }\n}\n"
	  "protocol imap {\n  listen = 10.0.0.1\n}\n",
	  "127.0.0.1 143" },
	/* no such service: nothing listens */
	{ "", "" },
	{ "listen = *\nservice imap-login-x {\n  inet_listener imap {\n"
	  "    port = 143\n  }\n}\n", "" },
	/* 2.4's block form of a list: the addresses said yes to */
	{ "listen {\n  * = yes\n  :: = no\n  127.0.0.1 = yes\n}\n"
	  "service imap-login {\n  inet_listener imap {\n    port = 143\n"
	  "  }\n  inet_listener extra {\n    port = 20143\n"
	  "    listen {\n      127.0.0.5 = yes\n    }\n  }\n}\n",
	  "* 143,127.0.0.1 143,127.0.0.5 20143" },
	/* CRLF line ends, tabs */
	{ "listen = 127.0.0.1\r\nservice imap-login {\r\n"
	  "\tinet_listener imap {\r\n\t\tport = 143\r\n\t}\r\n}\r\n",
	  "127.0.0.1 143" },
};

START_TEST(test_listeners_listen)
{
	ck_assert_str_eq(parse_ok(listen_cases[_i].output, "imap-login"),
			 listen_cases[_i].listeners);
}
END_TEST

static const struct {
	const char *output, *error;
} error_cases[] = {
	{ "service imap-login {\n  inet_listener imap {\n"
	  "    port = 143x\n  }\n}\n",
	  "service imap-login: inet_listener port '143x': "
	  "not a decimal number" },
	{ "service imap-login {\n  inet_listener imap {\n"
	  "    port =\n  }\n}\n",
	  "service imap-login: inet_listener port '': empty" },
	{ "service imap-login {\n  inet_listener imap {\n"
	  "    port = 70000\n  }\n}\n",
	  "service imap-login: inet_listener port '70000': "
	  "out of range 1..65535" },
};

START_TEST(test_listeners_errors)
{
	ARRAY_TYPE(referral_listener) listeners;
	const char *error;

	t_array_init(&listeners, 4);
	ck_assert(!referral_listeners_parse(error_cases[_i].output,
					    "imap-login",
					    unsafe_data_stack_pool,
					    &listeners, &error));
	ck_assert_str_eq(error, error_cases[_i].error);
}
END_TEST

/* Unbalanced or garbled output is no crash and no listener. */
START_TEST(test_listeners_garbage)
{
	ck_assert_str_eq(parse_ok("}\n}\nservice imap-login {\n=\n = x\n"
				  "inet_listener {\n}\n}\n}\n{\n",
				  "imap-login"), "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("referral-listeners");
	TCase *tc = tcase_create("listeners");

	tcase_add_test(tc, test_listeners_both_versions);
	TEST_TABLE(tc, test_listeners_listen, listen_cases);
	TEST_TABLE(tc, test_listeners_errors, error_cases);
	tcase_add_test(tc, test_listeners_garbage);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
