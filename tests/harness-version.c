/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-passdb.h"
#include "harness-proc.h"
#include "harness-version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool dc_syntax_24(void)
{
	return strcmp(DOVECOT_CONFIG_SYNTAX, "2.4") == 0;
}

const char *dc_dovecot_version(void)
{
	return DOVECOT_VERSION;
}

char *dc_syntax_base(const char *home_root, const char *uid,
		     const char *gid)
{
	if (!dc_syntax_24()) {
		return harness_printf(
			"disable_plaintext_auth = no\n"
			"mail_location = maildir:~/Maildir\n"
			"plugin {\n"
			"  sieve = file:~/sieve;active=~/.dovecot.sieve\n"
			"}\n"
			"userdb {\n"
			"  driver = static\n"
			"  args = uid=%s gid=%s home=%s/%%u\n"
			"}\n", uid, gid, home_root);
	}
	/* the version lines must come before any other setting */
	return harness_printf(
		"dovecot_config_version = 2.4.0\n"
		"dovecot_storage_version = 2.4.0\n"
		"auth_allow_cleartext = yes\n"
		"mail_driver = maildir\n"
		"mail_path = ~/Maildir\n"
		"sieve_script personal {\n"
		"  driver = file\n"
		"  path = ~/sieve\n"
		"  active_path = ~/.dovecot.sieve\n"
		"}\n"
		"userdb static {\n"
		"  fields {\n"
		"    uid = %s\n"
		"    gid = %s\n"
		"    home = %s/%%{user}\n"
		"  }\n"
		"}\n", uid, gid, home_root);
}

/* "<kind>_plugin_dir" and "<kind>_plugins" (kind: login or mail) */
static char *plugins_config(const char *kind, const char *plugins,
			    const char *dir)
{
	char *dir_line = dir == NULL ? harness_printf("%s", "") :
		harness_printf("%s_plugin_dir = %s\n", kind, dir);
	char *list, *copy, *name, *save = NULL, *conf;
	size_t size = 0;
	FILE *out;

	if (!dc_syntax_24()) {
		conf = harness_printf("%s%s_plugins = %s\n", dir_line, kind,
				      plugins);
		free(dir_line);
		return conf;
	}
	/* 2.4: a boolean list, one "name = yes" a plugin */
	out = open_memstream(&list, &size);
	copy = harness_printf("%s", plugins);
	for (name = strtok_r(copy, " ", &save); name != NULL;
	     name = strtok_r(NULL, " ", &save))
		fprintf(out, "  %s = yes\n", name);
	fclose(out);
	conf = harness_printf("%s%s_plugins {\n%s}\n", dir_line, kind, list);
	free(copy);
	free(list);
	free(dir_line);
	return conf;
}

char *dc_syntax_login_plugins(const char *plugins, const char *dir)
{
	return plugins_config("login", plugins, dir);
}

char *dc_syntax_mail_plugins(const char *plugins, const char *dir)
{
	return plugins_config("mail", plugins, dir);
}

char *dc_syntax_referral_reasons(const char *nologin, const char *suggest)
{
	char *n = nologin == NULL ? harness_printf("%s", "") :
		harness_printf("referral_reason_nologin = %s\n", nologin);
	char *s = suggest == NULL ? harness_printf("%s", "") :
		harness_printf("referral_reason_suggest = %s\n", suggest);
	char *conf = dc_syntax_24() ? harness_printf("%s%s", n, s) :
		harness_printf("plugin {\n%s%s}\n", n, s);

	free(n);
	free(s);
	return conf;
}

const char *dc_syntax_login_reuse(void)
{
	return dc_syntax_24() ? "restart_request_count = unlimited" :
		"service_count = 0";
}

const char *dc_syntax_vsz_unlimited(void)
{
	return dc_syntax_24() ? "unlimited" : "0";
}

char *dc_syntax_vars(const char *text)
{
	char *result;
	size_t size = 0;
	FILE *out = open_memstream(&result, &size);
	const char *p;

	for (p = text; *p != '\0'; p++) {
		if (p[0] != '%' || !dc_syntax_24()) {
			fputc(*p, out);
		} else if (p[1] == 'u') {
			fputs("%{user}", out);
			p++;
		} else if (p[1] == 'd') {
			fputs("%{user|domain}", out);
			p++;
		} else {
			/* "%%" and anything else: as it is */
			fputc(p[0], out);
			if (p[1] != '\0')
				fputc(*++p, out);
		}
	}
	fclose(out);
	return result;
}

