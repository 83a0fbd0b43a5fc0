#ifndef REFERRAL_IMAP_H
#define REFERRAL_IMAP_H

struct referral_target;

/* What an IMAP client is told about a referral: the URL, the response
   code "REFERRAL <url>" and the sanitised reason text. */
struct referral_imap_reply {
	const char *url, *resp_code, *text;
};

/* Can target go into an IMAP referral? An IPv6 address cannot: RFC 3501's
   resp-text-code ends at the first ']', so the bracketed literal would end
   the REFERRAL code early (go-imap v2 and imap-next drop the connection,
   c-client cannot follow it). Returns FALSE with field_r ("host") and
   error_r naming the escaped value and what to do instead. */
bool referral_imap_target_check(const struct referral_target *target,
				const char **field_r, const char **error_r);

/* Build the reply for user (as referral_target_resolve() returned it)
   with the ;AUTH= value auth (NULL after LOGIN, the SASL mechanism after
   AUTHENTICATE: referral_imap_url()). reason is the passdb's or the default
   one (referral_reason_default()), sanitised here. Allocated from the
   data stack. */
void referral_imap_reply_build(const struct referral_target *target,
			       const char *user, const char *auth,
			       const char *reason,
			       struct referral_imap_reply *reply_r);

/* "<tag> <result> [<resp_code>] <text>", without the CRLF. Allocated from
   the data stack. */
const char *referral_imap_tagged_line(const char *tag, const char *result,
				      const char *resp_code, const char *text);
/* "* OK [ALERT] <text>", without the CRLF: RFC 3501 requires clients to
   show an ALERT's text to the person, and most clients that never follow
   a referral do (doc/clients.md). */
const char *referral_imap_alert_line(const char *text);
/* "* BYE <text>", without the CRLF: what precedes the tagged NO of a
   nologin referral that closes the connection (doc/design.md). */
const char *referral_imap_bye_line(const char *text);

/* The capabilities in the text of a tagged OK ("[CAPABILITY <caps>] Logged
   in", as a proxy's backend answers its login), up to the ']' or the end
   of text, or NULL when the text starts with no CAPABILITY response code
   (in any case). Allocated from the data stack. */
const char *referral_imap_ok_capability(const char *text);

#endif
