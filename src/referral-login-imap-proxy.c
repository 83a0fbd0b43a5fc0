/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* IMAP (imap-login) proxying with referral=suggest: Dovecot proxies the
   login exactly as it would without the field, and when the backend
   accepts it, the tagged OK the client gets carries a referral to the
   proxy's target, "OK [REFERRAL <url>] <reason>", where Dovecot's carries
   the backend's capabilities; those go into an untagged CAPABILITY line
   just before (after an ALERT when the passdb says referral_alert). A
   client that follows referrals (c-client) logs in there next time; every
   other client goes on working through the proxy (doc/design.md). */

#include "lib.h"
#include "login-proxy.h"
#include "imap-login-client.h"
#include "referral-fields.h"
#include "referral-imap.h"
#include "referral-target.h"
#include "referral-client.h"
#include "referral-login-imap-reply.h"
#include "referral-login-imap-proxy.h"

/* The backend's reply to the login command of imap-proxy.c, which tags
   its own commands; the rest of the line is the OK's text. */
#define REFERRAL_PROXY_LOGIN_OK "L OK "

void referral_imap_proxy_started(struct client *client)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);

	if (client->login_proxy == NULL)
		return;
	rclient->proxy_host = p_strdup(client->pool,
		login_proxy_get_host(client->login_proxy));
	rclient->proxy_port = login_proxy_get_port(client->login_proxy);
}

/* Returns the text of the tagged OK the client gets instead of ok_text,
   the backend's, after writing what goes before it; or NULL to leave the
   reply to Dovecot. */
static const char *
referral_imap_proxy_login_ok(struct client *client, const char *ok_text)
{
	struct imap_client *imap_client = (struct imap_client *)client;
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);
	struct referral_fields fields;
	struct referral_target target;
	struct referral_imap_reply reply;
	const char *error, *capability, *proxy_host;
	in_port_t proxy_port;
	int ret;

	referral_fields_parse(client->auth_passdb_args, &fields);
	ret = referral_fields_proxy_suggest(&fields, &error);
	if (ret < 0) {
		referral_log_refused(client, &fields, REFERRAL_MODE_PROXY,
				     REFERRAL_FIELD_REFERRAL, error);
		return NULL;
	}
	if (ret == 0 || fields.host == NULL || client->login_proxy == NULL)
		return NULL;
	if (!referral_imap_command_known(client) ||
	    rclient->proxy_host == NULL) {
		referral_debug(client, &fields, "proxied, login state unknown: "
			       "no referral");
		return NULL;
	}
	proxy_host = login_proxy_get_host(client->login_proxy);
	proxy_port = login_proxy_get_port(client->login_proxy);
	if (strcmp(proxy_host, rclient->proxy_host) != 0 ||
	    proxy_port != rclient->proxy_port) {
		/* Dovecot 2.4 follows a backend's redirect (and may have
		   asked the passdb again): the session is on another
		   server than the one the proxy started for */
		e_warning(client->event, "Referral skipped (proxy): "
			  "the proxy was redirected from %s port %u to %s "
			  "port %u", rclient->proxy_host, rclient->proxy_port,
			  proxy_host, proxy_port);
		return NULL;
	}
	/* proxying logs the user in, whatever nologin says: a suggestion,
	   with suggest mode's reason */
	fields.nologin = FALSE;
	if (!referral_imap_build(client, &fields, REFERRAL_MODE_PROXY,
				 &target, &reply)) {
		referral_debug(client, &fields, "invalid target, proxying "
			       "without a referral");
		return NULL;
	}

	/* imap-proxy.c writes the capabilities as an untagged CAPABILITY
	   line before the tagged OK when the client has asked for them
	   itself: so it does now, leaving the response code to the
	   referral. The backend's list after the login, from its OK, or the
	   one it sent before (Dovecot's reply would carry the same). */
	capability = referral_imap_ok_capability(ok_text);
	if (capability != NULL) {
		i_free(imap_client->proxy_backend_capability);
		imap_client->proxy_backend_capability = i_strdup(capability);
	}
	imap_client->client_ignores_capability_resp_code = TRUE;
	if (fields.alert) {
		client_send_raw(client, t_strconcat(
			referral_imap_alert_line(reply.text), "\r\n", NULL));
	}
	referral_log_sent(client, &fields, REFERRAL_MODE_PROXY, &target,
			  reply.url);
	referral_debug(client, &fields, fields.alert ?
		       "proxied, ALERT and OK [REFERRAL] sent" :
		       "proxied, OK [REFERRAL] sent");
	return t_strdup_printf("[%s] %s", reply.resp_code, reply.text);
}

static int referral_imap_proxy_parse_line(struct client *client,
					  const char *line)
{
	struct imap_client *imap_client = (struct imap_client *)client;
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);
	const char *text;
	int ret;

	/* The first line is the backend's greeting, whatever it says.
	   Compared case-sensitively, as 2.3's imap-proxy.c does: it takes
	   "L ok" for a failure, which must stay one. */
	if (!imap_client->proxy_seen_banner ||
	    strncmp(line, REFERRAL_PROXY_LOGIN_OK,
		    strlen(REFERRAL_PROXY_LOGIN_OK)) != 0)
		return rclient->module_ctx.super.proxy_parse_line(client, line);
	/* the super call may destroy the client: nothing of it is used
	   after */
	T_BEGIN {
		text = referral_imap_proxy_login_ok(client,
			line + strlen(REFERRAL_PROXY_LOGIN_OK));
		if (text != NULL) {
			line = t_strconcat(REFERRAL_PROXY_LOGIN_OK, text,
					   NULL);
		}
		ret = rclient->module_ctx.super.proxy_parse_line(client, line);
	} T_END;
	return ret;
}

void referral_imap_proxy_client_allocated(struct client_vfuncs *v)
{
	v->proxy_parse_line = referral_imap_proxy_parse_line;
}
