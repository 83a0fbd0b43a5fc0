/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* Ending a connection after a reply that closes it (IMAP's BYE and tagged
   NO, ManageSieve's BYE). The reply is written from the auth reply's
   callback, but the client must not be destroyed there: in a login
   process that serves one connection (Dovecot's default), destroying the
   last client disconnects it from the auth process, which on Dovecot 2.4
   frees the auth request whose callback is still running (valgrind:
   an invalid read in auth_client_connection_disconnect, see
   doc/design.md). Once the callback has returned, Dovecot makes the
   client's input pending; the connection ends there, before a pipelined
   command is read, or from a zero timeout, whichever runs first. */

#include "lib.h"
#include "ioloop.h"
#include "referral-client.h"

static void referral_client_end_now(struct client *client)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);

	timeout_remove(&rclient->to_end);
	client_destroy(client, rclient->end_reason);
	client_unref(&client);
}

void referral_client_end(struct client *client, const char *reason)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);

	i_assert(rclient->to_end == NULL);
	rclient->end_reason = p_strdup(client->pool, reason);
	/* the timeout's: the client outlives a destroy by someone else */
	client_ref(client);
	rclient->to_end = timeout_add_short(0, referral_client_end_now,
					    client);
}

static void referral_client_input(struct client *client)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);

	if (rclient->to_end != NULL) {
		referral_client_end_now(client);
		return;
	}
	rclient->module_ctx.super.input(client);
}

static void referral_client_destroy(struct client *client)
{
	struct referral_client *rclient = REFERRAL_CONTEXT_REQUIRE(client);

	if (rclient->to_end != NULL) {
		/* destroyed before the planned end (e.g. at shutdown): no
		   timeout may outlive the client, and its reference goes */
		struct client *ref = client;

		timeout_remove(&rclient->to_end);
		client_unref(&ref);
	}
	if (rclient->module_ctx.super.destroy != NULL)
		rclient->module_ctx.super.destroy(client);
}

void referral_end_client_allocated(struct client_vfuncs *v)
{
	/* no input of Dovecot's to read first for a client that does its
	   own (v->input NULL): the timeout ends it */
	if (v->input != NULL)
		v->input = referral_client_input;
	v->destroy = referral_client_destroy;
}
