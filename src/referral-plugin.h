#ifndef REFERRAL_PLUGIN_H
#define REFERRAL_PLUGIN_H

struct module;

extern const char *referral_plugin_version;

void referral_plugin_init(struct module *module);
void referral_plugin_deinit(void);

#endif
