/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-pgsql.h"

#include <glob.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PG_USER "postgres"
#define PSQL "/usr/bin/psql"

/* Debian installs the server under /usr/lib/postgresql/<version>/bin. */
static char *find_bindir(void)
{
	glob_t g;
	char *bindir = NULL;

	if (glob("/usr/lib/postgresql/*/bin/postgres", 0, NULL, &g) == 0 &&
	    g.gl_pathc > 0) {
		bindir = strdup(g.gl_pathv[g.gl_pathc - 1]);
		*strrchr(bindir, '/') = '\0';
	}
	globfree(&g);
	return bindir;
}

const char *pg_server_unavailable(void)
{
	char *bindir = find_bindir();

	if (bindir == NULL)
		return "PostgreSQL is not installed (Debian package postgresql)";
	free(bindir);
	if (getpwnam(PG_USER) == NULL)
		return "there is no postgres user";
	if (access(PSQL, X_OK) < 0)
		return "psql is not installed";
	return NULL;
}

void pg_server_start(struct pg_server *srv, const char *root,
		     const char *name)
{
	char *data, *initdb, *postgres, *port, *sockets;

	memset(srv, 0, sizeof(*srv));
	srv->name = harness_printf("postgres %s", name);
	srv->dir = harness_printf("%s/%s", root, name);
	srv->log_path = harness_printf("%s/postgres.log", srv->dir);
	srv->bindir = find_bindir();
	srv->port = harness_free_port();
	data = harness_printf("%s/data", srv->dir);
	sockets = harness_printf("%s/run", srv->dir);
	harness_make_dir(srv->dir, 0755, PG_USER);
	harness_make_dir(sockets, 0755, PG_USER);

	initdb = harness_printf("%s/initdb", srv->bindir);
	const char *init[] = {
		initdb, "-D", data, "-A", "trust", "-U", PG_USER, "-E", "UTF8",
		"--no-sync", NULL
	};
	harness_run(srv->log_path, PG_USER, init);

	postgres = harness_printf("%s/postgres", srv->bindir);
	port = harness_printf("%u", srv->port);
	const char *argv[] = {
		postgres, "-D", data, "-p", port, "-k", sockets,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", NULL
	};
	harness_spawn(&srv->pid, srv->log_path, PG_USER, argv);
	harness_wait_listening(&srv->pid, srv->name, "127.0.0.1", srv->port,
			       srv->log_path);
	free(data);
	free(initdb);
	free(postgres);
	free(port);
	free(sockets);
}

static void psql(struct pg_server *srv, const char *db, const char *opt,
		 const char *arg)
{
	char *port = harness_printf("%u", srv->port);
	const char *argv[] = {
		PSQL, "-X", "-q", "-h", "127.0.0.1", "-p", port, "-U", PG_USER,
		"-d", db, "-v", "ON_ERROR_STOP=1", opt, arg, NULL
	};

	harness_run(srv->log_path, NULL, argv);
	free(port);
}

void pg_server_sql(struct pg_server *srv, const char *db, const char *sql)
{
	psql(srv, db, "-c", sql);
}

void pg_server_sql_file(struct pg_server *srv, const char *db,
			const char *path)
{
	psql(srv, db, "-f", path);
}

void pg_server_stop(struct pg_server *srv)
{
	harness_stop(&srv->pid, srv->name);
}
