/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The plugin's entry points and the glue every protocol shares: hooks
   Dovecot's login client, validates targets with the pure core, logs and
   emits events. The protocols' own replies are in referral-login-*.c; how
   they reach the client is in doc/design.md. */

#include "lib.h"
#include "referral-escape.h"
#include "referral-fields.h"
#include "referral-reason.h"
#include "referral-settings.h"
#include "referral-target.h"
#include "referral-client.h"
#include "referral-plugin.h"

#define REFERRAL_EVENT_NAME "login_referral"

struct referral_login_module referral_login_module =
	MODULE_CONTEXT_INIT(&login_module_register);

const char *referral_plugin_version = DOVECOT_ABI_VERSION;

static void (*referral_protocol_allocated)(struct client_vfuncs *v);

/* sasl-server.c sets master_auth_id only when the auth process said OK for
   this attempt (it is reset when an attempt begins), so this tells a
   successful authentication from a failed one that still carried passdb
   fields. */
bool referral_auth_succeeded(struct client *client)
{
	return client->master_auth_id != 0;
}

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

void referral_log_refused(struct client *client,
			  const struct referral_fields *fields,
			  const char *mode, const char *field,
			  const char *error)
{
	e_error(referral_event(client, fields, mode)->
		add_str("error_field", field)->
		add_str("error", error)->event(),
		REFERRAL_REFUSED_PREFIX "%s", error);
}

bool referral_get_target(struct client *client,
			 const struct referral_fields *fields,
			 const char *mode, struct referral_target *target_r,
			 const char **user_r)
{
	struct referral_local locals[2];
	unsigned int locals_count = 1;
	const char *field, *error;

	/* The address the client connected to. Behind a trusted proxy it
	   is the proxy's, as the proxy tells it (IMAP's ID x-connected-ip;
	   from Dovecot 2.4.3 on also POP3's and Submission's XCLIENT
	   DESTADDR and DESTPORT). */
	i_zero(&locals);
	locals[0].ip = client->local_ip;
	locals[0].port = client->local_port;
	locals[0].local_name = client->local_name;
	/* And then this server's own address, which the proxy connected
	   to: a target there is this server as well. */
	if (!net_ip_compare(&client->real_local_ip, &client->local_ip) ||
	    client->real_local_port != client->local_port) {
		locals[1].ip = client->real_local_ip;
		locals[1].port = client->real_local_port;
		locals[1].local_name = client->local_name;
		locals_count++;
	}
	if (referral_target_resolve(fields, login_binary->default_port,
				    client->virtual_user, locals, locals_count,
				    target_r, user_r, &field, &error))
		return TRUE;
	referral_log_refused(client, fields, mode, field, error);
	return FALSE;
}

const char *referral_reason_text(struct client *client,
				 const struct referral_fields *fields,
				 const char *protocol,
				 const struct referral_target *target,
				 const char *user)
{
	struct referral_reason_params params;

	referral_reason_params_set(&params, protocol, !fields->nologin, target,
				   login_binary->default_port, user,
				   client->virtual_user);
	return referral_reason_choose(client->event, fields->reason, &params);
}

/* Answer a failed authentication whose passdb reply asked for a referral
   the way Dovecot answers one without: the failure code's reply, but
   without the passdb reason, which belongs to the referral (showing it
   after a wrong password would tell where the account lives). */
static void referral_auth_failed(struct client *client,
				 const struct client_auth_reply *reply)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);
	enum client_auth_result result;
	const char *text = AUTH_FAILED_MSG;

	/* the mapping of client-common-auth.c:client_auth_handle_reply() */
	switch (reply->fail_code) {
	case CLIENT_AUTH_FAIL_CODE_AUTHZFAILED:
		result = CLIENT_AUTH_RESULT_AUTHZFAILED;
		text = "Authorization failed";
		break;
	case CLIENT_AUTH_FAIL_CODE_TEMPFAIL:
		result = CLIENT_AUTH_RESULT_TEMPFAIL;
		text = AUTH_TEMP_FAILED_MSG;
		break;
	case CLIENT_AUTH_FAIL_CODE_PASS_EXPIRED:
		result = CLIENT_AUTH_RESULT_PASS_EXPIRED;
		break;
	default:
		result = CLIENT_AUTH_RESULT_AUTHFAILED;
		break;
	}
	rclient->module_ctx.super.auth_result(client, result, reply, text);
}

/* Dovecot 2.4 parses the host and port of a nologin reply itself and
   answers fields it cannot parse (an empty host, a port that is no
   number) with a temporary failure, before the referral reaches the
   plugin. After a successful authentication such a failure is a nologin
   referral with an invalid target: refuse it as any other, with the same
   log line and reply on every Dovecot version.
   Such a failure comes before Dovecot keeps the reply's fields
   (reply->all_fields is NULL). A temporary failure that carries them
   came after the fields were parsed and is Dovecot's own: 2.4.2 and
   later reload the login settings after a successful authentication
   and answer a failed reload so. It stays Dovecot's answer. */
