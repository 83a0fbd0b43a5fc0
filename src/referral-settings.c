/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The default reason: the administrator's template (wherever the Dovecot
   version keeps it), expanded by the core, or the core's built-in text. */

#include "lib.h"
#include "net.h"
#include "referral-reason.h"
#include "referral-settings.h"

const char *referral_reason_choose(struct event *event,
				   const char *passdb_reason,
				   const struct referral_reason_params *params)
{
	const char *template, *reason, *error;

	reason = referral_reason_sanitise(passdb_reason, NULL);
	if (reason != NULL)
		return reason;
	template = referral_reason_setting(event, params->logged_in);
	if (template == NULL)
		return referral_reason_default(params);
	if (referral_reason_expand(template, params, &reason, &error))
		return reason;
	e_error(event, "referral: Invalid %s setting, the built-in default "
		"reason is used: %s", params->logged_in ?
		REFERRAL_SETTING_REASON_SUGGEST :
		REFERRAL_SETTING_REASON_NOLOGIN, error);
	return referral_reason_default(params);
}
