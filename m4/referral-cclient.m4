# REFERRAL_CCLIENT
# ----------------
# UW c-client (Debian libc-client2007e-dev), for the referral-following
# client of the end-to-end tests. Optional: those tests say SKIP without
# it. Sets CCLIENT_CPPFLAGS and the HAVE_CCLIENT conditional.
AC_DEFUN([REFERRAL_CCLIENT], [
	CCLIENT_CPPFLAGS="-I/usr/include/c-client"
	old_CPPFLAGS=$CPPFLAGS
	CPPFLAGS="$CPPFLAGS $CCLIENT_CPPFLAGS -D_DEFAULT_SOURCE"
	AC_CHECK_HEADER([c-client.h], [have_cclient=yes], [have_cclient=no])
	CPPFLAGS=$old_CPPFLAGS
	AC_SUBST([CCLIENT_CPPFLAGS])
	AM_CONDITIONAL([HAVE_CCLIENT], [test "$have_cclient" = yes])
])
