/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* Dovecot 2.4: the templates with settings_get(), for the client's event,
   so that every filter of the configuration applies (protocol, local,
   remote, ...). */

#include "lib.h"
#include "settings.h"
#include "referral-settings-info.h"
#include "referral-settings.h"

void referral_reason_settings_init(const char *protocol ATTR_UNUSED)
{
}

void referral_reason_settings_deinit(void)
{
}

/* an empty setting: NULL, the built-in text */
static const char *referral_setting_value(const char *value)
{
	return *value == '\0' ? NULL : t_strdup(value);
}

const char *referral_reason_setting(struct event *event, bool logged_in)
{
	const struct referral_settings *set;
	const char *error, *reason;

	if (settings_get(event, &referral_setting_parser_info, 0,
			 &set, &error) < 0) {
		/* e.g. the settings module is not installed */
		e_error(event, "referral: Reading the settings failed, the "
			"built-in default reason is used: %s", error);
		return NULL;
	}
	reason = referral_setting_value(logged_in ?
		set->referral_reason_suggest : set->referral_reason_nologin);
	settings_free(set);
	return reason;
}

bool referral_notice_settings(struct event *event, const char **from_r,
			      const char **subject_r, const char **body_r,
			      const char **error_r)
{
	const struct referral_settings *set;
	const char *error;

	if (settings_get(event, &referral_setting_parser_info, 0,
			 &set, &error) < 0) {
		*error_r = t_strdup(error);
		return FALSE;
	}
	*from_r = referral_setting_value(set->referral_notice_from);
	*subject_r = referral_setting_value(set->referral_notice_subject);
	*body_r = referral_setting_value(set->referral_notice_body);
	settings_free(set);
	return TRUE;
}
