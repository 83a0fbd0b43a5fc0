/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* A login plugin that does nothing: bench-logins loads it (BENCH_NOOP=1)
   to measure what Dovecot's loading of any login plugin costs a login,
   the floor under the referral plugin's own cost. */

#include "lib.h"
#include "module-dir.h"

const char *noop_plugin_version = DOVECOT_ABI_VERSION;

void noop_plugin_init(struct module *module);
void noop_plugin_deinit(void);

void noop_plugin_init(struct module *module ATTR_UNUSED)
{
}

void noop_plugin_deinit(void)
{
}
