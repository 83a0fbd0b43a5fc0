/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* End to end, "doveadm referral lookup": the build tree's doveadm module
   against server A's real passdb (e2e-servers.h). What it prints for a
   user must be, byte for byte, what a real login to server A gets. */

#define _GNU_SOURCE
#include "e2e-servers.h"

#include "e2e-run.h"
#include "harness-version.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#define UNAVAILABLE_TEXT \
	"Login not possible on this server right now, " \
	"contact your administrator."

/* One printed row of "-f tab" output, by column name. */
struct lookup_row {
	char *header, *values;
};

static char *err_path(void)
{
	return harness_printf("%s/doveadm.err", e2e.root);
}

static char *lookup(const char *args, int *status_r)
{
	char *err = err_path();
	char *out = dc_server_doveadm_plugin(&e2e.a, DOVEADM_REFERRAL_DIR,
					     DOVEADM_MODULE_DIR, args, err,
					     status_r);
	char *err_text = harness_read_file(err);

	printf("(stderr)\n%s", err_text);
	free(err_text);
	free(err);
	return out;
}

/* The value of column name in the first row after the header whose
   first column is user (malloc()ed), or NULL. */
static char *tab_value(const char *out, const char *user, const char *name)
{
	char *copy = strdup(out), *line, *save = NULL, *result = NULL;
	char **headers = NULL, *start, *tab;
	const char *values[32];
	unsigned int count = 0, n, i;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *field, *fsave = NULL, *dup = strdup(line);

		if (headers == NULL) {
			headers = calloc(32, sizeof(*headers));
			for (field = strtok_r(dup, "\t", &fsave);
			     field != NULL && count < 32;
			     field = strtok_r(NULL, "\t", &fsave))
				headers[count++] = strdup(field);
			free(dup);
			continue;
		}
		free(dup);
		/* empty values: split by hand, strtok would skip them */
		start = line;
		n = 0;
		while (n < 32) {
			tab = strchr(start, '\t');
			values[n++] = start;
			if (tab == NULL)
				break;
			*tab = '\0';
			start = tab + 1;
		}
		if (n == 0 || strcmp(values[0], user) != 0)
			continue;
		for (i = 0; i < count && i < n; i++) {
			if (strcmp(headers[i], name) == 0)
				result = strdup(values[i]);
		}
		break;
	}
	for (i = 0; i < count; i++)
		free(headers[i]);
	free(headers);
	free(copy);
	return result;
}

static char *lookup_value(const char *user, const char *name)
{
	char *args = harness_printf("-f tab referral lookup %s", user);
	int status;
	char *out = lookup(args, &status);
	char *value = tab_value(out, user, name);

	ck_assert_msg(value != NULL, "no %s for %s in:\n%s", name, user, out);
	free(out);
	free(args);
	return value;
}

static void assert_value(const char *user, const char *name,
			 const char *expected)
{
	char *value = lookup_value(user, name);

	ck_assert_str_eq(value, expected);
	free(value);
}

/* Users whose LOGIN gets a referral (or our refusal) from server A. */
static const char *const login_users[] = {
	"moved", "custom", "v6", "v6port", "renamedb", "inject",
	"longreason", "keepopen", "emptydest", "suggest", "suggestencoded",
	"suggestalert",
	"badport", "badhost", "emptyhost", "longdest", "sieveself",
};

