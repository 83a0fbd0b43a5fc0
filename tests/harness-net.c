/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "harness-net.h"

#include <arpa/inet.h>
#include <string.h>

bool harness_sockaddr_ipv4(union harness_sockaddr *addr, const char *ip,
			   in_port_t port)
{
	memset(addr, 0, sizeof(*addr));
	addr->sin.sin_family = AF_INET;
	addr->sin.sin_port = htons(port);
	return inet_pton(AF_INET, ip, &addr->sin.sin_addr) == 1;
}
