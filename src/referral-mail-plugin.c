/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* A mail-process module named like the login plugin, for a server that
   loads "referral" through mail_plugins by mistake. Without it Dovecot
   fails every login of every user ("Plugin 'referral' not found"); with
   it the mistake costs nothing, and the log says once per process where
   the plugin belongs. Referrals are answered by the login processes
   only: a mail process starts after the login reply was written. */

#include "lib.h"
#include "referral-plugin.h"

const char *referral_plugin_version = DOVECOT_ABI_VERSION;

void referral_plugin_init(struct module *module ATTR_UNUSED)
{
	i_warning("referral: loaded through mail_plugins, where it does "
		  "nothing: the plugin belongs in login_plugins "
		  "(see dovecot-referral(7))");
}

void referral_plugin_deinit(void)
{
}
