/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "net.h"
#include "referral-fields.h"
#include "referral-target.h"
#include "test-common.h"

#include <string.h>

static const struct {
	const char *host;
	enum referral_host_type type;
} valid_hosts[] = {
	{ "imap2.example.com", REFERRAL_HOST_DNS },
	{ "imap2.example.com.", REFERRAL_HOST_DNS },
	{ "localhost", REFERRAL_HOST_DNS },
	{ "IMAP-2.Example.COM", REFERRAL_HOST_DNS },
	{ "3com.example", REFERRAL_HOST_DNS },
	{ "a", REFERRAL_HOST_DNS },
	{ "127.0.0.1", REFERRAL_HOST_IPV4 },
	{ "192.0.2.255", REFERRAL_HOST_IPV4 },
	{ "::1", REFERRAL_HOST_IPV6 },
	{ "2001:db8::1", REFERRAL_HOST_IPV6 },
	{ "::ffff:192.0.2.1", REFERRAL_HOST_IPV6 },
	{ "2001:DB8:0:0:0:0:0:1", REFERRAL_HOST_IPV6 },
	/* digits and "0x" are fine anywhere but as the whole last label */
	{ "0x7f.example", REFERRAL_HOST_DNS },
	{ "1.2.3.example", REFERRAL_HOST_DNS },
	{ "example.123abc", REFERRAL_HOST_DNS },
	{ "example.0xg", REFERRAL_HOST_DNS },
};

static const char *const invalid_hosts[] = {
	"",
	".",
	"bad host",
	"bad host]/x",
	"imap%2.example.com",
	"user@imap2.example.com",
	"imap2.example.com/x",
	"[2001:db8::1]",
	"[::1",
	"imap2.example.com:143",
	"fe80::1%eth0",
	"2001:db8::1::2",
	":::",
	"-imap.example.com",
	"imap-.example.com",
	"imap..example.com",
	".example.com",
	"example.com..",
	"imap_2.example.com",
	"b\xc3\xa4r.example",
	"tab\there",
	"cr\rlf\n",
	"256.1.1.1",
	"1.2.3",
	"010.1.1.1",
	"1.2.3.4.5",
	/* IPv4 addresses in inet_aton()/WHATWG spellings */
	"0x7f000001",
	"127.1.0x1",
	"10.0.0.0x1",
	"example.0x",
	"example.0XFF",
	"2130706433",
	/* the unspecified addresses */
	"0.0.0.0",
	"::",
	"0:0::0",
};

START_TEST(test_host_valid)
{
	enum referral_host_type type;
	const char *error = NULL;

	ck_assert_msg(referral_host_validate(valid_hosts[_i].host, &type,
					     &error),
		      "%s: %s", valid_hosts[_i].host, error);
	ck_assert_int_eq(type, valid_hosts[_i].type);
}
END_TEST

START_TEST(test_host_invalid)
{
	enum referral_host_type type;
	const char *error = NULL;

	ck_assert_msg(!referral_host_validate(invalid_hosts[_i], &type,
					      &error),
		      "accepted host #%d", _i);
	ck_assert_ptr_nonnull(error);
}
END_TEST

START_TEST(test_host_length_limits)
{
	enum referral_host_type type;
	const char *error;
	char label[65], name[300];

	/* a 63-byte label is fine, a 64-byte one is not */
	memset(label, 'a', 63);
	label[63] = '\0';
	ck_assert(referral_host_validate(t_strconcat(label, ".example", NULL),
					 &type, &error));
	memset(label, 'a', 64);
	label[64] = '\0';
	ck_assert(!referral_host_validate(t_strconcat(label, ".example", NULL),
					  &type, &error));
	ck_assert_str_eq(error, "DNS label longer than 63 bytes");

	/* 253 bytes in all is fine (with or without the trailing dot),
	   254 and a 300-byte name are not */
	memset(name, 'a', sizeof(name));
	for (unsigned int i = 50; i < sizeof(name); i += 51)
		name[i] = '.';
	name[253] = '\0';
	ck_assert_msg(referral_host_validate(name, &type, &error), "%s", error);
	name[253] = '.';
	name[254] = '\0';
	ck_assert_msg(referral_host_validate(name, &type, &error), "%s", error);
	name[253] = 'a';
	ck_assert(!referral_host_validate(name, &type, &error));
	ck_assert_str_eq(error, "DNS name longer than 253 bytes");
	name[299] = '\0';
	ck_assert(!referral_host_validate(name, &type, &error));
}
END_TEST

static const struct {
	const char *str;
	in_port_t port;
} valid_ports[] = {
	{ "1", 1 }, { "143", 143 }, { "993", 993 }, { "1143", 1143 },
	{ "65535", 65535 }, { "0143", 143 },
};

