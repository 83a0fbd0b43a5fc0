#ifndef REFERRAL_URL_H
#define REFERRAL_URL_H

struct referral_target;

#define REFERRAL_IMAP_DEFAULT_PORT 143

/* Append value to dest with every byte outside RFC 5092's achar set
   percent-encoded (upper case hex). */
void referral_url_append_achars(string_t *dest, const char *value);

/* Append the authority's host and port: an IPv6 host in brackets, the port
   only when it differs from default_port. */
void referral_url_append_hostport(string_t *dest,
				  const struct referral_target *target,
				  in_port_t default_port);

/* Build an RFC 5092 IMAP URL for an RFC 2221 referral:
   imap://<enc-user>[;AUTH=<enc-auth>]@<host>[:<port>]/
   user must be non-empty; auth is NULL for a client that used LOGIN (RFC
   2221 section 4.1's "IMAP://MATTHEW@SERVER2/": RFC 5092 reads a user
   name without ;AUTH= as ;AUTH=*, and Geary and Trojita drop the
   connection at a '*' in a response code), else the non-empty SASL
   mechanism. An IPv6 host is bracketed (referral_imap_target_check()
   refuses it for IMAP), and the port is left out when it is 143.
   Allocated from the data stack. */
const char *referral_imap_url(const struct referral_target *target,
			      const char *user, const char *auth);

/* The authority of Dovecot 2.4's POP3 and Submission redirects:
   <achar-encoded user>@<host>[:<port>], an IPv6 host bracketed and the
   port left out when it is default_port. user must be non-empty.
   Allocated from the data stack. */
const char *referral_redirect_authority(const struct referral_target *target,
					const char *user,
					in_port_t default_port);

#endif
