# Shared by the scripts in this directory: source it, do not run it.
# shellcheck shell=bash

# Everything the build, the tests and the demo need, as Debian 12 packages.
# shellcheck disable=SC2034 # used by the scripts that source this
REFERRAL_PACKAGES=(dovecot-core dovecot-imapd dovecot-sqlite dovecot-dev
	check pkgconf autoconf automake libtool make gcc libsqlite3-dev
	dovecot-ldap slapd dovecot-pgsql postgresql
	dovecot-pop3d dovecot-submissiond dovecot-managesieved dovecot-sieve
	php-cli php-net-sieve libc-client2007e-dev
	dpkg-dev debhelper dh-autoreconf fakeroot lintian gnuplot-nox)

top_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Dovecot must run as root in the tests (it drops privileges itself).
require_root() {
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null; then
			exec sudo -E "$0" "$@"
		fi
		echo "$0: run this as root (it installs packages and starts Dovecot)" >&2
		exit 1
	fi
}

# Install what is missing, and nothing when all is there: safe to re-run.
install_packages() {
	local missing="" pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	echo "Installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# Configure (once) and build in an out-of-tree directory.
# usage: build_in DIR [configure options...]
build_in() {
	local dir=$1
	shift
	if [ ! -x "$top_srcdir/configure" ] ||
	   [ "$top_srcdir/configure.ac" -nt "$top_srcdir/configure" ]; then
		(cd "$top_srcdir" && autoreconf -fi -Wno-obsolete)
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$top_srcdir/configure" -q "$@")
	fi
	make -C "$dir" -s -j"$(nproc)"
}
