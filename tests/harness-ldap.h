#ifndef HARNESS_LDAP_H
#define HARNESS_LDAP_H

#include "harness-proc.h"

#define LDAP_SLAPD "/usr/sbin/slapd"
#define LDAP_SLAPADD "/usr/sbin/slapadd"
#define LDAP_SUFFIX "dc=example,dc=com"

/* A throwaway OpenLDAP server on 127.0.0.1 with one MDB database for
   LDAP_SUFFIX (rootdn cn=admin,<suffix>, password "secret"), readable by
   everyone, and the schemas core, cosine and inetorgperson plus one of the
   caller's. Everything lives in <root>/<name>. */
struct ldap_server {
	char *name, *dir, *log_path;
	in_port_t port;
	pid_t pid;
};

/* NULL if slapd can be run here, else why not. */
const char *ldap_server_unavailable(void);
/* Load the configuration (with schema_ldif, a cn=config schema file) and
   the entries of data_ldif, then start slapd and wait for its port. */
void ldap_server_start(struct ldap_server *srv, const char *root,
		       const char *name, const char *schema_ldif,
		       const char *data_ldif);
void ldap_server_stop(struct ldap_server *srv);

#endif