static const char *const invalid_ports[] = {
	"", "abc", "0", "00000", "65536", "99999", "-1", "+1", " 143",
	"143 ", "143x", "14 3", "0x8f", "1e3", "100000",
	"12345678901234567890", "\xef\xbc\x91",
};

START_TEST(test_port_valid)
{
	in_port_t port = 0;
	const char *error = NULL;

	ck_assert_msg(referral_port_parse(valid_ports[_i].str, &port, &error),
		      "%s: %s", valid_ports[_i].str, error);
	ck_assert_uint_eq(port, valid_ports[_i].port);
}
END_TEST

START_TEST(test_port_invalid)
{
	in_port_t port = 0;
	const char *error = NULL;

	ck_assert_msg(!referral_port_parse(invalid_ports[_i], &port, &error),
		      "accepted port '%s'", invalid_ports[_i]);
	ck_assert_ptr_nonnull(error);
	ck_assert_uint_eq(port, 0);
}
END_TEST

START_TEST(test_target_parse_ok)
{
	struct referral_fields f = { .host = "2001:db8::1", .port = "993" };
	struct referral_target t;
	const char *field = NULL, *error = NULL;

	ck_assert(referral_target_parse(&f, 143, &t, &field, &error));
	ck_assert_str_eq(t.host, "2001:db8::1");
	ck_assert_int_eq(t.host_type, REFERRAL_HOST_IPV6);
	ck_assert_uint_eq(t.port, 993);

	f.port = NULL;
	ck_assert(referral_target_parse(&f, 4190, &t, &field, &error));
	ck_assert_uint_eq(t.port, 4190);
}
END_TEST

START_TEST(test_target_parse_errors_name_field_and_escaped_value)
{
	struct referral_fields f = { .host = "bad\r\nhost]" };
	struct referral_target t;
	const char *field, *error;

	ck_assert(!referral_target_parse(&f, 143, &t, &field, &error));
	ck_assert_str_eq(field, "host");
	ck_assert_str_eq(error, "Invalid host field 'bad\\x0d\\x0ahost]': "
			 "DNS name has a byte other than a letter, digit, "
			 "'-' or '.'");

	f.host = "imap2.example.com";
	f.port = "abc";
	ck_assert(!referral_target_parse(&f, 143, &t, &field, &error));
	ck_assert_str_eq(field, "port");
	ck_assert_str_eq(error,
			 "Invalid port field 'abc': not a decimal number");

	f.host = "";
	f.port = NULL;
	ck_assert(!referral_target_parse(&f, 143, &t, &field, &error));
	ck_assert_str_eq(field, "host");
	ck_assert_str_eq(error, "Invalid host field '': empty");
}
END_TEST

static const struct {
	const char *host;
	in_port_t port;
	const char *local_ip;
	in_port_t local_port;
	const char *local_name;
	bool is_local;
} local_cases[] = {
	{ "127.0.0.1", 143, "127.0.0.1", 143, NULL, TRUE },
	{ "127.0.0.1", 1143, "127.0.0.1", 143, NULL, FALSE },
	{ "127.0.0.2", 143, "127.0.0.1", 143, NULL, FALSE },
	{ "::1", 143, "::1", 143, NULL, TRUE },
	{ "0:0::1", 143, "::1", 143, NULL, TRUE },
	{ "2001:db8::1", 143, "2001:db8::2", 143, NULL, FALSE },
	{ "imap.example.com", 143, "192.0.2.1", 143,
	  "imap.example.com", TRUE },
	{ "IMAP.Example.com.", 143, "192.0.2.1", 143,
	  "imap.example.com", TRUE },
	{ "imap.example.com", 143, "192.0.2.1", 143,
	  "imap.example.com.", TRUE },
	{ "imap.example.com", 993, "192.0.2.1", 143,
	  "imap.example.com", FALSE },
	{ "imap2.example.com", 143, "192.0.2.1", 143,
	  "imap.example.com", FALSE },
	/* IPv4-mapped IPv6 is the IPv4 address */
	{ "::ffff:127.0.0.1", 143, "127.0.0.1", 143, NULL, TRUE },
	{ "127.0.0.1", 143, "::ffff:127.0.0.1", 143, NULL, TRUE },
	{ "::ffff:127.0.0.2", 143, "127.0.0.1", 143, NULL, FALSE },
	/* no DNS lookups: a name is never compared with an address */
	{ "localhost", 143, "127.0.0.1", 143, NULL, FALSE },
};

START_TEST(test_target_is_local)
{
	struct referral_target t;
	struct referral_local local;
	const char *error;

	i_zero(&t);
	i_zero(&local);
	t.host = local_cases[_i].host;
	t.port = local_cases[_i].port;
	ck_assert(referral_host_validate(t.host, &t.host_type, &error));
	ck_assert_int_eq(net_addr2ip(local_cases[_i].local_ip, &local.ip), 0);
	local.port = local_cases[_i].local_port;
	local.local_name = local_cases[_i].local_name;
	ck_assert_msg(referral_target_is_local(&t, &local) ==
		      local_cases[_i].is_local, "case %d (%s)", _i, t.host);
}
END_TEST

