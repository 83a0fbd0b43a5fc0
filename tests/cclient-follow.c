/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* A referral-following IMAP client built on UW c-client (Debian
   libc-client2007e-dev), the library behind Alpine and Pine. It opens
   INBOX the way Alpine does, with c-client's imapreferral callback armed,
   turns each login referral's imap:// URL into a c-client mailbox name,
   and reports where it ended up.

   usage: cclient-follow [--login] [--flags FLAGS] HOST PORT USER PASSWORD
   c-client logs in with AUTHENTICATE when the server offers a SASL
   mechanism it knows (Dovecot offers PLAIN); --login disables its SASL
   authenticators, as Alpine's disable-these-authenticators does, so that
   it uses the LOGIN command. FLAGS are c-client's mailbox name flags for
   the first server (default /notls: cleartext), e.g.
   /ssl/novalidate-cert for imaps without checking the certificate. A
   referral's server is opened as Alpine opens it: its name has no flags.
   Prints "login: <host>:<port> user=<u> trial=<n>" each time c-client asks
   for the password (mm_login: a prompt in Alpine; answered with PASSWORD
   each time, as a person who types it again would),
   "referral: <code> <url>" for each referral c-client reports,
   "opened: host=<h> port=<p> user=<u> mailbox=<m> tls=<t>" when a mailbox
   is open, where t is how c-client secured that connection (implicit,
   starttls or none), and "password prompts: <n>" at the end; exits 0
   when a mailbox is open, 1 when nothing could be opened. */

/* c-client's osdep.h asks for _BSD_SOURCE, which glibc wants spelled so */
#define _DEFAULT_SOURCE
#include "c-client.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* c-client has no loop guard of its own */
#define MAX_REFERRALS 5

static const char *password;
static unsigned int referral_count, login_count;

/* The SASL mechanisms this c-client may know; disabling one it lacks does
   nothing. */
static const char *const sasl_mechanisms[] = {
	"GSSAPI", "CRAM-MD5", "PLAIN", "LOGIN", "EXTERNAL"
};

static const char *referral_code_name(long code)
{
	return code == REFAUTHFAILED ? "REFAUTHFAILED" :
		code == REFAUTH ? "REFAUTH" : "other";
}

static int hex_value(char c)
{
	return isdigit((unsigned char)c) ? c - '0' :
		tolower((unsigned char)c) - 'a' + 10;
}

/* Percent-decode s[0..len) into a new string. */
static char *url_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    isxdigit((unsigned char)s[i+1]) &&
		    isxdigit((unsigned char)s[i+2])) {
			out[o++] = hex_value(s[i+1]) * 16 + hex_value(s[i+2]);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* imap://<user>;AUTH=<a>@<host>[:<port>]/ -> {<host>[:<port>]/user=
   "<user>"}, as a malloc()ed string c-client frees; NULL for a URL this
   client cannot follow. Alpine's referral callback (url_imap_folder())
   makes the same name: no /ssl, /tls or /notls, which the URL cannot
   say, so c-client opens it in cleartext and starts TLS only if the
   server offers STARTTLS; no mailbox, so c-client opens INBOX. */
static char *url_to_mailbox(const char *url)
{
	const char *p, *auth, *at, *end;
	char *user, *server, mailbox[MAILTMPLEN];

	if (strncasecmp(url, "imap://", 7) != 0)
		return NULL;
	p = url + 7;
	end = p + strcspn(p, "/");
	at = memchr(p, '@', end - p);
	if (at == NULL)
		return NULL;
	auth = strstr(p, ";AUTH=");
	if (auth == NULL || auth > at)
		auth = at;
	user = url_decode(p, auth - p);
	server = url_decode(at + 1, end - (at + 1));
	snprintf(mailbox, sizeof(mailbox), "{%s/user=\"%s\"}", server, user);
	free(user);
	free(server);
	return cpystr(mailbox);
}

static char *referral_callback(MAILSTREAM *stream, char *url, long code)
{
	char *next;

	(void)stream;
	printf("referral: %s %s\n", referral_code_name(code), url);
	if (++referral_count > MAX_REFERRALS ||
	    (code != REFAUTHFAILED && code != REFAUTH))
		return NIL;
	next = url_to_mailbox(url);
	printf("following: %s\n", next == NULL ? "(cannot)" : next);
	fflush(stdout);
	return next;
}

/* How c-client secured the connection of an open stream, from the flags
   it puts into the stream's name. */
static const char *stream_tls(const NETMBX *mb)
{
	return mb->sslflag ? "implicit" : mb->tlsflag ? "starttls" : "none";
}

