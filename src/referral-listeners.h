#ifndef REFERRAL_LISTENERS_H
#define REFERRAL_LISTENERS_H

#include "net.h"

/* One address and port a login service of this server listens on, as
   configured: address is an IP address, "*" (every IPv4 address), "::"
   (every IPv6 address), a bracketed IPv6 address or a host name. */
struct referral_listener {
	const char *address;
	in_port_t port;
};
ARRAY_DEFINE_TYPE(referral_listener, struct referral_listener);

/* Parse what "doveconf listen service/<service>" prints: every
   inet_listener of the service with a non-zero port, once per address.
   A listener's own addresses (2.3: "address", 2.4: "listen") replace the
   global "listen"; both are lists separated by commas and/or spaces, and
   an empty list listens nowhere, and so does a service the output has no
   block for (doveconf prints none for a service that does not exist, e.g.
   managesieve-login without Pigeonhole). Appends to listeners, allocated
   from pool. Returns FALSE with a reason in error_r when a port is not a
   number. */
bool referral_listeners_parse(const char *output, const char *service,
			      pool_t pool,
			      ARRAY_TYPE(referral_listener) *listeners,
			      const char **error_r);

#endif
