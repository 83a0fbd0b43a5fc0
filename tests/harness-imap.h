#ifndef HARNESS_IMAP_H
#define HARNESS_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

/* A plain IMAP client over TCP for the end-to-end tests. Every line sent
   and received is echoed to stdout ("C: " / "S: "), so a test log shows the
   real conversation. */
struct imap_conn {
	int fd;
	char *name;
	char buf[65536];
	size_t buf_len;
	/* every line received so far, CRLF-terminated */
	char *transcript;
	size_t transcript_len;
};

/* Connect and read the greeting. Returns false if either fails. */
bool imap_connect(struct imap_conn *conn, const char *name, const char *ip,
		  in_port_t port);
/* The same from a chosen loopback source address. Dovecot's auth penalty
   delays every login from an address after a failed one, so each test of
   a failure comes from an address of its own. */
bool imap_connect_from(struct imap_conn *conn, const char *name,
		       const char *source_ip, const char *ip, in_port_t port);
void imap_disconnect(struct imap_conn *conn);
/* Close with a TCP reset (SO_LINGER 0), like a client that crashed. */
void imap_reset(struct imap_conn *conn);

/* Send raw bytes as they are (e.g. several pipelined commands). */
bool imap_send_raw(struct imap_conn *conn, const char *data);
/* Send one line, CRLF appended. */
bool imap_send_line(struct imap_conn *conn, const char *line);
/* Read one line without its CRLF (malloc()ed), or NULL on EOF/timeout. */
char *imap_read_line(struct imap_conn *conn);
/* Read lines until the tagged reply for tag; returns that line
   (malloc()ed) or NULL when the server closed or went silent first. */
char *imap_read_tagged(struct imap_conn *conn, const char *tag);
/* Read lines until one starts with prefix1 ("" for any) or, when not
   NULL, prefix2; returns it (malloc()ed), or NULL if the server closes
   first. For POP3, Submission and ManageSieve, whose replies are not
   tagged. */
char *imap_read_until(struct imap_conn *conn, const char *prefix1,
		      const char *prefix2);
/* in with each timing Dovecot puts into its replies, "(0.001 + 0.000
   secs)" or with a third part, as "(T secs)": the same session against
   two servers then reads the same (malloc()ed). */
char *imap_blank_timings(const char *in);
/* Send "<tag> <command>" and return the tagged reply line. */
char *imap_command(struct imap_conn *conn, const char *tag,
		   const char *command);
/* Does the server say nothing more (and keep the connection open) for
   msecs? Used to show that no extra line follows a reply. */
bool imap_is_silent(struct imap_conn *conn, unsigned int msecs);
/* Does the server close the connection cleanly (FIN, no reset) within
   msecs, with no more bytes before the close? */
bool imap_is_closed(struct imap_conn *conn, unsigned int msecs);

/* What the cleartext client here and the TLS one (harness-tls.h) share:
   take the next whole line, without its CRLF (malloc()ed), out of what
   was received (NULL while it is incomplete); echo a received line to
   stdout as "[name] S: ..." and add it to a transcript; and echo what is
   sent as "[name] C: ..." lines. */
char *imap_buf_take_line(char *buf, size_t *buf_len);
void imap_line_received(const char *name, char **transcript,
			size_t *transcript_len, const char *line);
void imap_echo_sent(const char *name, const char *data);

/* "AUTHENTICATE PLAIN <base64 of \0user\0pass>" (malloc()ed). */
char *imap_authenticate_plain_cmd(const char *user, const char *pass);

/* The plugin's default IMAP reason (src/referral-reason.c) for a referral
   to host:port under the login's own user name: nologin, or suggest mode
   when logged_in. Written out here, not taken from the plugin, so that a
   change to the wording fails the tests. malloc()ed. */
char *imap_default_reason(bool logged_in, const char *host,
			  unsigned int port);

#endif
