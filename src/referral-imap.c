/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "net.h"
#include "referral-escape.h"
#include "referral-reason.h"
#include "referral-target.h"
#include "referral-url.h"
#include "referral-imap.h"

bool referral_imap_target_check(const struct referral_target *target,
				const char **field_r, const char **error_r)
{
	if (target->host_type != REFERRAL_HOST_IPV6)
		return TRUE;
	*field_r = "host";
	*error_r = t_strdup_printf("Invalid host field '%s': an IPv6 address "
		"cannot go into an IMAP referral (clients end the response "
		"code at its ']'): use a DNS name for this server",
		referral_value_escape(target->host,
				      REFERRAL_LOG_VALUE_MAX_LEN));
	return FALSE;
}

void referral_imap_reply_build(const struct referral_target *target,
			       const char *user, const char *auth,
			       const char *reason,
			       struct referral_imap_reply *reply_r)
{
	reply_r->url = referral_imap_url(target, user, auth);
	reply_r->resp_code = t_strconcat("REFERRAL ", reply_r->url, NULL);
	reply_r->text = referral_reason_sanitise(reason,
						 REFERRAL_REASON_DEFAULT_NOLOGIN);
}

const char *referral_imap_tagged_line(const char *tag, const char *result,
				      const char *resp_code, const char *text)
{
	return t_strdup_printf("%s %s [%s] %s", tag, result, resp_code, text);
}

const char *referral_imap_alert_line(const char *text)
{
	return t_strconcat("* OK [ALERT] ", text, NULL);
}

const char *referral_imap_bye_line(const char *text)
{
	return t_strconcat("* BYE ", text, NULL);
}

const char *referral_imap_ok_capability(const char *text)
{
	static const char prefix[] = "[CAPABILITY ";

	if (strncasecmp(text, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	text += sizeof(prefix) - 1;
	return t_strcut(text, ']');
}
