#ifndef REFERRAL_TARGET_H
#define REFERRAL_TARGET_H

#include "net.h"

struct referral_fields;

enum referral_host_type {
	REFERRAL_HOST_DNS = 0,
	REFERRAL_HOST_IPV4,
	REFERRAL_HOST_IPV6,
};

/* Where a referral points: a validated host and port. */
struct referral_target {
	const char *host;
	enum referral_host_type host_type;
	in_port_t port;
};

/* The server the client is talking to now, for referral loop detection.
   local_name is the name the client asked for (TLS SNI), or NULL. */
struct referral_local {
	struct ip_addr ip;
	in_port_t port;
	const char *local_name;
};

/* Validate host: an IPv4 address, an IPv6 address (without brackets) or a
   DNS name of LDH labels whose last label is not a number (such a name is
   an IPv4 address in another spelling to many clients). The unspecified
   addresses 0.0.0.0 and :: are refused. Returns FALSE with a reason
   (without the value) in error_r otherwise. */
bool referral_host_validate(const char *host, enum referral_host_type *type_r,
			    const char **error_r);
/* Parse a decimal port 1..65535: digits only, no sign or white space.
   Returns FALSE with a reason (without the value) in error_r otherwise. */
bool referral_port_parse(const char *str, in_port_t *port_r,
			 const char **error_r);

/* The longest user name put into a URL. Percent-encoding can triple it;
   bounding it keeps every reply line short enough to be written at once. */
#define REFERRAL_USER_MAX_LEN 255

/* The user name a URL refers to: non-empty and at most
   REFERRAL_USER_MAX_LEN bytes. Returns FALSE with a reason otherwise. */
bool referral_user_validate(const char *user, const char **error_r);

/* Turn the host and port fields into a target. fields->host must not be
   NULL. default_port is used when there is no port field. On failure,
   returns FALSE and sets field_r to the offending field's name and error_r
   to a message naming the field and its (escaped, bounded) value. */
bool referral_target_parse(const struct referral_fields *fields,
			   in_port_t default_port,
			   struct referral_target *target_r,
			   const char **field_r, const char **error_r);

/* Returns TRUE when target is the very server described by local (same
   address or same TLS server name, and same port): referring there would
   loop. IPv4-mapped IPv6 addresses compare as IPv4. Names compare
   case-insensitively, ignoring a trailing dot; no DNS lookups are made. */
bool referral_target_is_local(const struct referral_target *target,
			      const struct referral_local *local);

/* The prefix of the error line that a refused referral logs, followed by
   the error_r of referral_target_resolve(): doveadm's "referral lookup"
   words a refusal as the login process logs it. */
#define REFERRAL_REFUSED_PREFIX "Referral refused: "
/* What a nologin user with a refused target is told, in every protocol's
   failure reply. It says nothing about the passdb value: the
   administrator finds that in the log. */
#define REFERRAL_UNAVAILABLE_TEXT \
	"Login not possible on this server right now, " \
	"contact your administrator."

/* Everything the login process decides about a referral's target before
   it replies, so that it and doveadm's "referral lookup" decide alike:
   parse the target (referral_target_parse()), validate the user name the
   URL carries (destuser, or login_user when destuser is absent or empty;
   returned in user_r), and refuse a target that is any of locals (a
   referral loop). fields->host and login_user must not be NULL. On
   failure, field_r names the offending field ("host", "port", "destuser"
   or "user") and error_r says why, with the escaped, bounded value. */
bool referral_target_resolve(const struct referral_fields *fields,
			     in_port_t default_port, const char *login_user,
			     const struct referral_local *locals,
			     unsigned int locals_count,
			     struct referral_target *target_r,
			     const char **user_r, const char **field_r,
			     const char **error_r);

#endif
