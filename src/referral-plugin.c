/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The imap-login glue: hooks Dovecot's login client, turns the passdb
   reply into an RFC 2221 referral with the pure core, and writes it. How
   the two modes reach the client is in doc/design.md. */

#include "lib.h"
#include "str.h"
#include "ostream.h"
#include "module-context.h"
#include "login-common.h"
#include "imap-login-client.h"
#include "referral-escape.h"
#include "referral-fields.h"
#include "referral-reason.h"
#include "referral-target.h"
#include "referral-url.h"
#include "referral-plugin.h"

#define REFERRAL_EVENT_NAME "login_referral"
#define REFERRAL_MODE_NOLOGIN "nologin"
#define REFERRAL_MODE_LOGIN "login"
/* What a nologin user with a broken referral sees. It says nothing about
   the passdb value: the administrator finds that in the log. */
#define REFERRAL_UNAVAILABLE_TEXT \
	"Login not possible on this server right now, " \
	"contact your administrator."
/* What a suggest-mode user sees when the login fails after the tagged OK
   with the referral was already sent: only an untagged BYE is left. */
#define REFERRAL_LOGIN_FAILED_TEXT \
	"Login failed after all, try again later."

#define REFERRAL_CONTEXT_REQUIRE(obj) \
	MODULE_CONTEXT_REQUIRE(obj, referral_login_module)

struct referral_client {
	union login_client_module_context module_ctx;

	/* The tagged OK [REFERRAL ...] of suggest mode was written: the
	   command is answered, whatever happens to the login now. */
	bool login_referral_sent:1;
	/* ... but not all of it reached the socket, so the login is failed
	   here and the client must be disconnected by us. */
	bool login_referral_unflushed:1;
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

static const char *debug_value(const char *value)
{
	return value == NULL ? "(none)" : t_strdup_printf("'%s'",
		referral_value_escape(value, REFERRAL_LOG_VALUE_MAX_LEN));
}

/* With auth_debug=yes, show what the plugin parsed and what it decided. */
static void
referral_debug(struct client *client, const struct referral_fields *fields,
	       const char *decision)
{
	struct event *event = event_create(client->event);

	event_set_forced_debug(event, client->set->auth_debug);
	e_debug(event, "Referral fields: host=%s port=%s destuser=%s "
		"reason=%s nologin=%s proxy=%s: %s", debug_value(fields->host),
		debug_value(fields->port), debug_value(fields->destuser),
		debug_value(fields->reason), fields->nologin ? "yes" : "no",
		fields->proxy ? "yes" : "no", decision);
	event_unref(&event);
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

/* Build "REFERRAL <url>" and the sanitised reason for this client, or
   return FALSE (the refusal is logged) when the target is not valid. */
static bool
referral_imap_build(struct client *client, const struct referral_fields *fields,
		    const char *mode, const char *default_reason,
		    const char **resp_code_r, const char **text_r)
{
	struct imap_client *imap_client = (struct imap_client *)client;
	struct referral_target target;
	const char *user, *auth, *url;

	if (!referral_get_target(client, fields, mode, &target))
		return FALSE;

	user = fields->destuser != NULL && fields->destuser[0] != '\0' ?
		fields->destuser : client->virtual_user;
	/* LOGIN gets ;AUTH=* (RFC 2221 section 3); AUTHENTICATE the
	   mechanism the client used, which sasl-server.c upper-cased. */
	auth = strcasecmp(imap_client->cmd_name, "LOGIN") == 0 ?
		REFERRAL_IMAP_AUTH_ANY : client->auth_mech_name;
	url = referral_imap_url(&target, user, auth);
	*resp_code_r = t_strconcat("REFERRAL ", url, NULL);
	*text_r = referral_reason_sanitise(fields->reason, default_reason);

	e_info(referral_event(client, fields, mode)->
	       add_int("referral_port", target.port)->
	       add_str("referral_url", url)->event(),
	       "Referral sent (%s): %s", mode, url);
	return TRUE;
}

static void
referral_imap_send_tagged(struct client *client, const char *result,
			  const char *resp_code, const char *text)
{
	struct imap_client *imap_client = (struct imap_client *)client;

	client_send_raw(client, t_strdup_printf("%s %s [%s] %s\r\n",
		imap_client->cmd_tag, result, resp_code, text));
}

/* The command tag and name and the user Dovecot leaves behind for every
   login command; without them there is nothing to refer. */
static bool referral_imap_command_known(struct client *client)
{
	struct imap_client *imap_client = (struct imap_client *)client;

	return imap_client->cmd_tag != NULL && imap_client->cmd_name != NULL &&
		client->virtual_user != NULL;
}

static void
referral_imap_nologin(struct client *client, const struct referral_fields *fields)
{
	const char *resp_code, *text;

	if (!referral_imap_build(client, fields, REFERRAL_MODE_NOLOGIN,
				 REFERRAL_REASON_DEFAULT_NOLOGIN,
				 &resp_code, &text)) {
		referral_debug(client, fields, "invalid target, "
			       "NO [UNAVAILABLE] sent");
		referral_imap_send_tagged(client, "NO", "UNAVAILABLE",
					  REFERRAL_UNAVAILABLE_TEXT);
	} else {
		referral_debug(client, fields, "NO [REFERRAL] sent");
		referral_imap_send_tagged(client, "NO", resp_code, text);
	}
	/* Dovecot would explain the disconnect that follows as
	   "(internal failure, 1 successful auths)"; the log already says
	   what happened to the referral. */
	client->no_extra_disconnect_reason = TRUE;
}

/* Make the post-login imap process answer the login untagged: it writes
   "<tag> OK [CAPABILITY ...] Logged in" from the master prefix
   "<1|0><tag>\0" (imap-login-client.h), so with "*" as the tag the
   client gets "* OK [CAPABILITY ...] Logged in" right after our tagged
   OK. */
static void referral_imap_untag_login_reply(struct client *client)
{
	char flag = client->master_data_prefix_len > 0 ?
		(char)client->master_data_prefix[0] : '0';
	char *prefix = i_strdup_printf("%c*", flag);

	i_free(client->master_data_prefix);
	client->master_data_prefix = (unsigned char *)prefix;
	client->master_data_prefix_len = strlen(prefix) + 1;
}

/* Suggest mode: the login goes on, and the client is told where it should
   log in next time. Returns FALSE if the login must fail after all. */
static bool referral_imap_suggest(struct client *client)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);
	struct referral_fields fields;
	const char *resp_code, *text;