static bool
referral_unparsed_nologin(struct client *client, enum client_auth_result result,
			  const struct client_auth_reply *reply,
			  struct referral_fields *fields_r)
{
	if (result != CLIENT_AUTH_RESULT_TEMPFAIL ||
	    (reply != NULL && reply->all_fields != NULL) ||
	    !referral_auth_succeeded(client) ||
	    client->auth_passdb_args == NULL || client->virtual_user == NULL)
		return FALSE;
	referral_fields_parse(client->auth_passdb_args, fields_r);
	return fields_r->host != NULL && fields_r->nologin && !fields_r->proxy;
}

bool referral_nologin_gate(struct client *client,
			   enum client_auth_result result,
			   const struct client_auth_reply *reply,
			   const char *text, struct referral_fields *fields_r)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);

	if (referral_unparsed_nologin(client, result, reply, fields_r))
		return TRUE;
	/* reply is NULL for some results (e.g. SSL required), so look at
	   nothing else before knowing this is a referral */
	if (result != CLIENT_AUTH_RESULT_REFERRAL_NOLOGIN) {
		rclient->module_ctx.super.auth_result(client, result, reply,
						      text);
		return FALSE;
	}
	if (!referral_auth_succeeded(client)) {
		/* RFC 2221 section 6: a referral only ever follows a
		   successful authentication. Dovecot's login code would turn
		   passdb fields of a failed one into a referral. */
		referral_auth_failed(client, reply);
		return FALSE;
	}
	referral_fields_parse(reply->all_fields, fields_r);
	/* state Dovecot never leaves behind for a referral: its own reply */
	if (fields_r->host == NULL || client->virtual_user == NULL) {
		rclient->module_ctx.super.auth_result(client, result, reply,
						      text);
		return FALSE;
	}
	return TRUE;
}

void referral_log_sent(struct client *client,
		       const struct referral_fields *fields, const char *mode,
		       const struct referral_target *target, const char *url)
{
	e_info(referral_event(client, fields, mode)->
	       add_int("referral_port", target->port)->
	       add_str("referral_url", url)->event(),
	       "Referral sent (%s): %s", mode, url);
}

static const char *debug_value(const char *value)
{
	return value == NULL ? "(none)" : t_strdup_printf("'%s'",
		referral_value_escape(value, REFERRAL_LOG_VALUE_MAX_LEN));
}

void referral_debug(struct client *client, const struct referral_fields *fields,
		    const char *decision)
{
	struct event *event;

	/* every login passes here: cost nothing unless debugging */
	if (!client->set->auth_debug && !event_want_debug(client->event))
		return;
	event = event_create(client->event);
	event_set_forced_debug(event, client->set->auth_debug);
	e_debug(event, "Referral fields: host=%s port=%s destuser=%s "
		"reason=%s nologin=%s proxy=%s: %s", debug_value(fields->host),
		debug_value(fields->port), debug_value(fields->destuser),
		debug_value(fields->reason), fields->nologin ? "yes" : "no",
		fields->proxy ? "yes" : "no", decision);
	event_unref(&event);
}

static void referral_client_allocated(struct client *client)
{
	struct referral_client *rclient;
	struct client_vfuncs *v = client->vlast;

	rclient = p_new(client->pool, struct referral_client, 1);
	rclient->module_ctx.super = *v;
	client->vlast = &rclient->module_ctx.super;
	referral_protocol_allocated(v);
	MODULE_CONTEXT_SET(client, referral_login_module, rclient);
}

static struct login_client_hooks referral_login_hooks = {
	.client_allocated = referral_client_allocated,
};

void referral_plugin_init(struct module *module)
{
	const char *protocol = login_binary->protocol;

	if (strcmp(protocol, "imap") == 0)
		referral_protocol_allocated = referral_imap_client_allocated;
	else if (strcmp(protocol, "sieve") == 0)
		referral_protocol_allocated = referral_sieve_client_allocated;
	else if (strcmp(protocol, "pop3") == 0 ||
		 strcmp(protocol, "submission") == 0)
		referral_protocol_allocated = referral_text_client_allocated;
	else {
		/* a login process we know nothing about: leave it alone */
		return;
	}
	/* still as root, before the chroot; only where a default reason
	   reaches the client: not 2.3's POP3 and Submission (Dovecot's
	   text), nor Submission (a redirect without text) */
	if (strcmp(protocol, "imap") == 0 || strcmp(protocol, "sieve") == 0 ||
	    (REFERRAL_LOGIN_REDIRECTS && strcmp(protocol, "pop3") == 0))
		referral_reason_settings_init(protocol);
	login_client_hooks_add(module, &referral_login_hooks);
}

void referral_plugin_deinit(void)
{
	if (referral_protocol_allocated != NULL) {
		login_client_hooks_remove(&referral_login_hooks);
		referral_reason_settings_deinit();
	}
}
