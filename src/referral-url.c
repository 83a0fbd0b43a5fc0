/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "referral-target.h"
#include "referral-url.h"

#include <ctype.h>

/* RFC 5092: achar = uchar / "&" / "=" / "~", uchar = unreserved /
   sub-delims-sh / pct-encoded, sub-delims-sh = "!" / "$" / "'" / "(" /
   ")" / "*" / "+" / "," and unreserved (RFC 3986) = ALPHA / DIGIT / "-" /
   "." / "_" / "~". */
static bool is_achar(unsigned char c)
{
	if (i_isalnum(c))
		return TRUE;
	return c != '\0' && strchr("-._~!$'()*+,&=", c) != NULL;
}

void referral_url_append_achars(string_t *dest, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if (is_achar(*p))
			str_append_c(dest, *p);
		else {
			str_append_c(dest, '%');
			str_append_c(dest, hex[*p >> 4]);
			str_append_c(dest, hex[*p & 0x0f]);
		}
	}
}

void referral_url_append_hostport(string_t *dest,
				  const struct referral_target *target,
				  in_port_t default_port)
{
	if (target->host_type == REFERRAL_HOST_IPV6)
		str_printfa(dest, "[%s]", target->host);
	else
		str_append(dest, target->host);
	if (target->port != default_port)
		str_printfa(dest, ":%u", target->port);
}

const char *referral_redirect_authority(const struct referral_target *target,
					const char *user,
					in_port_t default_port)
{
	string_t *authority = t_str_new(128);

	i_assert(*user != '\0');

	/* achars are a subset of RFC 3986's userinfo characters: what
	   Dovecot's redirect parser percent-decodes */
	referral_url_append_achars(authority, user);
	str_append_c(authority, '@');
	referral_url_append_hostport(authority, target, default_port);
	return str_c(authority);
}

const char *referral_imap_url(const struct referral_target *target,
			      const char *user, const char *auth)
{
	string_t *url = t_str_new(128);

	i_assert(*user != '\0' && (auth == NULL || *auth != '\0'));

	str_append(url, "imap://");
	referral_url_append_achars(url, user);
	if (auth != NULL) {
		str_append(url, ";AUTH=");
		referral_url_append_achars(url, auth);
	}
	str_append_c(url, '@');
	referral_url_append_hostport(url, target, REFERRAL_IMAP_DEFAULT_PORT);
	str_append_c(url, '/');
	return str_c(url);
}
