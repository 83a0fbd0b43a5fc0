/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* libFuzzer target over the pure core: the input is an auth reply's
   arguments separated by NUL bytes (a value may hold any other byte, as
   the auth protocol's tab-escaping allows); the first argument is the
   SASL mechanism (empty: the LOGIN command), the second the login user
   name. The input up to its
   first NUL is also doveconf output for the listener parser. Every step the plugin
   takes runs, and the promises the core makes are checked: a violation
   aborts, which the fuzzer reports as a crash. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "unichar.h"
#include "referral-escape.h"
#include "referral-fields.h"
#include "referral-imap.h"
#include "referral-listeners.h"
#include "referral-notice.h"
#include "referral-reason.h"
#include "referral-sieve.h"
#include "referral-target.h"
#include "referral-url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) \
	STMT_START { if (!(cond)) { \
		fprintf(stderr, "invariant failed: %s\n", #cond); \
		abort(); } } STMT_END

static int hex_value(char c)
{
	return i_isdigit(c) ? c - '0' : c - 'A' + 10;
}

/* The user part of the URL must decode back to exactly the user. */
static void check_user_encoding(const char *url, const char *user)
{
	const char *p = url + strlen("imap://");
	/* the user part ends at ";AUTH=" or '@': both are encoded in it */
	const char *end = strpbrk(p, ";@");
	string_t *decoded = t_str_new(64);

	CHECK(end != NULL);
	CHECK(*end == '@' || str_begins(end, ";AUTH="));
	for (; p < end; p++) {
		if (*p == '%') {
			CHECK(i_isxdigit(p[1]) && i_isxdigit(p[2]));
			CHECK(!i_islower(p[1]) && !i_islower(p[2]));
			str_append_c(decoded,
				     hex_value(p[1]) * 16 + hex_value(p[2]));
			p += 2;
		} else {
			str_append_c(decoded, *p);
		}
	}
	CHECK(strcmp(str_c(decoded), user) == 0);
}

static void check_url(const char *url, const struct referral_target *target,
		      const char *user, const char *mech)
{
	const char *p, *host_start;
	unsigned int at_count = 0;

	CHECK(str_begins(url, "imap://"));
	CHECK(url[strlen(url) - 1] == '/');
	for (p = url; *p != '\0'; p++) {
		/* printable, no space: the URL cannot end the response code
		   or the line */
		CHECK(*p > 0x20 && *p < 0x7f);
		if (*p == '@')
			at_count++;
		if (*p == '[' || *p == ']')
			CHECK(target->host_type == REFERRAL_HOST_IPV6);
	}
	CHECK(at_count == 1);
	/* ;AUTH= after AUTHENTICATE only (RFC 2221 section 4.1) */
	CHECK((strstr(url, ";AUTH=") != NULL) == (mech != NULL));
	check_user_encoding(url, user);

	host_start = strchr(url, '@') + 1;
	if (target->host_type == REFERRAL_HOST_IPV6) {
		CHECK(host_start[0] == '[');
		CHECK(strncmp(host_start + 1, target->host,
			      strlen(target->host)) == 0);
		CHECK(host_start[1 + strlen(target->host)] == ']');
	} else {
		CHECK(strncmp(host_start, target->host,
			      strlen(target->host)) == 0);
	}
}

static void check_host(const char *host)
{
	for (; *host != '\0'; host++)
		CHECK(i_isalnum(*host) || *host == '.' || *host == '-' ||
		      *host == ':');
}

static void check_reason(const char *reason, const char *def)
{
	const unsigned char *p = (const unsigned char *)reason;
	size_t len = strlen(reason);

	CHECK(len > 0 && len <= REFERRAL_REASON_MAX_LEN);
	if (reason == def)
		return;
	CHECK(reason[0] != ' ' && reason[len-1] != ' ');
	CHECK(uni_utf8_data_is_valid(p, len));
	for (; *p != '\0'; p++)
		CHECK(*p >= 0x20 && *p != 0x7f);
}

/* A ManageSieve string must be one quoted string or one literal that
   holds exactly the text. */
static void check_sieve_string(const char *text)
{
	string_t *str = t_str_new(64);
	const char *p;
	size_t len = strlen(text);

	referral_sieve_append_string(str, text);
	p = str_c(str);
	if (p[0] == '{') {
		CHECK(str_begins(p, t_strdup_printf("{%zu}\r\n", len)));
		CHECK(strcmp(strchr(p, '\n') + 1, text) == 0);
		return;
	}
	CHECK(p[0] == '"' && p[str_len(str) - 1] == '"');
	CHECK(str_len(str) - 2 <= REFERRAL_SIEVE_QUOTED_MAX_LEN);
	for (p++; *p != '\0' && p[1] != '\0'; p++) {
		CHECK(*p != '\r' && *p != '\n');
		if (*p == '\\') {
			p++;
			CHECK(*p == '"' || *p == '\\');
		} else {
			CHECK(*p != '"');
		}
	}
}

static void check_escaped(const char *escaped)
{
	for (; *escaped != '\0'; escaped++)
		CHECK(*escaped >= 0x20 && *escaped < 0x7f);
}

/* Every listener has a port and one address: no list separator left. */
static void check_listeners(const char *output)
{
	ARRAY_TYPE(referral_listener) listeners;
	const struct referral_listener *listener;
	const char *error;

	t_array_init(&listeners, 4);
	if (!referral_listeners_parse(output, "imap-login",
				      unsafe_data_stack_pool, &listeners,
				      &error)) {
		CHECK(array_count(&listeners) == 0);
		return;
	}
	array_foreach(&listeners, listener) {
		CHECK(listener->port > 0);
		CHECK(listener->address[0] != '\0');
		CHECK(strpbrk(listener->address, ", ") == NULL);
	}
}

/* A move notice with template as the administrator's subject and body
   (NULL: the built-in ones): one well-formed message, or a refusal of
   the template. Its lines end in CRLF but where a header is folded, and
   none is longer than RFC 5322's 998 bytes; its Message-ID is the one
   that tells this user and target apart. */
static void check_notice(const struct referral_reason_params *params,
			 const char *template)
{
	struct referral_notice notice;
	const char *message, *error, *p, *end, *id;

	i_zero(&notice);
	notice.from = "Postmaster <postmaster@example.com>";
	notice.subject_template = template;
	notice.body_template = template;
	notice.date = 1764745200;
	if (!referral_notice_build(&notice, params, &message, &error)) {
		CHECK(template != NULL && *template != '\0');
		return;
	}
	CHECK(strstr(message, "\r\n\r\n") != NULL);
	for (p = message; *p != '\0'; p = end + 1) {
		end = strchr(p, '\n');
		CHECK(end != NULL);
		CHECK(end - p <= 998);
		CHECK((end > p && end[-1] == '\r') || end[1] == '\t' ||
		      end[1] == ' ');
		CHECK(memchr(p, '\r', end - p) == NULL ||
		      (end > p && memchr(p, '\r', end - p) == end - 1));
	}
	id = referral_notice_message_id(params->login_user, params->host,
					params->port, params->user);
	CHECK(strstr(message, t_strdup_printf("\r\nMessage-ID: %s\r\n",
					      id)) != NULL);
}

static void fuzz_one(const uint8_t *data, size_t size)
{
	ARRAY_TYPE(const_string) args;
	struct referral_fields fields;
	struct referral_target target;
	struct referral_local local;
	struct referral_reason_params params;
	const char *const *argv, *mech, *user, *field, *error, *url, *reason;
	const char *capability;
	char *copy = t_malloc0(size + 1);
	size_t i, start = 0;
	unsigned int count;
	int ret;

	memcpy(copy, data, size);
	check_listeners(copy);
	t_array_init(&args, 8);
	for (i = 0; i <= size; i++) {
		if (i == size || copy[i] == '\0') {
			const char *arg = copy + start;

			array_push_back(&args, &arg);
			start = i + 1;
		}
	}
	argv = array_get(&args, &count);
	mech = count > 0 && argv[0][0] != '\0' ? argv[0] : NULL;
	user = count > 1 && argv[1][0] != '\0' ? argv[1] : "user";
	array_append_zero(&args);
	argv = array_front(&args);

	referral_fields_parse(argv + I_MIN(count, 2), &fields);
	reason = referral_reason_sanitise(fields.reason, "Default.");
	check_reason(reason, "Default.");
	check_sieve_string(reason);
	ret = referral_fields_proxy_suggest(&fields, &error);
	CHECK(ret >= -1 && ret <= 1);
	if (ret < 0)
		check_escaped(error);
	/* a backend's OK text: the capabilities are a part of it, and
	   none of its line ends */
	if (fields.reason != NULL &&
	    (capability = referral_imap_ok_capability(fields.reason)) != NULL) {
		CHECK(strstr(fields.reason, capability) != NULL);
		CHECK(strchr(capability, ']') == NULL);
	}
	if (fields.host == NULL)
		return;
	check_escaped(referral_value_escape(fields.host,
					    REFERRAL_LOG_VALUE_MAX_LEN));

	if (!referral_target_parse(&fields, 143, &target, &field, &error)) {
		CHECK(strcmp(field, "host") == 0 || strcmp(field, "port") == 0);
		check_escaped(error);
		return;
	}
	check_host(target.host);
	CHECK(target.port > 0);

	i_zero(&local);
	(void)net_addr2ip("127.0.0.1", &local.ip);
	local.port = 143;
	local.local_name = "imap.example.com";
	(void)referral_target_is_local(&target, &local);

	if (fields.destuser != NULL && fields.destuser[0] != '\0')
		user = fields.destuser;
	if (!referral_user_validate(user, &error)) {
		CHECK(strlen(user) > REFERRAL_USER_MAX_LEN);
		return;
	}
	url = referral_imap_url(&target, user, mech);
	check_url(url, &target, user, mech);
	/* bounded user, host and mechanism: a bounded line */
	CHECK(strlen(url) < 7 + 3 * REFERRAL_USER_MAX_LEN + 6 +
	      (mech == NULL ? 0 : 3 * strlen(mech)) + 1 + 2 + 253 + 6 + 1);
	/* what IMAP sends: nothing that ends the response code early */
	if (referral_imap_target_check(&target, &field, &error))
		CHECK(strchr(url, ']') == NULL);
	else {
		CHECK(target.host_type == REFERRAL_HOST_IPV6);
		CHECK(strcmp(field, "host") == 0);
		check_escaped(error);
	}

	/* the default reason names the passdb's user, an administrator's
	   template anything: still one safe line */
	referral_reason_params_set(&params, "IMAP", !fields.nologin, &target,
				   143, user, "login");
	reason = referral_reason_default(&params);
	check_reason(reason, NULL);
	check_sieve_string(reason);
	if (fields.reason != NULL &&
	    referral_reason_expand(fields.reason, &params, &reason, &error)) {
		check_reason(reason, NULL);
		check_sieve_string(reason);
	}
	/* the notice goes to the passdb's user as the login name */
	params.login_user = user;
	check_notice(&params, NULL);
	check_notice(&params, fields.reason);

	url = referral_sieve_url(&target, user);
	CHECK(str_begins(url, "sieve://"));
	CHECK(strchr(url, ';') == NULL && strchr(url, '"') == NULL);
	check_sieve_string(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialized = FALSE;

	if (!initialized) {
		lib_init();
		initialized = TRUE;
	}
	T_BEGIN {
		fuzz_one(data, size);
	} T_END;
	return 0;
}
