#ifndef REFERRAL_SETTINGS_INFO_H
#define REFERRAL_SETTINGS_INFO_H

/* Dovecot 2.4: the plugin's settings as a settings struct of their own,
   known to the config process through the module in settings/. */
struct referral_settings {
	pool_t pool;
	const char *referral_reason_nologin;
	const char *referral_reason_suggest;
	const char *referral_notice_from;
	const char *referral_notice_subject;
	const char *referral_notice_body;
};

extern const struct setting_parser_info referral_setting_parser_info;

#endif
