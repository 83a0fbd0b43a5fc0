/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The notice servers (notice-servers.h), kept running for real mail
   clients to read the move notices with (scripts/measure-notice,
   doc/clients.md): notifies the users named as arguments with "doveadm
   referral notify" on A (its transcript first), prints the ports as
   shell assignments, then waits until its standard input is closed, and
   stops the servers. */

#define _GNU_SOURCE
#include "notice-servers.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char *argv[])
{
	char buf[256], *users, *out, *err;
	size_t size = 0;
	FILE *list;
	int i, status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	notice_servers_setup();
	list = open_memstream(&users, &size);
	for (i = 1; i < argc; i++)
		fprintf(list, "%s%s", i > 1 ? " " : "", argv[i]);
	fclose(list);
	if (argc > 1) {
		out = notice_notify(users, &status, &err);
		free(out);
		free(err);
	} else {
		status = 0;
	}
	printf("ROOT=%s\nPORT_A=%u\nPORT_B=%u\nPASSWORD=" NOTICE_PASSWORD
	       "\nNOTIFY_STATUS=%d\nLOG_A=%s\nLOG_B=%s\nREADY=1\n",
	       notice.root, notice.a.imap_port, notice.b.imap_port, status,
	       notice.a.log_path, notice.b.log_path);
	while (fgets(buf, sizeof(buf), stdin) != NULL) {
		/* anything typed is ignored: only the end of input counts */
	}
	notice_servers_teardown();
	free(users);
	return 0;
}