char *dc_example_path(const char *rel)
{
	return harness_printf("%s/doc/examples/%s%s", TOP_SRCDIR,
			      dc_syntax_24() ? "2.4/" : "", rel);
}

char *dc_syntax_tls(const char *cert_path, const char *key_path,
		    bool required)
{
	if (!dc_syntax_24()) {
		return harness_printf("ssl = %s\n"
				      "ssl_cert = <%s\n"
				      "ssl_key = <%s\n"
				      "disable_plaintext_auth = %s\n",
				      required ? "required" : "yes",
				      cert_path, key_path,
				      required ? "yes" : "no");
	}
	return harness_printf("ssl = %s\n"
			      "ssl_server_cert_file = %s\n"
			      "ssl_server_key_file = %s\n"
			      "auth_allow_cleartext = %s\n",
			      required ? "required" : "yes",
			      cert_path, key_path, required ? "no" : "yes");
}

const char *dc_log_logged_in(void)
{
	return dc_syntax_24() ? "Logged in: " : "Login: ";
}

char *dc_syntax_passdb_example(const char *dir, const char *driver,
			       const char *rel, const char *settings)
{
	char *example = dc_example_path(rel);
	char *conf = harness_printf("!include %s\n%s", example, settings);
	const char *base = strrchr(rel, '/');
	char *args_path, *block;

	free(example);
	if (dc_syntax_24())
		return conf;
	args_path = harness_printf("%s/%s", dir,
				   base == NULL ? rel : base + 1);
	harness_write_file(args_path, conf);
	block = passdb_block(driver, args_path);
	free(args_path);
	free(conf);
	return block;
}

char *dc_syntax_sqlite_path(const char *path)
{
	return harness_printf(dc_syntax_24() ? "sqlite_path = %s\n" :
			      "connect = %s\n", path);
}

char *dc_syntax_ldap_uris(const char *uris)
{
	return harness_printf(dc_syntax_24() ? "ldap_uris = %s\n" :
			      "uris = %s\n", uris);
}

char *dc_syntax_pgsql_connect(const char *host, unsigned int port,
			      const char *params)
{
	char *list, *copy, *param, *save = NULL, *eq, *conf;
	size_t size = 0;
	FILE *out;

	if (!dc_syntax_24()) {
		return harness_printf("connect = host=%s port=%u %s\n", host,
				      port, params);
	}
	/* 2.4: libpq's keywords, one "key = value" a line */
	out = open_memstream(&list, &size);
	copy = harness_printf("%s", params);
	for (param = strtok_r(copy, " ", &save); param != NULL;
	     param = strtok_r(NULL, " ", &save)) {
		eq = strchr(param, '=');
		if (eq == NULL)
			harness_die("pgsql parameter '%s' has no value", param);
		*eq = '\0';
		fprintf(out, "    %s = %s\n", param, eq + 1);
	}
	fclose(out);
	conf = harness_printf("pgsql %s {\n  parameters {\n    port = %u\n%s"
			      "  }\n}\n", host, port, list);
	free(copy);
	free(list);
	return conf;
}

char *dc_syntax_passwd_file_passdb(const char *rel, const char *users_path)
{
	char *example, *conf;

	if (!dc_syntax_24())
		return passdb_block("passwd-file", users_path);
	example = dc_example_path(rel);
	conf = harness_printf("!include %s\n"
			      "passdb passwd-file {\n"
			      "  passwd_file_path = %s\n"
			      "}\n", example, users_path);
	free(example);
	return conf;
}

char *dc_syntax_passwd_file_userdb(const char *users_path)
{
	if (!dc_syntax_24()) {
		return harness_printf("userdb {\n"
				      "  driver = passwd-file\n"
				      "  args = %s\n"
				      "}\n", users_path);
	}
	return harness_printf("userdb passwd-file {\n"
			      "  passwd_file_path = %s\n"
			      "}\n", users_path);
}

const char *dc_syntax_sql_passdb_query(void)
{
	return dc_syntax_24() ? "query" : "password_query";
}
