/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* Dovecot 2.4: the settings struct, shared by the settings module (for
   the config process) and the modules that read it with settings_get().
   The templates are not %variables of Dovecot's: the plugin expands them
   itself (referral_reason_expand()), so Dovecot must leave them alone. */

#include "lib.h"
#include "settings-parser.h"
#include "referral-settings-info.h"

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, struct referral_settings)

static const struct setting_define referral_setting_defines[] = {
	DEF(STR_NOVARS, referral_reason_nologin),
	DEF(STR_NOVARS, referral_reason_suggest),
	DEF(STR_NOVARS, referral_notice_from),
	DEF(STR_NOVARS, referral_notice_subject),
	DEF(STR_NOVARS, referral_notice_body),
	SETTING_DEFINE_LIST_END
};

static const struct referral_settings referral_default_settings = {
	.referral_reason_nologin = "",
	.referral_reason_suggest = "",
	.referral_notice_from = "",
	.referral_notice_subject = "",
	.referral_notice_body = "",
};

const struct setting_parser_info referral_setting_parser_info = {
	.name = "referral",
	.defines = referral_setting_defines,
	.defaults = &referral_default_settings,
	.struct_size = sizeof(struct referral_settings),
	.pool_offset1 = 1 + offsetof(struct referral_settings, pool),
};