int main(int argc, char *argv[])
{
	MAILSTREAM *stream;
	NETMBX mb;
	char mailbox[MAILTMPLEN];
	const char *flags = "/notls";
	bool use_login = false;
	unsigned int i;
	int ret = 1;

	for (; argc > 1 && strncmp(argv[1], "--", 2) == 0; argc--, argv++) {
		if (strcmp(argv[1], "--login") == 0) {
			use_login = true;
		} else if (strcmp(argv[1], "--flags") == 0 && argc > 2) {
			flags = argv[2];
			argc--;
			argv++;
		} else {
			argc = 0;
		}
	}
	if (argc != 5) {
		fprintf(stderr, "usage: cclient-follow [--login] "
			"[--flags FLAGS] HOST PORT USER PASSWORD\n");
		return 2;
	}
	password = argv[4];
#include "linkage.c"
	if (use_login) {
		for (i = 0; i < sizeof(sasl_mechanisms) /
			     sizeof(sasl_mechanisms[0]); i++) {
			mail_parameters(NIL, DISABLE_AUTHENTICATOR,
					(void *)sasl_mechanisms[i]);
		}
	}
	/* no rsh/ssh pre-authentication attempts, no reverse DNS */
	mail_parameters(NIL, SET_RSHTIMEOUT, (void *)0);
	mail_parameters(NIL, SET_SSHTIMEOUT, (void *)0);
	mail_parameters(NIL, SET_TRUSTDNS, (void *)NIL);
	mail_parameters(NIL, SET_SASLUSESPTRNAME, (void *)NIL);
	/* what Alpine does to follow login referrals */
	mail_parameters(NIL, SET_IMAPREFERRAL, (void *)referral_callback);

	snprintf(mailbox, sizeof(mailbox),
		 "{%s:%s/imap%s/user=\"%s\"}INBOX", argv[1], argv[2], flags,
		 argv[3]);
	printf("opening: %s\n", mailbox);
	fflush(stdout);
	stream = mail_open(NIL, mailbox, NIL);
	if (stream == NIL || stream->halfopen) {
		printf("not opened\n");
	} else {
		mail_valid_net_parse(stream->mailbox, &mb);
		printf("opened: host=%s port=%lu user=%s mailbox=%s tls=%s\n",
		       mb.host, mb.port, mb.user, mb.mailbox, stream_tls(&mb));
		ret = 0;
	}
	printf("password prompts: %u\n", login_count);
	if (stream != NIL)
		mail_close(stream);
	return ret;
}

/* c-client's callbacks: only the login and the log matter here. */
void mm_login(NETMBX *mb, char *user, char *pwd, long trial)
{
	/* Every call is a password prompt in Alpine: count them, and answer
	   each the way a person who retypes the right password would. */
	login_count++;
	snprintf(user, NETMAXUSER, "%s", mb->user);
	snprintf(pwd, MAILTMPLEN, "%s", password);
	printf("login: %s:%lu user=%s trial=%ld\n", mb->host, mb->port, user,
	       trial);
	fflush(stdout);
}

void mm_log(char *string, long errflg)
{
	printf("log[%ld]: %s\n", errflg, string);
}

void mm_dlog(char *string) { printf("debug: %s\n", string); }
void mm_searched(MAILSTREAM *stream, unsigned long number) { (void)stream; (void)number; }
void mm_exists(MAILSTREAM *stream, unsigned long number) { (void)stream; (void)number; }
void mm_expunged(MAILSTREAM *stream, unsigned long number) { (void)stream; (void)number; }
void mm_flags(MAILSTREAM *stream, unsigned long number) { (void)stream; (void)number; }
void mm_notify(MAILSTREAM *stream, char *string, long errflg) { (void)stream; (void)string; (void)errflg; }
void mm_list(MAILSTREAM *stream, int delimiter, char *name, long attributes) { (void)stream; (void)delimiter; (void)name; (void)attributes; }
void mm_lsub(MAILSTREAM *stream, int delimiter, char *name, long attributes) { (void)stream; (void)delimiter; (void)name; (void)attributes; }
void mm_status(MAILSTREAM *stream, char *mailbox, MAILSTATUS *status) { (void)stream; (void)mailbox; (void)status; }
void mm_critical(MAILSTREAM *stream) { (void)stream; }
void mm_nocritical(MAILSTREAM *stream) { (void)stream; }
long mm_diskerror(MAILSTREAM *stream, long errcode, long serious) { (void)stream; (void)errcode; (void)serious; return T; }
void mm_fatal(char *string) { fprintf(stderr, "fatal: %s\n", string); }
