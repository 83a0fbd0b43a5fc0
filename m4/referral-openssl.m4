# REFERRAL_OPENSSL
# ----------------
# OpenSSL (Debian libssl-dev and openssl) for the TLS end-to-end tests:
# libssl for their client (tests/harness-tls.c), the openssl command for
# the servers' throwaway certificates. Sets OPENSSL_CFLAGS, OPENSSL_LIBS
# and OPENSSL_BINARY.
AC_DEFUN([REFERRAL_OPENSSL], [
	PKG_CHECK_MODULES([OPENSSL], [libssl >= 3.0 libcrypto >= 3.0])
	AC_PATH_PROG([OPENSSL_BINARY], [openssl], [openssl])
])
