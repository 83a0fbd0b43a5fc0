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
   version lines (2.4: they must come before any other setting),
   cleartext logins over loopback, maildir under the home, the
   ManageSieve script storage, and a static userdb with uid/gid and a
   home per user under home_root. */
char *dc_syntax_base(const char *home_root, const char *uid,
		     const char *gid);
/* Load the login plugins (space-separated names) from dir, or from
   Dovecot's own login module directory when dir is NULL. */
char *dc_syntax_login_plugins(const char *plugins, const char *dir);
/* The same for the mail processes' plugins (mail_plugins). */
char *dc_syntax_mail_plugins(const char *plugins, const char *dir);
/* The plugin's default reason templates (NULL: not set): 2.3's plugin {}
   settings, 2.4's own settings. */
char *dc_syntax_referral_reasons(const char *nologin, const char *suggest);
/* The setting, inside a service block, that lets one login process serve
   connections until it is stopped (Dovecot's "high-performance mode"). */
const char *dc_syntax_login_reuse(void);
/* The value of a service's vsz_limit that sets no limit: "0" (2.3) or
   "unlimited" (2.4, which refuses 0). */
const char *dc_syntax_vsz_unlimited(void);
/* text with 2.3's %u and %d in this version's spelling (2.4:
   %{user}, %{user|domain}); "%%" stays as it is. */
char *dc_syntax_vars(const char *text);
/* The path of doc/examples/<rel> for this version: 2.4's examples are the
   files of the same name under doc/examples/2.4/. */
char *dc_example_path(const char *rel);
/* The passdb of the example doc/examples/<rel> (dc_example_path()), with
   settings (this version's syntax) after it to override what must differ
   in a test. 2.3's example is the args file of "passdb { driver = <driver>
   args = ... }": the args become <dir>/<basename of rel>, a file that
   includes the example and adds the settings. 2.4's example holds its
   settings and the passdb block: it is included, the settings follow. */
char *dc_syntax_passdb_example(const char *dir, const char *driver,
			       const char *rel, const char *settings);
/* The settings, for dc_syntax_passdb_example(), that point an example's
   passdb elsewhere: an SQLite database file; LDAP servers; a PostgreSQL
   server host:port with the libpq parameters params ("key=value ...",
   2.4: host is the name of the example's pgsql block, whose parameters
   this adds to). */
char *dc_syntax_sqlite_path(const char *path);
char *dc_syntax_ldap_uris(const char *uris);
char *dc_syntax_pgsql_connect(const char *host, unsigned int port,
			      const char *params);
/* A passwd-file passdb that reads the users file users_path. 2.3 names
   the file as the args of its passdb block; 2.4 includes the example
   doc/examples/2.4/<rel>, which holds the passdb block, and points it at
   users_path. */
char *dc_syntax_passwd_file_passdb(const char *rel, const char *users_path);
/* A passwd-file userdb that reads users_path: one that, unlike the
   static userdb of dc_syntax_base(), can list its users. */
char *dc_syntax_passwd_file_userdb(const char *users_path);
/* The setting that holds an SQL passdb's query: "password_query" (2.3's
   sql.conf.ext) or "query" (2.4's passdb sql block). */
const char *dc_syntax_sql_passdb_query(void);

/* The TLS settings of a server: its certificate and key (PEM files;
   2.3: ssl_cert and ssl_key read with "<", 2.4: ssl_server_cert_file and
   ssl_server_key_file), and either logins over TLS only,
   "ssl = required" and no cleartext authentication (2.3:
   disable_plaintext_auth = yes; 2.4: auth_allow_cleartext = no), or TLS
   offered (STARTTLS) with cleartext logins still allowed, "ssl = yes".
   Dovecot still takes a connection from its own address for a secured
   one. */
char *dc_syntax_tls(const char *cert_path, const char *key_path,
		    bool required);

/* The start of the info line of a successful login: "Login: " (2.3) or
   "Logged in: " (2.4). */
const char *dc_log_logged_in(void);

#endif
