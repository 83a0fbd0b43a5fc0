/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* ManageSieve (pigeonhole's managesieve-login): RFC 5804 section 1.3 has
   the REFERRAL response code come with BYE, so a nologin user gets
   BYE (REFERRAL "sieve://host[:port]") "reason" and the connection
   closes. Suggest mode has no ManageSieve form: a normal login. */

#include "lib.h"
#include "referral-fields.h"
#include "referral-sieve.h"
#include "referral-target.h"
#include "referral-client.h"

static void
referral_sieve_nologin(struct client *client, const struct referral_fields *fields)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);
	struct referral_target target;
	const char *user, *url, *line;

	if (!referral_get_target(client, fields, REFERRAL_MODE_NOLOGIN,
				 &target, &user)) {
		referral_debug(client, fields, "invalid target, NO sent");
		/* Dovecot's own failure reply: a quoted NO, and the login
		   parser reset for the next attempt */
		rclient->module_ctx.super.auth_result(client,
			CLIENT_AUTH_RESULT_AUTHFAILED_REASON, NULL,
			REFERRAL_UNAVAILABLE_TEXT);
		referral_client_mark_referred(client);
		return;
	}

	line = t_strconcat(referral_sieve_reply(&target, user,
			client->virtual_user,
			referral_reason_text(client, fields, "ManageSieve",
					     &target, user), &url),
			   "\r\n", NULL);

	referral_log_sent(client, fields, REFERRAL_MODE_NOLOGIN, &target, url);
	referral_debug(client, fields, "BYE (REFERRAL) sent");
	client_send_raw(client, line);
	referral_client_mark_referred(client);
	referral_client_end(client, t_strconcat("Referred to ", url, NULL));
}

static void
referral_sieve_auth_result(struct client *client,
			   enum client_auth_result result,
			   const struct client_auth_reply *reply,
			   const char *text)
{
	struct referral_fields fields;

	if (!referral_nologin_gate(client, result, reply, text, &fields))
		return;
	T_BEGIN {
		referral_sieve_nologin(client, &fields);
	} T_END;
}

void referral_sieve_client_allocated(struct client_vfuncs *v)
{
	v->auth_result = referral_sieve_auth_result;
	referral_end_client_allocated(v);
}
