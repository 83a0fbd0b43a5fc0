/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* POP3 and Submission have no referral mechanism of their own. Dovecot
   2.3 answers a nologin user with its error reply and the reason text;
   2.4 with a redirect that names the target (-ERR [REFERRAL/user@host],
   550 5.2.900 user@host Referral), which Dovecot's own proxies follow.
   The plugin keeps Dovecot's reply, and makes it safe: the reason is
   sanitised (a CR or LF from the passdb cannot add protocol lines), and
   a redirect names only a validated target. doc/design.md says why. */

#include "lib.h"
#include "referral-fields.h"
#include "referral-reason.h"
#include "referral-target.h"
#include "referral-url.h"
#include "referral-client.h"

/* 2.3 names no target in its reply, but the user was told to go
   elsewhere all the same: mark the client, so that the disconnect line
   does not call the referral an internal failure, and log it as 2.4 does,
   naming the target a redirect would name once it is validated. The log
   line and the login_referral event then read the same on either
   version. */
static void
referral_text_log_reason(struct client *client,
			 const struct client_auth_reply *reply)
{
	struct referral_fields fields;
	struct referral_target target;
	const char *user, *authority;

	/* a failed authentication's fields are no referral: Dovecot's
	   failure, logged as such */
	if (reply == NULL || !referral_auth_succeeded(client) ||
	    client->virtual_user == NULL)
		return;
	referral_fields_parse(reply->all_fields, &fields);
	if (fields.host == NULL)
		return;
	referral_client_mark_referred(client);
	if (!referral_get_target(client, &fields, REFERRAL_MODE_NOLOGIN,
				 &target, &user)) {
		referral_debug(client, &fields, "invalid target, "
			       "reason sent");
		return;
	}
	authority = referral_redirect_authority(&target, user,
						login_binary->default_port);
	referral_log_sent(client, &fields, REFERRAL_MODE_NOLOGIN, &target,
			  authority);
	referral_debug(client, &fields, "reason sent");
}

/* 2.3: Dovecot's reply, with the reason sanitised. */
static void
referral_text_reason(struct client *client, enum client_auth_result result,
		     const struct client_auth_reply *reply, const char *text)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);

	if (result != CLIENT_AUTH_RESULT_REFERRAL_NOLOGIN || text == NULL) {
		rclient->module_ctx.super.auth_result(client, result, reply,
						      text);
		return;
	}
	referral_text_log_reason(client, reply);
	/* the text is the passdb reason, or Dovecot's default for it */
	rclient->module_ctx.super.auth_result(client, result, reply,
		referral_reason_sanitise(text,
					 REFERRAL_REASON_DEFAULT_NOLOGIN));
}

/* 2.4: Dovecot's redirect to a validated target. */
static void
referral_text_redirect(struct client *client,
		       const struct client_auth_reply *reply,
		       const struct referral_fields *fields)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);
	struct client_auth_reply safe_reply;
	struct referral_target target;
	const char *user, *authority, *reason;
	bool is_pop3 = strcmp(login_binary->protocol, "pop3") == 0;

	referral_client_mark_referred(client);
	if (!referral_get_target(client, fields, REFERRAL_MODE_NOLOGIN,
				 &target, &user)) {
		/* a temporary failure, as IMAP's NO [UNAVAILABLE]: the
		   password was right, the passdb's target is not */
		referral_debug(client, fields, "invalid target, "
			       "temporary failure sent");
		rclient->module_ctx.super.auth_result(client,
			CLIENT_AUTH_RESULT_TEMPFAIL, reply,
			REFERRAL_UNAVAILABLE_TEXT);
		return;
	}
	authority = referral_redirect_authority(&target, user,
						login_binary->default_port);
	/* Submission's redirect shows no text (below): no default reason
	   to make for it */
	reason = is_pop3 ? referral_reason_text(client, fields, "POP3",
						&target, user) :
		referral_reason_sanitise(fields->reason,
					 REFERRAL_REASON_DEFAULT_NOLOGIN);
	referral_log_sent(client, fields, REFERRAL_MODE_NOLOGIN, &target,
			  authority);
	referral_debug(client, fields, "redirect sent");

	if (is_pop3) {
		/* Dovecot's POP3 redirect (its proxies read up to the ']'),
		   with the reason for the person in place of "Referral" */
		client_send_raw(client, t_strdup_printf(
			"-ERR [REFERRAL/%s] %s\r\n", authority, reason));
		return;
	}
	/* Submission: only Dovecot's login can answer the pending AUTH
	   command. Its redirect carries no reason. */
	if (reply != NULL)
		safe_reply = *reply;
	else
		i_zero(&safe_reply);
	referral_auth_reply_set_target(&safe_reply, &target, user);
	rclient->module_ctx.super.auth_result(client,
		CLIENT_AUTH_RESULT_REFERRAL_NOLOGIN, &safe_reply, reason);
}

static void
referral_text_auth_result(struct client *client,
			  enum client_auth_result result,
			  const struct client_auth_reply *reply,
			  const char *text)
{
	struct referral_fields fields;

	if (!REFERRAL_LOGIN_REDIRECTS) {
		T_BEGIN {
			referral_text_reason(client, result, reply, text);
		} T_END;
		return;
	}
	if (!referral_nologin_gate(client, result, reply, text, &fields))
		return;
	T_BEGIN {
		referral_text_redirect(client, reply, &fields);
	} T_END;
}

void referral_text_client_allocated(struct client_vfuncs *v)
{
	v->auth_result = referral_text_auth_result;
}
