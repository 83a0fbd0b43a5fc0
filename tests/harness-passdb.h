#ifndef HARNESS_PASSDB_H
#define HARNESS_PASSDB_H

/* One row of the test passdb. NULL columns are left out of Dovecot's reply,
   so only the fields a user needs are set. */
struct passdb_user {
	const char *user, *password;
	const char *host, *port, *destuser, *reason, *nologin, *proxy, *pass;
	/* the plugin's referral_keep_open field */
	const char *keep_open;
	/* the plugin's referral_alert field */
	const char *alert;
	/* the plugin's referral field (referral=suggest beside proxy) */
	const char *referral;
	/* userdb_mail: the user's mail location, overriding the default */
	const char *mail;
};

/* Create an SQLite passdb at db_path (readable by Dovecot's auth process)
   holding users. */
void passdb_create(const char *db_path, const struct passdb_user *users,
		   unsigned int count);

/* Run SQL statements (a schema file, INSERTs) against the SQLite file
   db_path, creating it if needed and leaving it readable by Dovecot. */
void passdb_exec_sql(const char *db_path, const char *sql);

/* A "passdb { driver = <driver> args = <args> }" block (malloc()ed), in
   2.3's syntax. */
char *passdb_block(const char *driver, const char *args);

/* A passdb block (malloc()ed) that runs password_query (written with
   2.3's %u and %d, see dc_syntax_vars()) against the SQLite file db_path.
   name tells it from other passdbs of the same server. With 2.3 the
   query goes into an sql.conf.ext written beside the database as
   <db_path>.<name>.conf.ext. */
char *passdb_sql_block(const char *db_path, const char *name,
		       const char *password_query);

/* The query that returns every referral field of the users table, and
   the user's mail location as a userdb field. */
const char *passdb_query_referral(void);
#define PASSDB_QUERY_REFERRAL passdb_query_referral()
/* The query of a server that only checks passwords (a referral target). */
#define PASSDB_QUERY_PLAIN \
	"SELECT userid AS user, password FROM users WHERE userid = '%u'"

#endif
