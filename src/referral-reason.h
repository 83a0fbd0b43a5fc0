#ifndef REFERRAL_REASON_H
#define REFERRAL_REASON_H

/* Longest reason text sent to a client, in bytes. */
#define REFERRAL_REASON_MAX_LEN 1024

#define REFERRAL_REASON_DEFAULT_NOLOGIN "Try this server instead."
#define REFERRAL_REASON_DEFAULT_LOGIN \
	"Logged in, but you should use this server instead."

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

#endif
