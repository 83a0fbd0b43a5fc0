#ifndef NOTICE_SERVERS_H
#define NOTICE_SERVERS_H

#include <stdbool.h>

#include "harness-dovecot.h"

/* The servers of "doveadm referral notify" (test-e2e-notice, and
   notice-client-servers for real clients): A loads the plugin, runs the
   build tree's doveadm module and proxies with doveadm's own proxying
   (doveadm_port, doveadm_password) to backend B, which has a doveadm
   listener; R reads A's mail store and lets every user in, so that the
   notices saved on A can be read back over IMAP even for nologin users.
   One SQLite passdb, with the users notice-servers.c lists. */

#define NOTICE_IP "127.0.0.1"
#define NOTICE_PASSWORD "Pw-n0t1ce"
#define NOTICE_FROM "Mail Team <postmaster@example.com>"

struct notice_servers {
	char *root, *db;
	/* A's and B's configuration as started (the extra part) */
	char *conf_a, *conf_b;
	struct dc_server a, r, b;
	/* port_b, port_b2: the nologin and suggest users' targets, where
	   nobody listens (a notice does not need its target); B's IMAP
	   port (the proxied user's target) and its doveadm port */
	char port_b[8], port_b2[8], port_b_imap[8], port_b_doveadm[8];
};

extern struct notice_servers notice;

/* Start B, A (with the default notice templates and NOTICE_FROM as the
   sender) and R; stop them and remove everything. */
void notice_servers_setup(void);
void notice_servers_teardown(void);

/* A's configuration with extra after it (malloc()ed): the plugin, the
   passdb, a userdb that can list the users (for -A), and with
   doveadm_port the doveadm settings that proxy to B. */
char *notice_conf_a(const char *extra, bool doveadm_port);

/* The plugin's notice settings: NOTICE_FROM as the sender and, when not
   NULL, body as referral_notice_body (malloc()ed). */
char *notice_settings(const char *body);

/* "doveadm -f tab referral notify <args>" on A, with the build tree's
   doveadm module: standard output (malloc()ed), the exit status in
   *status_r, standard error in *err_r (malloc()ed). Prints the command,
   both outputs and the status. */
char *notice_notify(const char *args, int *status_r, char **err_r);

#endif
