/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static void sql_check(sqlite3 *db, int ret, const char *what)
{
	if (ret != SQLITE_OK && ret != SQLITE_DONE) {
		fprintf(stderr, "harness: sqlite %s failed: %s\n", what,
			sqlite3_errmsg(db));
		exit(EXIT_FAILURE);
	}
}

static void bind_text(sqlite3 *db, sqlite3_stmt *stmt, int idx,
		      const char *value)
{
	sql_check(db, value == NULL ? sqlite3_bind_null(stmt, idx) :
		  sqlite3_bind_text(stmt, idx, value, -1, SQLITE_TRANSIENT),
		  "bind");
}

void passdb_create(const char *db_path, const struct passdb_user *users,
		   unsigned int count)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	unsigned int i;

	(void)remove(db_path);
	sql_check(NULL, sqlite3_open(db_path, &db), "open");
	sql_check(db, sqlite3_exec(db,
		"CREATE TABLE users (userid TEXT PRIMARY KEY, "
		"password TEXT, host TEXT, port TEXT, destuser TEXT, "
		"reason TEXT, nologin TEXT, proxy TEXT, pass TEXT, mail TEXT, "
		"referral_keep_open TEXT, referral_alert TEXT, referral TEXT)",
		NULL, NULL, NULL), "create");
	sql_check(db, sqlite3_prepare_v2(db,
		"INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1,
		&stmt, NULL), "prepare");
	for (i = 0; i < count; i++) {
		const struct passdb_user *u = &users[i];

		bind_text(db, stmt, 1, u->user);
		bind_text(db, stmt, 2, u->password);
		bind_text(db, stmt, 3, u->host);
		bind_text(db, stmt, 4, u->port);
		bind_text(db, stmt, 5, u->destuser);
		bind_text(db, stmt, 6, u->reason);
		bind_text(db, stmt, 7, u->nologin);
		bind_text(db, stmt, 8, u->proxy);
		bind_text(db, stmt, 9, u->pass);
		bind_text(db, stmt, 10, u->mail);
		bind_text(db, stmt, 11, u->keep_open);
		bind_text(db, stmt, 12, u->alert);
		bind_text(db, stmt, 13, u->referral);
		sql_check(db, sqlite3_step(stmt), "insert");
		sql_check(db, sqlite3_reset(stmt), "reset");
	}
	sql_check(db, sqlite3_finalize(stmt), "finalize");
	sql_check(db, sqlite3_close(db), "close");
	chmod(db_path, 0644);
}

void passdb_exec_sql(const char *db_path, const char *sql)
{
	sqlite3 *db;

	sql_check(NULL, sqlite3_open(db_path, &db), "open");
	sql_check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), "exec");
	sql_check(db, sqlite3_close(db), "close");
	chmod(db_path, 0644);
}

char *passdb_block(const char *driver, const char *args)
{
	return harness_printf("passdb {\n  driver = %s\n  args = %s\n}\n",
			      driver, args);
}

char *passdb_sql_block(const char *db_path, const char *name,
		       const char *password_query)
{
	char *query = dc_syntax_vars(password_query);
	char *conf_path, *conf, *block;

	if (dc_syntax_24()) {
		/* the auth process only reads: no journal beside the file */
		block = harness_printf("passdb sql-%s {\n"
			"  driver = sql\n"
			"  sql_driver = sqlite\n"
			"  sqlite_path = %s\n"
			"  sqlite_readonly = yes\n"
			"  sqlite_journal_mode = delete\n"
			"  passdb_sql_query = %s\n"
			"}\n", name, db_path, query);
		free(query);
		return block;
	}
	conf_path = harness_printf("%s.%s.conf.ext", db_path, name);
	conf = harness_printf("driver = sqlite\nconnect = %s\n"
			      "password_query = %s\n", db_path, query);
	harness_write_file(conf_path, conf);
	block = passdb_block("sql", conf_path);
	free(conf);
	free(conf_path);
	free(query);
	return block;
}

const char *passdb_query_referral(void)
{
	/* 2.4 split the mail location into driver and path: a driver
	   alone is enough to break a login (suggestbroken) */
	return dc_syntax_24() ?
		"SELECT userid AS user, password, host, port, destuser, "
		"reason, nologin, proxy, pass, referral_keep_open, "
		"referral_alert, referral, "
		"mail AS userdb_mail_driver "
		"FROM users WHERE userid = '%u'" :
		"SELECT userid AS user, password, host, port, destuser, "
		"reason, nologin, proxy, pass, referral_keep_open, "
		"referral_alert, referral, "
		"mail AS userdb_mail "
		"FROM users WHERE userid = '%u'";
}
