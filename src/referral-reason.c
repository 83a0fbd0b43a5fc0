/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "unichar.h"
#include "referral-reason.h"

#define UTF8_REPLACEMENT_CHAR "\xEF\xBF\xBD"

static bool is_control(unichar_t chr)
{
	return chr < 0x20 || (chr >= 0x7f && chr < 0xa0);
}

const char *referral_reason_sanitise(const char *reason,
				     const char *default_reason)
{
	string_t *str;
	size_t len, pos = 0, end;
	unichar_t chr;
	int n;

	if (reason == NULL)
		return default_reason;

	len = strlen(reason);
	str = t_str_new(I_MIN(len, REFERRAL_REASON_MAX_LEN) + 1);
	while (pos < len) {
		const char *out = reason + pos;
		size_t out_len;

		n = uni_utf8_get_char_n(reason + pos, len - pos, &chr);
		if (n <= 0) {
			/* invalid or truncated: replace one byte at a time */
			out = UTF8_REPLACEMENT_CHAR;
			out_len = sizeof(UTF8_REPLACEMENT_CHAR) - 1;
			n = 1;
		} else if (is_control(chr)) {
			out = " ";
			out_len = 1;
		} else {
			out_len = n;
		}
		if (str_len(str) + out_len > REFERRAL_REASON_MAX_LEN)
			break;
		str_append_data(str, out, out_len);
		pos += n;
	}

	/* trim spaces at both ends */
	end = str_len(str);
	while (end > 0 && str_data(str)[end-1] == ' ')
		end--;
	str_truncate(str, end);
	pos = 0;
	while (pos < end && str_data(str)[pos] == ' ')
		pos++;
	if (pos == end)
		return default_reason;
	return str_c(str) + pos;
}

const char *referral_reason_default(const char *service, bool logged_in,
				    const char *host, in_port_t port,
				    in_port_t default_port, const char *user,
				    const char *login_user)
{
	string_t *str = t_str_new(128);
	bool show_port = port != default_port;
	bool show_user = strcmp(user, login_user) != 0;

	if (logged_in)
		str_append(str, "Logged in, but your mailbox has moved.");
	else
		str_append(str, "Your mailbox has moved.");
	str_printfa(str, " Please change your mail account's %s server to %s",
		    service, host);
	if (show_port || show_user) {
		str_append(str, " (");
		if (show_port)
			str_printfa(str, "port %u", port);
		if (show_port && show_user)
			str_append(str, ", ");
		if (show_user)
			str_printfa(str, "user name %s", user);
		str_append_c(str, ')');
	}
	str_append_c(str, '.');
	/* the user name can hold any byte a passdb can */
	return referral_reason_sanitise(str_c(str), "Your mailbox has moved.");
}
