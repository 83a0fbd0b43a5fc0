/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* Dovecot 2.4's config process knows only the settings it is told about:
   it loads every module of its settings module directory and takes the
   structs of <name>_set_infos. Without this module, referral_reason_*
   in dovecot.conf is an unknown setting. */

#include "lib.h"
#include "settings-parser.h"
#include "referral-settings-info.h"

const char *referral_settings_version = DOVECOT_ABI_VERSION;

const struct setting_parser_info *referral_settings_set_infos[] = {
	&referral_setting_parser_info,
	NULL
};
