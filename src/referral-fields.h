#ifndef REFERRAL_FIELDS_H
#define REFERRAL_FIELDS_H

/* The plugin's own passdb field: Dovecot's fields have no "referral_"
   prefix, so it cannot be taken for one of them. */
#define REFERRAL_FIELD_KEEP_OPEN "referral_keep_open"
#define REFERRAL_FIELD_ALERT "referral_alert"
/* referral=suggest beside proxy and host: Dovecot proxies the login as it
   would without, and the tagged OK the client gets carries a referral to
   the proxy's target (referral-login-imap-proxy.c) */
#define REFERRAL_FIELD_REFERRAL "referral"
#define REFERRAL_PROXY_SUGGEST "suggest"

/* The passdb extra fields a referral is made of, exactly as the auth process
   sent them (NULL when absent). Nothing here is validated yet: values are
   whatever an SQL row or an LDAP attribute held. */
struct referral_fields {
	const char *host;
	const char *port;
	const char *destuser;
	const char *reason;
	/* referral: what a proxied login also tells the client */
	const char *referral;

	bool nologin:1;
	bool proxy:1;
	/* referral_keep_open: after an IMAP nologin referral, keep the
	   connection open (no BYE) as before the plugin closed it */
	bool keep_open:1;
	/* referral_alert: in IMAP suggest mode, also send the reason as an
	   untagged [ALERT], which clients must show to the person (RFC
	   3501), where most ignore the tagged OK's text */
	bool alert:1;
};

/* Pick the referral fields out of a NULL-terminated array of "key=value" or
   bare "key" strings (the auth reply's args). The returned pointers point
   into args. When a key repeats, the last one wins, as in Dovecot's own
   parser. The flags (nologin, proxy, referral_keep_open, referral_alert) are set by the
   key's presence, whatever its value, as Dovecot's auth process treats
   nologin and proxy. */
void referral_fields_parse(const char *const *args,
			   struct referral_fields *fields_r);

/* Does a proxied login also suggest its target? 1 for proxy with
   referral=suggest (in any case), 0 without proxy or with the referral
   field absent or empty (an SQL column left empty), -1 for any other
   value, with error_r naming the (escaped, bounded) value: the login is
   then proxied as without the field. Allocated from the data stack. */
int referral_fields_proxy_suggest(const struct referral_fields *fields,
				  const char **error_r);

#endif
