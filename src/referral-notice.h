#ifndef REFERRAL_NOTICE_H
#define REFERRAL_NOTICE_H

#include "net.h"

struct referral_reason_params;

/* The move notice that "doveadm referral notify" saves into a referred
   user's INBOX: a short text/plain message that says which server and
   user name to put into the mail program. Pure: no I/O, the date is the
   caller's. */

/* The longest template or finished body, in bytes, and the longest line
   of the body (RFC 5322's 998, less room for the CRLF). */
#define REFERRAL_NOTICE_MAX_LEN 8192
#define REFERRAL_NOTICE_MAX_LINE_LEN 900
/* The longest subject, in bytes (cut on a character): more does not fit
   a phone's message list, and an unencoded word of a longer one could
   make the Subject: line longer than RFC 5322's 998 bytes. */
#define REFERRAL_NOTICE_SUBJECT_MAX_LEN 200

/* The built-in templates, with the reason's variables ({host}, {port},
   {user}, {login_user}, {protocol}). In the body "\n" (a backslash and
   an n) ends a line, as a setting cannot hold a line break. */
#define REFERRAL_NOTICE_DEFAULT_SUBJECT "Your mailbox has moved to {host}"
#define REFERRAL_NOTICE_DEFAULT_BODY \
	"Your mailbox has moved to a new server.\\n" \
	"\\n" \
	"Please change these in your mail program's account settings:\\n" \
	"\\n" \
	"Incoming mail server ({protocol}): {host}\\n" \
	"Port: {port}\\n" \
	"User name: {user}\\n" \
	"\\n" \
	"Your mail is waiting for you there."

struct referral_notice {
	/* the sender: an addr-spec or "Name <addr-spec>" */
	const char *from;
	/* templates; NULL or "" for the built-in ones */
	const char *subject_template, *body_template;
	/* when the notice is written (its Date:) */
	time_t date;
};

/* Is from usable as the From: header (printable ASCII, an '@' with text
   on both sides, angle brackets balanced)? */
bool referral_notice_from_check(const char *from, const char **error_r);

/* Check notice's from and templates against example params, so that a
   batch is refused before any message is saved. */
bool referral_notice_check(const struct referral_notice *notice,
			   const char **error_r);

/* The subject: the template expanded and sanitised to one line (as a
   reason), at most REFERRAL_NOTICE_SUBJECT_MAX_LEN bytes. FALSE with
   error_r for a broken template. */
bool referral_notice_subject(const char *template,
			     const struct referral_reason_params *params,
			     const char **subject_r, const char **error_r);

/* The body: the template expanded, "\n" made CRLF, each line sanitised
   (control characters become spaces), a CRLF at the end. FALSE with
   error_r for a broken template, a body longer than
   REFERRAL_NOTICE_MAX_LEN or a line longer than
   REFERRAL_NOTICE_MAX_LINE_LEN. */
bool referral_notice_body(const char *template,
			  const struct referral_reason_params *params,
			  const char **body_r, const char **error_r);

/* The Message-ID ("<...>") of the notice for login_user referred to
   host:port as user: the same for the same four, another when any of
   them changes, so that it tells whether this notice is in the INBOX
   already. */
const char *referral_notice_message_id(const char *login_user,
				       const char *host, in_port_t port,
				       const char *user);

/* The whole message (headers and body, CRLF line ends) for params. FALSE
   with error_r when a template or the sender is broken. */
bool referral_notice_build(const struct referral_notice *notice,
			   const struct referral_reason_params *params,
			   const char **message_r, const char **error_r);

#endif
