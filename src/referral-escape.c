/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "referral-escape.h"

const char *referral_value_escape(const char *value, size_t max_len)
{
	string_t *str = t_str_new(64);
	size_t i;

	for (i = 0; value[i] != '\0'; i++) {
		unsigned char c = value[i];

		if (i == max_len) {
			str_append(str, "...");
			break;
		}
		if (c == '\\')
			str_append(str, "\\\\");
		else if (c >= 0x20 && c < 0x7f)
			str_append_c(str, c);
		else
			str_printfa(str, "\\x%02x", c);
	}
	return str_c(str);
}
