/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-ldap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ldap_server_unavailable(void)
{
	if (access(LDAP_SLAPD, X_OK) < 0 || access(LDAP_SLAPADD, X_OK) < 0)
		return "slapd is not installed (Debian package slapd)";
	return NULL;
}

static char *config_ldif(const struct ldap_server *srv, const char *schema)
{
	return harness_printf(
		"dn: cn=config\n"
		"objectClass: olcGlobal\n"
		"cn: config\n"
		"olcPidFile: %1$s/slapd.pid\n"
		"\n"
		"dn: cn=module{0},cn=config\n"
		"objectClass: olcModuleList\n"
		"cn: module{0}\n"
		"olcModulePath: /usr/lib/ldap\n"
		"olcModuleLoad: back_mdb\n"
		"\n"
		"dn: cn=schema,cn=config\n"
		"objectClass: olcSchemaConfig\n"
		"cn: schema\n"
		"\n"
		"include: file:///etc/ldap/schema/core.ldif\n"
		"\n"
		"include: file:///etc/ldap/schema/cosine.ldif\n"
		"\n"
		"include: file:///etc/ldap/schema/inetorgperson.ldif\n"
		"\n"
		"include: file://%2$s\n"
		"\n"
		"dn: olcDatabase={0}config,cn=config\n"
		"objectClass: olcDatabaseConfig\n"
		"olcDatabase: {0}config\n"
		"olcAccess: to * by * none\n"
		"\n"
		"dn: olcDatabase={1}mdb,cn=config\n"
		"objectClass: olcDatabaseConfig\n"
		"objectClass: olcMdbConfig\n"
		"olcDatabase: {1}mdb\n"
		"olcSuffix: " LDAP_SUFFIX "\n"
		"olcRootDN: cn=admin," LDAP_SUFFIX "\n"
		"olcRootPW: secret\n"
		"olcDbDirectory: %1$s/data\n"
		"olcDbMaxSize: 67108864\n"
		"olcAccess: to * by * read\n",
		srv->dir, schema);
}

void ldap_server_start(struct ldap_server *srv, const char *root,
		       const char *name, const char *schema_ldif,
		       const char *data_ldif)
{
	char *conf_dir, *data_dir, *conf_path, *data_path, *ldif, *url;

	memset(srv, 0, sizeof(*srv));
	srv->name = harness_printf("slapd %s", name);
	srv->dir = harness_printf("%s/%s", root, name);
	srv->log_path = harness_printf("%s/slapd.log", srv->dir);
	srv->port = harness_free_port();
	conf_dir = harness_printf("%s/slapd.d", srv->dir);
	data_dir = harness_printf("%s/data", srv->dir);
	conf_path = harness_printf("%s/config.ldif", srv->dir);
	data_path = harness_printf("%s/data.ldif", srv->dir);
	harness_make_dir(srv->dir, 0755, NULL);
	harness_make_dir(conf_dir, 0700, NULL);
	harness_make_dir(data_dir, 0700, NULL);

	ldif = config_ldif(srv, schema_ldif);
	harness_write_file(conf_path, ldif);
	harness_write_file(data_path, data_ldif);
	const char *load_config[] = {
		LDAP_SLAPADD, "-n0", "-F", conf_dir, "-l", conf_path, NULL
	};
	harness_run(srv->log_path, NULL, load_config);
	const char *load_data[] = {
		LDAP_SLAPADD, "-n1", "-F", conf_dir, "-l", data_path, NULL
	};
	harness_run(srv->log_path, NULL, load_data);

	url = harness_printf("ldap://127.0.0.1:%u/", srv->port);
	/* -d keeps slapd in the foreground, as a child of the test */
	const char *argv[] = {
		LDAP_SLAPD, "-d", "0", "-h", url, "-F", conf_dir, NULL
	};
	harness_spawn(&srv->pid, srv->log_path, NULL, argv);
	harness_wait_listening(&srv->pid, srv->name, "127.0.0.1", srv->port,
			       srv->log_path);
	free(url);
	free(ldif);
	free(conf_dir);
	free(data_dir);
	free(conf_path);
	free(data_path);
}

void ldap_server_stop(struct ldap_server *srv)
{
	harness_stop(&srv->pid, srv->name);
}
