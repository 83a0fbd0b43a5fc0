/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#define _GNU_SOURCE
#include "harness-imap.h"
#include "harness-tls.h"
#include "harness-net.h"
#include "harness-proc.h"
#include "harness-version.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#define READ_TIMEOUT_MSECS 10000
#define HANDSHAKE_TIMEOUT_MSECS 10000

/* A throwaway self-signed certificate for CN=localhost and its key in dir
   (cert.pem, key.pem, readable by root only); returns their paths
   (malloc()ed). */
static void tls_make_cert(const char *dir, char **cert_path_r,
			  char **key_path_r)
{
	char *cmd, *out;
	int status;

	*cert_path_r = harness_printf("%s/cert.pem", dir);
	*key_path_r = harness_printf("%s/key.pem", dir);
	/* an EC key: generated at once, where RSA takes a while */
	cmd = harness_printf("umask 077 && %s req -x509 -newkey ec "
			     "-pkeyopt ec_paramgen_curve:prime256v1 -nodes "
			     "-days 2 -subj /CN=localhost -keyout %s -out %s "
			     "2>&1", OPENSSL_BINARY, *key_path_r,
			     *cert_path_r);
	out = harness_run_output(cmd, &status);
	if (status != 0)
		harness_die("making a certificate failed:\n%s", out);
	free(out);
	free(cmd);
}

char *tls_server_config(const char *dir, bool required, in_port_t imaps_port)
{
	char *cert, *key, *tls, *conf;

	tls_make_cert(dir, &cert, &key);
	tls = dc_syntax_tls(cert, key, required);
	/* the harness's imap-login block has an imaps listener on no
	   port: this one is merged into it */
	conf = imaps_port == 0 ? harness_printf("%s", tls) :
		harness_printf("%s"
			       "service imap-login {\n"
			       "  inet_listener imaps {\n"
			       "    port = %u\n"
			       "    ssl = yes\n"
			       "  }\n"
			       "}\n", tls, imaps_port);
	free(tls);
	free(cert);
	free(key);
	return conf;
}

static long long now_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline passes. */
static bool wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left = deadline - now_msecs();

	return left > 0 && poll(&pfd, 1, (int)left) > 0;
}

static void print_ssl_errors(const struct tls_conn *conn, const char *what)
{
	unsigned long err;

	printf("[%s] %s failed\n", conn->name, what);
	while ((err = ERR_get_error()) != 0)
		printf("[%s]   %s\n", conn->name, ERR_error_string(err, NULL));
	fflush(stdout);
}

bool tls_start(struct tls_conn *conn)
{
	long long deadline = now_msecs() + HANDSHAKE_TIMEOUT_MSECS;
	int ret;

	if (conn->buf_len > 0) {
		/* bytes after the STARTTLS reply would be a server (or
		   man in the middle) injecting cleartext */
		printf("[%s] cleartext after STARTTLS\n", conn->name);
		return false;
	}
	conn->ssl = SSL_new(conn->ctx);
	if (conn->ssl == NULL || SSL_set_fd(conn->ssl, conn->fd) != 1 ||
	    SSL_set_tlsext_host_name(conn->ssl, "localhost") != 1) {
		print_ssl_errors(conn, "SSL setup");
		return false;
	}
	while ((ret = SSL_connect(conn->ssl)) != 1) {
		int err = SSL_get_error(conn->ssl, ret);

		if ((err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) ||
		    !wait_fd(conn->fd, err == SSL_ERROR_WANT_READ ?
			     POLLIN : POLLOUT, deadline)) {
			print_ssl_errors(conn, "TLS handshake");
			return false;
		}
	}
	printf("[%s] (%s, %s)\n", conn->name, SSL_get_version(conn->ssl),
	       SSL_get_cipher(conn->ssl));
	fflush(stdout);
	return true;
}

