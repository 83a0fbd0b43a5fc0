/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* A login plugin that writes, for each nologin referral, one info line
   like the referral plugin's and otherwise lets Dovecot answer as it does
   without plugins: stock Dovecot plus the one log line per referral the
   behaviour reference requires. bench-logins loads it (BENCH_LINE=1) to
   show what the referral plugin costs beyond that line. */

#include "lib.h"
#include "module-context.h"
#include "login-common.h"
#include "client-common.h"

#define LINE_CONTEXT_REQUIRE(obj) \
	MODULE_CONTEXT_REQUIRE(obj, line_login_module)

struct line_client {
	union login_client_module_context module_ctx;
};

static MODULE_CONTEXT_DEFINE_INIT(line_login_module, &login_module_register);

const char *line_plugin_version = DOVECOT_ABI_VERSION;

void line_plugin_init(struct module *module);
void line_plugin_deinit(void);

static void
line_auth_result(struct client *client, enum client_auth_result result,
		 const struct client_auth_reply *reply, const char *text)
{
	struct line_client *lclient = LINE_CONTEXT_REQUIRE(client);

	if (result == CLIENT_AUTH_RESULT_REFERRAL_NOLOGIN) {
		e_info(client->event, "Referral sent (nologin): %s",
		       text == NULL ? "" : text);
	}
	lclient->module_ctx.super.auth_result(client, result, reply, text);
}

static void line_client_allocated(struct client *client)
{
	struct line_client *lclient;
	struct client_vfuncs *v = client->vlast;

	lclient = p_new(client->pool, struct line_client, 1);
	lclient->module_ctx.super = *v;
	client->vlast = &lclient->module_ctx.super;
	v->auth_result = line_auth_result;
	MODULE_CONTEXT_SET(client, line_login_module, lclient);
}

static struct login_client_hooks line_login_hooks = {
	.client_allocated = line_client_allocated,
};

void line_plugin_init(struct module *module)
{
	login_client_hooks_add(module, &line_login_hooks);
}

void line_plugin_deinit(void)
{
	login_client_hooks_remove(&line_login_hooks);
}
