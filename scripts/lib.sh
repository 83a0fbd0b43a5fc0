# Shared by the scripts in this directory: source it, do not run it.
# shellcheck shell=bash

# Everything the build, the tests and the demo need, as Debian packages
# (12 and 13 alike, but for UW c-client, which left Debian after 12).
# shellcheck disable=SC2034 # used by the scripts that source this
REFERRAL_PACKAGES=(dovecot-core dovecot-imapd dovecot-sqlite dovecot-dev
	check pkgconf autoconf automake libtool make gcc libsqlite3-dev
	dovecot-ldap slapd dovecot-pgsql postgresql
	dovecot-pop3d dovecot-submissiond dovecot-managesieved dovecot-sieve
	php-cli php-net-sieve
	dpkg-dev debhelper dh-autoreconf fakeroot lintian gnuplot-nox)
if [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = bookworm ]; then
	REFERRAL_PACKAGES+=(libc-client2007e-dev)
fi

top_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The installed Dovecot's version, and where builds for it go: _build*
# in the tree for 2.3, _build-2.4/_build* for 2.4, so that a Debian 12 host
# and its Debian 13 root (scripts/debian13-root, which sees this tree at
# /src) never share a build directory. Call after install_packages.
dovecot_builds() {
	dovecot_version=$(dpkg-query -W -f='${Version}' dovecot-core \
		2>/dev/null | sed 's/^[0-9]*://; s/[-+].*//')
	case $dovecot_version in
	2.3.*) builds=$top_srcdir ;;
	2.4.*) builds=$top_srcdir/_build-2.4 ;;
	*)
		echo "$0: Dovecot '${dovecot_version:-(none)}' is neither 2.3 nor 2.4" >&2
		exit 1 ;;
	esac
}

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
