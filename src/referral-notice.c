/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

#include "lib.h"
#include "str.h"
#include "hex-binary.h"
#include "sha2.h"
#include "unichar.h"
#include "message-date.h"
#include "message-header-encode.h"
#include "referral-reason.h"
#include "referral-notice.h"

#define UTF8_REPLACEMENT_CHAR "\xEF\xBF\xBD"
/* the right-hand side of every notice's Message-ID: names what wrote
   it, and is no domain anybody's mail comes from */
#define NOTICE_MESSAGE_ID_DOMAIN "notice.dovecot-referral.invalid"
/* example values for referral_notice_check() */
#define NOTICE_CHECK_HOST "imap2.example.com"

/* Append line to dest: control characters become spaces, invalid UTF-8
   U+FFFD, white space at the end is dropped. */
static void notice_append_line(string_t *dest, const char *line)
{
	size_t len = strlen(line), pos = 0, start = str_len(dest);
	unichar_t chr;
	int n;

	while (pos < len) {
		n = uni_utf8_get_char_n(line + pos, len - pos, &chr);
		if (n <= 0) {
			str_append(dest, UTF8_REPLACEMENT_CHAR);
			n = 1;
		} else if (chr < 0x20 || (chr >= 0x7f && chr < 0xa0)) {
			str_append_c(dest, ' ');
		} else {
			str_append_data(dest, line + pos, n);
		}
		pos += n;
	}
	len = str_len(dest);
	while (len > start && str_data(dest)[len-1] == ' ')
		len--;
	str_truncate(dest, len);
}

bool referral_notice_from_check(const char *from, const char **error_r)
{
	const char *p, *at, *lt, *gt;

	for (p = from; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f) {
			*error_r = "the sender has a control or non-ASCII "
				"character";
			return FALSE;
		}
	}
	lt = strchr(from, '<');
	gt = strrchr(from, '>');
	if ((lt == NULL) != (gt == NULL) || (lt != NULL && gt < lt) ||
	    (gt != NULL && gt[1] != '\0')) {
		*error_r = "the sender is neither user@domain nor "
			"Name <user@domain>";
		return FALSE;
	}
	at = strrchr(lt == NULL ? from : lt, '@');
	if (at == NULL || at == (lt == NULL ? from : lt + 1) ||
	    at[1] == '\0' || at[1] == '>' || (gt != NULL && at > gt) ||
	    (lt == NULL && strchr(from, ' ') != NULL)) {
		*error_r = "the sender is neither user@domain nor "
			"Name <user@domain>";
		return FALSE;
	}
	return TRUE;
}

bool referral_notice_subject(const char *template,
			     const struct referral_reason_params *params,
			     const char **subject_r, const char **error_r)
{
	string_t *str = t_str_new(128), *subject;

	if (template == NULL || *template == '\0')
		template = REFERRAL_NOTICE_DEFAULT_SUBJECT;
	if (!referral_template_expand(template, params, str, error_r))
		return FALSE;
	/* one line, as a reason, then cut to a subject's length (the
	   sanitised text is valid UTF-8, so the cut is on a character) */
	subject = t_str_new(REFERRAL_REASON_MAX_LEN + 1);
	str_append(subject, referral_reason_sanitise(str_c(str),
		"Your mailbox has moved"));
	str_truncate_utf8(subject, REFERRAL_NOTICE_SUBJECT_MAX_LEN);
	*subject_r = str_c(subject);
	return TRUE;
}

bool referral_notice_body(const char *template,
			  const struct referral_reason_params *params,
			  const char **body_r, const char **error_r)
{
	string_t *body = t_str_new(512), *line = t_str_new(128);
	const char *p, *next;
	size_t start;

	if (template == NULL || *template == '\0')
		template = REFERRAL_NOTICE_DEFAULT_BODY;
	if (strlen(template) > REFERRAL_NOTICE_MAX_LEN) {
		*error_r = t_strdup_printf("the body template is longer than "
			"%u bytes", REFERRAL_NOTICE_MAX_LEN);
		return FALSE;
	}
	/* each line on its own: a "\n" in a value (a user name) stays
	   text */
	for (p = template;; p = next + 2) {
		next = strstr(p, "\\n");
		str_truncate(line, 0);
		if (!referral_template_expand(
			next == NULL ? p : t_strdup_until(p, next), params,
			line, error_r))
			return FALSE;
		start = str_len(body);
		notice_append_line(body, str_c(line));
		if (str_len(body) - start > REFERRAL_NOTICE_MAX_LINE_LEN) {
			*error_r = t_strdup_printf("a line of the body is "
				"longer than %u bytes",
				REFERRAL_NOTICE_MAX_LINE_LEN);
			return FALSE;
		}
		str_append(body, "\r\n");
		if (next == NULL)
			break;
	}
	if (str_len(body) > REFERRAL_NOTICE_MAX_LEN) {
		*error_r = t_strdup_printf("the body is longer than %u bytes",
					   REFERRAL_NOTICE_MAX_LEN);
		return FALSE;
	}
	*body_r = str_c(body);
	return TRUE;
}

