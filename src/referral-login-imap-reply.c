/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "imap-login-client.h"
#include "referral-fields.h"
#include "referral-imap.h"
#include "referral-target.h"
#include "referral-client.h"
#include "referral-login-imap-reply.h"

bool referral_imap_command_known(struct client *client)
{
	struct imap_client *imap_client = (struct imap_client *)client;

	return imap_client->cmd_tag != NULL && imap_client->cmd_name != NULL &&
		client->virtual_user != NULL;
}

bool
referral_imap_build(struct client *client, const struct referral_fields *fields,
		    const char *mode, struct referral_target *target_r,
		    struct referral_imap_reply *reply_r)
{
	struct imap_client *imap_client = (struct imap_client *)client;
	const char *user, *auth, *field, *error;

	if (!referral_get_target(client, fields, mode, target_r, &user))
		return FALSE;
	if (!referral_imap_target_check(target_r, &field, &error)) {
		referral_log_refused(client, fields, mode, field, error);
		return FALSE;
	}

	/* LOGIN gets no ;AUTH= (RFC 2221 section 4.1), which RFC 5092
	   reads as ;AUTH=*; AUTHENTICATE the mechanism the client used,
	   which sasl-server.c upper-cased. */
	auth = strcasecmp(imap_client->cmd_name, "LOGIN") == 0 ?
		NULL : client->auth_mech_name;
	referral_imap_reply_build(target_r, user, auth,
		referral_reason_text(client, fields, "IMAP", target_r, user),
		reply_r);
	return TRUE;
}
