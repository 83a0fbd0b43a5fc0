/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The Debian package (scripts/package) as an administrator uses it:
   installed into the system Dovecot's paths, loaded by
   "login_plugins = referral" alone (no login_plugin_dir), referring a
   user; then purged, leaving no file behind. Runs when REFERRAL_DEB names
   the .deb (scripts/test does that), else says SKIP. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-imap.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include "e2e-run.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IP "127.0.0.1"
#define PASSWORD "Pw-package"
#define PACKAGE "dovecot-referral"

static char *root;

START_TEST(test_install_refer_purge)
{
	struct dc_server srv;
	struct imap_conn conn;
	char *cmd, *out, *files, *db, *conf, *passdb, *plugins, *reply, *line;
	char *save;
	int status;
	const struct passdb_user users[] = {
		{ .user = "moved", .password = "{PLAIN}" PASSWORD,
		  .host = "imap2.example.com", .nologin = "Y" },
	};

	cmd = harness_printf("dpkg -i %s 2>&1", getenv("REFERRAL_DEB"));
	free(harness_run_output(cmd, &status));
	ck_assert_int_eq(status, 0);
	free(cmd);
	/* disabled until the administrator enables it */
	out = harness_read_file("/etc/dovecot/conf.d/10-referral.conf");
	ck_assert_msg(strstr(out, dc_syntax_24() ?
			     "\n#login_plugins {\n#  referral = yes\n#}\n" :
			     "\n#login_plugins = $login_plugins referral\n")
		      != NULL, "not commented out:\n%s", out);
	free(out);

	root = harness_make_root("referral-package");
	db = harness_printf("%s/users.db", root);
	passdb_create(db, users, 1);
	passdb = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	plugins = dc_syntax_login_plugins("referral", NULL);
	conf = harness_printf("%s%s", plugins, passdb);
	free(plugins);
	dc_server_init(&srv, root, "installed");
	dc_server_start(&srv, conf);
	ck_assert(imap_connect(&conn, srv.name, IP, srv.imap_port));
	reply = imap_command(&conn, "b", "LOGIN moved " PASSWORD);
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, "b NO [REFERRAL imap://moved@"
			 "imap2.example.com/] Your mailbox has moved. Please "
			 "change your mail account's IMAP server to "
			 "imap2.example.com.");
	imap_disconnect(&conn);
	dc_server_stop(&srv);
	ck_assert_ptr_null(dc_server_log_errors(&srv));
	free(reply);

	files = harness_run_output("dpkg -L " PACKAGE, &status);
	ck_assert_int_eq(status, 0);
	/* the login module, and its namesake that makes "mail_plugins =
	   referral" harmless */
	ck_assert(strstr(files, "/modules/login/lib20_referral_plugin.so\n")
		  != NULL);
	ck_assert(strstr(files, "/modules/lib20_referral_plugin.so\n") !=
		  NULL);
	/* and "doveadm referral lookup" */
	ck_assert(strstr(files, "/modules/doveadm/"
			 "lib20_doveadm_referral_plugin.so\n") != NULL);
	/* 2.4: the module that makes its settings known to the config
	   process */
	if (dc_syntax_24()) {
		ck_assert(strstr(files, "/modules/settings/"
				 "libreferral_settings.so\n") != NULL);
	}
	free(harness_run_output("dpkg --purge " PACKAGE " 2>&1", &status));
	ck_assert_int_eq(status, 0);
	for (line = strtok_r(files, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		struct stat st;

		/* directories may stay: they belong to Dovecot too */
		if (lstat(line, &st) == 0 && !S_ISDIR(st.st_mode))
			ck_abort_msg("left behind after purge: %s", line);
	}
	free(harness_run_output("dpkg -s " PACKAGE " 2>&1", &status));
	ck_assert_int_ne(status, 0);
	free(files);
	free(conf);
	free(passdb);
	free(db);
	harness_remove_root(root);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-package");
	TCase *tc = tcase_create("package");

	if (getenv("REFERRAL_DEB") == NULL) {
		printf("SKIP: REFERRAL_DEB names no package "
		       "(scripts/test builds one with scripts/package)\n");
		return 77;
	}
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_install_refer_purge);
	suite_add_tcase(s, tc);

	/* dpkg changes the system: one process, no retries */
	return e2e_run_suite(s, false);
}