const char *referral_notice_message_id(const char *login_user,
				       const char *host, in_port_t port,
				       const char *user)
{
	unsigned char digest[SHA256_RESULTLEN];
	string_t *str = t_str_new(128);

	/* NULs between the parts: no two sets of them give the same
	   input */
	str_append(str, login_user);
	str_append_c(str, '\0');
	str_append(str, host);
	str_append_c(str, '\0');
	str_append(str, dec2str(port));
	str_append_c(str, '\0');
	str_append(str, user);
	sha256_get_digest(str_data(str), str_len(str), digest);
	/* 128 bits are plenty to tell one target from another */
	return t_strdup_printf("<referral-notice.%s@" NOTICE_MESSAGE_ID_DOMAIN
			       ">", binary_to_hex(digest, 16));
}

/* To: the login user name when it is an address, else a group of that
   name with no address (RFC 5322 section 3.4), which mail programs show
   as the name. */
static void notice_append_to(string_t *str, const char *login_user)
{
	const char *p;
	bool plain = strchr(login_user, '@') != NULL;

	for (p = login_user; *p != '\0' && plain; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>(),;:\\[]", *p))
			plain = FALSE;
	}
	if (plain) {
		str_append(str, login_user);
		return;
	}
	str_append_c(str, '"');
	for (p = login_user; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			str_append_c(str, ' ');
		else {
			if (*p == '"' || *p == '\\')
				str_append_c(str, '\\');
			str_append_c(str, *p);
		}
	}
	str_append(str, "\":;");
}

bool referral_notice_build(const struct referral_notice *notice,
			   const struct referral_reason_params *params,
			   const char **message_r, const char **error_r)
{
	string_t *str = t_str_new(1024);
	const char *subject, *body, *error;

	if (!referral_notice_from_check(notice->from, error_r))
		return FALSE;
	if (!referral_notice_subject(notice->subject_template, params,
				     &subject, &error)) {
		*error_r = t_strconcat("the subject template: ", error, NULL);
		return FALSE;
	}
	if (!referral_notice_body(notice->body_template, params, &body,
				  &error)) {
		*error_r = t_strconcat("the body template: ", error, NULL);
		return FALSE;
	}
	str_printfa(str, "Date: %s\r\n", message_date_create(notice->date));
	str_printfa(str, "From: %s\r\n", notice->from);
	str_append(str, "To: ");
	notice_append_to(str, params->login_user);
	str_append(str, "\r\nSubject: ");
	/* RFC 2047 where it is not ASCII */
	message_header_encode(subject, str);
	str_printfa(str, "\r\nMessage-ID: %s\r\n",
		    referral_notice_message_id(params->login_user,
					       params->host, params->port,
					       params->user));
	str_append(str, "MIME-Version: 1.0\r\n"
		   "Content-Type: text/plain; charset=utf-8\r\n"
		   "Content-Transfer-Encoding: 8bit\r\n"
		   "Auto-Submitted: auto-generated\r\n\r\n");
	str_append(str, body);
	*message_r = str_c(str);
	return TRUE;
}

bool referral_notice_check(const struct referral_notice *notice,
			   const char **error_r)
{
	struct referral_reason_params params;
	const char *message;

	i_zero(&params);
	params.protocol = "IMAP";
	params.host = NOTICE_CHECK_HOST;
	params.port = params.default_port = 143;
	params.user = params.login_user = "user@example.com";
	return referral_notice_build(notice, &params, &message, error_r);
}
