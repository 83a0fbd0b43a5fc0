#ifndef REFERRAL_CLIENT_H
#define REFERRAL_CLIENT_H

/* The glue shared by the per-protocol parts of the plugin: the login
   client's module context and the steps every protocol takes (validate,
   log, emit the event). Only these files know struct client. */

#include "module-context.h"
#include "login-common.h"
#include "client-common.h"
#include "referral-compat.h"

struct referral_fields;
struct referral_target;

#define REFERRAL_MODE_NOLOGIN "nologin"
#define REFERRAL_MODE_LOGIN "login"
#define REFERRAL_MODE_PROXY "proxy"

#define REFERRAL_CONTEXT_REQUIRE(obj) \
	MODULE_CONTEXT_REQUIRE(obj, referral_login_module)

struct referral_client {
	union login_client_module_context module_ctx;

	/* IMAP suggest mode: the tagged OK [REFERRAL ...] was written, so
	   the command is answered, whatever happens to the login now. */
	bool login_referral_sent:1;

	/* IMAP proxying: where the proxy went first (its host name as
	   login_proxy_get_host() returns it, and port), to tell a 2.4
	   redirect elsewhere (referral-login-imap-proxy.c) */
	const char *proxy_host;
	in_port_t proxy_port;

	/* set by referral_client_end(): the connection ends soon */
	struct timeout *to_end;
	const char *end_reason;
};

extern MODULE_CONTEXT_DEFINE(referral_login_module, &login_module_register);

/* Did the auth process say OK for this login attempt? Dovecot's login code
   passes the passdb fields of a failed one on as well. */
bool referral_auth_succeeded(struct client *client);
/* Log that a referral is refused, with error (which names the escaped
   value) and the login_referral event with "error" and "error_field". */
void referral_log_refused(struct client *client,
			  const struct referral_fields *fields,
			  const char *mode, const char *field,
			  const char *error);
/* Validate the target and the user name the URL will carry (destuser, or
   the login user when it is absent or empty), and refuse a target that
   would loop back to this server. A refusal is logged once (user, field,
   escaped value) and emitted as a login_referral event with "error". */
bool referral_get_target(struct client *client,
			 const struct referral_fields *fields,
			 const char *mode, struct referral_target *target_r,
			 const char **user_r);
/* The gate of every protocol's auth_result before a nologin referral.
   Returns TRUE with the passdb fields when this result is a nologin
   referral for a successfully authenticated user (or 2.4's temporary
   failure for nologin fields it could not parse); otherwise it has
   answered the client the way Dovecot would (Dovecot's own reply, or
   referral_auth_failed() for a failed authentication) and returns
   FALSE. */
bool referral_nologin_gate(struct client *client,
			   enum client_auth_result result,
			   const struct client_auth_reply *reply,
			   const char *text, struct referral_fields *fields_r);
/* What the person reads: the passdb's reason, sanitised, or the default
   reason for this protocol ("IMAP", ...) and mode (suggest mode without
   fields->nologin), target and user (referral_get_target()). Allocated
   from the data stack. */
const char *referral_reason_text(struct client *client,
				 const struct referral_fields *fields,
				 const char *protocol,
				 const struct referral_target *target,
				 const char *user);
/* Log a referral that is being sent, and emit its login_referral event. */
void referral_log_sent(struct client *client,
		       const struct referral_fields *fields, const char *mode,
		       const struct referral_target *target, const char *url);
/* With auth_debug=yes: the parsed fields and the decision. */
void referral_debug(struct client *client, const struct referral_fields *fields,
		    const char *decision);

/* End the connection (destroy the client with reason) once the auth
   reply's callback that calls this has returned, before any further input
   is read (referral-login-end.c). */
void referral_client_end(struct client *client, const char *reason);
/* Install the overrides that referral_client_end() needs into v (the
   protocols that call it). */
void referral_end_client_allocated(struct client_vfuncs *v);

/* Install the protocol's overrides into v (client_allocated time). */
void referral_imap_client_allocated(struct client_vfuncs *v);
void referral_sieve_client_allocated(struct client_vfuncs *v);
void referral_text_client_allocated(struct client_vfuncs *v);

#endif
