#ifndef REFERRAL_SIEVE_H
#define REFERRAL_SIEVE_H

struct referral_target;

#define REFERRAL_SIEVE_DEFAULT_PORT 4190
/* RFC 5804 section 4: quoted strings are at most 1024 octets. */
#define REFERRAL_SIEVE_QUOTED_MAX_LEN 1024

/* Build a server-form ManageSieve URL (RFC 5804 section 3) for a referral:
   sieve://[<enc-user>@]<host>[:<port>]. user is NULL to leave the user
   part out; it is percent-encoded like an IMAP URL's. An IPv6 host is
   bracketed, and the port is left out when it is 4190. No ";AUTH=": it is
   no part of a Sieve URL. Allocated from the data stack. */
const char *referral_sieve_url(const struct referral_target *target,
			       const char *user);

/* Append text as a ManageSieve string: a quoted string ('"' and '\'
   escaped) when that fits in 1024 octets, else a literal "{N}\r\n<text>".
   text must hold no CR, LF or NUL (a sanitised reason does not). */
void referral_sieve_append_string(string_t *dest, const char *text);

/* The reply of a ManageSieve nologin referral, without the CRLF:
   BYE (REFERRAL "<url>") "<reason>" (RFC 5804 section 1.3). user is the
   user name the referral is for (referral_target_resolve()), login_user
   the one the client logged in as: the URL has a user part only when they
   differ. reason is the passdb's or the default one
   (referral_reason_default()), sanitised here. The URL goes to url_r. Allocated from the data stack. */
const char *referral_sieve_reply(const struct referral_target *target,
				 const char *user, const char *login_user,
				 const char *reason, const char **url_r);

#endif
