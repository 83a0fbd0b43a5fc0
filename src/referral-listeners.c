/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* The server's own listeners, from doveconf's output: "doveadm referral
   lookup" refuses a target that is one of them, as the login process
   refuses one that is the address the client connected to (a loop). */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "strfuncs.h"
#include "referral-target.h"
#include "referral-listeners.h"

struct listeners_parser {
	const char *service;
	/* nesting depth of "{" blocks, and where the service and the current
	   inet_listener block are open (0: not open) */
	unsigned int depth, service_depth, listener_depth;
	const char *global_listen;

	/* the current inet_listener block */
	const char *address, *port;
	/* 2.4 prints a listen list written as a block as one too
	   ("listen {", "<address> = yes" lines, "}"): its depth while it is
	   open, and the addresses it says yes to */
	unsigned int listen_depth;
	string_t *listen_block;
	ARRAY(struct referral_listener) found;
	const char *error;
};

/* A listener block ends: keep its port with its own addresses, or with
   NULL for the global ones, known only at the end of the output. */
static void listeners_parser_end_listener(struct listeners_parser *parser)
{
	struct referral_listener *listener;
	in_port_t port;
	const char *error;

	if (parser->port == NULL || strcmp(parser->port, "0") == 0)
		return;
	if (!referral_port_parse(parser->port, &port, &error)) {
		parser->error = t_strdup_printf(
			"service %s: inet_listener port '%s': %s",
			parser->service, parser->port, error);
		return;
	}
	listener = array_append_space(&parser->found);
	listener->address = parser->address != NULL &&
		parser->address[0] != '\0' ? parser->address : NULL;
	listener->port = port;
}

static void
listeners_parser_line(struct listeners_parser *parser, const char *line)
{
	const char *key, *value, *p;
	size_t len;

	line = t_str_trim(line, " \t\r");
	len = strlen(line);
	if (strcmp(line, "}") == 0) {
		if (parser->depth == 0)
			return;
		if (parser->depth == parser->listen_depth) {
			const char *list = str_c(parser->listen_block);

			if (parser->listen_depth == 1)
				parser->global_listen = list;
			else
				parser->address = list;
			parser->listen_depth = 0;
		}
		if (parser->depth == parser->listener_depth) {
			listeners_parser_end_listener(parser);
			parser->listener_depth = 0;
		}
		if (parser->depth == parser->service_depth)
			parser->service_depth = 0;
		parser->depth--;
		return;
	}
	if (len > 0 && line[len - 1] == '{') {
		const char *const *words = t_strsplit_spaces(line, " ");

		parser->depth++;
		if (strcmp(words[0], "listen") == 0 &&
		    (parser->depth == 1 ||
		     (parser->listener_depth != 0 &&
		      parser->depth == parser->listener_depth + 1))) {
			parser->listen_depth = parser->depth;
			parser->listen_block = t_str_new(64);
		} else if (parser->depth == 1 &&
			   str_array_length(words) == 3 &&
		    strcmp(words[0], "service") == 0 &&
		    strcmp(words[1], parser->service) == 0) {
			parser->service_depth = 1;
		} else if (parser->service_depth == 1 && parser->depth == 2 &&
			   strcmp(words[0], "inet_listener") == 0) {
			parser->listener_depth = 2;
			parser->address = NULL;
			parser->port = NULL;
		}
		return;
	}
	p = strchr(line, '=');
	if (p == NULL)
		return;
	key = t_str_trim(t_strdup_until(line, p), " \t");
	value = t_str_trim(p + 1, " \t");
	if (parser->listen_depth != 0 && parser->depth == parser->listen_depth) {
		if (strcmp(value, "yes") == 0) {
			str_append(parser->listen_block, key);
			str_append_c(parser->listen_block, ' ');
		}
	} else if (parser->depth == 0 && strcmp(key, "listen") == 0)
		parser->global_listen = value;
	else if (parser->listener_depth != 0 &&
		 parser->depth == parser->listener_depth) {
		if (strcmp(key, "address") == 0 || strcmp(key, "listen") == 0)
			parser->address = value;
		else if (strcmp(key, "port") == 0)
			parser->port = value;
	}
}

bool referral_listeners_parse(const char *output, const char *service,
			      pool_t pool,
			      ARRAY_TYPE(referral_listener) *listeners,
			      const char **error_r)
{
	struct listeners_parser parser;
	const struct referral_listener *listener;
	const char *const *lines, *const *addresses;

	i_zero(&parser);
	parser.service = service;
	t_array_init(&parser.found, 4);
	for (lines = t_strsplit(output, "\n");
	     *lines != NULL && parser.error == NULL; lines++)
		listeners_parser_line(&parser, *lines);
	if (parser.error != NULL) {
		*error_r = parser.error;
		return FALSE;
	}
	array_foreach(&parser.found, listener) {
		const char *list = listener->address != NULL ?
			listener->address : parser.global_listen;

		if (list == NULL)
			continue;
		for (addresses = t_strsplit_spaces(list, ", ");
		     *addresses != NULL; addresses++) {
			struct referral_listener *copy =
				array_append_space(listeners);

			copy->address = p_strdup(pool, *addresses);
			copy->port = listener->port;
		}
	}
	return TRUE;
}