	referral_fields_parse(client->auth_passdb_args, &fields);
	if (fields.host == NULL) {
		referral_debug(client, &fields, "no host, no referral");
		return TRUE;
	}
	if (fields.nologin || fields.proxy ||
	    !referral_imap_command_known(client))
		return TRUE;
	if (o_stream_get_buffer_used_size(client->output) > 0) {
		/* The client is not reading: a reply written now could
		   reach it after the post-login process's lines. */
		e_warning(client->event, "Referral skipped (login): "
			  "client output is blocked");
		return TRUE;
	}
	if (!referral_imap_build(client, &fields, REFERRAL_MODE_LOGIN,
				 REFERRAL_REASON_DEFAULT_LOGIN,
				 &resp_code, &text)) {
		referral_debug(client, &fields,
			       "invalid target, plain login");
		return TRUE;
	}
	referral_debug(client, &fields, "OK [REFERRAL] sent, logging in");

	/* The fd goes to the post-login process only after this returns,
	   so what reaches the kernel now comes before anything it writes. */
	referral_imap_send_tagged(client, "OK", resp_code, text);
	rclient->login_referral_sent = TRUE;
	if (o_stream_flush(client->output) < 0 ||
	    o_stream_get_buffer_used_size(client->output) > 0) {
		rclient->login_referral_unflushed = TRUE;
		sasl_server_auth_failed(client,
			"Referral could not be written to the client", NULL);
		return FALSE;
	}
	referral_imap_untag_login_reply(client);
	return TRUE;
}

static bool referral_sasl_check_login(struct client *client)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);
	bool ret;

	if (rclient->module_ctx.super.sasl_check_login != NULL &&
	    !rclient->module_ctx.super.sasl_check_login(client))
		return FALSE;
	/* sasl-server.c refuses these right after this check: never send a
	   successful reply for them. */
	if (client->auth_anonymous && !login_binary->anonymous_login_acceptable)
		return TRUE;
	T_BEGIN {
		ret = referral_imap_suggest(client);
	} T_END;
	return ret;
}

/* sasl-server.c sets master_auth_id only when the auth process said OK for
   this attempt (it is reset when an attempt begins), so this tells a
   successful authentication from a failed one. */
static bool referral_auth_succeeded(struct client *client)
{
	return client->master_auth_id != 0;
}

static void
referral_auth_result(struct client *client, enum client_auth_result result,
		     const struct client_auth_reply *reply, const char *text)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);
	struct referral_fields fields;

	if (rclient->login_referral_sent) {
		/* The command already has its tagged OK. Success needs
		   nothing more; a failure after it (connection limits, the
		   post-login process) can only be an untagged BYE. Dovecot
		   disconnects the client after those failures itself. */
		if (result != CLIENT_AUTH_RESULT_SUCCESS) {
			client_send_raw(client, "* BYE [UNAVAILABLE] "
					REFERRAL_LOGIN_FAILED_TEXT "\r\n");
		}
		if (rclient->login_referral_unflushed) {
			client_destroy(client, "Referral could not be "
				       "written to the client");
		}
		return;
	}
	/* reply is NULL for some results (e.g. SSL required), so look at
	   nothing else before knowing this is a referral. */
	if (result != CLIENT_AUTH_RESULT_REFERRAL_NOLOGIN) {
		rclient->module_ctx.super.auth_result(client, result, reply,
						      text);
		return;
	}
	if (!referral_auth_succeeded(client)) {
		/* RFC 2221 section 6: a referral only ever follows a
		   successful authentication. Dovecot's login code would turn
		   passdb fields of a failed one into a referral. */
		rclient->module_ctx.super.auth_result(client,
			CLIENT_AUTH_RESULT_AUTHFAILED, reply, AUTH_FAILED_MSG);
		return;
	}
	referral_fields_parse(reply->all_fields, &fields);
	if (fields.host == NULL || !referral_imap_command_known(client)) {
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
	v->sasl_check_login = referral_sasl_check_login;
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
