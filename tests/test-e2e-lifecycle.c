/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The plugin over a server's life: "doveadm reload" with the plugin taken
   out and put back in takes effect without a restart or a crash, and a
   module built for another Dovecot ABI is refused by Dovecot with a clear
   message instead of being loaded. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-imap.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include "e2e-run.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IP "127.0.0.1"
#define PASSWORD "Pw-lifecycle"
/* the ABI version string of the Dovecot we build against, e.g.
   "2.3.ABIv19(2.3.19.1)" or "2.4.ABIv1" */
#define OUR_ABI DOVECOT_ABI_VERSION

static char *root, *passdb;
static struct dc_server srv;

/* The plugin from dir, and the passdb. */
static char *plugin_config(const char *dir)
{
	char *plugins = dc_syntax_login_plugins("referral", dir);
	char *conf = harness_printf("%s%s", plugins, passdb);

	free(plugins);
	return conf;
}

static char *with_plugin(void)
{
	return plugin_config(REFERRAL_PLUGIN_DIR);
}

static void setup(void)
{
	char *db, *conf;
	const struct passdb_user users[] = {
		{ .user = "moved", .password = "{PLAIN}" PASSWORD,
		  .host = "imap2.example.com", .nologin = "Y" },
		{ .user = "local", .password = "{PLAIN}" PASSWORD },
	};

	root = harness_make_root("referral-lifecycle");
	db = harness_printf("%s/users.db", root);
	passdb_create(db, users, sizeof(users) / sizeof(users[0]));
	passdb = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	free(db);
	dc_server_init(&srv, root, "server");
	conf = with_plugin();
	dc_server_start(&srv, conf);
	free(conf);
}

static void teardown(void)
{
	dc_server_stop(&srv);
	harness_remove_root(root);
}

static char *login_moved(void)
{
	struct imap_conn conn;
	char *reply;

	ck_assert(imap_connect(&conn, srv.name, IP, srv.imap_port));
	reply = imap_command(&conn, "b", "LOGIN moved " PASSWORD);
	ck_assert_ptr_nonnull(reply);
	imap_disconnect(&conn);
	return reply;
}

/* After a reload, new connections may still reach a login process of the
   old configuration for a moment: wait for the expected reply. */
static bool reply_becomes(const char *expected)
{
	unsigned int i;

	for (i = 0; i < 50; i++) {
		char *reply = login_moved();
		bool same = strcmp(reply, expected) == 0;

		free(reply);
		if (same)
			return true;
		harness_msleep(100);
	}
	return false;
}

#define OURS "b NO [REFERRAL imap://moved@imap2.example.com/] Your " \
	"mailbox has moved. Please change your mail account's IMAP server " \
	"to imap2.example.com."
/* what Dovecot says on its own (measured): ;AUTH=PLAIN after LOGIN */
#define STOCK "b NO [REFERRAL imap://moved;AUTH=PLAIN@imap2.example.com/] " \
	"Try this server instead."

START_TEST(test_reload_takes_plugin_out_and_back)
{
	pid_t master = srv.pid;
	char *conf;

	ck_assert(reply_becomes(OURS));

	dc_server_reload(&srv, passdb);
	ck_assert_msg(reply_becomes(STOCK),
		      "reload without the plugin");

	conf = with_plugin();
	dc_server_reload(&srv, conf);
	free(conf);
	ck_assert_msg(reply_becomes(OURS), "reload with the plugin");

	/* the same master all along, and nothing crashed */
	ck_assert_int_eq(srv.pid, master);
	ck_assert_int_eq(kill(srv.pid, 0), 0);
	ck_assert(dc_server_log_wait(&srv, "master: Warning: SIGHUP received "
				     "- reloading configuration"));
	ck_assert_ptr_null(dc_server_log_errors(&srv));
}
END_TEST

/* OUR_ABI with the number after "ABIv" one less (e.g. 2.3.ABIv18(...),
   2.4.ABIv0): the ABI of another Dovecot, of the same length. */
static const char *other_abi(void)
{
	static char other[sizeof(OUR_ABI)];
	char *p;

	memcpy(other, OUR_ABI, sizeof(OUR_ABI));
	p = strstr(other, "ABIv");
	ck_assert_ptr_nonnull(p);
	for (p += 4; p[1] >= '0' && p[1] <= '9'; p++) ;
	ck_assert(*p >= '0' && *p <= '9');
	*p = *p == '0' ? '9' : *p - 1;
	return other;
}

