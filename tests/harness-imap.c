/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-imap.h"
#include "harness-net.h"
#include "harness-proc.h"

#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_TIMEOUT_MSECS 10000
/* Under valgrind (REFERRAL_VALGRIND, harness-dovecot.h) a login process
   takes seconds to start, the first one of a run on a busy machine more
   than READ_TIMEOUT_MSECS. */
#define VALGRIND_READ_TIMEOUT_MSECS 60000

static void transcript_add(char **transcript, size_t *transcript_len,
			   const char *line)
{
	size_t len = strlen(line);

	*transcript = realloc(*transcript, *transcript_len + len + 3);
	memcpy(*transcript + *transcript_len, line, len);
	memcpy(*transcript + *transcript_len + len, "\r\n", 3);
	*transcript_len += len + 2;
}

char *imap_buf_take_line(char *buf, size_t *buf_len)
{
	char *nl = memchr(buf, '\n', *buf_len);
	size_t len;
	char *line;

	if (nl == NULL)
		return NULL;
	len = nl - buf;
	line = strndup(buf, len > 0 && buf[len - 1] == '\r' ? len - 1 : len);
	memmove(buf, nl + 1, *buf_len - len - 1);
	*buf_len -= len + 1;
	return line;
}

void imap_line_received(const char *name, char **transcript,
			size_t *transcript_len, const char *line)
{
	printf("[%s] S: %s\n", name, line);
	fflush(stdout);
	transcript_add(transcript, transcript_len, line);
}

bool imap_connect(struct imap_conn *conn, const char *name, const char *ip,
		  in_port_t port)
{
	return imap_connect_from(conn, name, NULL, ip, port);
}

bool imap_connect_from(struct imap_conn *conn, const char *name,
		       const char *source_ip, const char *ip, in_port_t port)
{
	union harness_sockaddr dest, src;
	char *greeting;

	memset(conn, 0, sizeof(*conn));
	conn->name = strdup(name);
	conn->transcript = strdup("");
	conn->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (conn->fd < 0)
		return false;
	if (source_ip != NULL &&
	    (!harness_sockaddr_ipv4(&src, source_ip, 0) ||
	     bind(conn->fd, &src.sa, sizeof(src.sin)) < 0)) {
		printf("[%s] bind to %s failed: %s\n", name, source_ip,
		       strerror(errno));
		return false;
	}
	if (!harness_sockaddr_ipv4(&dest, ip, port) ||
	    connect(conn->fd, &dest.sa, sizeof(dest.sin)) < 0) {
		printf("[%s] connect to %s:%u failed: %s\n", name, ip, port,
		       strerror(errno));
		return false;
	}
	printf("[%s] connected to %s:%u%s%s\n", name, ip, port,
	       source_ip == NULL ? "" : " from ",
	       source_ip == NULL ? "" : source_ip);
	greeting = imap_read_line(conn);
	if (greeting == NULL)
		return false;
	free(greeting);
	return true;
}

void imap_disconnect(struct imap_conn *conn)
{
	if (conn->fd >= 0)
		close(conn->fd);
	conn->fd = -1;
	free(conn->name);
	free(conn->transcript);
	conn->name = conn->transcript = NULL;
}

void imap_reset(struct imap_conn *conn)
{
	struct linger linger = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(conn->fd, SOL_SOCKET, SO_LINGER, &linger,
			 sizeof(linger));
	printf("[%s] (reset)\n", conn->name);
	imap_disconnect(conn);
}

void imap_echo_sent(const char *name, const char *data)
{
	const char *p, *line = data;

	/* line by line, as the client side of the conversation */
	while ((p = strstr(line, "\r\n")) != NULL) {
		printf("[%s] C: %.*s\n", name, (int)(p - line), line);
		line = p + 2;
	}
	if (*line != '\0')
		printf("[%s] C: %s\n", name, line);
	fflush(stdout);
}

bool imap_send_raw(struct imap_conn *conn, const char *data)
{
	size_t len = strlen(data), pos = 0;

	imap_echo_sent(conn->name, data);
	while (pos < len) {
		ssize_t ret = send(conn->fd, data + pos, len - pos,
				   MSG_NOSIGNAL);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		pos += ret;
	}
	return true;
}

bool imap_send_line(struct imap_conn *conn, const char *line)
{
	char *data;
	bool ret;

	if (asprintf(&data, "%s\r\n", line) < 0)
		return false;
	ret = imap_send_raw(conn, data);
	free(data);
	return ret;
}

static int read_timeout_msecs(void)
{
	const char *valgrind = getenv("REFERRAL_VALGRIND");

	return valgrind != NULL && *valgrind != '\0' ?
		VALGRIND_READ_TIMEOUT_MSECS : READ_TIMEOUT_MSECS;
}

