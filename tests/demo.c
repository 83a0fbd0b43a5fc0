/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The README's demo: server A (with the plugin) refers a moved user to
   server B, and the client follows the URL to B. Both are real Dovecot
   instances under a throwaway directory, on free loopback ports. */

#define _GNU_SOURCE
#include "harness-dovecot.h"
#include "harness-imap.h"
#include "harness-passdb.h"
#include "harness-version.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IP "127.0.0.1"
#define PASSWORD "pass"

struct imap_url {
	char *user, *host;
	unsigned int port;
};

static int hex_value(char c)
{
	return isdigit((unsigned char)c) ? c - '0' :
		tolower((unsigned char)c) - 'a' + 10;
}

/* Pick user, host and port out of "imap://<user>;AUTH=<a>@<host>[:<port>]/"
   as a referral-following client does. */
static bool parse_referral(const char *line, struct imap_url *url_r)
{
	const char *p = strstr(line, "[REFERRAL imap://"), *end;
	char *user;
	size_t i, o;

	if (p == NULL)
		return false;
	p += strlen("[REFERRAL imap://");
	end = strstr(p, ";AUTH=");
	if (end == NULL)
		return false;
	user = strndup(p, end - p);
	for (i = o = 0; user[i] != '\0'; i++, o++) {
		if (user[i] == '%' && isxdigit((unsigned char)user[i+1]) &&
		    isxdigit((unsigned char)user[i+2])) {
			user[o] = hex_value(user[i+1]) * 16 +
				hex_value(user[i+2]);
			i += 2;
		} else {
			user[o] = user[i];
		}
	}
	user[o] = '\0';
	url_r->user = user;

	p = strchr(end, '@');
	if (p == NULL)
		return false;
	p++;
	end = p + strcspn(p, ":/");
	url_r->host = strndup(p, end - p);
	url_r->port = *end == ':' ? (unsigned int)atoi(end + 1) : 143;
	return true;
}

int main(void)
{
	char *root = harness_make_root("referral-demo");
	struct dc_server a, b;
	struct imap_conn conn;
	struct imap_url url;
	char port_b[8], *db, *passdb, *extra, *plugins, *reply, *login;
	int ret = EXIT_FAILURE;

	setvbuf(stdout, NULL, _IOLBF, 0);
	dc_server_init(&b, root, "b");
	dc_server_init(&a, root, "a");
	snprintf(port_b, sizeof(port_b), "%u", b.imap_port);

	const struct passdb_user users[] = {
		{ .user = "moved", .password = "{PLAIN}" PASSWORD,
		  .host = IP, .port = port_b, .nologin = "Y" },
	};
	if (asprintf(&db, "%s/users.db", root) < 0)
		abort();
	passdb_create(db, users, 1);
	printf("Dovecot %s\n", dc_dovecot_version());
	printf("SQLite passdb %s: moved has host=" IP " port=%s nologin\n",
	       db, port_b);

	passdb = passdb_sql_block(db, "b", PASSDB_QUERY_PLAIN);
	dc_server_start(&b, passdb);
	printf("Server B (no plugin) listens on " IP ":%u\n", b.imap_port);
	free(passdb);

	passdb = passdb_sql_block(db, "a", PASSDB_QUERY_REFERRAL);
	plugins = dc_syntax_login_plugins("referral", REFERRAL_PLUGIN_DIR);
	if (asprintf(&extra, "%s%s", plugins, passdb) < 0)
		abort();
	free(plugins);
	dc_server_start(&a, extra);
	printf("Server A (login_plugins = referral) listens on " IP ":%u\n\n",
	       a.imap_port);

	if (!imap_connect(&conn, "A", IP, a.imap_port))
		goto out;
	reply = imap_command(&conn, "b", "LOGIN moved " PASSWORD);
	free(imap_command(&conn, "c", "LOGOUT"));
	imap_disconnect(&conn);
	if (reply == NULL || !parse_referral(reply, &url)) {
		printf("\nno referral from server A\n");
		free(reply);
		goto out;
	}

	printf("\nFollowing the referral: user %s at %s port %u\n\n",
	       url.user, url.host, url.port);
	if (!imap_connect(&conn, "B", url.host, url.port))
		goto out;
	if (asprintf(&login, "LOGIN \"%s\" " PASSWORD, url.user) < 0)
		abort();
	free(reply);
	reply = imap_command(&conn, "b", login);
	if (reply != NULL && strncmp(reply, "b OK ", 5) == 0) {
		free(reply);
		reply = imap_command(&conn, "c", "SELECT INBOX");
		ret = reply != NULL && strncmp(reply, "c OK ", 5) == 0 ?
			EXIT_SUCCESS : EXIT_FAILURE;
	}
	free(reply);
	free(imap_command(&conn, "d", "LOGOUT"));
	imap_disconnect(&conn);
	printf("\n%s\n", ret == EXIT_SUCCESS ?
	       "Referred by A, logged in on B: done." :
	       "Logging in on B failed.");
out:
	dc_server_stop(&a);
	dc_server_stop(&b);
	harness_remove_root(root);
	return ret;
}
