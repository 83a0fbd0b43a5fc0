/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "referral-reason.h"
#include "referral-target.h"
#include "referral-url.h"
#include "referral-sieve.h"

const char *referral_sieve_url(const struct referral_target *target,
			       const char *user)
{
	string_t *url = t_str_new(128);

	str_append(url, "sieve://");
	if (user != NULL) {
		referral_url_append_achars(url, user);
		str_append_c(url, '@');
	}
	referral_url_append_hostport(url, target, REFERRAL_SIEVE_DEFAULT_PORT);
	return str_c(url);
}

void referral_sieve_append_string(string_t *dest, const char *text)
{
	size_t len = strlen(text), quoted_len = len;
	const char *p;

	for (p = text; *p != '\0'; p++) {
		i_assert(*p != '\r' && *p != '\n');
		if (*p == '"' || *p == '\\')
			quoted_len++;
	}
	if (quoted_len > REFERRAL_SIEVE_QUOTED_MAX_LEN) {
		str_printfa(dest, "{%zu}\r\n%s", len, text);
		return;
	}
	str_append_c(dest, '"');
	for (p = text; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			str_append_c(dest, '\\');
		str_append_c(dest, *p);
	}
	str_append_c(dest, '"');
}

const char *referral_sieve_reply(const struct referral_target *target,
				 const char *user, const char *login_user,
				 const char *reason, const char **url_r)
{
	string_t *line = t_str_new(128);

	/* The user part only when it differs: clients such as Cyrus's read
	   a user part as an authorization id. */
	*url_r = referral_sieve_url(target, strcmp(user, login_user) == 0 ?
				    NULL : user);
	str_append(line, "BYE (REFERRAL ");
	referral_sieve_append_string(line, *url_r);
	str_append(line, ") ");
	referral_sieve_append_string(line,
		referral_reason_sanitise(reason,
					 REFERRAL_REASON_DEFAULT_NOLOGIN));
	return str_c(line);
}
