# The Dovecot that dovecot-referral builds against: its version, the
# configuration syntax its servers read, and what its login and doveadm
# APIs lack or have. Call after DC_DOVECOT (Dovecot's own dovecot.m4),
# which sets LIBDOVECOT_INCLUDE.

# REFERRAL_DOVECOT_VERSION
# ------------------------
# DOVECOT_VERSION (e.g. 2.3.19.1) and DOVECOT_ABI_VERSION (the string a
# module must carry to be loaded) from the headers' config.h, and
# DOVECOT_CONFIG_SYNTAX: "2.3" or "2.4", the syntax of dovecot.conf the
# test harness writes (2.4 rewrote it: dovecot_config_version, named
# passdbs, mail_driver, %{user}, ...).
AC_DEFUN([REFERRAL_DOVECOT_VERSION], [
	AC_MSG_CHECKING([the version of Dovecot])
	DOVECOT_VERSION=
	# (not dovecot_pkgincludedir: distcheck's --without-dovecot-install-dirs
	# turns that into a make variable)
	for referral_dir in $LIBDOVECOT_INCLUDE; do
		referral_dir=`echo "$referral_dir" | sed -n 's/^-I//p'`
		test -n "$referral_dir" -a -f "$referral_dir/config.h" || continue
		DOVECOT_VERSION=`sed -n 's/^#define DOVECOT_VERSION "\(.*\)"$/\1/p' \
			"$referral_dir/config.h"`
		DOVECOT_ABI_VERSION=`sed -n 's/^#define DOVECOT_ABI_VERSION "\(.*\)"$/\1/p' \
			"$referral_dir/config.h"`
		test -n "$DOVECOT_VERSION" && break
	done
	AS_CASE([$DOVECOT_VERSION],
		[2.3.*], [DOVECOT_CONFIG_SYNTAX=2.3],
		[2.4.*], [DOVECOT_CONFIG_SYNTAX=2.4],
		[AC_MSG_RESULT([${DOVECOT_VERSION:-unknown}])
		 AC_MSG_ERROR([dovecot-referral supports Dovecot 2.3 and 2.4, found ${DOVECOT_VERSION:-none}])])
	AC_MSG_RESULT([$DOVECOT_VERSION])
	AC_SUBST([DOVECOT_VERSION])
	AC_SUBST([DOVECOT_ABI_VERSION])
	AC_SUBST([DOVECOT_CONFIG_SYNTAX])
	AM_CONDITIONAL([DOVECOT_CONFIG_SYNTAX_24],
		       [test "$DOVECOT_CONFIG_SYNTAX" = 2.4])
])

