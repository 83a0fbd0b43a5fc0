/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* IMAP (imap-login): nologin referrals as the tagged NO of the login
   command after an untagged ALERT and BYE, then the connection closes
   (unless the passdb says referral_keep_open: the tagged NO alone);
   suggest-mode referrals as its tagged OK (after an ALERT when the passdb
   says referral_alert), written before the connection is handed to the
   post-login imap process (doc/design.md). Proxied logins are
   referral-login-imap-proxy.c's. */

#include "lib.h"
#include "str.h"
#include "ioloop.h"
#include "ostream.h"
#include "imap-login-client.h"
#include "referral-fields.h"
#include "referral-imap.h"
#include "referral-target.h"
#include "referral-client.h"
#include "referral-login-imap-reply.h"
#include "referral-login-imap-proxy.h"

/* What a suggest-mode user sees when the login fails after the tagged OK
   with the referral was already sent: only an untagged BYE is left. */
#define REFERRAL_LOGIN_FAILED_TEXT \
	"Login failed after all, try again later."
/* The disconnect log line after a nologin referral; the URL is in the
   "Referral sent" line just before. */
#define REFERRAL_DISCONNECT_REASON "Referred to another server"

static const char *
referral_imap_client_line(struct client *client, const char *result,
			  const char *resp_code, const char *text)
{
	struct imap_client *imap_client = (struct imap_client *)client;

	return t_strconcat(referral_imap_tagged_line(imap_client->cmd_tag,
						     result, resp_code, text),
			   "\r\n", NULL);
}

static void
referral_imap_send_tagged(struct client *client, const char *result,
			  const char *resp_code, const char *text)
{
	client_send_raw(client, referral_imap_client_line(client, result,
							  resp_code, text));
}

static void
referral_imap_nologin(struct client *client, const struct referral_fields *fields)
{
	struct referral_target target;
	struct referral_imap_reply reply;

	/* so that the disconnect line does not call this an internal
	   failure (referral-compat.h) */
	referral_client_mark_referred(client);
	if (!referral_imap_build(client, fields, REFERRAL_MODE_NOLOGIN,
				 &target, &reply)) {
		referral_debug(client, fields, "invalid target, "
			       "NO [UNAVAILABLE] sent");
		referral_imap_send_tagged(client, "NO", "UNAVAILABLE",
					  REFERRAL_UNAVAILABLE_TEXT);
		return;
	}
	referral_log_sent(client, fields, REFERRAL_MODE_NOLOGIN, &target,
			  reply.url);
	if (fields->keep_open) {
		referral_debug(client, fields, "NO [REFERRAL] sent");
		referral_imap_send_tagged(client, "NO", reply.resp_code,
					  reply.text);
		return;
	}

	/* c-client (Alpine, Pine) retries a failed AUTHENTICATE up to three
	   times, asking for the password each time, whatever the tagged NO
	   says, unless it has seen a BYE or lost the connection. So the
	   reply is shaped like a LOGOUT's: the BYE announces the close, the
	   command still gets its tagged completion, which carries the
	   referral (RFC 2221), and the connection ends (doc/design.md).
	   Most clients follow no referral and show neither the BYE's nor
	   the NO's text: the ALERT before them is what reaches the person
	   (Thunderbird shows it; doc/clients.md has what each client does). */
	referral_debug(client, fields, "ALERT, BYE and NO [REFERRAL] sent, "
		       "disconnecting");
	client_send_raw(client, t_strconcat(
		referral_imap_alert_line(reply.text), "\r\n",
		referral_imap_bye_line(reply.text), "\r\n", NULL));
	referral_imap_send_tagged(client, "NO", reply.resp_code, reply.text);
	referral_client_end(client, REFERRAL_DISCONNECT_REASON);
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
	struct referral_target target;
	struct referral_imap_reply reply;
	const char *line;
	size_t len;

	referral_fields_parse(client->auth_passdb_args, &fields);
	if (fields.host == NULL) {
		referral_debug(client, &fields, "no host, no referral");
		return TRUE;
	}
	/* sasl-server.c takes nologin and proxy replies to auth_result and
	   never here; should that change, they are still no suggestion */
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
				 &target, &reply)) {
		referral_debug(client, &fields,
			       "invalid target, plain login");
		return TRUE;
	}

	/* The fd goes to the post-login process only after this returns,
	   so what reaches the kernel now comes before anything it writes.
	   The line is short (bounded URL and reason), but check that all of
	   it went out. */
	line = referral_imap_client_line(client, "OK", reply.resp_code,
					 reply.text);
	if (fields.alert) {
		/* untagged, before the tagged OK: the command's reply is
		   still one tagged line, so pipelining is unchanged */
		line = t_strconcat(referral_imap_alert_line(reply.text),
				   "\r\n", line, NULL);
	}
	len = strlen(line);
	rclient->login_referral_sent = TRUE;
	if (o_stream_send(client->output, line, len) != (ssize_t)len ||
	    o_stream_flush(client->output) < 0 ||
	    o_stream_get_buffer_used_size(client->output) > 0) {
		/* Fail the login the way sasl-server.c fails an anonymous
		   one; auth_result below then ends the connection. */
		sasl_server_auth_failed(client,
			"Referral could not be written to the client", NULL);
		return FALSE;
	}
	referral_log_sent(client, &fields, REFERRAL_MODE_LOGIN, &target,
			  reply.url);
	referral_debug(client, &fields, fields.alert ?
		       "ALERT and OK [REFERRAL] sent, logging in" :
		       "OK [REFERRAL] sent, logging in");
	referral_imap_untag_login_reply(client);
	return TRUE;
}

static bool referral_imap_sasl_check_login(struct client *client)
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

static void referral_imap_disconnect(struct client *client)
{
	client_destroy(client, "Login failed after the referral was sent");
}

static void
referral_imap_auth_result(struct client *client, enum client_auth_result result,
		     const struct client_auth_reply *reply, const char *text)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);
	struct referral_fields fields;

	if (result == CLIENT_AUTH_RESULT_SUCCESS)
		referral_imap_proxy_started(client);
	if (rclient->login_referral_sent &&
	    result != CLIENT_AUTH_RESULT_SUCCESS) {
		/* The command already has its tagged OK: a failure after it
		   (connection limits, the post-login process, the line not
		   written) can only be an untagged BYE, and the connection
		   must end. Dovecot disconnects the client after most of
		   these itself; the disconnect timer makes sure of it in the
		   others, from the ioloop rather than under our callers,
		   which still use the client. */
		client_send_raw(client, "* BYE [UNAVAILABLE] "
				REFERRAL_LOGIN_FAILED_TEXT "\r\n");
		timeout_remove(&client->to_disconnect);
		client->to_disconnect = timeout_add_short(0,
			referral_imap_disconnect, client);
		return;
	}
	if (!referral_nologin_gate(client, result, reply, text, &fields))
		return;
	if (!referral_imap_command_known(client)) {
		rclient->module_ctx.super.auth_result(client, result, reply,
						      text);
		return;
	}
	T_BEGIN {
		referral_imap_nologin(client, &fields);
	} T_END;
}

void referral_imap_client_allocated(struct client_vfuncs *v)
{
	v->auth_result = referral_imap_auth_result;
	v->sasl_check_login = referral_imap_sasl_check_login;
	referral_end_client_allocated(v);
	referral_imap_proxy_client_allocated(v);
}
