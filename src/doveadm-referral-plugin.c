/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The doveadm module: its commands, "referral lookup"
   (doveadm-referral.c) and "referral notify"
   (doveadm-referral-notify.c). */

#include "lib.h"
#include "module-dir.h"
#include "doveadm.h"
#include "referral-settings.h"
#include "doveadm-referral.h"

const char *doveadm_referral_plugin_version = DOVECOT_ABI_VERSION;

void doveadm_referral_plugin_init(struct module *module);
void doveadm_referral_plugin_deinit(void);

void doveadm_referral_plugin_init(struct module *module ATTR_UNUSED)
{
	doveadm_cmd_register_ver2(&doveadm_cmd_referral_lookup);
	doveadm_cmd_register_ver2(&doveadm_cmd_referral_notify);
}

void doveadm_referral_plugin_deinit(void)
{
	referral_reason_settings_deinit();
}

