# Sourced by tests/thunderbird-login and tests/gui-client-login, not run:
# an Xvfb display of the caller's own. Uses the caller's $out (xvfb.log
# goes there) and groups array (the Xvfb's process group is added to
# it); start_xvfb sets DISPLAY and xvfb_pid.
# shellcheck shell=bash disable=SC2154,SC2034 # $out and groups are the
# caller's, DISPLAY and xvfb_pid for it

# Does Xvfb PID itself listen on display N's abstract socket? An Xvfb
# of another /tmp (a chroot) that holds it would answer our clients
# (libxcb tries the abstract socket first), and take them with it when
# it ends.
owns_display() {
	local inode fd
	while read -r inode; do
		for fd in "/proc/$2/fd/"*; do
			[ "$(readlink "$fd" 2>/dev/null)" != "socket:[$inode]" ] ||
				return 0
		done
	done < <(awk -v p="@/tmp/.X11-unix/X$1" \
		'$8 == p && $4 == "00010000" { print $7 }' /proc/net/unix)
	return 1
}

# A display of our own. Not Xvfb's -displayfd: it takes the lowest free
# number by the lock files of this /tmp, while an Xvfb in a chroot (the
# Debian 13 root of the tests) has other lock files but shares the
# abstract socket names: two runs at once took the same number, and the
# loser's Thunderbird could not open its display. So: a random number in
# 100-999 that no server answers on and that has no lock file, then
# check that our Xvfb is still running, holds the display's socket
# itself and answers; else another one.
start_xvfb() {
	local n pid
	for _ in $(seq 10); do
		n=$((RANDOM % 900 + 100))
		# an Xvfb of another /tmp (a chroot) has no lock file here,
		# but its abstract socket is in this network namespace
		if [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] ||
			grep -q "@/tmp/.X11-unix/X$n\$" /proc/net/unix ||
			xdpyinfo -display ":$n" >/dev/null 2>&1; then
			continue
		fi
		# -noreset: an X server resets when its last client goes
		# (xdpyinfo below, the first xdotool), and a client that
		# connects during the reset gets "cannot open display"
		setsid Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp \
			-noreset >>"$out/xvfb.log" 2>&1 &
		pid=$!
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			if xdpyinfo -display ":$n" >/dev/null 2>&1; then
				sleep 0.5	# still ours, not a twin's?
				if kill -0 "$pid" 2>/dev/null &&
					owns_display "$n" "$pid" &&
					xdpyinfo -display ":$n" >/dev/null 2>&1; then
					groups+=("$pid")
					xvfb_pid=$pid
					DISPLAY=:$n
					return 0
				fi
				break
			fi
			sleep 0.1
		done
		kill -- "-$pid" 2>/dev/null || true
	done
	return 1
}