/* Wait for input; returns bytes read, 0 on EOF, -1 on timeout/error. */
static ssize_t fill_buffer(struct imap_conn *conn, int timeout_msecs)
{
	struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
	ssize_t ret;

	if (conn->buf_len == sizeof(conn->buf))
		return -1;
	if (poll(&pfd, 1, timeout_msecs) <= 0)
		return -1;
	ret = recv(conn->fd, conn->buf + conn->buf_len,
		   sizeof(conn->buf) - conn->buf_len, 0);
	if (ret > 0)
		conn->buf_len += ret;
	return ret;
}

char *imap_read_line(struct imap_conn *conn)
{
	for (;;) {
		char *line = imap_buf_take_line(conn->buf, &conn->buf_len);

		if (line != NULL) {
			imap_line_received(conn->name, &conn->transcript,
					   &conn->transcript_len, line);
			return line;
		}
		if (fill_buffer(conn, read_timeout_msecs()) <= 0) {
			printf("[%s] (connection closed or silent)\n",
			       conn->name);
			return NULL;
		}
	}
}

char *imap_read_tagged(struct imap_conn *conn, const char *tag)
{
	size_t tag_len = strlen(tag);
	char *line;

	while ((line = imap_read_line(conn)) != NULL) {
		if (strncmp(line, tag, tag_len) == 0 && line[tag_len] == ' ')
			return line;
		free(line);
	}
	return NULL;
}

char *imap_command(struct imap_conn *conn, const char *tag,
		   const char *command)
{
	char *line;
	bool ok;

	if (asprintf(&line, "%s %s", tag, command) < 0)
		return NULL;
	ok = imap_send_line(conn, line);
	free(line);
	return ok ? imap_read_tagged(conn, tag) : NULL;
}

bool imap_is_silent(struct imap_conn *conn, unsigned int msecs)
{
	return conn->buf_len == 0 && fill_buffer(conn, msecs) < 0;
}

bool imap_is_closed(struct imap_conn *conn, unsigned int msecs)
{
	bool closed = conn->buf_len == 0 && fill_buffer(conn, msecs) == 0;

	printf("[%s] (%s)\n", conn->name, closed ? "closed by the server" :
	       "not closed");
	fflush(stdout);
	return closed;
}

char *imap_authenticate_plain_cmd(const char *user, const char *pass)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t ulen = strlen(user), plen = strlen(pass);
	size_t len = ulen + plen + 2, i, o = 0;
	unsigned char *raw = malloc(len);
	char *out = malloc(len * 4 / 3 + 32), *cmd;

	raw[0] = '\0';
	memcpy(raw + 1, user, ulen);
	raw[1 + ulen] = '\0';
	memcpy(raw + 2 + ulen, pass, plen);
	for (i = 0; i < len; i += 3) {
		unsigned int n = raw[i] << 16;

		if (i + 1 < len)
			n |= raw[i+1] << 8;
		if (i + 2 < len)
			n |= raw[i+2];
		out[o++] = b64[(n >> 18) & 63];
		out[o++] = b64[(n >> 12) & 63];
		out[o++] = i + 1 < len ? b64[(n >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64[n & 63] : '=';
	}
	out[o] = '\0';
	if (asprintf(&cmd, "AUTHENTICATE PLAIN %s", out) < 0)
		cmd = NULL;
	free(raw);
	free(out);
	return cmd;
}

char *imap_default_reason(bool logged_in, const char *host,
			  unsigned int port)
{
	char port_str[16] = "";

	if (port != 143)
		snprintf(port_str, sizeof(port_str), " (port %u)", port);
	return harness_printf("%s Please change your mail account's IMAP "
			      "server to %s%s.", logged_in ?
			      "Logged in, but your mailbox has moved." :
			      "Your mailbox has moved.", host, port_str);
}

char *imap_read_until(struct imap_conn *conn, const char *prefix1,
		      const char *prefix2)
{
	char *line;

	while ((line = imap_read_line(conn)) != NULL) {
		if (harness_starts_with(line, prefix1) ||
		    (prefix2 != NULL && harness_starts_with(line, prefix2)))
			return line;
		free(line);
	}
	return NULL;
}

char *imap_blank_timings(const char *in)
{
	regex_t timing;
	regmatch_t match;
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	if (f == NULL ||
	    regcomp(&timing, "\\([0-9. +]+ secs\\)", REG_EXTENDED) != 0)
		harness_die("imap_blank_timings: out of memory");
	while (regexec(&timing, in, 1, &match, 0) == 0) {
		fwrite(in, 1, match.rm_so, f);
		fputs("(T secs)", f);
		in += match.rm_eo;
	}
	fputs(in, f);
	fclose(f);
	regfree(&timing);
	return out;
}
