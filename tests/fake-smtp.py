#!/usr/bin/python3
# Copyright (c) 2026 dovecot-referral authors, see the included COPYING file

# A fake SMTP server for tests/deltachat-login.mjs: Delta Chat's core
# checks the SMTP login when an account is configured, and the referral
# is in IMAP. Accepts any EHLO and AUTH, on 127.0.0.1:PORT, one client at
# a time, until killed; delivers nothing.
#
# usage: fake-smtp.py PORT
import socket
import sys

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(5)
while True:
    conn, _ = srv.accept()
    f = conn.makefile("rwb", buffering=0)
    f.write(b"220 fake ESMTP\r\n")
    for line in f:
        cmd = line.strip().split(b" ")[0].upper()
        if cmd in (b"EHLO", b"HELO"):
            f.write(b"250-fake\r\n250 AUTH PLAIN LOGIN\r\n")
        elif cmd == b"AUTH":
            f.write(b"235 2.7.0 Authentication successful\r\n")
        elif cmd == b"QUIT":
            f.write(b"221 2.0.0 Bye\r\n")
            break
        else:
            f.write(b"250 2.0.0 Ok\r\n")
    conn.close()
