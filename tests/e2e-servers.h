#ifndef E2E_SERVERS_H
#define E2E_SERVERS_H

#include <stdbool.h>

#include "harness-dovecot.h"
#include "harness-imap.h"

#define E2E_IP "127.0.0.1"
/* Every e2e user's password: distinctive, so a test can show that no log
   line ever contains it. */
#define E2E_PASSWORD "Pw-7kq2Zr"

/* The end-to-end setup: server A loads the plugin from the build tree,
   server B is the referral (and proxy) target, and server "stock" has A's
   configuration without the plugin, for comparisons; A and stock run
   IMAP, POP3, Submission and ManageSieve. Server "sieve" is a ManageSieve
   referral target on E2E_SIEVE_IP with A's ManageSieve port (PEAR
   Net_Sieve follows a referral on the port it was given). All share one
   SQLite passdb with the users e2e-servers.c lists. */
#define E2E_SIEVE_IP "127.0.0.2"
/* Server A allows one connection per user and address from here. */
#define E2E_LIMITED_IP "127.0.0.77"

struct e2e_servers {
	char *root;
	struct dc_server a, b, stock, sieve;
	char port_a[8], port_b[8];
	/* A's ManageSieve port */
	char port_a_sieve[8];
};

extern struct e2e_servers e2e;

/* Check unchecked fixtures: start and stop all three servers. */
void e2e_servers_setup(void);
void e2e_servers_teardown(void);

/* "127.0.0.1:<port of B>", for expected URLs (static buffer). */
const char *e2e_b_hostport(void);

/* The plugin's default reason for a user referred to B under the name
   it logged in with: nologin, or suggest mode when logged_in (valid until
   the next call). */
const char *e2e_b_default_reason(bool logged_in);

/* Connect to A and send one login command ("b <command>"); returns the
   tagged reply (malloc()ed). Fails the test if A cannot be reached. */
char *e2e_login_a(struct imap_conn *conn, const char *command);

/* Fail the test if a server's log has a Panic or Fatal line, or the
   password anywhere (A runs with auth_debug=yes). */
void e2e_assert_logs_clean(void);
/* The same for other servers. */
void e2e_assert_servers_clean(const struct dc_server *const *servers,
			      unsigned int count);

#endif
