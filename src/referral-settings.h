#ifndef REFERRAL_SETTINGS_H
#define REFERRAL_SETTINGS_H

struct event;
struct referral_reason_params;

/* The plugin's settings: the administrator's templates of the default
   reasons (referral_reason_expand()), for a passdb reply without a
   reason. Dovecot 2.3 has them in the plugin {} section
   (referral-settings-plugin.c), 2.4 as settings of their own, which a
   module in Dovecot's settings module directory makes known to the
   config process (referral-settings-info.c, settings/). */
#define REFERRAL_SETTING_REASON_NOLOGIN "referral_reason_nologin"
#define REFERRAL_SETTING_REASON_SUGGEST "referral_reason_suggest"
/* "doveadm referral notify": the move notice's sender and templates
   (referral-notice.h) */
#define REFERRAL_SETTING_NOTICE_FROM "referral_notice_from"
#define REFERRAL_SETTING_NOTICE_SUBJECT "referral_notice_subject"
#define REFERRAL_SETTING_NOTICE_BODY "referral_notice_body"

/* Read what must be read before the process drops its privileges (2.3's
   plugin {} section, from the config process, for protocol's filters:
   "imap", "sieve", ...). Errors are logged. */
void referral_reason_settings_init(const char *protocol);
void referral_reason_settings_deinit(void);

/* The template of the default reason for a referral whose event is event:
   nologin, or suggest mode when logged_in; NULL when none is set or the
   settings cannot be read (logged). Allocated from the data stack. */
const char *referral_reason_setting(struct event *event, bool logged_in);

/* The move notice's settings, each NULL when unset. FALSE when the
   settings cannot be read (error_r). Allocated from the data stack. */
bool referral_notice_settings(struct event *event, const char **from_r,
			      const char **subject_r, const char **body_r,
			      const char **error_r);

/* What the person reads: passdb_reason, sanitised, or, when it is missing
   or empty, the default reason for params: the administrator's template
   (an invalid one is logged with event and not used), else the built-in
   text. Allocated from the data stack. */
const char *referral_reason_choose(struct event *event,
				   const char *passdb_reason,
				   const struct referral_reason_params *params);

#endif
