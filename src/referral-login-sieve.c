/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* ManageSieve (pigeonhole's managesieve-login): RFC 5804 section 1.3 has
   the REFERRAL response code come with BYE, so a nologin user gets
   BYE (REFERRAL "sieve://host[:port]") "reason" and the connection
   closes. Suggest mode has no ManageSieve form: a normal login. */

#include "lib.h"
#include "str.h"
#include "referral-fields.h"
#include "referral-reason.h"
#include "referral-sieve.h"
#include "referral-target.h"
#include "referral-client.h"

static void
referral_sieve_nologin(struct client *client, const struct referral_fields *fields)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);
	struct referral_target target;
	const char *user, *url, *reason;
	string_t *line;

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

	/* The user part only when it differs: clients such as Cyrus's read
	   a user part as an authorization id. */
	if (strcmp(user, client->virtual_user) == 0)
		user = NULL;
	url = referral_sieve_url(&target, user);
	reason = referral_reason_sanitise(fields->reason,
					  REFERRAL_REASON_DEFAULT_NOLOGIN);

	line = t_str_new(128);
	str_append(line, "BYE (REFERRAL ");
	referral_sieve_append_string(line, url);
	str_append(line, ") ");
	referral_sieve_append_string(line, reason);
	str_append(line, "\r\n");

	referral_log_sent(client, fields, REFERRAL_MODE_NOLOGIN, &target, url);
	referral_debug(client, fields, "BYE (REFERRAL) sent");
	client_send_raw_data(client, str_data(line), str_len(line));
	referral_client_mark_referred(client);
	client_destroy(client, t_strconcat("Referred to ", url, NULL));
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
}
