#ifndef REFERRAL_REASON_H
#define REFERRAL_REASON_H

/* Longest reason text sent to a client, in bytes. */
#define REFERRAL_REASON_MAX_LEN 1024

#include "net.h"

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

/* The reason a person reads when the passdb gives none: most clients do
   not follow a referral, so the text says what to change in the client's
   account settings. service names the protocol ("IMAP", "ManageSieve",
   "POP3"); logged_in is suggest mode (the login went on). The port is
   named when it differs from default_port, the user name when it differs
   from login_user. The result is sanitised (the user name is passdb
   data). Allocated from the data stack. */
const char *referral_reason_default(const char *service, bool logged_in,
				    const char *host, in_port_t port,
				    in_port_t default_port, const char *user,
				    const char *login_user);

#endif
