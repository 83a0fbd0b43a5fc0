/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* "doveadm referral notify" at scale: USERS users in A's SQLite passdb,
   every fourth referred (half of those nologin, half suggest mode), the
   others untouched; the whole batch (-F) notified, then again. Prints
   each run's wall-clock time, its summary line, and the time a batch of
   100 000 users of the same mix would take at the same rate (the cost is
   per user: a passdb lookup each, and two doveadm child processes per
   referred user on the first run, one on the second).
   usage: bench-notice USERS */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IP "127.0.0.1"
#define FROM "Mail Team <postmaster@example.com>"
#define TARGET_USERS 100000

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The summary line in doveadm's standard error, or "" */
static char *summary_line(const char *err)
{
	const char *p = strstr(err, " users: ");
	const char *start, *end;

	if (p == NULL)
		return strdup("");
	for (start = p; start > err && start[-1] != '\n' &&
	     start[-1] != '\r'; start--) ;
	end = strchr(p, '\n');
	return strndup(start, end == NULL ? strlen(start) :
		       (size_t)(end - start));
}

/* One notify run over the batch file; its wall-clock time. */
static double run(const struct dc_server *a, const char *root,
		  const char *file, const char *name)
{
	char *err_path = harness_printf("%s/doveadm.err", root);
	char *args = harness_printf("-f tab referral notify -F %s", file);
	char *out, *err, *summary;
	double start, secs;
	int status;

	start = now_secs();
	out = dc_server_doveadm_plugin(a, DOVEADM_REFERRAL_DIR,
				       DOVEADM_MODULE_DIR, args, err_path,
				       &status);
	secs = now_secs() - start;
	err = harness_read_file(err_path);
	summary = summary_line(err);
	printf("%s: %.1f s, exit status %d: %s\n", name, secs, status,
	       summary);
	if (status != 0)
		harness_die("bench-notice: notify failed:\n%s", err);
	free(summary);
	free(err);
	free(out);
	free(args);
	free(err_path);
	return secs;
}

int main(int argc, char *argv[])
{
	struct dc_server a;
	unsigned int users, i;
	char *root, *db, *sql, *passdb, *plugins, *settings, *conf, *file;
	FILE *f;
	double first, second;

	if (argc != 2 || (users = strtoul(argv[1], NULL, 10)) < 4)
		harness_die("usage: bench-notice USERS (at least 4)");

	root = harness_make_root("referral-bench-notice");
	dc_server_init(&a, root, "a");
	db = harness_printf("%s/users.db", root);
	passdb_create(db, NULL, 0);
	/* in one statement: one transaction, seconds for 100 000 */
	sql = harness_printf(
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
		"FROM n WHERE i < %u) "
		"INSERT INTO users (userid, password, host, port, nologin) "
		"SELECT 'user' || i, '{PLAIN}pw', "
		"CASE WHEN i %% 4 = 0 THEN '" IP "' END, "
		"CASE WHEN i %% 4 = 0 THEN '1430' END, "
		"CASE WHEN i %% 8 = 0 THEN 'Y' END FROM n;", users);
	passdb_exec_sql(db, sql);
	file = harness_printf("%s/users.txt", root);
	f = fopen(file, "w");
	if (f == NULL)
		harness_die("fopen(%s) failed", file);
	for (i = 1; i <= users; i++)
		fprintf(f, "user%u\n", i);
	fclose(f);

	plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);
	passdb = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	settings = dc_syntax_24() ?
		harness_printf("referral_notice_from = " FROM "\n") :
		harness_printf("plugin {\n  referral_notice_from = " FROM
			       "\n}\n");
	conf = harness_printf("%s\n%s%s", plugins, passdb, settings);
	dc_server_start(&a, conf);

	printf("Dovecot %s: %u users, %u referred (%u nologin), the rest "
	       "untouched\n", dc_dovecot_version(), users, users / 4,
	       users / 8);
	first = run(&a, root, file, "first run");
	second = run(&a, root, file, "second run (adds nothing)");
	printf("at this rate, %u users: first run %.0f s (%.1f min), "
	       "second run %.0f s (%.1f min)\n", TARGET_USERS,
	       first * TARGET_USERS / users,
	       first * TARGET_USERS / users / 60,
	       second * TARGET_USERS / users,
	       second * TARGET_USERS / users / 60);

	dc_server_stop(&a);
	harness_remove_root(root);
	free(conf);
	free(settings);
	free(passdb);
	free(plugins);
	free(file);
	free(sql);
	free(db);
	return 0;
}
