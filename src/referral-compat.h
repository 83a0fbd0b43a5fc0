#ifndef REFERRAL_COMPAT_H
#define REFERRAL_COMPAT_H

/* What differs between the Dovecot 2.3 and 2.4 APIs the plugin and the
   doveadm module use, one name each. m4/referral-dovecot.m4 tests each
   feature and passes its HAVE_ flag in REFERRAL_COMPAT_CPPFLAGS; the rest
   of the code uses only the names below. The macros name no header's
   types: the login glue includes client-common.h (referral-client.h), the
   doveadm module auth-master.h, before using them. */

/* Keep the disconnect line that follows a referral honest. 2.3 would end
   it with "(internal failure, 1 successful auths)" unless told to add no
   reason; 2.4 knows the case and says "(auth referral, ...)" once told it
   was one. */
#ifdef HAVE_CLIENT_NO_EXTRA_DISCONNECT_REASON
#  define referral_client_mark_referred(client) \
	((client)->no_extra_disconnect_reason = TRUE)
#else
#  define referral_client_mark_referred(client) \
	((client)->auth_nologin_referral = TRUE)
#endif

/* How Dovecot's POP3 and Submission logins answer a nologin referral. 2.4
   writes a redirect naming the target, taken from the reply's proxy
   settings (-ERR [REFERRAL/user@host:port] Referral, 550 5.2.900
   user@host:port Referral), which its own proxies follow; 2.3 writes the
   reason text alone. */
#ifdef HAVE_CLIENT_AUTH_REPLY_PROXY
#  define REFERRAL_LOGIN_REDIRECTS TRUE
#  define referral_auth_reply_set_target(reply, target, user) STMT_START { \
	(reply)->proxy.host = (target)->host; \
	i_zero(&(reply)->proxy.host_ip); \
	(reply)->proxy.port = (target)->port; \
	(reply)->proxy.username = (user); \
	} STMT_END
#else
#  define REFERRAL_LOGIN_REDIRECTS FALSE
#  define referral_auth_reply_set_target(reply, target, user) STMT_START { \
	(reply)->host = (target)->host; \
	(reply)->port = (target)->port; \
	(reply)->destuser = (user); \
	} STMT_END
#endif

/* doveadm: the service an auth-master lookup is made for ("imap"), which
   2.4 calls the protocol. */
#ifdef HAVE_AUTH_USER_INFO_PROTOCOL
#  define referral_auth_user_info_set_service(info, name) \
	((info)->protocol = (name))
#else
#  define referral_auth_user_info_set_service(info, name) \
	((info)->service = (name))
#endif

/* doveadm: an event for the command's log lines and (2.4) its settings,
   which 2.4 reads through the command's settings event; 2.3's doveadm
   commands have none. */
#ifdef HAVE_DOVEADM_CMD_CONTEXT_SET_EVENT
#  define referral_doveadm_cmd_event_create(cctx) \
	event_create((cctx)->set_event)
#else
#  define referral_doveadm_cmd_event_create(cctx) event_create(NULL)
#endif

/* doveadm: the configuration this doveadm has read, for a child doveadm
   to take over instead of running doveconf on dovecot.conf again: with
   2.4.1 that is about half of a "doveadm save"'s time (23 ms against 10
   to 13, doc/design.md). 2.4 keeps it as an fd and hands it over in
   DOVECOT_CONFIG_FD, as its own "doveadm exec" does; 2.3 has nothing to
   hand over (-1), and its doveconf is cheaper. Needs doveadm-settings.h
   and master-interface.h. */
#ifdef HAVE_DOVEADM_SETTINGS_GET_CONFIG_FD
#  define referral_doveadm_config_fd() doveadm_settings_get_config_fd()
#  define REFERRAL_DOVEADM_CONFIG_FD_ENV DOVECOT_CONFIG_FD_ENV
#else
#  define referral_doveadm_config_fd() (-1)
#  define REFERRAL_DOVEADM_CONFIG_FD_ENV NULL
#endif

#endif
