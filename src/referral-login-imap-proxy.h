#ifndef REFERRAL_LOGIN_IMAP_PROXY_H
#define REFERRAL_LOGIN_IMAP_PROXY_H

/* referral-login-imap-proxy.c: referrals of proxied IMAP logins
   (referral=suggest), hooked in by referral-login-imap.c. */

struct client;
struct client_vfuncs;

/* Remember where the proxy goes, when this successful login is proxied
   (auth_result time: Dovecot calls it right after the proxy starts). */
void referral_imap_proxy_started(struct client *client);
/* Install the proxy's override into v (client_allocated time). */
void referral_imap_proxy_client_allocated(struct client_vfuncs *v);

#endif
