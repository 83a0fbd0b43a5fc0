#ifndef REFERRAL_REASON_H
#define REFERRAL_REASON_H

/* Longest reason text sent to a client, in bytes. */
#define REFERRAL_REASON_MAX_LEN 1024

#include "net.h"

struct referral_target;

/* The default reason where the target is not known (2.3's POP3 and
   Submission replies, which carry Dovecot's text alone). */
#define REFERRAL_REASON_DEFAULT_NOLOGIN "Try this server instead."

/* Make a passdb reason safe to put at the end of a protocol response line:
   - control characters (C0, DEL and C1) each become a space, so CR, LF and
     NUL can never end the line early or add one,
   - invalid UTF-8 becomes U+FFFD,
   - the result is at most REFERRAL_REASON_MAX_LEN bytes, cut on a character
     boundary,
   - white space at either end is dropped.
   A NULL reason, or one that is empty after all that, gives default_reason
   (protocols want a non-empty text). Allocated from the data stack. */
const char *referral_reason_sanitise(const char *reason,
				     const char *default_reason);

/* What a default reason is about: the protocol ("IMAP", "ManageSieve",
   "POP3", "SMTP submission"), suggest mode (logged_in) or not, the
   validated target, the protocol's default port, the user name the
   referral is for (destuser, or the login's) and the one the client
   logged in with. */
struct referral_reason_params {
	const char *protocol;
	bool logged_in;
	const char *host;
	in_port_t port, default_port;
	const char *user, *login_user;
};

/* Fill params for a referral to target. */
void referral_reason_params_set(struct referral_reason_params *params_r,
				const char *protocol, bool logged_in,
				const struct referral_target *target,
				in_port_t default_port, const char *user,
				const char *login_user);

/* The reason a person reads when the passdb gives none: most clients do
   not follow a referral, so the text says what to change in the client's
   account settings. The port is named when it differs from the default
   port, the user name when it differs from the login's. Sanitised (the
   user name is passdb data). Allocated from the data stack. */
const char *referral_reason_default(const struct referral_reason_params *params);

/* An administrator's default reason: template with {host}, {port},
   {user}, {login_user} and {protocol} replaced by params' values, {{ by {
   and %% by %. Not Dovecot's %{...}: Dovecot 2.3's mail processes expand
   those in every plugin {} setting and fail on variables they do not
   know, so a literal % is written %% there, and is one here too. Returns
   the sanitised text in result_r (the built-in default when nothing is
   left of it), or FALSE with error_r for an unknown variable, a '{'
   without '}', or a %{ (Dovecot's syntax, a likely mistake). Allocated from the data stack. */
bool referral_reason_expand(const char *template,
			    const struct referral_reason_params *params,
			    const char **result_r, const char **error_r);

/* The expansion of referral_reason_expand() without the sanitising:
   template's text with the variables' values, as they are, appended to
   dest. FALSE with error_r as referral_reason_expand(). */
bool referral_template_expand(const char *template,
			      const struct referral_reason_params *params,
			      string_t *dest, const char **error_r);

#endif