START_TEST(test_imap_login_line_equals_real_login)
{
	const char *user = login_users[_i];
	char *args = harness_printf("-f tab referral lookup %s", user);
	char *cmd = harness_printf("LOGIN %s " E2E_PASSWORD, user);
	struct imap_conn conn;
	char *reply, *out, *login, *alert, *bye, *line;
	int status;

	out = lookup(args, &status);
	login = tab_value(out, user, "imap_login");
	alert = tab_value(out, user, "imap_alert");
	bye = tab_value(out, user, "imap_bye");
	ck_assert_msg(login != NULL && alert != NULL && bye != NULL,
		      "no row for %s", user);

	reply = e2e_login_a(&conn, cmd);
	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(login, reply);
	/* the untagged lines right before the tagged reply, as printed */
	line = harness_printf("\r\n%s%s%s%s%s\r\n", alert,
			      alert[0] == '\0' ? "" : "\r\n", bye,
			      bye[0] == '\0' ? "" : "\r\n", reply);
	ck_assert_msg(strstr(conn.transcript, line) != NULL,
		      "transcript lacks:\n%s", line);
	if (alert[0] == '\0')
		ck_assert_ptr_null(strstr(conn.transcript, "[ALERT]"));
	if (bye[0] == '\0')
		ck_assert_ptr_null(strstr(conn.transcript, "\r\n* BYE"));
	imap_disconnect(&conn);
	free(line);
	free(reply);
	free(login);
	free(alert);
	free(bye);
	free(out);
	free(cmd);
	free(args);
}
END_TEST

START_TEST(test_imap_authenticate_line_equals_real_login)
{
	static const char *const users[] = { "moved", "custom", "suggest" };
	const char *user = users[_i];
	char *auth = imap_authenticate_plain_cmd(user, E2E_PASSWORD);
	struct imap_conn conn;
	char *reply = e2e_login_a(&conn, auth);

	ck_assert_ptr_nonnull(reply);
	assert_value(user, "imap_authenticate", reply);
	imap_disconnect(&conn);
	free(reply);
	free(auth);
}
END_TEST

/* referral=suggest beside proxy: the printed lines are the tagged OK
   and the ALERT that a real proxied login gets (B's capabilities, in an
   untagged line between them, are not printed). */
START_TEST(test_proxy_suggest_lines_equal_real_login)
{
	static const char *const users[] = { "proxysuggest", "proxyalert" };
	const char *user = users[_i % 2];
	char *cmd = _i < 2 ? harness_printf("LOGIN %s " E2E_PASSWORD, user) :
		imap_authenticate_plain_cmd(user, E2E_PASSWORD);
	char *login = lookup_value(user, _i < 2 ? "imap_login" :
				   "imap_authenticate");
	char *alert = lookup_value(user, "imap_alert");
	struct imap_conn conn;
	char *reply = e2e_login_a(&conn, cmd);

	ck_assert_ptr_nonnull(reply);
	ck_assert_str_eq(login, reply);
	if (_i % 2 == 0) {
		ck_assert_str_eq(alert, "");
		ck_assert_ptr_null(strstr(conn.transcript, "[ALERT]"));
	} else {
		ck_assert(harness_starts_with(alert, "* OK [ALERT] "));
		ck_assert(strstr(conn.transcript, alert) != NULL);
	}
	imap_disconnect(&conn);
	free(reply);
	free(alert);
	free(login);
	free(cmd);
}
END_TEST

START_TEST(test_modes)
{
	assert_value("moved", "mode", "nologin");
	assert_value("suggest", "mode", "suggest");
	assert_value("proxied", "mode", "proxy");
	assert_value("proxied", "imap_login", "");
	assert_value("proxyemptymode", "mode", "proxy");
	assert_value("proxysuggest", "mode", "proxy-suggest");
	assert_value("proxysuggest", "imap_alert", "");
	assert_value("proxybadmode", "mode", "refused");
	assert_value("proxybadmode", "error", "Referral refused: Invalid "
		     "referral 'nologin\\x0d\\x0a': only 'suggest' is known");
	assert_value("local", "mode", "none");
	assert_value("badhost", "mode", "refused");
	assert_value("custom", "imap_target", "imap2.example.com:1143");
	/* IPv6 is refused for IMAP in every mode; ManageSieve keeps it */
	assert_value("v6", "mode", "refused");
	assert_value("v6", "imap_target", "");
	assert_value("suggestreason", "mode", "refused");
	assert_value("suggestreason", "imap_login", "");
	assert_value("v6proxy", "mode", "refused");
	assert_value("v6proxy", "imap_login", "");
	assert_value("v6proxy", "error", "Referral refused: Invalid host "
		     "field '::ffff:127.0.0.1': an IPv6 address cannot go into "
		     "an IMAP referral (clients end the response code at its "
		     "']'): use a DNS name for this server");
	assert_value("sievesame", "mode", "refused");
	assert_value("local", "imap_login", "");
	/* suggest mode has no ManageSieve form */
	assert_value("suggest", "sieve", "");
}
END_TEST

