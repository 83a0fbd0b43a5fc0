#ifndef REFERRAL_LOGIN_IMAP_REPLY_H
#define REFERRAL_LOGIN_IMAP_REPLY_H

/* What an imap-login client is told about its referral: the glue that
   referral-login-imap.c (the login's own referrals) and
   referral-login-imap-proxy.c (referrals of proxied logins) both call. */

struct client;
struct referral_fields;
struct referral_target;
struct referral_imap_reply;

/* The command tag and name and the user Dovecot leaves behind for every
   login command; without them there is nothing to refer. */
bool referral_imap_command_known(struct client *client);
/* Build the target and the reply for this client (;AUTH= only after
   AUTHENTICATE), or return FALSE (the refusal is logged under mode) when
   the target is not valid, or not valid for IMAP (an IPv6 address). */
bool referral_imap_build(struct client *client,
			 const struct referral_fields *fields,
			 const char *mode, struct referral_target *target_r,
			 struct referral_imap_reply *reply_r);

#endif