# REFERRAL_DOVECOT_LOGIN_API
# --------------------------
# Feature checks of the login process's API (and of the auth-master API
# the doveadm module uses), one -D flag each in
# REFERRAL_COMPAT_CPPFLAGS for src/referral-compat.h (our config header
# is never included: Dovecot's lib.h brings its own config.h).
AC_DEFUN([REFERRAL_DOVECOT_LOGIN_API], [
	old_CPPFLAGS=$CPPFLAGS
	CPPFLAGS="$CPPFLAGS -DHAVE_CONFIG_H $LIBDOVECOT_INCLUDE"
	REFERRAL_COMPAT_CPPFLAGS=
	# 2.3 says "(internal failure, N successful auths)" after a referral
	# unless this is set; 2.4 has auth_nologin_referral instead.
	AC_CACHE_CHECK([whether struct client has no_extra_disconnect_reason],
		[referral_cv_no_extra_disconnect_reason],
		[AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#include "lib.h"
#include "login-common.h"
#include "client-common.h"
]], [[struct client c; c.no_extra_disconnect_reason = TRUE; (void)c;]])],
			[referral_cv_no_extra_disconnect_reason=yes],
			[referral_cv_no_extra_disconnect_reason=no])])
	AS_IF([test "$referral_cv_no_extra_disconnect_reason" = yes],
		[REFERRAL_COMPAT_CPPFLAGS="$REFERRAL_COMPAT_CPPFLAGS -DHAVE_CLIENT_NO_EXTRA_DISCONNECT_REASON"])
	# 2.4's POP3 and Submission logins answer a nologin referral with a
	# redirect naming the target, taken from the reply's proxy settings.
	AC_CACHE_CHECK([whether struct client_auth_reply has proxy settings],
		[referral_cv_auth_reply_proxy],
		[AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#include "lib.h"
#include "login-common.h"
#include "client-common.h"
]], [[struct client_auth_reply r; r.proxy.host = "h"; (void)r;]])],
			[referral_cv_auth_reply_proxy=yes],
			[referral_cv_auth_reply_proxy=no])])
	AS_IF([test "$referral_cv_auth_reply_proxy" = yes],
		[REFERRAL_COMPAT_CPPFLAGS="$REFERRAL_COMPAT_CPPFLAGS -DHAVE_CLIENT_AUTH_REPLY_PROXY"])
	# doveadm's auth-master lookups: 2.4 renamed the service to protocol.
	AC_CACHE_CHECK([whether struct auth_user_info has protocol],
		[referral_cv_auth_user_info_protocol],
		[AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#include "lib.h"
#include "auth-master.h"
]], [[struct auth_user_info i; i.protocol = "imap"; (void)i;]])],
			[referral_cv_auth_user_info_protocol=yes],
			[referral_cv_auth_user_info_protocol=no])])
	AS_IF([test "$referral_cv_auth_user_info_protocol" = yes],
		[REFERRAL_COMPAT_CPPFLAGS="$REFERRAL_COMPAT_CPPFLAGS -DHAVE_AUTH_USER_INFO_PROTOCOL"])
	# doveadm: 2.4's commands have an event to look settings up with.
	AC_CACHE_CHECK([whether struct doveadm_cmd_context has set_event],
		[referral_cv_doveadm_cmd_context_set_event],
		[AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#include "lib.h"
#include "doveadm-cmd.h"
]], [[struct doveadm_cmd_context c; c.set_event = NULL; (void)c;]])],
			[referral_cv_doveadm_cmd_context_set_event=yes],
			[referral_cv_doveadm_cmd_context_set_event=no])])
	AS_IF([test "$referral_cv_doveadm_cmd_context_set_event" = yes],
		[REFERRAL_COMPAT_CPPFLAGS="$REFERRAL_COMPAT_CPPFLAGS -DHAVE_DOVEADM_CMD_CONTEXT_SET_EVENT"])
	# doveadm: 2.4 keeps the configuration it read as an fd, for a
	# child doveadm to take over (DOVECOT_CONFIG_FD).
	AC_CACHE_CHECK([whether doveadm keeps its configuration fd],
		[referral_cv_doveadm_settings_get_config_fd],
		[AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#include "lib.h"
#include "master-interface.h"
#include "doveadm-settings.h"
]], [[const char *e = DOVECOT_CONFIG_FD_ENV; (void)e;
(void)doveadm_settings_get_config_fd;]])],
			[referral_cv_doveadm_settings_get_config_fd=yes],
			[referral_cv_doveadm_settings_get_config_fd=no])])
	AS_IF([test "$referral_cv_doveadm_settings_get_config_fd" = yes],
		[REFERRAL_COMPAT_CPPFLAGS="$REFERRAL_COMPAT_CPPFLAGS -DHAVE_DOVEADM_SETTINGS_GET_CONFIG_FD"])
	# 2.4: a plugin's settings are a settings struct of its own, read
	# with settings_get() and made known to the config process by a
	# module in its settings directory; 2.3 has plugin {} instead.
	AC_CACHE_CHECK([whether plugins have settings structs of their own],
		[referral_cv_settings_get],
		[AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#include "lib.h"
#include "settings.h"
]], [[(void)settings_get;]])],
			[referral_cv_settings_get=yes],
			[referral_cv_settings_get=no])])
	AM_CONDITIONAL([REFERRAL_SETTINGS_STRUCT],
		       [test "$referral_cv_settings_get" = yes])
	CPPFLAGS=$old_CPPFLAGS
	AC_SUBST([REFERRAL_COMPAT_CPPFLAGS])
])

# REFERRAL_DOVECOT_AM_FLAGS
# -------------------------
# Where Dovecot's dovecot.m4 puts the compiler flags it chooses: the
# warnings, the hardening (stack protector, _FORTIFY_SOURCE, ...), the
# sanitizers and --with-fuzzer=clang's coverage flags. Up to serial 42
# (2.4.1) it adds them to CFLAGS; from serial 45 (2.4.2) on it leaves the
# user's CFLAGS alone and adds them to AM_CFLAGS and AM_LDFLAGS, which
# its macros never substitute: Dovecot's own configure does. Substitute
# them here, so that they reach our Makefiles whichever dovecot.m4 made
# configure (empty with the older ones). Call after DC_DOVECOT and
# DC_DOVECOT_FUZZER.
AC_DEFUN([REFERRAL_DOVECOT_AM_FLAGS], [
	AC_SUBST([AM_CFLAGS])
	AC_SUBST([AM_LDFLAGS])
])