/* What the e2e tests of ManageSieve see from server A. */
START_TEST(test_sieve_line)
{
	assert_value("sievemoved", "sieve", "BYE (REFERRAL \"sieve://"
		     E2E_SIEVE_IP "\") \"Your mailbox has moved. Please "
		     "change your mail account's ManageSieve server to "
		     E2E_SIEVE_IP ".\"");
	assert_value("sieveport", "sieve", "BYE (REFERRAL "
		     "\"sieve://bob%40example.com@imap2.example.com:4191\") "
		     "\"Use \\\"imap2\\\" \\\\ now.\"");
	assert_value("sievesame", "sieve", "BYE (REFERRAL "
		     "\"sieve://[2001:db8::1]\") \"Your mailbox has moved. "
		     "Please change your mail account's ManageSieve server to "
		     "2001:db8::1.\"");
}
END_TEST

/* A '%' in the URL of a user who still gets a session (suggest mode,
   through the proxy): Geary and Trojita lose it; a nologin user has none
   to lose. */
START_TEST(test_percent_warning)
{
	static const char warning[] = "the referral URL has a '%' (an "
		"encoded user name): Geary and Trojita drop the connection at "
		"it, and their users get no session; refer them in nologin "
		"mode, or proxy them without referral=suggest";
	char *args = harness_printf("-f tab referral lookup suggestencoded "
				    "suggestb renamedb");
	char *err = err_path(), *summary;
	int status;
	char *out = lookup(args, &status);
	char *value = tab_value(out, "suggestencoded", "warning");
	char *line = harness_printf("warning: suggestencoded: %s\n", warning);

	ck_assert_int_eq(status, 0);
	ck_assert_ptr_nonnull(value);
	ck_assert_str_eq(value, warning);
	free(value);
	value = tab_value(out, "suggestb", "warning");
	ck_assert_str_eq(value, "");
	free(value);
	value = tab_value(out, "renamedb", "warning");
	ck_assert_str_eq(value, "");
	free(value);
	summary = harness_read_file(err);
	ck_assert_msg(strstr(summary, line) != NULL, "summary: %s", summary);
	ck_assert_ptr_null(strstr(summary, "warning: renamedb"));
	free(summary);
	free(line);
	free(out);
	free(err);
	free(args);
}
END_TEST

/* The refusal is worded as the login process logs it. */
START_TEST(test_refusal_as_logged)
{
	static const char *const users[] = {
		"badport", "badhost", "emptyhost", "longdest", "v6",
		"suggestreason", "v6proxy"
	};
	const char *user = users[_i];
	char *error = lookup_value(user, "error");
	char *cmd = harness_printf("LOGIN %s " E2E_PASSWORD, user);
	struct imap_conn conn;
	char *reply = e2e_login_a(&conn, cmd);

	e2e_assert_starts(error, "Referral refused: ");
	ck_assert_msg(dc_server_log_wait_line(&e2e.a, error, user),
		      "A never logged: %s", error);
	imap_disconnect(&conn);
	free(reply);
	free(error);
	free(cmd);
}
END_TEST

/* A target that is the server's own address and port: seen from a login
   to that address and port (-x lip, lport), and found among the
   listeners of the server's configuration without -x. */
