#ifndef HARNESS_NET_H
#define HARNESS_NET_H

#include <stdbool.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* An IPv4 socket address that can be passed as struct sockaddr without
   breaking strict aliasing. */
union harness_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in sin;
};

/* Fill addr with ip:port; false if ip is not an IPv4 address. */
bool harness_sockaddr_ipv4(union harness_sockaddr *addr, const char *ip,
			   in_port_t port);

#endif
