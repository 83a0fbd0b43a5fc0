#ifndef HARNESS_TLS_H
#define HARNESS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

#include <openssl/ssl.h>

/* A line-based client over TLS for the end-to-end tests, on OpenSSL's
   libssl: implicit TLS (imaps), or cleartext first and TLS after a
   STARTTLS the caller negotiated. Like harness-imap's client it echoes
   every line to stdout ("[name] C: " / "S: ") and keeps a transcript.
   Certificates are not verified: the test servers use throwaway
   self-signed ones. */
struct tls_conn {
	int fd;
	char *name;
	SSL_CTX *ctx;
	/* NULL while the connection is in cleartext */
	SSL *ssl;
	char buf[65536];
	size_t buf_len;
	/* every line received so far, CRLF-terminated */
	char *transcript;
	size_t transcript_len;
};

/* The TLS settings of a test server, for dc_server_start() (malloc()ed):
   a throwaway self-signed certificate for CN=localhost and its key,
   written into dir (cert.pem, key.pem, readable by root only), TLS
   required or only offered (dc_syntax_tls()), and an imaps listener on
   imaps_port, or none when it is 0. */
char *tls_server_config(const char *dir, bool required, in_port_t imaps_port);

/* Connect to ip:port from source_ip (a loopback address other than ip,
   so that Dovecot does not take the connection for a local, and
   therefore secured, one), with the TLS handshake first when
   implicit_tls. Reads nothing: the caller reads the greeting. */
bool tls_connect(struct tls_conn *conn, const char *name,
		 const char *source_ip, const char *ip, in_port_t port,
		 bool implicit_tls);
/* Start TLS on a cleartext connection whose STARTTLS the server has
   just accepted. */
bool tls_start(struct tls_conn *conn);
/* The TLS version in use ("TLSv1.3"), or "cleartext". */
const char *tls_conn_protocol(const struct tls_conn *conn);
void tls_disconnect(struct tls_conn *conn);

/* Send bytes as they are, in one TLS record (or one send() in
   cleartext): e.g. several pipelined commands in one write. */
bool tls_send_raw(struct tls_conn *conn, const char *data);
/* Send one line, CRLF appended. */
bool tls_send_line(struct tls_conn *conn, const char *line);
/* Read one line without its CRLF (malloc()ed), or NULL on close or
   timeout. */
char *tls_read_line(struct tls_conn *conn);
/* Read lines until one starts with prefix; that line (malloc()ed), or
   NULL when the server closed or went silent first. */
char *tls_read_until(struct tls_conn *conn, const char *prefix);
/* Send "<tag> <command>" and return the tagged reply line. */
char *tls_command(struct tls_conn *conn, const char *tag,
		  const char *command);
/* Does the server close the connection within msecs, with no more
   lines before the close? */
bool tls_is_closed(struct tls_conn *conn, unsigned int msecs);

#endif