START_TEST(test_selfref_loop)
{
	char *x = harness_printf("-x lip=" E2E_IP " -x lport=%s", e2e.port_a);
	char *args = harness_printf("%s -f tab referral lookup %s selfref",
				    _i == 0 ? "" : "-D", _i == 0 ? x : "");
	char *expected = harness_printf("Referral refused: Referral to "
		E2E_IP " port %s loops back to this server", e2e.port_a);
	int status;
	char *out = lookup(args, &status);
	char *error = tab_value(out, "selfref", "error");
	struct imap_conn conn;
	char *reply = e2e_login_a(&conn, "LOGIN selfref " E2E_PASSWORD);

	ck_assert_int_eq(status, EX_DATAERR);
	ck_assert_ptr_nonnull(error);
	ck_assert_str_eq(error, expected);
	ck_assert(dc_server_log_wait_line(&e2e.a, expected, "selfref"));
	if (_i == 1) {
		/* -D: what the loop check compares with */
		char *err = err_path(), *err_text = harness_read_file(err);
		char *imap = harness_printf("Debug: referral lookup: "
			"imap-login listens on " E2E_IP " port %s\n",
			e2e.port_a);
		char *sieve = harness_printf("Debug: referral lookup: "
			"managesieve-login listens on " E2E_IP " port %s\n",
			e2e.port_a_sieve);

		ck_assert_msg(strstr(err_text, imap) != NULL &&
			      strstr(err_text, sieve) != NULL,
			      "no listener debug lines in:\n%s", err_text);
		free(sieve);
		free(imap);
		free(err_text);
		free(err);
	}
	imap_disconnect(&conn);
	free(reply);
	free(error);
	free(out);
	free(expected);
	free(args);
	free(x);
}
END_TEST

/* A's own ManageSieve listener as the target: a loop for ManageSieve only.
   IMAP clients are sent there (test_imap_login_line_equals_real_login);
   test-e2e-protocols shows the real ManageSieve login's reply and log line
   that these must equal. */
START_TEST(test_sieve_only_loop)
{
	char *expected = harness_printf("Referral refused: Referral to "
		E2E_IP " port %s loops back to this server", e2e.port_a_sieve);
	int status;
	char *out = lookup("-f tab referral lookup sieveself", &status);
	char *error = tab_value(out, "sieveself", "error");
	char *sieve = tab_value(out, "sieveself", "sieve");
	char *mode = tab_value(out, "sieveself", "mode");

	ck_assert_int_eq(status, EX_DATAERR);
	ck_assert_ptr_nonnull(error);
	ck_assert_str_eq(error, expected);
	ck_assert_str_eq(sieve, "NO \"" UNAVAILABLE_TEXT "\"");
	ck_assert_str_eq(mode, "refused");
	free(mode);
	free(sieve);
	free(error);
	free(out);
	free(expected);
}
END_TEST

/* The name the client asked for (TLS SNI) as the target, with the port
   it connected to: case and a trailing dot do not hide the loop. Without
   -x local_name the same user is referred. */
START_TEST(test_local_name_loop)
{
	int status;
	char *out = lookup("-f tab referral lookup -x lport=143 "
			   "-x local_name=IMAP2.Example.com. emptydest",
			   &status);
	char *error = tab_value(out, "emptydest", "error");

	ck_assert_int_eq(status, EX_DATAERR);
	ck_assert_ptr_nonnull(error);
	ck_assert_str_eq(error, "Referral refused: Referral to "
			 "imap2.example.com port 143 loops back to this server");
	free(error);
	free(out);
	assert_value("emptydest", "mode", "nologin");
}
END_TEST

/* listen = * (or 0.0.0.0) stands for every IPv4 address of the machine,
   127.0.0.1 included; an address that is not A's is no loop. doveadm reads a copy
   of A's configuration with another listen, and A's auth process. */
