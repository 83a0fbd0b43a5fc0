#ifndef HARNESS_VERSION_H
#define HARNESS_VERSION_H

#include <stdbool.h>

/* What differs between Dovecot 2.3 and 2.4 for the harness and the tests:
   2.4 reads a new dovecot.conf syntax, and words a few log lines anew.
   Every piece of configuration that the harness, the tests, the demo and
   the benchmarks write and whose spelling differs is made here, for the
   Dovecot the tree was configured against (DOVECOT_CONFIG_SYNTAX from
   m4/referral-dovecot.m4). Everything else is written once, as both
   versions read it. Strings returned as char * are malloc()ed. */

/* Is the configured Dovecot 2.4? */
bool dc_syntax_24(void);
/* Dovecot's version as configure found it, e.g. "2.3.19.1". */
const char *dc_dovecot_version(void);

/* The settings of every test server that differ by version: the config
   version lines (2.4: they must come before any other setting), cleartext logins over loopback, maildir under the
   home, the ManageSieve script storage, and a static userdb with uid/gid
   and a home per user under home_root. */
char *dc_syntax_base(const char *home_root, const char *uid,
		     const char *gid);
/* Load the login plugins (space-separated names) from dir, or from
   Dovecot's own login module directory when dir is NULL. */
char *dc_syntax_login_plugins(const char *plugins, const char *dir);
/* The setting, inside a service block, that lets one login process serve
   connections until it is stopped (Dovecot's "high-performance mode"). */
const char *dc_syntax_login_reuse(void);
/* text with 2.3's %u and %d in this version's spelling (2.4:
   %{user}, %{user|domain}); "%%" stays as it is. */
char *dc_syntax_vars(const char *text);
/* The path of doc/examples/<rel> for this version: 2.4's examples are the
   files of the same name under doc/examples/2.4/. */
char *dc_example_path(const char *rel);

/* The start of the info line of a successful login: "Login: " (2.3) or
   "Logged in: " (2.4). */
const char *dc_log_logged_in(void);

#endif