START_TEST(test_user_validate)
{
	char user[300];
	const char *error;

	ck_assert(referral_user_validate("bob@example.com", &error));
	ck_assert(!referral_user_validate("", &error));
	ck_assert_str_eq(error, "empty");
	memset(user, 'u', sizeof(user));
	user[255] = '\0';
	ck_assert(referral_user_validate(user, &error));
	user[255] = 'u';
	user[256] = '\0';
	ck_assert(!referral_user_validate(user, &error));
	ck_assert_str_eq(error, "longer than 255 bytes");
}
END_TEST

START_TEST(test_target_resolve_ok)
{
	struct referral_fields f = { .host = "imap2.example.com",
				     .destuser = "bob@example.com" };
	struct referral_local locals[1];
	struct referral_target t;
	const char *user, *field, *error;

	i_zero(&locals);
	ck_assert(net_addr2ip("192.0.2.1", &locals[0].ip) == 0);
	locals[0].port = 143;
	ck_assert(referral_target_resolve(&f, 143, "alice", locals, 1, &t,
					  &user, &field, &error));
	ck_assert_str_eq(t.host, "imap2.example.com");
	ck_assert_uint_eq(t.port, 143);
	ck_assert_str_eq(user, "bob@example.com");

	/* an empty destuser is no destuser: the login user */
	f.destuser = "";
	ck_assert(referral_target_resolve(&f, 4190, "alice", NULL, 0, &t,
					  &user, &field, &error));
	ck_assert_str_eq(user, "alice");
	ck_assert_uint_eq(t.port, 4190);
}
END_TEST

START_TEST(test_target_resolve_refusals)
{
	struct referral_fields f = { .host = "192.0.2.9", .port = "1143" };
	struct referral_local locals[2];
	struct referral_target t;
	char long_user[REFERRAL_USER_MAX_LEN + 2];
	const char *user, *field, *error;

	/* the loop is found in any of the locals, not only the first */
	i_zero(&locals);
	ck_assert(net_addr2ip("192.0.2.1", &locals[0].ip) == 0);
	locals[0].port = 1143;
	ck_assert(net_addr2ip("192.0.2.9", &locals[1].ip) == 0);
	locals[1].port = 1143;
	ck_assert(!referral_target_resolve(&f, 143, "alice", locals, 2, &t,
					   &user, &field, &error));
	ck_assert_str_eq(field, "host");
	ck_assert_str_eq(error, "Referral to 192.0.2.9 port 1143 loops back "
			 "to this server");
	/* the same target is fine from another port */
	locals[1].port = 143;
	ck_assert(referral_target_resolve(&f, 143, "alice", locals, 2, &t,
					  &user, &field, &error));

	/* the target's errors come first, as referral_target_parse()
	   words them */
	f.port = "abc";
	ck_assert(!referral_target_resolve(&f, 143, "", NULL, 0, &t,
					   &user, &field, &error));
	ck_assert_str_eq(field, "port");
	ck_assert_str_eq(error,
			 "Invalid port field 'abc': not a decimal number");

	f.port = NULL;
	ck_assert(!referral_target_resolve(&f, 143, "", NULL, 0, &t,
					   &user, &field, &error));
	ck_assert_str_eq(field, "user");
	ck_assert_str_eq(error, "Invalid user name for the URL '': empty");

	memset(long_user, 'u', sizeof(long_user) - 1);
	long_user[sizeof(long_user) - 1] = '\0';
	f.destuser = long_user;
	ck_assert(!referral_target_resolve(&f, 143, "alice", NULL, 0, &t,
					   &user, &field, &error));
	ck_assert_str_eq(field, "destuser");
	ck_assert(strncmp(error, "Invalid destuser field 'uuu", 27) == 0);
	ck_assert(strstr(error, "...': longer than 255 bytes") != NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("referral-target");
	TCase *tc;

	tc = tcase_create("host");
	TEST_TABLE(tc, test_host_valid, valid_hosts);
	TEST_TABLE(tc, test_host_invalid, invalid_hosts);
	tcase_add_test(tc, test_host_length_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("port");
	TEST_TABLE(tc, test_port_valid, valid_ports);
	TEST_TABLE(tc, test_port_invalid, invalid_ports);
	suite_add_tcase(s, tc);

	tc = tcase_create("target");
	tcase_add_test(tc, test_target_parse_ok);
	tcase_add_test(tc, test_target_parse_errors_name_field_and_escaped_value);
	TEST_TABLE(tc, test_target_is_local, local_cases);
	tcase_add_test(tc, test_user_validate);
	tcase_add_test(tc, test_target_resolve_ok);
	tcase_add_test(tc, test_target_resolve_refusals);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