START_TEST(test_listen_setting)
{
	static const struct {
		const char *listen, *mode;
	} cases[] = {
		{ "*", "refused" },
		{ "*, ::", "refused" },
		{ "0.0.0.0", "refused" },
		{ "127.0.0.5", "nologin" },
	};
	struct dc_server alt = e2e.a;
	char *conf = harness_read_file(e2e.a.conf_path);
	char *alt_conf = harness_printf("%s\nlisten = %s\n", conf,
					cases[_i].listen);
	char *err = err_path();
	char *mode;
	int status;
	char *out;

	alt.conf_path = harness_printf("%s/alt.conf", e2e.a.dir);
	harness_write_file(alt.conf_path, alt_conf);
	out = dc_server_doveadm_plugin(&alt, DOVEADM_REFERRAL_DIR,
				       DOVEADM_MODULE_DIR,
				       "-f tab referral lookup selfref", err,
				       &status);
	ck_assert_ptr_nonnull(out);
	mode = tab_value(out, "selfref", "mode");
	ck_assert_msg(mode != NULL && strcmp(mode, cases[_i].mode) == 0,
		      "listen = %s: mode %s in:\n%s", cases[_i].listen, mode,
		      out);
	free(mode);
	free(out);
	free(err);
	free(alt.conf_path);
	free(alt_conf);
	free(conf);
}
END_TEST

START_TEST(test_exit_status)
{
	int status;
	char *out;

	out = lookup("referral lookup moved suggest local", &status);
	ck_assert_int_eq(status, 0);
	free(out);
	out = lookup("referral lookup moved badport", &status);
	ck_assert_int_eq(status, EX_DATAERR);
	free(out);
	out = lookup("referral lookup nosuchuser", &status);
	ck_assert_int_eq(status, EX_NOHOST);
	free(out);
}
END_TEST

START_TEST(test_batch_file_summary)
{
	char *list = harness_printf("%s/users.txt", e2e.root);
	char *args = harness_printf("-f tab referral lookup -F - < %s", list);
	char *err = err_path();
	char *summary;
	int status;
	char *out;

	harness_write_file(list, "moved\nsuggest\n\n# a comment\nproxied\n"
			   "proxysuggest\nlocal\nbadhost\nemptyhost\n"
			   "nosuchuser\n");
	out = lookup(args, &status);
	ck_assert_int_eq(status, EX_DATAERR);
	summary = harness_read_file(err);
	ck_assert_msg(strstr(summary, "8 users: 1 referred (nologin), "
			     "1 suggested, 2 proxied (1 of them suggested), "
			     "1 untouched, 2 refused, 1 unknown\n") != NULL,
		      "summary: %s", summary);
	ck_assert(strstr(summary, "refused: badhost: Referral refused: "
			 "Invalid host field 'bad host]/x'") != NULL);
	ck_assert(strstr(summary, "refused: emptyhost: Referral refused: "
			 "Invalid host field '': empty\n") != NULL);
	free(summary);
	free(out);
	free(err);
	free(args);
	free(list);
}
END_TEST

/* Server "iter": one passwd-file as passdb (with referral fields as
   extra fields) and as a userdb that, unlike the static userdb of the
   e2e servers, can list its users, for -A. It serves IMAP only, so the
   loop check finds no ManageSieve listener at all. */
static struct dc_server iter;

static void iter_setup(void)
{
	char *users = harness_printf("%s/iter-users", e2e.root);
	char *content = harness_printf(
		"moved:{PLAIN}" E2E_PASSWORD "::::::"
		"nologin=Y host=" E2E_IP " port=%s\n"
		"suggest:{PLAIN}" E2E_PASSWORD "::::::host=imap2.example.com\n"
		"local:{PLAIN}" E2E_PASSWORD "::::::\n"
		"badhost:{PLAIN}" E2E_PASSWORD "::::::nologin=Y host=bad_host\n",
		e2e.port_b);
	char *passdb = dc_syntax_passwd_file_passdb(
		"passwd-file/dovecot-passwd-file.conf.ext", users);
	char *userdb = dc_syntax_passwd_file_userdb(users);
	char *conf = harness_printf("%s%s", passdb, userdb);

	harness_write_file(users, content);
	dc_server_init(&iter, e2e.root, "iter");
	dc_server_start(&iter, conf);
	free(conf);
	free(userdb);
	free(passdb);
	free(content);
	free(users);
}

static void iter_teardown(void)
{
	dc_server_stop(&iter);
}