bool tls_connect(struct tls_conn *conn, const char *name,
		 const char *source_ip, const char *ip, in_port_t port,
		 bool implicit_tls)
{
	union harness_sockaddr dest, src;

	memset(conn, 0, sizeof(*conn));
	conn->name = strdup(name);
	conn->transcript = strdup("");
	conn->ctx = SSL_CTX_new(TLS_client_method());
	if (conn->ctx == NULL) {
		print_ssl_errors(conn, "SSL_CTX_new");
		return false;
	}
	/* a server that closes without close_notify has still closed */
	SSL_CTX_set_options(conn->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(conn->ctx, SSL_VERIFY_NONE, NULL);

	conn->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (conn->fd < 0)
		return false;
	if (!harness_sockaddr_ipv4(&src, source_ip, 0) ||
	    bind(conn->fd, &src.sa, sizeof(src.sin)) < 0) {
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
	/* non-blocking, so that every read and write has a deadline, also
	   inside OpenSSL */
	if (fcntl(conn->fd, F_SETFL, fcntl(conn->fd, F_GETFL) | O_NONBLOCK) < 0)
		return false;
	printf("[%s] connected to %s:%u from %s%s\n", name, ip, port,
	       source_ip, implicit_tls ? " (implicit TLS)" : "");
	fflush(stdout);
	return !implicit_tls || tls_start(conn);
}

const char *tls_conn_protocol(const struct tls_conn *conn)
{
	return conn->ssl == NULL ? "cleartext" : SSL_get_version(conn->ssl);
}

void tls_disconnect(struct tls_conn *conn)
{
	if (conn->ssl != NULL)
		SSL_free(conn->ssl);
	if (conn->ctx != NULL)
		SSL_CTX_free(conn->ctx);
	if (conn->fd >= 0)
		close(conn->fd);
	conn->ssl = NULL;
	conn->ctx = NULL;
	conn->fd = -1;
	free(conn->name);
	free(conn->transcript);
	conn->name = conn->transcript = NULL;
}

static bool send_all(struct tls_conn *conn, const char *data, size_t len)
{
	long long deadline = now_msecs() + READ_TIMEOUT_MSECS;
	size_t pos = 0;

	while (pos < len) {
		int err = SSL_ERROR_WANT_WRITE;
		ssize_t ret;

		if (conn->ssl != NULL) {
			/* the whole rest in one SSL_write: one record for
			   anything that fits in one */
			ret = SSL_write(conn->ssl, data + pos, len - pos);
			if (ret <= 0)
				err = SSL_get_error(conn->ssl, ret);
		} else {
			ret = send(conn->fd, data + pos, len - pos,
				   MSG_NOSIGNAL);
			if (ret < 0 && errno != EAGAIN && errno != EINTR)
				return false;
		}
		if (ret > 0) {
			pos += ret;
			continue;
		}
		if ((err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) ||
		    !wait_fd(conn->fd, err == SSL_ERROR_WANT_READ ?
			     POLLIN : POLLOUT, deadline))
			return false;
	}
	return true;
}

bool tls_send_raw(struct tls_conn *conn, const char *data)
{
	imap_echo_sent(conn->name, data);
	return send_all(conn, data, strlen(data));
}

bool tls_send_line(struct tls_conn *conn, const char *line)
{
	char *data = harness_printf("%s\r\n", line);
	bool ret = tls_send_raw(conn, data);

	free(data);
	return ret;
}

/* Read more into the buffer: bytes read, 0 when the server closed, -1 on
   timeout or error. */
static ssize_t fill_buffer(struct tls_conn *conn, unsigned int timeout_msecs)
{
	long long deadline = now_msecs() + timeout_msecs;
	char *dest = conn->buf + conn->buf_len;
	size_t space = sizeof(conn->buf) - conn->buf_len;

	if (space == 0)
		return -1;
	for (;;) {
		int err = SSL_ERROR_WANT_READ;
		ssize_t ret;

		if (conn->ssl != NULL) {
			ERR_clear_error();
			ret = SSL_read(conn->ssl, dest, space);
			if (ret <= 0) {
				err = SSL_get_error(conn->ssl, ret);
				if (err == SSL_ERROR_ZERO_RETURN)
					return 0;
			}
		} else {
			ret = recv(conn->fd, dest, space, 0);
			if (ret == 0)
				return 0;
			if (ret < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
		}
		if (ret > 0) {
			conn->buf_len += ret;
			return ret;
		}
		/* WANT_READ also after a record that held no data, such as
		   a TLS 1.3 session ticket */
		if ((err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) ||
		    !wait_fd(conn->fd, err == SSL_ERROR_WANT_READ ?
			     POLLIN : POLLOUT, deadline))
			return -1;
	}
}

char *tls_read_line(struct tls_conn *conn)
{
	for (;;) {
		char *line = imap_buf_take_line(conn->buf, &conn->buf_len);

		if (line != NULL) {
			imap_line_received(conn->name, &conn->transcript,
					   &conn->transcript_len, line);
			return line;
		}
		if (fill_buffer(conn, READ_TIMEOUT_MSECS) <= 0) {
			printf("[%s] (connection closed or silent)\n",
			       conn->name);
			fflush(stdout);
			return NULL;
		}
	}
}

char *tls_read_until(struct tls_conn *conn, const char *prefix)
{
	char *line;

	while ((line = tls_read_line(conn)) != NULL) {
		if (harness_starts_with(line, prefix))
			return line;
		free(line);
	}
	return NULL;
}

char *tls_command(struct tls_conn *conn, const char *tag,
		  const char *command)
{
	char *line = harness_printf("%s %s", tag, command);
	char *prefix = harness_printf("%s ", tag);
	char *reply = NULL;

	if (tls_send_line(conn, line))
		reply = tls_read_until(conn, prefix);
	free(line);
	free(prefix);
	return reply;
}

bool tls_is_closed(struct tls_conn *conn, unsigned int msecs)
{
	bool closed = conn->buf_len == 0 && fill_buffer(conn, msecs) == 0;

	printf("[%s] (%s)\n", conn->name, closed ? "closed by the server" :
	       "not closed");
	fflush(stdout);
	return closed;
}
