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