/* Our module with its ABI version string changed, as if built against
   another Dovecot. */
static void write_other_abi_module(const char *dir)
{
	char *path = harness_printf("%s/lib20_referral_plugin.so",
				    REFERRAL_PLUGIN_DIR);
	char *copy = harness_printf("%s/lib20_referral_plugin.so", dir);
	FILE *in = fopen(path, "r"), *out;
	char *data, *p;
	size_t size = 0, n;

	ck_assert_ptr_nonnull(in);
	data = malloc(1024 * 1024);
	while ((n = fread(data + size, 1, 1024 * 1024 - size, in)) > 0)
		size += n;
	fclose(in);
	p = memmem(data, size, OUR_ABI, sizeof(OUR_ABI));
	ck_assert_msg(p != NULL, "no ABI version string in %s", path);
	memcpy(p, other_abi(), sizeof(OUR_ABI));
	out = fopen(copy, "w");
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(fwrite(data, 1, size, out), size);
	ck_assert_int_eq(fclose(out), 0);
	free(data);
	free(path);
	free(copy);
}

START_TEST(test_other_abi_refused)
{
	struct dc_server other;
	struct imap_conn conn;
	char *dir = harness_printf("%s/other-abi", root), *conf, *message;

	harness_make_dir(dir, 0755, NULL);
	write_other_abi_module(dir);
	dc_server_init(&other, root, "other-abi");
	conf = plugin_config(dir);
	dc_server_start(&other, conf);

	/* imap-login refuses to start with it: no greeting, no login */
	ck_assert(imap_connect(&conn, other.name, IP, other.imap_port) ==
		  false);
	imap_disconnect(&conn);
	ck_assert(dc_server_log_wait(&other, "Fatal: Couldn't load required "
		"plugin " ));
	message = harness_printf("Module is for different ABI version %s "
				 "(we have " OUR_ABI ")", other_abi());
	ck_assert_msg(dc_server_log_wait(&other, message), "no '%s'", message);
	dc_server_stop(&other);
	free(message);
	free(conf);
	free(dir);
}
END_TEST

/* "mail_plugins = referral", a mistake an administrator can make: the
   module of that name in the mail plugin directory does nothing but say
   where the plugin belongs, and every login still works. */
START_TEST(test_mail_plugins_mistake_harmless)
{
	struct dc_server srv2;
	struct imap_conn conn;
	char *login_plugins = with_plugin();
	char *mail_plugins = dc_syntax_mail_plugins("referral",
						    REFERRAL_MAIL_PLUGIN_DIR);
	char *conf = harness_printf("%s%s", mail_plugins, login_plugins);
	char *reply;

	dc_server_init(&srv2, root, "mail-plugins");
	dc_server_start(&srv2, conf);
	ck_assert(imap_connect(&conn, srv2.name, IP, srv2.imap_port));
	reply = imap_command(&conn, "b", "LOGIN local " PASSWORD);
	ck_assert_ptr_nonnull(reply);
	ck_assert_msg(harness_starts_with(reply, "b OK [CAPABILITY ") &&
		      strstr(reply, "] Logged in") != NULL, "got: %s", reply);
	free(reply);
	reply = imap_command(&conn, "c", "NOOP");
	ck_assert_ptr_nonnull(reply);
	ck_assert(harness_starts_with(reply, "c OK NOOP completed"));
	free(reply);
	imap_disconnect(&conn);
	ck_assert(dc_server_log_wait(&srv2, "imap(local)"));
	ck_assert(dc_server_log_wait_line(&srv2, "imap(local)",
		"Warning: referral: loaded through mail_plugins, where it "
		"does nothing: the plugin belongs in login_plugins "
		"(see dovecot-referral(7))"));

	/* the login plugin still refers */
	ck_assert(imap_connect(&conn, srv2.name, IP, srv2.imap_port));
	reply = imap_command(&conn, "b", "LOGIN moved " PASSWORD);
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(reply, OURS);
	free(reply);
	imap_disconnect(&conn);
	dc_server_stop(&srv2);
	ck_assert_ptr_null(dc_server_log_errors(&srv2));
	free(conf);
	free(mail_plugins);
	free(login_plugins);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-lifecycle");
	TCase *tc = tcase_create("lifecycle");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_reload_takes_plugin_out_and_back);
	tcase_add_test(tc, test_other_abi_refused);
	tcase_add_test(tc, test_mail_plugins_mistake_harmless);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
