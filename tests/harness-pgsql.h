#ifndef HARNESS_PGSQL_H
#define HARNESS_PGSQL_H

#include "harness-proc.h"

/* A throwaway PostgreSQL cluster on 127.0.0.1 (trust authentication),
   created with initdb and run as the "postgres" user; everything lives in
   <root>/<name>. */
struct pg_server {
	char *name, *dir, *log_path, *bindir;
	in_port_t port;
	pid_t pid;
};

/* NULL if PostgreSQL's server can be run here, else why not. */
const char *pg_server_unavailable(void);
void pg_server_start(struct pg_server *srv, const char *root,
		     const char *name);
/* Run SQL (statements or, with file != NULL, a file) in database db. */
void pg_server_sql(struct pg_server *srv, const char *db, const char *sql);
void pg_server_sql_file(struct pg_server *srv, const char *db,
			const char *path);
void pg_server_stop(struct pg_server *srv);

#endif