START_TEST(test_all_users)
{
	char *err = err_path(), *summary, *out, *mode;
	int status;

	out = dc_server_doveadm_plugin(&iter, DOVEADM_REFERRAL_DIR,
				       DOVEADM_MODULE_DIR,
				       "-f tab referral lookup -A", err,
				       &status);
	summary = harness_read_file(err);
	printf("(stderr)\n%s", summary);
	ck_assert_int_eq(status, EX_DATAERR);
	ck_assert_msg(strstr(summary, "4 users: 1 referred (nologin), "
			     "1 suggested, 0 proxied (0 of them suggested), "
			     "1 untouched, 1 refused, 0 unknown\n") != NULL,
		      "summary: %s", summary);
	ck_assert(strstr(summary, "refused: badhost: Referral refused: "
			 "Invalid host field 'bad_host'") != NULL);
	mode = tab_value(out, "moved", "mode");
	ck_assert_str_eq(mode, "nologin");
	free(mode);
	free(summary);
	free(out);
	free(err);
}
END_TEST

/* Server A's static userdb cannot list users: an error that says so, and
   the exit status of a failed lookup. */
START_TEST(test_all_users_not_listable)
{
	char *err = err_path(), *text;
	int status;
	char *out = lookup("referral lookup -A", &status);

	text = harness_read_file(err);
	ck_assert_int_eq(status, EX_TEMPFAIL);
	ck_assert_msg(strstr(text, "listing the userdb's users failed") !=
		      NULL, "stderr: %s", text);
	ck_assert(dc_server_log_wait(&e2e.a, "userdbs don't support it"));
	free(text);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_json_parses)
{
	int status;
	/* python3 is in the suite's packages (scripts/lib.sh) */
	char *out = lookup("-f json referral lookup moved badhost "
			   "| python3 -c 'import json,sys; s=sys.stdin.read(); "
			   "d=json.loads(s); "
			   "assert d[0][\"user\"] == \"moved\", d; "
			   "assert d[0][\"mode\"] == \"nologin\", d; "
			   "assert d[1][\"mode\"] == \"refused\", d; "
			   "print(s); print(\"json ok\")'", &status);
	size_t len = strlen(out);

	ck_assert_int_eq(status, 0);
	ck_assert(len > 8 && strcmp(out + len - 8, "json ok\n") == 0);
	free(out);
}
END_TEST

START_TEST(test_logs_clean)
{
	/* Not e2e_assert_logs_clean(): with auth_debug=yes, the auth
	   process logs the reply of a passdb lookup through the auth-master
	   socket unfiltered ("passdb out: PASS ... pass=..."), the proxy
	   password of "proxied" included, as for "doveadm auth lookup". */
	char *errors = dc_server_log_errors(&e2e.a);

	ck_assert_msg(errors == NULL, "server a logged:\n%s", errors);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e-doveadm");
	TCase *tc = tcase_create("doveadm");

	tcase_add_unchecked_fixture(tc, e2e_servers_setup, e2e_servers_teardown);
	tcase_add_unchecked_fixture(tc, iter_setup, iter_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_imap_login_line_equals_real_login, 0,
			    sizeof(login_users) / sizeof(login_users[0]));
	tcase_add_loop_test(tc, test_imap_authenticate_line_equals_real_login,
			    0, 3);
	tcase_add_loop_test(tc, test_proxy_suggest_lines_equal_real_login,
			    0, 4);
	tcase_add_test(tc, test_modes);
	tcase_add_test(tc, test_sieve_line);
	tcase_add_test(tc, test_percent_warning);
	tcase_add_loop_test(tc, test_refusal_as_logged, 0, 7);
	tcase_add_loop_test(tc, test_selfref_loop, 0, 2);
	tcase_add_test(tc, test_sieve_only_loop);
	tcase_add_test(tc, test_local_name_loop);
	tcase_add_loop_test(tc, test_listen_setting, 0, 4);
	tcase_add_test(tc, test_exit_status);
	tcase_add_test(tc, test_batch_file_summary);
	tcase_add_test(tc, test_json_parses);
	tcase_add_test(tc, test_all_users);
	tcase_add_test(tc, test_all_users_not_listable);
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);

	return e2e_run_suite(s, true);
}
