#ifndef REFERRAL_LOGIN_IMAP_H
#define REFERRAL_LOGIN_IMAP_H

/* The IMAP glue that referral-login-imap.c (the login's own referrals)
   shares with referral-login-imap-proxy.c (referrals of proxied logins). */

struct client;
struct client_vfuncs;
struct referral_fields;
struct referral_target;
struct referral_imap_reply;

/* The command tag and name and the user Dovecot leaves behind for every
   login command; without them there is nothing to refer. */
bool referral_imap_command_known(struct client *client);
/* Build the target and the reply for this client (;AUTH= after the
   command it used), or return FALSE (the refusal is logged under mode)
   when the target is not valid. */
bool referral_imap_build(struct client *client,
			 const struct referral_fields *fields,
			 const char *mode, struct referral_target *target_r,
			 struct referral_imap_reply *reply_r);

/* Remember where the proxy goes, when this successful login is proxied
   (auth_result time: Dovecot calls it right after the proxy starts). */
void referral_imap_proxy_started(struct client *client);
/* Install the proxy's override into v (client_allocated time). */
void referral_imap_proxy_client_allocated(struct client_vfuncs *v);

#endif
