/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "unichar.h"
#include "str-sanitize.h"
#include "referral-target.h"
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

void referral_reason_params_set(struct referral_reason_params *params_r,
				const char *protocol, bool logged_in,
				const struct referral_target *target,
				in_port_t default_port, const char *user,
				const char *login_user)
{
	i_zero(params_r);
	params_r->protocol = protocol;
	params_r->logged_in = logged_in;
	params_r->host = target->host;
	params_r->port = target->port;
	params_r->default_port = default_port;
	params_r->user = user;
	params_r->login_user = login_user;
}

const char *referral_reason_default(const struct referral_reason_params *params)
{
	string_t *str = t_str_new(128);
	bool show_port = params->port != params->default_port;
	bool show_user = strcmp(params->user, params->login_user) != 0;

	if (params->logged_in)
		str_append(str, "Logged in, but your mailbox has moved.");
	else
		str_append(str, "Your mailbox has moved.");
	str_printfa(str, " Please change your mail account's %s server to %s",
		    params->protocol, params->host);
	if (show_port || show_user) {
		str_append(str, " (");
		if (show_port)
			str_printfa(str, "port %u", params->port);
		if (show_port && show_user)
			str_append(str, ", ");
		if (show_user)
			str_printfa(str, "user name %s", params->user);
		str_append_c(str, ')');
	}
	str_append_c(str, '.');
	/* the user name can hold any byte a passdb can */
	return referral_reason_sanitise(str_c(str), "Your mailbox has moved.");
}

static const char *
reason_variable(const struct referral_reason_params *params, const char *name)
{
	if (strcmp(name, "host") == 0)
		return params->host;
	if (strcmp(name, "port") == 0)
		return dec2str(params->port);
	if (strcmp(name, "user") == 0)
		return params->user;
	if (strcmp(name, "login_user") == 0)
		return params->login_user;
	if (strcmp(name, "protocol") == 0)
		return params->protocol;
	return NULL;
}

bool referral_template_expand(const char *template,
			      const struct referral_reason_params *params,
			      string_t *dest, const char **error_r)
{
	const char *p, *end, *name, *value;

	for (p = template; *p != '\0'; p++) {
		if ((p[0] == '%' && p[1] == '%') ||
		    (p[0] == '{' && p[1] == '{')) {
			str_append_c(dest, *p);
			p++;
			continue;
		}
		if (p[0] == '%' && p[1] == '{') {
			*error_r = "%{...} is Dovecot's variable syntax, "
				"which this setting does not use: write {host}, "
				"{port}, {user}, {login_user} or {protocol}";
			return FALSE;
		}
		if (*p != '{') {
			str_append_c(dest, *p);
			continue;
		}
		end = strchr(p + 1, '}');
		if (end == NULL) {
			*error_r = "'{' without '}' (write {{ for a '{')";
			return FALSE;
		}
		name = t_strdup_until(p + 1, end);
		value = reason_variable(params, name);
		if (value == NULL) {
			*error_r = t_strdup_printf("unknown variable {%s} "
				"(known: {host}, {port}, {user}, "
				"{login_user}, {protocol})",
				str_sanitize(name, 64));
			return FALSE;
		}
		str_append(dest, value);
		p = end;
	}
	return TRUE;
}

bool referral_reason_expand(const char *template,
			    const struct referral_reason_params *params,
			    const char **result_r, const char **error_r)
{
	string_t *str = t_str_new(128);

	if (!referral_template_expand(template, params, str, error_r))
		return FALSE;
	/* the built-in text only when nothing is left of the template */
	*result_r = referral_reason_sanitise(str_c(str), NULL);
	if (*result_r == NULL)
		*result_r = referral_reason_default(params);
	return TRUE;
}
