/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
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

char *dc_syntax_login_plugins(const char *plugins, const char *dir)
{
	char *dir_line = dir == NULL ? harness_printf("%s", "") :
		harness_printf("login_plugin_dir = %s\n", dir);
	char *list, *copy, *name, *save = NULL, *conf;
	size_t size = 0;
	FILE *out;

	if (!dc_syntax_24()) {
		conf = harness_printf("%slogin_plugins = %s\n", dir_line,
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
	conf = harness_printf("%slogin_plugins {\n%s}\n", dir_line, list);
	free(copy);
	free(list);
	free(dir_line);
	return conf;
}

const char *dc_syntax_login_reuse(void)
{
	return dc_syntax_24() ? "restart_request_count = unlimited" :
		"service_count = 0";
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

const char *dc_log_logged_in(void)
{
	return dc_syntax_24() ? "Logged in: " : "Login: ";
}
