/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "referral-escape.h"
#include "referral-fields.h"

#include <string.h>

/* Returns the value of arg if its key is key: "" for a bare "key". */
static const char *field_value(const char *arg, const char *key)
{
	size_t len = strlen(key);

	if (strncmp(arg, key, len) != 0)
		return NULL;
	if (arg[len] == '\0')
		return "";
	if (arg[len] == '=')
		return arg + len + 1;
	return NULL;
}

void referral_fields_parse(const char *const *args,
			   struct referral_fields *fields_r)
{
	const char *value;

	i_zero(fields_r);
	if (args == NULL)
		return;
	for (; *args != NULL; args++) {
		const char *arg = *args;

		if ((value = field_value(arg, "host")) != NULL)
			fields_r->host = value;
		else if ((value = field_value(arg, "port")) != NULL)
			fields_r->port = value;
		else if ((value = field_value(arg, "destuser")) != NULL)
			fields_r->destuser = value;
		else if ((value = field_value(arg, "reason")) != NULL)
			fields_r->reason = value;
		else if ((value = field_value(arg,
					REFERRAL_FIELD_REFERRAL)) != NULL)
			fields_r->referral = value;
		else if (field_value(arg, "nologin") != NULL)
			fields_r->nologin = TRUE;
		else if (field_value(arg, "proxy") != NULL)
			fields_r->proxy = TRUE;
		else if (field_value(arg, REFERRAL_FIELD_KEEP_OPEN) != NULL)
			fields_r->keep_open = TRUE;
		else if (field_value(arg, REFERRAL_FIELD_ALERT) != NULL)
			fields_r->alert = TRUE;
	}
}

int referral_fields_proxy_suggest(const struct referral_fields *fields,
				  const char **error_r)
{
	if (!fields->proxy || fields->referral == NULL ||
	    fields->referral[0] == '\0')
		return 0;
	if (strcasecmp(fields->referral, REFERRAL_PROXY_SUGGEST) == 0)
		return 1;
	*error_r = t_strdup_printf("Invalid " REFERRAL_FIELD_REFERRAL
		" '%s': only '" REFERRAL_PROXY_SUGGEST "' is known",
		referral_value_escape(fields->referral,
				      REFERRAL_LOG_VALUE_MAX_LEN));
	return -1;
}
