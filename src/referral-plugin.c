/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "module-context.h"
#include "login-common.h"
#include "imap-login-client.h"
#include "referral-fields.h"
#include "referral-reason.h"
#include "referral-target.h"
#include "referral-url.h"
#include "referral-plugin.h"

#define REFERRAL_EVENT_NAME "login_referral"
/* What a nologin user with a broken referral sees. It says nothing about
   the passdb value: the administrator finds that in the log. */
#define REFERRAL_UNAVAILABLE_TEXT \
	"Login not possible on this server right now, " \
	"contact your administrator."

#define REFERRAL_CONTEXT_REQUIRE(obj) \
	MODULE_CONTEXT_REQUIRE(obj, referral_login_module)

struct referral_client {
	union login_client_module_context module_ctx;
};

const char *referral_plugin_version = DOVECOT_ABI_VERSION;

static MODULE_CONTEXT_DEFINE_INIT(referral_login_module,
				  &login_module_register);
static bool referral_hooks_added = FALSE;

static struct event_passthrough *
referral_event(struct client *client, const struct referral_fields *fields,
	       const char *mode)
{
	struct event_passthrough *e =
		event_create_passthrough(client->event)->
		set_name(REFERRAL_EVENT_NAME)->
		add_str("referral_mode", mode);

	if (client->virtual_user != NULL)
		e->add_str("user", client->virtual_user);
	if (fields->host != NULL)
		e->add_str("referral_host", fields->host);
	return e;
}

/* Validate the target and refuse one that would loop back to this server.
   Logs the refusal once, naming user, field and escaped value. */
static bool
referral_get_target(struct client *client, const struct referral_fields *fields,
		    const char *mode, struct referral_target *target_r)
{
	struct referral_local local;
	const char *field, *error;

	i_zero(&local);
	local.ip = client->local_ip;
	local.port = client->local_port;
	local.local_name = client->local_name;

	if (!referral_target_parse(fields, login_binary->default_port,
				   target_r, &field, &error)) {
		/* error already names the field and its escaped value */
	} else if (referral_target_is_local(target_r, &local)) {
		field = "host";
		error = t_strdup_printf(
			"Referral to %s port %u loops back to this server",
			target_r->host, target_r->port);
	} else {
		return TRUE;
	}
	e_error(referral_event(client, fields, mode)->
		add_str("error_field", field)->
		add_str("error", error)->event(),
		"Referral refused: %s", error);
	return FALSE;
}

static void
referral_imap_send(struct client *client, const char *result,
		   const char *resp_code, const char *text)
{
	struct imap_client *imap_client = (struct imap_client *)client;

	client_send_raw(client, t_strdup_printf("%s %s [%s] %s\r\n",
		imap_client->cmd_tag, result, resp_code, text));
}

static void
referral_imap_nologin(struct client *client, const struct referral_fields *fields)
{
	struct imap_client *imap_client = (struct imap_client *)client;
	struct referral_target target;
	const char *user, *auth, *url, *reason;

	if (!referral_get_target(client, fields, "nologin", &target)) {
		referral_imap_send(client, "NO", "UNAVAILABLE",
				   REFERRAL_UNAVAILABLE_TEXT);
		return;
	}

	user = fields->destuser != NULL && fields->destuser[0] != '\0' ?
		fields->destuser : client->virtual_user;
	/* LOGIN gets ;AUTH=* (RFC 2221 section 3); AUTHENTICATE the
	   mechanism the client used, which sasl-server.c upper-cased. */
	auth = strcasecmp(imap_client->cmd_name, "LOGIN") == 0 ?
		REFERRAL_IMAP_AUTH_ANY : client->auth_mech_name;
	url = referral_imap_url(&target, user, auth);
	reason = referral_reason_sanitise(fields->reason,
					  REFERRAL_REASON_DEFAULT_NOLOGIN);

	e_info(referral_event(client, fields, "nologin")->
	       add_int("referral_port", target.port)->
	       add_str("referral_url", url)->event(),
	       "Referral sent (nologin): %s", url);
	referral_imap_send(client, "NO", t_strconcat("REFERRAL ", url, NULL),
			   reason);
}

/* sasl-server.c sets master_auth_id only when the auth process said OK for
   this attempt (it is reset when an attempt begins), so this tells a
   successful authentication from a failed one that still carried passdb
   fields. */
static bool referral_auth_succeeded(struct client *client)
{
	return client->master_auth_id != 0;
}

static void
referral_auth_result(struct client *client, enum client_auth_result result,
		     const struct client_auth_reply *reply, const char *text)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);
	struct imap_client *imap_client = (struct imap_client *)client;
	struct referral_fields fields;

	/* reply is NULL for some results (e.g. SSL required), so look at
	   nothing else before knowing this is a referral. */
	if (result != CLIENT_AUTH_RESULT_REFERRAL_NOLOGIN) {
		rclient->module_ctx.super.auth_result(client, result, reply,
						      text);
		return;
	}
	if (!referral_auth_succeeded(client)) {
		/* RFC 2221 section 6: a referral only ever follows a
		   successful authentication. */
		rclient->module_ctx.super.auth_result(client,
			CLIENT_AUTH_RESULT_AUTHFAILED, reply, AUTH_FAILED_MSG);
		return;
	}
	referral_fields_parse(reply->all_fields, &fields);
	/* State Dovecot never leaves behind for a referral: let Dovecot
	   handle it as it would. */
	if (fields.host == NULL || client->virtual_user == NULL ||
	    imap_client->cmd_tag == NULL || imap_client->cmd_name == NULL) {
		rclient->module_ctx.super.auth_result(client, result, reply,
						      text);
		return;
	}
	T_BEGIN {
		referral_imap_nologin(client, &fields);
	} T_END;
}

static void referral_client_allocated(struct client *client)
{
	struct referral_client *rclient;
	struct client_vfuncs *v = client->vlast;

	rclient = p_new(client->pool, struct referral_client, 1);
	rclient->module_ctx.super = *v;
	client->vlast = &rclient->module_ctx.super;
	v->auth_result = referral_auth_result;
	MODULE_CONTEXT_SET(client, referral_login_module, rclient);
}

static struct login_client_hooks referral_login_hooks = {
	.client_allocated = referral_client_allocated,
};

void referral_plugin_init(struct module *module)
{
	/* Only IMAP has referrals wired up; other login processes that load
	   the plugin keep Dovecot's behaviour untouched. */
	if (strcmp(login_binary->protocol, "imap") != 0)
		return;
	login_client_hooks_add(module, &referral_login_hooks);
	referral_hooks_added = TRUE;
}

void referral_plugin_deinit(void)
{
	if (referral_hooks_added)
		login_client_hooks_remove(&referral_login_hooks);
}
