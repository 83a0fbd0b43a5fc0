/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* POP3 and Submission have no referral mechanism: Dovecot answers a
   nologin user with its error reply and the reason text, and lets a
   suggest-mode user log in. The plugin keeps that, but sanitises the
   reason first, so a CR or LF from the passdb cannot add protocol lines
   there either. */

#include "lib.h"
#include "referral-fields.h"
#include "referral-reason.h"
#include "referral-client.h"

static void
referral_text_auth_result(struct client *client,
			  enum client_auth_result result,
			  const struct client_auth_reply *reply,
			  const char *text)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);

	if (result != CLIENT_AUTH_RESULT_REFERRAL_NOLOGIN || text == NULL) {
		rclient->module_ctx.super.auth_result(client, result, reply,
						      text);
		return;
	}
	/* the text is the passdb reason, or Dovecot's default for it */
	T_BEGIN {
		rclient->module_ctx.super.auth_result(client, result, reply,
			referral_reason_sanitise(text,
				REFERRAL_REASON_DEFAULT_NOLOGIN));
	} T_END;
}

void referral_text_client_allocated(struct client_vfuncs *v)
{
	v->auth_result = referral_text_auth_result;
}
