/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The e2e server set (e2e-servers.h), kept running for a person or a
   script to point real mail clients at (scripts/measure-clients,
   doc/clients.md): prints the ports as shell assignments, then waits
   until its standard input is closed, and stops the servers. */

#define _GNU_SOURCE
#include "e2e-servers.h"

#include <stdio.h>

int main(void)
{
	char buf[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	e2e_servers_setup();
	printf("ROOT=%s\nPORT_A=%u\nPORT_B=%u\nSIEVE_PORT_A=%u\n"
	       "PASSWORD=" E2E_PASSWORD "\nLOG_A=%s\nLOG_B=%s\nREADY=1\n",
	       e2e.root, e2e.a.imap_port, e2e.b.imap_port, e2e.a.sieve_port,
	       e2e.a.log_path, e2e.b.log_path);
	while (fgets(buf, sizeof(buf), stdin) != NULL) {
		/* anything typed is ignored: only the end of input counts */
	}
	e2e_servers_teardown();
	return 0;
}
